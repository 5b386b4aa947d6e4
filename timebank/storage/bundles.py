"""The SQL of the whole-ledger bundle (``export ledger`` / ``import ledger``): the reads of
rules versions, members, accounts and period closes it carries, and the verbatim writes that
restore them, with every entry, posting and balance, into a new file.

A restore is not a recording: ids, times, recorders and hashes are written exactly as the
bundle holds them, so these writes bypass the ledger's write path on purpose. They run only
into a freshly created file, after ``timebank.interchange.bundle`` has checked the bundle
whole; entries (with their postings) are read through ``Ledger.entries``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from timebank.chain import ENTRY_FIELDS as HASHED_FIELDS

MEMBER_FIELDS = ("handle", "name", "member_class", "joined", "left", "status", "role", "area", "flags")
# An entry's columns as stored: the hashed fields, then the chain's two hashes.
ENTRY_FIELDS = (*HASHED_FIELDS, "prev_hash", "hash")


# reading --------------------------------------------------------------------


def rules_versions(conn: Any) -> list[dict[str, Any]]:
    """Every rules version, oldest first: ``version``, ``created_at``, ``created_by``,
    ``data`` (the JSON text as stored), ``note``."""
    return [
        {"version": v, "created_at": at, "created_by": by, "data": data, "note": note}
        for v, at, by, data, note in conn.execute(
            "SELECT version, created_at, created_by, data, note FROM rules ORDER BY version"
        )
    ]


def members(conn: Any) -> list[dict[str, Any]]:
    """Every member, in the order they joined the ledger, keyed by ``MEMBER_FIELDS``."""
    return [
        dict(zip(MEMBER_FIELDS, row, strict=True))
        for row in conn.execute(f"SELECT {', '.join(MEMBER_FIELDS)} FROM members ORDER BY id")
    ]


def accounts(conn: Any) -> list[dict[str, Any]]:
    """Every account in the order it was opened: ``code``, ``kind``, ``name`` and ``member``
    (the handle of the member it belongs to, or None)."""
    return [
        {"code": code, "kind": kind, "name": name, "member": member}
        for code, kind, name, member in conn.execute(
            "SELECT a.code, a.kind, a.name, m.handle FROM accounts a"
            " LEFT JOIN members m ON m.id = a.member_id ORDER BY a.id"
        )
    ]


def period_closes(conn: Any) -> list[dict[str, Any]]:
    """Every closing of a period, oldest first: ``through``, ``closed_at``, ``closed_by``."""
    return [
        {"through": t, "closed_at": at, "closed_by": by}
        for t, at, by in conn.execute("SELECT through, closed_at, closed_by FROM period_closes ORDER BY id")
    ]


# restoring into a new file --------------------------------------------------


def insert_rules_version(
    conn: Any, *, version: int, created_at: str, created_by: str, data: str, note: str
) -> None:
    conn.execute(
        "INSERT INTO rules (version, created_at, created_by, data, note) VALUES (?, ?, ?, ?, ?)",
        (version, created_at, created_by, data, note),
    )


def insert_member(conn: Any, member: Mapping[str, Any]) -> int:
    """A member row from ``MEMBER_FIELDS`` (missing ones stored as NULL); returns its id."""
    return conn.execute(
        f"INSERT INTO members ({', '.join(MEMBER_FIELDS)}) VALUES ({', '.join('?' * len(MEMBER_FIELDS))})",
        tuple(member.get(f) for f in MEMBER_FIELDS),
    ).lastrowid


def insert_account(conn: Any, *, code: str, kind: str, name: str, member_id: int | None) -> int:
    return conn.execute(
        "INSERT INTO accounts (code, kind, name, member_id) VALUES (?, ?, ?, ?)",
        (code, kind, name, member_id),
    ).lastrowid


def insert_period_close(conn: Any, *, through: str, closed_at: str, closed_by: str) -> None:
    conn.execute(
        "INSERT INTO period_closes (through, closed_at, closed_by) VALUES (?, ?, ?)",
        (through, closed_at, closed_by),
    )


def insert_entry(conn: Any, entry: Mapping[str, Any], postings: Iterable[Sequence[Any]]) -> None:
    """An entry as stored (``ENTRY_FIELDS``: givers and receivers as space-separated
    handles, refs encoded), and its postings as ``(seq, account_id, amount, balance_after)``."""
    conn.execute(
        f"INSERT INTO entries ({', '.join(ENTRY_FIELDS)}) VALUES ({', '.join('?' * len(ENTRY_FIELDS))})",
        tuple(entry[f] for f in ENTRY_FIELDS),
    )
    conn.executemany(
        "INSERT INTO postings (entry_id, seq, account_id, amount, balance_after) VALUES (?, ?, ?, ?, ?)",
        [(entry["id"], *posting) for posting in postings],
    )


def insert_balances(conn: Any, balances: Iterable[tuple[int, int, int]]) -> None:
    """Each account's ``(account_id, balance, last_entry_id)``."""
    conn.executemany("INSERT INTO balances (account_id, balance, last_entry_id) VALUES (?, ?, ?)", balances)


__all__ = [
    "ENTRY_FIELDS",
    "MEMBER_FIELDS",
    "accounts",
    "insert_account",
    "insert_balances",
    "insert_entry",
    "insert_member",
    "insert_period_close",
    "insert_rules_version",
    "members",
    "period_closes",
    "rules_versions",
]
