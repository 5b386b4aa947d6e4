"""Records to and from rows, by field name: one mapping per record type.

Every place a row of the ledger becomes a record (``Entry``, ``Posting``, ``Member``,
``Account``, ``Claim``, a statement line, a member's key) goes through this module, and so
does every record that becomes a row. A row is read by the name of its column
(``row["minutes"]``, from a ``sqlite3.Row`` or a dict), never by its position, so adding a
column or reordering a ``SELECT`` cannot shift one field into another.

The two paths read once per screenful and measured by ``make bench`` (a statement page)
take plain tuples instead, unpacked into named fields in the order of an explicit column
list (``STATEMENT_COLUMNS``) that the query is built from: ``sqlite3.Row`` costs a tenth
more there. The names in the list and in the unpacking are the same, checked at import.

Nothing here runs a query or applies a rule; ``named`` only asks a cursor for rows by name.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from timebank.chain import ENTRY_FIELDS
from timebank.models import (
    Account,
    Claim,
    Entry,
    Exchange,
    Member,
    MemberKey,
    Posting,
    StatementLine,
    decode_refs,
    encode_refs,
)

Row = Mapping[str, Any]
"""A row read by column name: a ``sqlite3.Row`` or a dict."""


def named(
    conn: sqlite3.Connection, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
) -> sqlite3.Cursor:
    """Run ``sql`` on a cursor whose rows are read by column name (``sqlite3.Row``).

    The connection's own row factory is left alone: other code reads it as tuples.
    """
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    return cursor.execute(sql, params)


def columns(names: Iterable[str], table: str = "") -> str:
    """``a, b, c`` (or ``t.a, t.b, t.c``) for a ``SELECT`` or ``INSERT`` over ``names``."""
    prefix = f"{table}." if table else ""
    return ", ".join(f"{prefix}{name}" for name in names)


def placeholders(names: Iterable[str]) -> str:
    """``:a, :b, :c``: named parameters, filled from a dict such as ``member_to_row`` gives."""
    return ", ".join(f":{name}" for name in names)


def _day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _words(text: str) -> tuple[str, ...]:
    """Handles as stored: one text, separated by spaces."""
    return tuple(text.split())


# entries and postings -----------------------------------------------------------------

ENTRY_COLUMNS = (*ENTRY_FIELDS, "prev_hash", "hash")
"""An entry's columns: the hashed fields in hashing order, then the chain."""


