"""Aggregate reads of the entries for modules outside the ledger core: the public figures'
one pass over the service entries and balances as of a day (``publishing.publish``), the
co-op at a glance (``timebank`` with no command), the first day a journal opens accounts
(``interchange.journal``) and which shown entries were reversed (the terminal UI).

Each function takes a connection and plain values and returns plain values; what the
figures mean, and what is shown, is decided by the callers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from timebank.storage.store import STANDING

# A chunk is read at a time: the benchmark's million exchanges would not fit a list cheaply.
CHUNK = 20_000


def service_rows_through(conn: Any, through: dt.date) -> Iterator[list[tuple[str, str, str, str, int]]]:
    """Standing service exchanges dated up to ``through``, in chunks, mostly in day order,
    each as ``(month, category, givers, receivers, minutes)``: month as ``YYYY-MM``, givers
    and receivers as handles separated by spaces.

    Tuples, not dicts, because publish reads every service exchange of the ledger (a
    million in the benchmark) and unpacks these five names at once.
    """
    rows = conn.execute(
        "SELECT substr(e.day, 1, 7), e.category, e.givers, e.receivers, e.minutes FROM entries e"
        # ``+e.day``: most entries qualify, so read the table in order rather than via the index
        f" WHERE e.kind = 'service' AND +e.day <= ? AND {STANDING}",
        (through.isoformat(),),
    )
    while chunk := rows.fetchmany(CHUNK):
        yield chunk


def amounts_dated_after(conn: Any, day: dt.date) -> dict[int, int]:
    """For each account id, the sum of its postings in entries dated after ``day``."""
    return dict(
        conn.execute(
            # CROSS JOIN keeps entries outside: otherwise SQLite walks all postings by account
            "SELECT p.account_id, sum(p.amount) FROM entries e CROSS JOIN postings p ON p.entry_id = e.id"
            " WHERE e.day > ? GROUP BY p.account_id",
            (day.isoformat(),),
        )
    )


def service_totals(conn: Any) -> tuple[int, int]:
    """How many service entries the ledger holds, and their minutes (reversals included)."""
    count, minutes = conn.execute(
        "SELECT count(*), coalesce(sum(minutes), 0) FROM entries WHERE kind = 'service'"
    ).fetchone()
    return count, minutes


def first_day(conn: Any) -> dt.date | None:
    """The earliest day any entry is dated, or None in a ledger without entries."""
    first = conn.execute("SELECT min(day) FROM entries").fetchone()[0]
    return dt.date.fromisoformat(first) if first else None


__all__ = ["amounts_dated_after", "first_day", "service_rows_through", "service_totals"]
