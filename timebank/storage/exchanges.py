"""The CSV importer's and exporter's reads of service entries.

The importer asks, a day at a time, which standing exchanges of that day are already in the
ledger (so a file imported twice is warned about); the exporter reads every standing exchange
with its refs and the postings it made, as ``export exchanges`` writes them.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator

from timebank.storage.store import STANDING


def last_service_id(conn: sqlite3.Connection) -> int | None:
    """The id of the newest exchange entry, or None in a ledger without exchanges."""
    return conn.execute("SELECT max(id) FROM entries WHERE kind = 'service'").fetchone()[0]


def standing_services_of_day(
    conn: sqlite3.Connection, day: dt.date, through_id: int
) -> Iterator[tuple[str, str, int, str, str, int]]:
    """Each distinct standing exchange of ``day`` up to entry ``through_id``: givers,
    receivers, minutes, kind, note, and the first entry that recorded it."""
    return conn.execute(
        "SELECT e.givers, e.receivers, e.minutes, e.category, e.note, min(e.id) FROM entries e"
        f" WHERE e.day = ? AND e.kind = 'service' AND e.id <= ? AND {STANDING}"
        " GROUP BY e.givers, e.receivers, e.minutes, e.category, e.note",
        (day.isoformat(), through_id),
    )


def exported_exchanges(conn: sqlite3.Connection) -> Iterator[tuple]:
    """Every standing exchange in entry order: day, givers, receivers, minutes, kind, note,
    refs, and its postings as ``code=amount;...`` in minutes, in posting order: the export's
    ``postings`` column, the form ``interchange.reproduce.read_postings`` reads back (not
    ``units.postings_text``'s, ``alice +1h``, which is for people to read)."""
    return conn.execute(
        "SELECT e.day, e.givers, e.receivers, e.minutes, e.category, e.note, e.refs,"
        " (SELECT group_concat(a.code || '=' || p.amount, ';') FROM"
        "  (SELECT * FROM postings WHERE entry_id = e.id ORDER BY seq) p"
        "  JOIN accounts a ON a.id = p.account_id) FROM entries e"
        f" WHERE e.kind = 'service' AND {STANDING}"
        " ORDER BY e.id"
    )


__all__ = ["exported_exchanges", "last_service_id", "standing_services_of_day"]
