"""The ledger's reads: every ``SELECT`` behind balances, statements, entries, members,
accounts and claims.

Each function takes a connection and plain values and returns records (mapped by
``timebank.storage.rows``, by field name). None of them applies a rule, checks who is
asking or caches anything: that is the ``Ledger`` façade's part (``timebank.reading``,
``members``, ``claims``), which also turns "not found" (None here) into ``NotFound``.

A balance is one row away however long the ledger (the balances table is kept in the
same transaction as each entry); a statement page is read by keyset paging from the
``postings_by_account`` index, with the balance after each posting stored beside it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence

from timebank.chain import GENESIS
from timebank.models import Account, Claim, Entry, Member, Posting, StatementLine
from timebank.storage import rows
from timebank.storage.store import STANDING

NEWEST = 2**62
"""An entry id past any real one: "from the newest" in keyset paging."""

# balances ------------------------------------------------------------------------------


def stored_balance(conn: sqlite3.Connection, code: str) -> int:
    """The balance kept for account ``code``; 0 for an account nothing was posted to (or none)."""
    row = conn.execute(
        "SELECT b.balance FROM accounts a JOIN balances b ON b.account_id = a.id WHERE a.code = ?",
        (code,),
    ).fetchone()
    return row[0] if row else 0


def balance(conn: sqlite3.Connection, code: str) -> int | None:
    """Account ``code``'s balance in credit-minutes, or None if there is no such account."""
    row = conn.execute(
        "SELECT a.id, coalesce(b.balance, 0) FROM accounts a LEFT JOIN balances b ON b.account_id = a.id"
        " WHERE a.code = ?",
        (code,),
    ).fetchone()
    return None if row is None else row[1]


def balances(conn: sqlite3.Connection) -> list[tuple[Account, int]]:
    """Every account with its balance, by code."""
    found = conn.execute(
        f"{_SELECT_ACCOUNTS}, coalesce(b.balance, 0) FROM accounts a"
        " LEFT JOIN members m ON m.id = a.member_id"
        " LEFT JOIN balances b ON b.account_id = a.id ORDER BY a.code"
    )
    account = rows.account_from_row
    return [(account(code, kind, name, member), kept) for code, kind, name, member, kept in found]


# statements ----------------------------------------------------------------------------

_POSTING_SIDE = frozenset({"entry_id", "seq", "amount", "balance_after"})
_SELECT_LINES = (
    "SELECT "
    + ", ".join(f"{'p' if c in _POSTING_SIDE else 'e'}.{c}" for c in rows.STATEMENT_COLUMNS)
    + " FROM postings p JOIN entries e ON e.id = p.entry_id"
)


def statement(
    conn: sqlite3.Connection, account_id: int, code: str, *, key: tuple[int, int], limit: int
) -> list[StatementLine]:
    """Account ``code``'s postings before ``key`` (entry id, posting seq), newest first,
    each with the balance stored after it."""
    found = conn.execute(
        f"{_SELECT_LINES} WHERE p.account_id = ? AND (p.entry_id < ? OR (p.entry_id = ? AND p.seq < ?))"
        " ORDER BY p.entry_id DESC, p.seq DESC LIMIT ?",
        (account_id, key[0], key[0], key[1], limit),
    )
    return rows.statement_lines(code, found)


def statement_by_day(
    conn: sqlite3.Connection,
    account_id: int,
    code: str,
    *,
    before: tuple[str, int, int] | None,
    limit: int,
) -> list[StatementLine]:
    """Account ``code``'s postings newest day first (then entry, then posting) before
    ``before`` = (day ISO, entry id, seq), each with the balance after it in that order.

    The balance after the first line is the account's balance less every posting after it
    in day order; each older line's is worked back from there.
    """
    newer = (
        ""
        if before is None
        else " AND (e.day > ? OR (e.day = ? AND (p.entry_id > ? OR (p.entry_id = ? AND p.seq >= ?))))"
    )
    older = (
        ""
        if before is None
        else " AND (e.day < ? OR (e.day = ? AND (p.entry_id < ? OR (p.entry_id = ? AND p.seq < ?))))"
    )
    key: tuple[object, ...] = (
        () if before is None else (before[0], before[0], before[1], before[1], before[2])
    )
    kept = conn.execute(
        "SELECT coalesce(balance, 0) FROM balances WHERE account_id = ?", (account_id,)
    ).fetchone()
    after = conn.execute(
        "SELECT coalesce(sum(p.amount), 0) FROM postings p JOIN entries e ON e.id = p.entry_id"
        f" WHERE p.account_id = ?{newer}",
        (account_id, *key),
    ).fetchone()[0]
    start = (kept[0] if kept else 0) - (after if before is not None else 0)
    found = conn.execute(
        f"{_SELECT_LINES} WHERE p.account_id = ?{older}"
        " ORDER BY e.day DESC, p.entry_id DESC, p.seq DESC LIMIT ?",
        (account_id, *key, limit),
    )
    return rows.statement_lines(code, found, balance=start)


