"""The SQL behind ``timebank.read_api``: what plugins may read of the core tables.

Plugins never run SQL on the core tables (``tests/test_plugin_reads.py`` holds them to it);
they call ``ledger.read``, whose methods land here. Each function takes the ledger's
connection and plain values (days as ISO text, handles, account codes) and returns plain
rows; the façade turns them into records. "Standing" means not reversed: an entry some
reversal points back at no longer counts, though it stays in the history.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from sys import intern

from timebank.storage.store import STANDING

# Minutes of service given by an entry: its length for each giver (a group session given by
# two is two people's time).
GIVEN = "e.minutes * (length(e.givers) - length(replace(e.givers, ' ', '')) + 1)"

# What a by-key total groups on: the key is chosen here, never passed in as SQL.
_GROUPS = {"category": "e.category", "month": "substr(e.day, 1, 7)"}


def given_on(
    conn: sqlite3.Connection, days: Sequence[str], givers: Sequence[str] | None
) -> dict[str, dict[str, int]]:
    """Minutes each giver gave on each of ``days`` in standing service entries, read now.

    With ``givers``, only theirs (and every entry with several givers, which the index of
    days cannot tell apart); without, everyone's.
    """
    only = f" AND (e.givers IN ({','.join('?' * len(givers))}) OR instr(e.givers, ' '))" if givers else ""
    given: dict[str, dict[str, int]] = {day: {} for day in days}
    for day_chunk in (list(days[i : i + 500]) for i in range(0, len(days), 500)):
        marks = ",".join("?" * len(day_chunk))
        rows = conn.execute(
            f"SELECT e.givers, e.day, sum(e.minutes) FROM entries e WHERE e.day IN ({marks})"
            f" AND e.kind = 'service' AND {STANDING}{only}"
            " GROUP BY e.givers, e.day",
            day_chunk + list(givers or []),
        )
        for names, day, minutes in rows:
            on_day = given[day]
            for giver in names.split():
                giver = intern(giver)  # one string per member across days: 20 MB, not 70, for 1M rows
                on_day[giver] = on_day.get(giver, 0) + minutes
    return given


class DaysGiven:
    """Each day's minutes per giver, kept across the batches of an import.

    Why: an import whose rows are not sorted by date touches nearly every day in every
    batch, and reading those days afresh for each batch re-read every entry recorded so
    far (1,000,000 rows: 9 min 23 s against 48 s sorted). Here a day is read once; after
    that only entries written since (found by id: entries are append-only) are added, and
    reversals since are taken off. The last entry's id and hash seen are checked first: if
    that entry is gone or different (a refused or dry-run import rolled back, and perhaps
    others wrote since), everything is read afresh. Days the current batch does not touch
    are dropped, so a sorted import keeps only a few.
    """

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.head: tuple[int, str] | None = None
        self.days: dict[str, dict[str, int]] = {}

    def totals(self, days: Sequence[str]) -> dict[str, dict[str, int]]:
        conn = self.conn
        row = conn.execute("SELECT id, hash FROM entries ORDER BY id DESC LIMIT 1").fetchone()
        head = (row[0], row[1]) if row else (0, "")
        if self.head is not None and self.head != head:
            last_id, last_hash = self.head
            seen = conn.execute("SELECT hash FROM entries WHERE id = ?", (last_id,)).fetchone()
            if last_id and (seen is None or seen[0] != last_hash):
                self.days = {}  # what was counted was rolled back
            elif self.days:
                self._add_since(last_id)
        self.head = head
        wanted = set(days)
        for day in [d for d in self.days if d not in wanted]:
            del self.days[day]
        missing = [d for d in days if d not in self.days]
        if missing:
            self.days.update(given_on(conn, missing, None))
        return self.days

    def _add_since(self, last_id: int) -> None:
        rows = self.conn.execute(
            "SELECT e.givers, e.day, e.minutes FROM entries e"
            f" WHERE e.id > ? AND e.kind = 'service' AND {STANDING}"
            " UNION ALL"
            " SELECT e.givers, e.day, -e.minutes FROM entries r JOIN entries e ON e.id = r.reverses"
            " WHERE r.id > ? AND e.id <= ? AND e.kind = 'service'",
            (last_id, last_id, last_id),
        )
        for names, day, minutes in rows:
            on_day = self.days.get(day)
            if on_day is not None:
                for giver in names.split():
                    giver = intern(giver)
                    on_day[giver] = on_day.get(giver, 0) + minutes


def services(
    conn: sqlite3.Connection,
    since: str | None,
    until: str | None,
    before: str | None,
    newest_first: bool,
) -> Iterator[tuple[int, str, str, str, int, str]]:
    """Standing service entries as (id, day, givers, receivers, minutes, category), streamed."""
    where, params = ["e.kind = 'service'"], []
    if since is not None:
        where.append("e.day >= ?")
        params.append(since)
    if until is not None:
        where.append("e.day <= ?")
        params.append(until)
    if before is not None:
        where.append("e.day < ?")
        params.append(before)
    order = " ORDER BY e.day DESC" if newest_first else ""
    yield from conn.execute(
        "SELECT e.id, e.day, e.givers, e.receivers, e.minutes, e.category FROM entries e"
        f" WHERE {' AND '.join(where)} AND {STANDING}{order}",
        params,
    )


def given_by(conn: sqlite3.Connection, key: str, since: str | None, until: str | None) -> list[tuple]:
    """(key, minutes given, exchanges) of standing service entries grouped by ``key``, in key order."""
    group = _GROUPS[key]
    where, params = "", []
    if since is not None and until is not None:
        where, params = " AND e.day BETWEEN ? AND ?", [since, until]
    return conn.execute(
        f"SELECT {group}, sum({GIVEN}), count(*) FROM entries e WHERE e.kind = 'service'"
        f"{where} AND {STANDING} GROUP BY 1 ORDER BY 1",
        params,
    ).fetchall()


def last_gave(conn: sqlite3.Connection) -> dict[str, str | None]:
    """Every member's last day as a giver of a service entry, reversed ones included (None: never)."""
    return dict(
        conn.execute(
            "SELECT m.handle, max(e.day) FROM members m LEFT JOIN entries e ON e.kind = 'service'"
            " AND (' ' || e.givers || ' ') LIKE '% ' || m.handle || ' %' GROUP BY m.handle"
        )
    )


