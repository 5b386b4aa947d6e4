"""Records to and from rows, by field name: one mapping per record type.

Every place a row of the ledger becomes a record (``Entry``, ``Posting``, ``Member``,
``Account``, ``Claim``, a statement line, a member's key) goes through this module, and so
does every record that becomes a row (``*_to_row``: a dict keyed by column name, for
``INSERT ... VALUES (:name, ...)``).

A mapping takes a row's columns as its arguments, by name. Its column list
(``ENTRY_COLUMNS``, ``MEMBER_COLUMNS``, ...) is the function's own parameter list, and the
queries select exactly those columns, built from the list; so a row arrives either as a
tuple in that order (``entry_from_row(*row)``, the cheap way for a whole table of members
or a page of entries) or as a ``sqlite3.Row`` or dict (``member_from_row(**row)``), and
neither a new column nor a reordered ``SELECT`` can put one field in another's place.
``sqlite3.Row`` costs a third more than a tuple on a list of every account, so the reads
take tuples. A statement page, the path ``make bench`` measures, unpacks its rows inline
into names checked against ``STATEMENT_COLUMNS`` when this module loads.

Nothing here runs a query or applies a rule; ``named`` only asks a cursor for rows by name.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
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


def _parameters(function: Callable[..., Any], *, but: tuple[str, ...] = ()) -> tuple[str, ...]:
    """A mapping's parameters, in order: the columns its rows are selected with."""
    code = function.__code__
    return tuple(name for name in code.co_varnames[: code.co_argcount] if name not in but)


def _day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _words(text: str) -> tuple[str, ...]:
    """Handles as stored: one text, separated by spaces."""
    return tuple(text.split())


# entries and postings -----------------------------------------------------------------


def entry_from_row(
    id: int,
    kind: str,
    day: str,
    recorded_at: str,
    recorded_by: str,
    givers: str,
    receivers: str,
    minutes: int,
    category: str,
    note: str,
    rules_version: int,
    reverses: int | None,
    refs: str,
    prev_hash: str,
    hash: str,
    postings: Iterable[Posting] = (),
) -> Entry:
    """An entry as written, with its postings (read separately, in ``seq`` order)."""
    return Entry(
        id=id,
        kind=kind,  # type: ignore[arg-type]
        day=dt.date.fromisoformat(day),
        recorded_at=recorded_at,
        recorded_by=recorded_by,
        givers=_words(givers),
        receivers=_words(receivers),
        minutes=minutes,
        category=category,
        note=note,
        rules_version=rules_version,
        reverses=reverses,
        refs=decode_refs(refs),
        prev_hash=prev_hash,
        hash=hash,
        postings=tuple(postings),
    )


ENTRY_COLUMNS = _parameters(entry_from_row, but=("postings",))
"""An entry's columns: the hashed fields in hashing order (``chain.ENTRY_FIELDS``), then the chain."""
assert (*ENTRY_FIELDS, "prev_hash", "hash") == ENTRY_COLUMNS, ENTRY_COLUMNS


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


def posting_from_row(account: str, amount: int) -> Posting:
    """A posting read with its account's code as ``account`` (``a.code AS account``): the
    table keeps the account's id."""
    return Posting(account=account, amount=amount)


POSTING_COLUMNS = ("entry_id", "seq", "account_id", "amount", "balance_after")
"""The postings table's columns, as ``posting_to_row`` fills them."""


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


def member_from_row(
    handle: str,
    name: str,
    member_class: str,
    joined: str,
    left: str | None,
    status: str,
    role: str,
    area: str | None,
    flags: str | None,
) -> Member:
    return Member(
        handle=handle,
        name=name,
        member_class=member_class,
        joined=dt.date.fromisoformat(joined),
        left=_day(left),
        status=status,  # type: ignore[arg-type]
        role=role,  # type: ignore[arg-type]
        area=area,
        flags=frozenset(filter(None, (flags or "").split(","))),
    )


MEMBER_COLUMNS = _parameters(member_from_row)


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


def account_from_row(code: str, kind: str, name: str, member: str | None) -> Account:
    """An account read with its member's handle as ``member`` (``m.handle AS member``): the
    table keeps the member's id."""
    return Account(code, kind, name, member)  # positional: a list of every account is read often


ACCOUNT_COLUMNS = _parameters(account_from_row)


def account_to_row(account: Account, member_id: int | None = None) -> dict[str, Any]:
    """An account's row: the table keeps the member's id, not their handle."""
    return {"code": account.code, "kind": account.kind, "name": account.name, "member_id": member_id}


# claims -------------------------------------------------------------------------------


def claim_from_row(
    id: int,
    created_at: str,
    recorded_by: str,
    givers: str,
    receivers: str,
    minutes: int,
    day: str,
    category: str,
    note: str,
    awaiting: str,
    status: str,
    decided_by: str | None,
    decided_at: str | None,
    entry_id: int | None,
    reason: str,
    auto_accept_on: str | None,
    refs: str,
    withdrawn: int = 0,
    confirmed: tuple[str, ...] = (),
) -> Claim:
    """A claim and the exchange it holds, with who of those it waits for has confirmed so
    far (kept in another table). ``decided_at`` is kept in the table only.

    ``withdrawn`` came with a later schema: a ledger not yet upgraded, read as it is, has no
    such column and no withdrawn claim (claims are read with ``SELECT *`` for that).
    """
    exchange = Exchange(
        givers=_words(givers),
        receivers=_words(receivers),
        minutes=minutes,
        day=dt.date.fromisoformat(day),
        category=category,
        recorded_by=recorded_by,
        note=note,
        refs=decode_refs(refs),
    )
    return Claim(
        id=id,
        exchange=exchange,
        awaiting=_words(awaiting),
        status=status,  # type: ignore[arg-type]
        created_at=created_at,
        decided_by=decided_by,
        entry_id=entry_id,
        reason=reason,
        auto_accept_on=_day(auto_accept_on),
        confirmed=confirmed,
        withdrawn=bool(withdrawn),
    )


CLAIM_COLUMNS = _parameters(claim_from_row, but=("confirmed",))


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


def member_key_from_row(
    id: int,
    member: str,
    key: str,
    fingerprint: str,
    added_at: str,
    added_by: str,
    revoked_at: str | None,
    revoked_by: str | None,
) -> MemberKey:
    return MemberKey(
        id=id,
        member=member,
        key=key,
        fingerprint=fingerprint,
        added_at=added_at,
        added_by=added_by,
        revoked_at=revoked_at,
        revoked_by=revoked_by,
    )


MEMBER_KEY_COLUMNS = _parameters(member_key_from_row)


def _check_statement_unpacking() -> None:
    """``statement_lines`` unpacks rows by position: its names must be the column list's."""
    names = statement_lines.__code__.co_varnames
    start = names.index(STATEMENT_COLUMNS[0])
    assert names[start : start + len(STATEMENT_COLUMNS)] == STATEMENT_COLUMNS, names


_check_statement_unpacking()