# entries and the chain ----------------------------------------------------------------

_SELECT_ENTRIES = f"SELECT {rows.columns(rows.ENTRY_COLUMNS)} FROM entries"


def entries(
    conn: sqlite3.Connection,
    *,
    limit: int = 50,
    before: int | None = None,
    ids: Sequence[int] | None = None,
) -> list[Entry]:
    """Entries newest first, before entry ``before`` (or those with ``ids``), each with its
    postings in order."""
    if ids is not None:
        found = conn.execute(
            f"{_SELECT_ENTRIES} WHERE id IN ({_marks(len(ids))}) ORDER BY id DESC", tuple(ids)
        ).fetchall()
    else:
        found = conn.execute(
            f"{_SELECT_ENTRIES} WHERE id < ? ORDER BY id DESC LIMIT ?",
            (before if before is not None else NEWEST, limit),
        ).fetchall()
    if not found:
        return []
    ids = [entry_id for entry_id, *_ in found]
    postings: dict[int, list[Posting]] = {}
    for entry_id, account, amount in conn.execute(
        "SELECT p.entry_id, a.code, p.amount FROM postings p JOIN accounts a ON a.id = p.account_id"
        f" WHERE p.entry_id IN ({_marks(len(ids))}) ORDER BY p.entry_id, p.seq",
        ids,
    ):
        postings.setdefault(entry_id, []).append(rows.posting_from_row(account, amount))
    return [
        rows.entry_from_row(*row, postings=postings.get(entry_id, ()))
        for entry_id, row in zip(ids, found, strict=True)
    ]


def entry_ids_of_day(
    conn: sqlite3.Connection, day: dt.date, *, or_after: int | None, limit: int
) -> list[int]:
    """Ids of entries for service on ``day`` and of any written after entry ``or_after``,
    newest first."""
    found = conn.execute(
        # Two indexed look-ups: "day = ? OR id > ?" scans every entry when the day has none.
        "SELECT id FROM entries WHERE day = ? UNION SELECT id FROM entries WHERE id > ?"
        " ORDER BY id DESC LIMIT ?",
        (day.isoformat(), or_after if or_after is not None else NEWEST, limit),
    )
    return [entry_id for (entry_id,) in found]


def last_entry_id(conn: sqlite3.Connection) -> int:
    """The newest entry's id; 0 in a ledger with none."""
    return conn.execute("SELECT coalesce(max(id), 0) FROM entries").fetchone()[0]


