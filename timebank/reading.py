"""Reading the ledger: balances, statements, entries, the chain's head.

A mixin of ``Ledger``: the SQL is ``timebank.storage.reads``'s; here are the caches it
reads through (account ids, dropped when another connection commits), the paging keys,
and "not found" as ``NotFound``. Who may read what is ``Ledger.visible_to``'s, asked by
the CLI and the TUI before they show anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from timebank.errors import NotFound
from timebank.models import Account, Entry, StatementLine
from timebank.storage import figures, reads


class ReadingMixin:
    """Balances, statements and entries."""

    def balance(self, code: str) -> int:
        """An account's balance in credit-minutes: one row, however long the ledger."""
        found = reads.balance(self.conn, code)
        if found is None:
            raise NotFound(f"account: no account {code!r}")
        return found

    def balances(self) -> list[tuple[Account, int]]:
        return reads.balances(self.conn)

    def statement(
        self, code: str, *, limit: int = 50, before: int | tuple[int, int] | None = None
    ) -> list[StatementLine]:
        """An account's postings, newest first, with the balance after each.

        Page back with ``before`` = the ``key`` (entry id, posting seq) of the last line
        shown. Paging by entry id alone would lose the rest of an entry whose postings on
        this account straddle a page boundary; an entry id alone still means "entries
        before this one".
        """
        account_id = self.account_ids().get(code)
        if account_id is None:
            raise NotFound(f"account: no account {code!r}")
        if before is None:
            key = (reads.NEWEST, 0)
        elif isinstance(before, tuple):
            key = before
        else:
            key = (before, -1)
        return reads.statement(self.conn, account_id, code, key=key, limit=limit)

    def statement_by_day(
        self, code: str, *, limit: int = 50, before: tuple[str, int, int] | None = None
    ) -> list[StatementLine]:
        """An account's postings newest day first (then entry, then posting), each with the
        balance after it in that order: a slip typed today for last Saturday sits with
        Saturday, and its running balance is recomputed there rather than read from the
        entry order. Page back with ``before`` = (day ISO, entry id, seq) of the last line
        shown; ``statement`` (entry order, stored balances) stays the cheap audit view."""
        account_id = self.account_ids().get(code)
        if account_id is None:
            raise NotFound(f"account: no account {code!r}")
        return reads.statement_by_day(self.conn, account_id, code, before=before, limit=limit)

    def entry(self, entry_id: int) -> Entry:
        entries = self.entries(ids=[entry_id])
        if not entries:
            raise NotFound(f"entry: no entry #{entry_id}")
        return entries[0]

    def entries(
        self, *, limit: int = 50, before: int | None = None, ids: Sequence[int] | None = None
    ) -> list[Entry]:
        """Entries newest first (or those with ``ids``), each with its postings."""
        return reads.entries(self.conn, limit=limit, before=before, ids=ids)

    def entries_of_day(self, day: dt.date, *, or_after: int | None = None, limit: int = 200) -> list[Entry]:
        """Entries for service on ``day``, and any written after entry ``or_after``, newest first."""
        ids = reads.entry_ids_of_day(self.conn, day, or_after=or_after, limit=limit)
        return self.entries(ids=ids) if ids else []

    def last_entry_id(self) -> int:
        return reads.last_entry_id(self.conn)

    def reversed_by(self, entry_ids: Sequence[int]) -> dict[int, int]:
        """Which of ``entry_ids`` a later entry reverses, and by which entry (one query for a
        page of the log, so a screen can mark them)."""
        return reads.reversed_by(self.conn, entry_ids)

    def service_totals(self) -> tuple[int, int]:
        """How many exchanges of care the ledger holds and their minutes (reversals included)."""
        return figures.service_totals(self.conn)

    def head_hash(self) -> str:
        return reads.chain_head(self.conn)[1]

    def verify(self, extra_anchors: dict[int, str] | None = None) -> Any:
        from timebank.storage.verify import verify

        return verify(self, extra_anchors)
