"""Every statement that changes the core tables, and the chain head they extend.

``Ledger.write`` (the one write path) and the member, claim, rules and period-close
methods call these inside their write transaction; nothing else in the core writes
entries, postings, balances, claims, members, accounts, rules or period closes. Rows are
built from records by field name, so a column added to a table is added here once.

Rows of members, claims and accounts come from ``storage/rows.py``, the one mapping of
each record. The bulk path (``WriteState``, ``write_drafts``, ``flush_balances``) keeps the balances
and chain head of one write in memory and writes with ``executemany``: an import of a
million exchanges makes no Python call per exchange beyond building its row.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from timebank.chain import ENTRY_FIELDS, entry_hash
from timebank.models import Account, Draft, Entry, Exchange, Member, encode_refs
from timebank.storage import rows
from timebank.storage.reads import chain_head, stored_balance
from timebank.storage.store import now_utc

Conn = sqlite3.Connection

# Entry rows are tuples in ENTRY_FIELDS order (the order the hash covers), then the chain.
_ENTRY_COLUMNS = (*ENTRY_FIELDS, "prev_hash", "hash")
_INSERT_ENTRY = (
    f"INSERT INTO entries ({', '.join(_ENTRY_COLUMNS)}) VALUES ({', '.join('?' * len(_ENTRY_COLUMNS))})"
)
_INSERT_POSTING = (
    "INSERT INTO postings (entry_id, seq, account_id, amount, balance_after) VALUES (?, ?, ?, ?, ?)"
)
_UPSERT_BALANCE = (
    "INSERT INTO balances (account_id, balance, last_entry_id) VALUES (?, ?, ?)"
    " ON CONFLICT (account_id) DO UPDATE SET balance = excluded.balance,"
    " last_entry_id = excluded.last_entry_id"
)


def _insert(conn: Conn, table: str, row: Mapping[str, Any]) -> int:
    """Insert one row given by column name; its rowid."""
    columns = ", ".join(row)
    marks = ", ".join(f":{name}" for name in row)
    cursor = conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", dict(row))
    return int(cursor.lastrowid or 0)


class WriteState:
    """The working state of one write: balances so far, the chain head, what was written.

    Balances are read from the balances table once per account and then kept in memory,
    so each draft's ``balances_after`` reflects the drafts before it in the same write.
    """

    def __init__(
        self,
        conn: Conn,
        rules_version: int,
        account_ids: Callable[[], dict[str, int]],
        *,
        keep_entries: bool = True,
    ):
        self.conn = conn
        self.rules_version = rules_version
        self.account_ids = account_ids
        # A million-row import keeps no Entry records unless an after-hook will read them.
        self.keep_entries = keep_entries
        self.count = 0
        self.recorded_at = now_utc()
        self.last_id, self.head = chain_head(conn)
        self.balances: dict[str, int] = {}
        self.touched: set[str] = set()
        self.written: list[Entry] = []

    def balance(self, code: str) -> int:
        if code not in self.balances:
            self.balances[code] = stored_balance(self.conn, code)
        return self.balances[code]


def write_drafts(state: WriteState, drafts: Sequence[Draft]) -> None:
    """Hash admitted drafts onto the chain and insert their entries and postings."""
    account_ids = state.account_ids()
    version = state.rules_version
    entry_rows, posting_rows, entries = [], [], []
    balances = state.balances
    recorded_at = state.recorded_at
    touched, keep = state.touched, state.keep_entries
    head, entry_id = state.head, state.last_id
    for draft in drafts:
        entry_id += 1
        exchange = draft.exchange
        if exchange is not None:
            givers, receivers = " ".join(exchange.givers), " ".join(exchange.receivers)
            minutes, category = exchange.minutes, exchange.category
            refs = encode_refs(exchange.refs) if exchange.refs else ""
        else:  # a transfer, adjustment or reversal: from the accounts debited to those credited
            givers = " ".join(dict.fromkeys(p.account for p in draft.postings if p.amount < 0))
            receivers = " ".join(dict.fromkeys(p.account for p in draft.postings if p.amount > 0))
            category = refs = ""
            minutes = 0
        fields = (  # in ENTRY_FIELDS order
            entry_id,
            draft.kind,
            draft.day.isoformat(),
            recorded_at,
            draft.recorded_by,
            givers,
            receivers,
            minutes,
            category,
            draft.note,
            version,
            draft.reverses,
            refs,
        )
        pairs = [(p.account, p.amount) for p in draft.postings]
        digest = entry_hash(head, fields, pairs)
        entry_rows.append((*fields, head, digest))
        for seq, (code, amount) in enumerate(pairs):
            value = balances.get(code)
            if value is None:
                value = state.balance(code)
            value += amount
            balances[code] = value
            touched.add(code)
            posting_rows.append((entry_id, seq, account_ids[code], amount, value))
        prev_hash, head = head, digest
        if not keep:
            continue
        entries.append(
            Entry(
                id=entry_id,
                kind=draft.kind,
                day=draft.day,
                recorded_at=recorded_at,
                recorded_by=draft.recorded_by,
                givers=tuple(givers.split()),
                receivers=tuple(receivers.split()),
                minutes=minutes,
                category=category,
                note=draft.note,
                rules_version=version,
                reverses=draft.reverses,
                prev_hash=prev_hash,
                hash=digest,
                postings=draft.postings,
                refs=exchange.refs if exchange is not None else {},
            )
        )
    state.head, state.last_id = head, entry_id
    conn = state.conn
    conn.executemany(_INSERT_ENTRY, entry_rows)
    conn.executemany(_INSERT_POSTING, posting_rows)
    state.written.extend(entries)
    state.count += len(entry_rows)


def flush_balances(state: WriteState) -> None:
    """Write every balance the write touched; called once before it ends."""
    ids = state.account_ids()
    balance_rows = [(ids[code], state.balances[code], state.last_id) for code in state.touched]
    state.conn.executemany(_UPSERT_BALANCE, balance_rows)
    state.touched.clear()


# claims ---------------------------------------------------------------------


def insert_claim(
    conn: Conn, exchange: Exchange, *, awaiting: Sequence[str], auto_accept_on: dt.date | None
) -> int:
    row = rows.claim_to_row(exchange, awaiting=awaiting, created_at=now_utc(), auto_accept_on=auto_accept_on)
    return _insert(conn, "claims", row)


def add_confirmation(conn: Conn, claim_id: int, member: str) -> None:
    _insert(conn, "claim_confirmations", {"claim_id": claim_id, "member": member, "at": now_utc()})


def decide_claim(conn: Conn, claim_id: int, *, status: str, decided_by: str, **fields: Any) -> None:
    """Mark a pending claim confirmed or declined (``entry_id``, ``reason``, ``withdrawn``)."""
    changes = {"status": status, "decided_by": decided_by, "decided_at": now_utc(), **fields}
    sets = ", ".join(f"{name} = :{name}" for name in changes)
    conn.execute(
        f"UPDATE claims SET {sets} WHERE id = :claim_id AND status = 'pending'",
        {**changes, "claim_id": claim_id},
    )


# members and accounts -------------------------------------------------------


def insert_member(conn: Conn, member: Member) -> int:
    return _insert(conn, "members", rows.member_to_row(member))


def update_member(conn: Conn, member: Member) -> int:
    """Store a member's changed details (the handle never changes); their row id."""
    row = rows.member_to_row(member)
    sets = ", ".join(f"{name} = :{name}" for name in row if name != "handle")
    return conn.execute(f"UPDATE members SET {sets} WHERE handle = :handle RETURNING id", row).fetchone()[0]