def chain_head(conn: sqlite3.Connection) -> tuple[int, str]:
    """The newest entry's id and hash: (0, ``GENESIS``) in a ledger with none."""
    row = conn.execute("SELECT id, hash FROM entries ORDER BY id DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


def given_since(conn: sqlite3.Connection, since: dt.date) -> dict[str, int]:
    """Minutes each member gave in standing service entries on or after ``since``."""
    given: dict[str, int] = {}
    found = conn.execute(
        f"SELECT e.givers, e.minutes FROM entries e WHERE e.kind = 'service' AND e.day >= ? AND {STANDING}",
        (since.isoformat(),),
    )
    for givers, minutes in found:
        for giver in givers.split():
            given[giver] = given.get(giver, 0) + minutes
    return given


# members and accounts -----------------------------------------------------------------

_ACCOUNT_SIDE = {"member": "m.handle"}
_SELECT_ACCOUNTS = "SELECT " + ", ".join(_ACCOUNT_SIDE.get(c, f"a.{c}") for c in rows.ACCOUNT_COLUMNS)


def members(conn: sqlite3.Connection) -> dict[str, Member]:
    """Every member, retired too, by handle in handle order."""
    found = conn.execute(f"SELECT {rows.columns(rows.MEMBER_COLUMNS)} FROM members ORDER BY handle")
    return {member.handle: member for member in (rows.member_from_row(*row) for row in found)}


def account_ids(conn: sqlite3.Connection) -> dict[str, int]:
    """Every account's code mapped to its row id."""
    return dict(conn.execute("SELECT code, id FROM accounts"))


def account(conn: sqlite3.Connection, code: str) -> Account | None:
    row = conn.execute(
        f"{_SELECT_ACCOUNTS} FROM accounts a LEFT JOIN members m ON m.id = a.member_id WHERE a.code = ?",
        (code,),
    ).fetchone()
    return None if row is None else rows.account_from_row(*row)


def accounts(conn: sqlite3.Connection) -> list[Account]:
    """Every account, by code."""
    found = conn.execute(
        f"{_SELECT_ACCOUNTS} FROM accounts a LEFT JOIN members m ON m.id = a.member_id ORDER BY a.code"
    )
    return [rows.account_from_row(*row) for row in found]


# claims -------------------------------------------------------------------------------
# ``SELECT *``: a ledger not yet upgraded, read as it is, lacks the newer claim columns
# (``rows.claim_from_row`` reads it as having none withdrawn).


def claim(conn: sqlite3.Connection, claim_id: int) -> Claim | None:
    """Claim ``claim_id`` with who has confirmed it so far, or None."""
    row = rows.named(conn, "SELECT * FROM claims WHERE id = ?", (claim_id,)).fetchone()
    if row is None:
        return None
    return rows.claim_from_row(**row, confirmed=confirmations(conn, [claim_id]).get(claim_id, ()))


def claims(conn: sqlite3.Connection, status: str) -> list[Claim]:
    """Claims with ``status``, oldest first; pending ones with who has confirmed so far."""
    found = rows.named(conn, "SELECT * FROM claims WHERE status = ? ORDER BY id", (status,)).fetchall()
    confirmed = confirmations(conn, [row["id"] for row in found]) if status == "pending" else {}
    return [rows.claim_from_row(**row, confirmed=confirmed.get(row["id"], ())) for row in found]


def confirmations(conn: sqlite3.Connection, claim_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """Who has confirmed each of these claims so far, in the order they did."""
    if not claim_ids:
        return {}
    if len(claim_ids) == 1:
        found = conn.execute(
            "SELECT claim_id, member FROM claim_confirmations WHERE claim_id = ? ORDER BY at, member",
            (claim_ids[0],),
        )
    else:  # the pending claims are most of the few confirmations kept: one pass over them all
        found = conn.execute("SELECT claim_id, member FROM claim_confirmations ORDER BY claim_id, at, member")
    out: dict[int, list[str]] = {}
    for claim_id, member in found:
        out.setdefault(claim_id, []).append(member)
    return {k: tuple(v) for k, v in out.items()}


def due_claim_ids(conn: sqlite3.Connection, today: dt.date) -> list[int]:
    """Pending claims whose auto-accept day is ``today`` or earlier, oldest first."""
    found = conn.execute(
        "SELECT id FROM claims WHERE status = 'pending' AND auto_accept_on <= ? ORDER BY id",
        (today.isoformat(),),
    )
    return [claim_id for (claim_id,) in found]


def posted_by_account(conn: sqlite3.Connection) -> dict[str, int]:
    """Each account's postings summed from the postings themselves, not the balances table
    (what ``assert_ledger_holds`` holds the stored balances against)."""
    return dict(
        conn.execute(
            "SELECT a.code, coalesce(sum(p.amount), 0) FROM accounts a"
            " LEFT JOIN postings p ON p.account_id = a.id GROUP BY a.code"
        )
    )


def _marks(count: int) -> str:
    return ",".join("?" * count)


def reversed_by(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, int]:
    """Which of the entries ``ids`` a later entry reverses, and by which entry."""
    if not ids:
        return {}
    sql = f"SELECT reverses, id FROM entries WHERE reverses IN ({_marks(len(ids))})"
    return dict(conn.execute(sql, tuple(ids)))