def entry_from_row(row: Row, postings: Iterable[Posting] = ()) -> Entry:
    """An entry as written, with its postings (read separately, in ``seq`` order)."""
    return Entry(
        id=row["id"],
        kind=row["kind"],
        day=dt.date.fromisoformat(row["day"]),
        recorded_at=row["recorded_at"],
        recorded_by=row["recorded_by"],
        givers=_words(row["givers"]),
        receivers=_words(row["receivers"]),
        minutes=row["minutes"],
        category=row["category"],
        note=row["note"],
        rules_version=row["rules_version"],
        reverses=row["reverses"],
        refs=decode_refs(row["refs"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
        postings=tuple(postings),
    )


def entry_to_row(entry: Entry) -> dict[str, Any]:
    """An entry's columns as stored and hashed (``[row[f] for f in ENTRY_FIELDS]`` is
    what ``chain.entry_hash`` takes); postings are rows of their own."""
    return {
        "id": entry.id,
        "kind": entry.kind,
        "day": entry.day.isoformat(),
        "recorded_at": entry.recorded_at,
        "recorded_by": entry.recorded_by,
        "givers": " ".join(entry.givers),
        "receivers": " ".join(entry.receivers),
        "minutes": entry.minutes,
        "category": entry.category,
        "note": entry.note,
        "rules_version": entry.rules_version,
        "reverses": entry.reverses,
        "refs": encode_refs(entry.refs),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


POSTING_COLUMNS = ("entry_id", "seq", "account_id", "amount", "balance_after")


def posting_from_row(row: Row) -> Posting:
    """A posting read with its account's code as ``account`` (``a.code AS account``)."""
    return Posting(account=row["account"], amount=row["amount"])


def posting_to_row(
    posting: Posting, *, entry_id: int, seq: int, account_id: int, balance_after: int
) -> dict[str, Any]:
    """A posting's row: the table keeps the account's id, and the balance after it."""
    return {
        "entry_id": entry_id,
        "seq": seq,
        "account_id": account_id,
        "amount": posting.amount,
        "balance_after": balance_after,
    }


# statement lines ----------------------------------------------------------------------

STATEMENT_COLUMNS = (
    "entry_id",
    "day",
    "kind",
    "amount",
    "category",
    "note",
    "givers",
    "receivers",
    "seq",
    "balance_after",
)
"""A statement line's columns, in the order ``statement_lines`` unpacks them."""


def statement_lines(
    code: str, rows: Iterable[Sequence[Any]], *, balance: int | None = None
) -> list[StatementLine]:
    """Statement lines of account ``code`` from rows in ``STATEMENT_COLUMNS`` order.

    With ``balance`` None each line carries the balance stored after its posting (entry
    order); otherwise ``balance`` is the balance after the first (newest) row and each
    older line's is worked back from it (day order, where the stored one does not apply).
    """
    lines = []
    for entry_id, day, kind, amount, category, note, givers, receivers, seq, balance_after in rows:
        lines.append(
            StatementLine(
                entry_id=entry_id,
                day=dt.date.fromisoformat(day),
                kind=kind,
                amount=amount,
                balance=balance_after if balance is None else balance,
                category=category,
                note=note,
                counterparties=other_side(code, givers.split(), receivers.split()),
                seq=seq,
            )
        )
        if balance is not None:
            balance -= amount
    return lines


def other_side(code: str, givers: list[str], receivers: list[str]) -> tuple[str, ...]:
    """Who was on the other side of an entry for account ``code``."""
    if code in givers:
        return tuple(receivers)
    if code in receivers:
        return tuple(givers)
    return tuple(givers + receivers)


# members and accounts -----------------------------------------------------------------

MEMBER_COLUMNS = ("handle", "name", "member_class", "joined", "left", "status", "role", "area", "flags")


def member_from_row(row: Row) -> Member:
    return Member(
        handle=row["handle"],
        name=row["name"],
        member_class=row["member_class"],
        joined=dt.date.fromisoformat(row["joined"]),
        left=_day(row["left"]),
        status=row["status"],
        role=row["role"],
        area=row["area"],
        flags=frozenset(filter(None, (row["flags"] or "").split(","))),
    )


def member_to_row(member: Member) -> dict[str, Any]:
    """A member's columns (``MEMBER_COLUMNS``) as stored: days in ISO, flags sorted."""
    return {
        "handle": member.handle,
        "name": member.name,
        "member_class": member.member_class,
        "joined": member.joined.isoformat(),
        "left": member.left.isoformat() if member.left else None,
        "status": member.status,
        "role": member.role,
        "area": member.area,
        "flags": ",".join(sorted(member.flags)),
    }


ACCOUNT_COLUMNS = ("code", "kind", "name", "member")
"""An account read with its member's handle as ``member`` (``m.handle AS member``)."""


def account_from_row(row: Row) -> Account:
    return Account(code=row["code"], kind=row["kind"], name=row["name"], member=row["member"])


def account_to_row(account: Account, member_id: int | None = None) -> dict[str, Any]:
    """An account's row: the table keeps the member's id, not their handle."""
    return {"code": account.code, "kind": account.kind, "name": account.name, "member_id": member_id}


# claims -------------------------------------------------------------------------------

CLAIM_COLUMNS = (
    "id",
    "created_at",
    "recorded_by",
    "givers",
    "receivers",
    "minutes",
    "day",
    "category",
    "note",
    "awaiting",
    "status",
    "decided_by",
    "decided_at",
    "entry_id",
    "reason",
    "auto_accept_on",
    "refs",
    "withdrawn",
)


def exchange_from_row(row: Row) -> Exchange:
    """The exchange a claim row holds."""
    return Exchange(
        givers=_words(row["givers"]),
        receivers=_words(row["receivers"]),
        minutes=row["minutes"],
        day=dt.date.fromisoformat(row["day"]),
        category=row["category"],
        recorded_by=row["recorded_by"],
        note=row["note"],
        refs=decode_refs(row["refs"]),
    )


def claim_from_row(row: Row, confirmed: tuple[str, ...] = ()) -> Claim:
    """A claim, with who of those it waits for has confirmed so far (another table).

    ``withdrawn`` came with a later schema: a ledger not yet upgraded, read as it is,
    has no such column and no withdrawn claim.
    """
    return Claim(
        id=row["id"],
        exchange=exchange_from_row(row),
        awaiting=_words(row["awaiting"]),
        status=row["status"],
        created_at=row["created_at"],
        decided_by=row["decided_by"],
        entry_id=row["entry_id"],
        reason=row["reason"],
        auto_accept_on=_day(row["auto_accept_on"]),
        confirmed=confirmed,
        withdrawn=bool(row["withdrawn"]) if "withdrawn" in row.keys() else False,  # noqa: SIM118 (sqlite3.Row)
    )


def claim_to_row(
    exchange: Exchange,
    *,
    awaiting: Sequence[str],
    created_at: str,
    auto_accept_on: dt.date | None = None,
) -> dict[str, Any]:
    """A new claim's columns (pending, undecided: the table's defaults fill the rest)."""
    return {
        "created_at": created_at,
        "recorded_by": exchange.recorded_by,
        "givers": " ".join(exchange.givers),
        "receivers": " ".join(exchange.receivers),
        "minutes": exchange.minutes,
        "day": exchange.day.isoformat(),
        "category": exchange.category,
        "note": exchange.note,
        "awaiting": " ".join(awaiting),
        "auto_accept_on": auto_accept_on.isoformat() if auto_accept_on else None,
        "refs": encode_refs(exchange.refs),
    }


# members' keys ------------------------------------------------------------------------

MEMBER_KEY_COLUMNS = (
    "id",
    "member",
    "key",
    "fingerprint",
    "added_at",
    "added_by",
    "revoked_at",
    "revoked_by",
)


def member_key_from_row(row: Row) -> MemberKey:
    return MemberKey(
        id=row["id"],
        member=row["member"],
        key=row["key"],
        fingerprint=row["fingerprint"],
        added_at=row["added_at"],
        added_by=row["added_by"],
        revoked_at=row["revoked_at"],
        revoked_by=row["revoked_by"],
    )


def _check_statement_unpacking() -> None:
    """``statement_lines`` unpacks rows by position: its names must be the column list's."""
    names = statement_lines.__code__.co_varnames
    start = names.index("entry_id")
    assert names[start : start + len(STATEMENT_COLUMNS)] == STATEMENT_COLUMNS, names


_check_statement_unpacking()
