"""Every entry and every posting as CSV, for a treasurer's or an auditor's spreadsheet.

``export exchanges`` writes only standing service exchanges, in a form ``import`` reads
back; these two write the whole ledger as it is: transfers, adjustments, reversals, entry
ids, refs and the running balance of each posting. Text cells are made formula-safe the
same way as the other exports (``csvio.neutralise``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import IO

from timebank.interchange.csvio import neutralise
from timebank.ledger import Ledger
from timebank.models import Entry, encode_refs

ENTRY_COLUMNS = (
    "entry",
    "day",
    "kind",
    "recorded_by",
    "recorded_at",
    "rules_version",
    "reverses",
    "givers",
    "receivers",
    "minutes",
    "category",
    "refs",
    "note",
)
POSTING_COLUMNS = ("entry", "seq", "day", "account", "minutes", "balance")
CHUNK = 1000


def iter_entries(ledger: Ledger, chunk: int = CHUNK) -> Iterator[Entry]:
    """Every entry with its postings, oldest first, read a chunk at a time."""
    last = ledger.last_entry_id()
    for start in range(1, last + 1, chunk):
        found = ledger.entries(ids=list(range(start, min(start + chunk, last + 1))))
        yield from sorted(found, key=lambda e: e.id)


def entry_row(entry: Entry) -> list[object]:
    """One entry as the cells of ``ENTRY_COLUMNS`` (text made formula-safe)."""
    return [
        entry.id,
        entry.day.isoformat(),
        entry.kind,
        entry.recorded_by,
        entry.recorded_at,
        entry.rules_version,
        "" if entry.reverses is None else entry.reverses,
        ";".join(entry.givers),
        ";".join(entry.receivers),
        entry.minutes,
        neutralise(entry.category),
        neutralise(encode_refs(entry.refs)),
        neutralise(entry.note),
    ]


def export_entries(ledger: Ledger, out: IO[str]) -> int:
    """Write every entry, oldest first; returns how many."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ENTRY_COLUMNS)
    count = 0
    for entry in iter_entries(ledger):
        writer.writerow(entry_row(entry))
        count += 1
    return count


def export_postings(ledger: Ledger, out: IO[str]) -> int:
    """Write every posting with the account's balance after it; returns how many."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(POSTING_COLUMNS)
    balances: dict[str, int] = {}
    count = 0
    for entry in iter_entries(ledger):
        for seq, posting in enumerate(entry.postings):
            balance = balances[posting.account] = balances.get(posting.account, 0) + posting.amount
            writer.writerow(
                [entry.id, seq, entry.day.isoformat(), neutralise(posting.account), posting.amount, balance]
            )
            count += 1
    return count


__all__ = ["ENTRY_COLUMNS", "POSTING_COLUMNS", "export_entries", "export_postings", "iter_entries"]