def services_with_ref(conn: sqlite3.Connection, name: str, value: str) -> int:
    """How many standing service entries carry the reference ``name=value``."""
    return conn.execute(
        "SELECT count(*) FROM entries e WHERE e.kind = 'service' AND (';' || e.refs || ';') LIKE ?"
        f" AND {STANDING}",
        (f"%;{name}={value};%",),
    ).fetchone()[0]


def credited(conn: sqlite3.Connection, codes: Sequence[str], kind: str) -> dict[str, int]:
    """Sum of each account's positive postings in entries of ``kind`` (reversed ones included)."""
    found: dict[str, int] = {}
    for start in range(0, len(codes), 500):
        chunk = list(codes[start : start + 500])
        marks = ",".join("?" * len(chunk))
        found.update(
            conn.execute(
                "SELECT a.code, sum(p.amount) FROM postings p JOIN accounts a ON a.id = p.account_id"
                " JOIN entries e ON e.id = p.entry_id"
                f" WHERE a.code IN ({marks}) AND p.amount > 0 AND e.kind = ? GROUP BY a.code",
                (*chunk, kind),
            )
        )
    return found


def first_payment(conn: sqlite3.Connection, payer: str, payee: str, kind: str) -> str | None:
    """The first day an entry of ``kind`` took from ``payer`` and gave to ``payee`` (reversed ones too)."""
    return conn.execute(
        "SELECT min(e.day) FROM entries e JOIN postings m ON m.entry_id = e.id"
        " JOIN postings f ON f.entry_id = e.id"
        " WHERE e.kind = ? AND m.amount < 0 AND f.amount > 0"
        " AND m.account_id = (SELECT id FROM accounts WHERE code = ?)"
        " AND f.account_id = (SELECT id FROM accounts WHERE code = ?)",
        (kind, payer, payee),
    ).fetchone()[0]


def counterparts(conn: sqlite3.Connection, code: str, through: str) -> list[tuple[str, int, str]]:
    """(day, amount, other account) for each posting of ``code`` in standing entries up to
    ``through``, reversals left out, once for every other account in the same entry."""
    return conn.execute(
        "SELECT e.day, f.amount, a.code FROM postings f"
        " JOIN entries e ON e.id = f.entry_id"
        " JOIN postings m ON m.entry_id = e.id AND m.account_id != f.account_id"
        " JOIN accounts a ON a.id = m.account_id"
        f" WHERE f.account_id = (SELECT id FROM accounts WHERE code = ?) AND e.kind != 'reversal'"
        f" AND {STANDING} AND e.day <= ?",
        (code, through),
    ).fetchall()


def shared_flows(conn: sqlite3.Connection, since: str, until: str) -> dict[str, tuple[int, int]]:
    """(in, out) of each shared account (code starting ``@``) in every entry dated in the period."""
    return {
        code: (came_in, went_out)
        for code, came_in, went_out in conn.execute(
            "SELECT a.code, coalesce(sum(CASE WHEN p.amount > 0 THEN p.amount END), 0),"
            " coalesce(sum(CASE WHEN p.amount < 0 THEN -p.amount END), 0)"
            " FROM postings p JOIN accounts a ON a.id = p.account_id JOIN entries e ON e.id = p.entry_id"
            " WHERE a.code LIKE '@%' AND e.day BETWEEN ? AND ? GROUP BY a.code",
            (since, until),
        )
    }
