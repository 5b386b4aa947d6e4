"""Members' SSH keys and kiosk PINs as the ledger keeps them: every statement on
``member_keys``, ``member_pins`` and ``pin_attempts``.

Functions take a connection and plain values. Those that write run inside the caller's
``BEGIN IMMEDIATE`` transaction (``Ledger.transaction``): deciding whether a key is taken
or a PIN is locked, and recording the outcome, happen under one lock. The rules (who may
add a key, how many wrong PINs lock one) are ``timebank.access`` and ``timebank.pins``'s.
"""

from __future__ import annotations

import sqlite3

from timebank.models import MemberKey
from timebank.storage import rows

_SELECT_KEYS = f"SELECT {rows.columns(rows.MEMBER_KEY_COLUMNS)} FROM member_keys"

# keys ---------------------------------------------------------------------------------


def member_keys(conn: sqlite3.Connection, *, include_revoked: bool = False) -> list[MemberKey]:
    """Members' keys in the order they were added; those in use unless ``include_revoked``."""
    where = "" if include_revoked else " WHERE revoked_at IS NULL"
    return [rows.member_key_from_row(*row) for row in conn.execute(f"{_SELECT_KEYS}{where} ORDER BY id")]


def member_key(conn: sqlite3.Connection, key_id: int) -> MemberKey | None:
    row = conn.execute(f"{_SELECT_KEYS} WHERE id = ?", (key_id,)).fetchone()
    return None if row is None else rows.member_key_from_row(*row)


def key_in_use(conn: sqlite3.Connection, which: str) -> int | None:
    """The id of the key in use whose number or fingerprint is ``which``, or None."""
    row = conn.execute(
        "SELECT id FROM member_keys WHERE (CAST(id AS TEXT) = ? OR fingerprint = ?) AND revoked_at IS NULL"
        " ORDER BY id LIMIT 1",
        (which, which),
    ).fetchone()
    return None if row is None else row[0]


def holder_of(conn: sqlite3.Connection, fingerprint: str) -> str | None:
    """The member whose key in use has ``fingerprint``, or None."""
    row = conn.execute(
        "SELECT member FROM member_keys WHERE fingerprint = ? AND revoked_at IS NULL", (fingerprint,)
    ).fetchone()
    return None if row is None else row[0]


def add_key(
    conn: sqlite3.Connection, *, member: str, key: str, fingerprint: str, added_at: str, added_by: str
) -> int:
    """Keep a member's key; its id."""
    return conn.execute(
        "INSERT INTO member_keys (member, key, fingerprint, added_at, added_by) VALUES (?, ?, ?, ?, ?)",
        (member, key, fingerprint, added_at, added_by),
    ).lastrowid


def revoke_key(conn: sqlite3.Connection, key_id: int, *, revoked_at: str, revoked_by: str) -> None:
    """Mark a key revoked; its record stays."""
    conn.execute(
        "UPDATE member_keys SET revoked_at = ?, revoked_by = ? WHERE id = ?", (revoked_at, revoked_by, key_id)
    )


# PINs ---------------------------------------------------------------------------------


def stored_pin(conn: sqlite3.Connection, member: str) -> tuple[str, bool] | None:
    """``member``'s PIN hash and whether it is a one-time code, or None if they have none."""
    row = rows.named(conn, "SELECT hash, one_time FROM member_pins WHERE member = ?", (member,)).fetchone()
    return None if row is None else (row["hash"], bool(row["one_time"]))


def store_pin(
    conn: sqlite3.Connection, member: str, hashed: str, *, one_time: bool, set_at: str, set_by: str
) -> None:
    """Keep ``member``'s PIN hash, replacing the one they had."""
    conn.execute(
        "INSERT INTO member_pins (member, hash, one_time, set_at, set_by) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (member) DO UPDATE SET hash = excluded.hash, one_time = excluded.one_time,"
        " set_at = excluded.set_at, set_by = excluded.set_by",
        (member, hashed, int(one_time), set_at, set_by),
    )


def last_outcomes(conn: sqlite3.Connection, member: str, count: int) -> list[tuple[str, bool]]:
    """When, and whether right, the last ``count`` attempts at ``member``'s PIN that were
    decided (not those refused while locked), newest first."""
    found = rows.named(
        conn,
        "SELECT at, ok FROM pin_attempts WHERE member = ? AND ok IN (0, 1) ORDER BY id DESC LIMIT ?",
        (member, count),
    )
    return [(row["at"], bool(row["ok"])) for row in found]


def pin_attempts(conn: sqlite3.Connection, member: str) -> list[tuple[str, int, str]]:
    """Every attempt at ``member``'s PIN: when, 1 right / 0 wrong / -1 while locked, where."""
    found = rows.named(conn, "SELECT at, ok, place FROM pin_attempts WHERE member = ? ORDER BY id", (member,))
    return [(row["at"], row["ok"], row["place"]) for row in found]


def add_pin_attempt(conn: sqlite3.Connection, member: str, *, at: str, ok: int, place: str) -> None:
    conn.execute(
        "INSERT INTO pin_attempts (member, at, ok, place) VALUES (?, ?, ?, ?)", (member, at, ok, place)
    )