def log_member_change(conn: Conn, member_id: int, changed_by: str, change: Mapping[str, Any]) -> None:
    _insert(
        conn,
        "member_changes",
        {
            "member_id": member_id,
            "changed_at": now_utc(),
            "changed_by": changed_by,
            "change": json.dumps(change, default=str),
        },
    )


def active_coordinators(conn: Conn) -> int:
    return conn.execute(
        "SELECT count(*) FROM members WHERE role = 'coordinator' AND status = 'active'"
    ).fetchone()[0]


def member_ids(conn: Conn) -> list[tuple[int, str]]:
    return conn.execute("SELECT id, handle FROM members").fetchall()


def ensure_account(conn: Conn, account: Account, member_id: int | None = None) -> int | None:
    """Open an account unless its code is taken; the new row id (None if it existed)."""
    row = conn.execute(
        "INSERT INTO accounts (code, kind, name, member_id) VALUES (:code, :kind, :name, :member_id)"
        " ON CONFLICT (code) DO NOTHING RETURNING id",
        rows.account_to_row(account, member_id),
    ).fetchone()
    return row[0] if row else None


# rules and period closes (their reads too: this module owns these tables) ---


def newest_rules(conn: Conn) -> tuple[int, dict[str, Any]] | None:
    """The rules in force as stored: (version, data), None before the first version."""
    row = conn.execute("SELECT version, data FROM rules ORDER BY version DESC LIMIT 1").fetchone()
    return (row[0], json.loads(row[1])) if row else None


def next_rules_version(conn: Conn) -> int:
    return (conn.execute("SELECT max(version) FROM rules").fetchone()[0] or 0) + 1


def insert_rules(conn: Conn, *, version: int, created_by: str, data: str, note: str) -> None:
    _insert(
        conn,
        "rules",
        {"version": version, "created_at": now_utc(), "created_by": created_by, "data": data, "note": note},
    )


def rules_history(conn: Conn) -> list[dict[str, Any]]:
    cursor = conn.execute("SELECT version, created_at, created_by, note FROM rules ORDER BY version")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def last_close(conn: Conn) -> dt.date | None:
    last = conn.execute("SELECT max(through) FROM period_closes").fetchone()[0]
    return dt.date.fromisoformat(last) if last else None


def insert_period_close(conn: Conn, through: dt.date, closed_by: str) -> None:
    _insert(
        conn,
        "period_closes",
        {"through": through.isoformat(), "closed_at": now_utc(), "closed_by": closed_by},
    )


def first_entry_day(conn: Conn) -> dt.date | None:
    first = conn.execute("SELECT min(day) FROM entries").fetchone()[0]
    return dt.date.fromisoformat(first) if first else None


def create_plugin_tables(
    conn: sqlite3.Connection, statements: Iterable[str], authorize: Callable[..., int]
) -> None:
    """Run a plugin's ``declare_tables`` statements (``CREATE TABLE IF NOT EXISTS ...``), each
    checked by ``authorize`` (SQLite's authorizer) as it is prepared."""
    conn.set_authorizer(authorize)
    try:
        for statement in statements:
            conn.execute(statement)
    finally:
        conn.set_authorizer(None)


__all__ = [
    "create_plugin_tables",
    "WriteState",
    "active_coordinators",
    "add_confirmation",
    "decide_claim",
    "ensure_account",
    "first_entry_day",
    "flush_balances",
    "insert_claim",
    "insert_member",
    "insert_period_close",
    "insert_rules",
    "last_close",
    "log_member_change",
    "member_ids",
    "newest_rules",
    "next_rules_version",
    "rules_history",
    "update_member",
    "write_drafts",
]
