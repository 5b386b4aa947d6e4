"""Reading the ledger: balances, statements, entries, the chain's head.

A mixin of ``Ledger``. A balance is one row away however long the ledger; a statement page
is read by keyset paging from the by-account index, with the running balance stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from timebank.chain import SELECT_ENTRIES
from timebank.errors import NotFound
from timebank.models import Account, Entry, Posting, StatementLine, decode_refs
from timebank.storage.writes import chain_head


class ReadingMixin:
    """Balances, statements and entries."""

    def balance(self, code: str) -> int:
        """An account's balance in credit-minutes: one row, however long the ledger."""
        row = self.conn.execute(
            "SELECT a.id, b.balance FROM accounts a LEFT JOIN balances b ON b.account_id = a.id"
            " WHERE a.code = ?",
            (code,),
        ).fetchone()
        if row is None:
            raise NotFound(f"account: no account {code!r}")
        return row[1] or 0

    def balances(self) -> list[tuple[Account, int]]:
        rows = self.conn.execute(
            "SELECT a.code, a.kind, a.name, m.handle, coalesce(b.balance, 0) FROM accounts a"
            " LEFT JOIN members m ON m.id = a.member_id"
            " LEFT JOIN balances b ON b.account_id = a.id ORDER BY a.code"
        )
        return [(Account(*row[:4]), row[4]) for row in rows]

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
            key = (2**62, 0)
        elif isinstance(before, tuple):
            key = before
        else:
            key = (before, -1)
        rows = self.conn.execute(
            "SELECT p.entry_id, e.day, e.kind, p.amount, p.balance_after, e.category, e.note,"
            " e.givers, e.receivers, p.seq FROM postings p JOIN entries e ON e.id = p.entry_id"
            " WHERE p.account_id = ? AND (p.entry_id < ? OR (p.entry_id = ? AND p.seq < ?))"
            " ORDER BY p.entry_id DESC, p.seq DESC LIMIT ?",
            (account_id, key[0], key[0], key[1], limit),
        )
        return [
            StatementLine(
                entry_id=r[0],
                day=dt.date.fromisoformat(r[1]),
                kind=r[2],
                amount=r[3],
                balance=r[4],
                category=r[5],
                note=r[6],
                counterparties=_other_side(code, r[7].split(), r[8].split()),
                seq=r[9],
            )
            for r in rows
        ]

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
        after = (
            ""
            if before is None
            else " AND (e.day > ? OR (e.day = ? AND (p.entry_id > ? OR (p.entry_id = ? AND p.seq >= ?))))"
        )
        key: tuple[Any, ...] = (
            () if before is None else (before[0], before[0], before[1], before[1], before[2])
        )
        newer = self.conn.execute(
            "SELECT coalesce(sum(p.amount), 0) FROM postings p JOIN entries e ON e.id = p.entry_id"
            f" WHERE p.account_id = ?{after}",
            (account_id, *key),
        ).fetchone()[0]
        balance = self.balance(code) - (newer if before is not None else 0)
        older = (
            ""
            if before is None
            else " AND (e.day < ? OR (e.day = ? AND (p.entry_id < ? OR (p.entry_id = ? AND p.seq < ?))))"
        )
        rows = self.conn.execute(
            "SELECT p.entry_id, e.day, e.kind, p.amount, e.category, e.note, e.givers, e.receivers, p.seq"
            " FROM postings p JOIN entries e ON e.id = p.entry_id"
            f" WHERE p.account_id = ?{older} ORDER BY e.day DESC, p.entry_id DESC, p.seq DESC LIMIT ?",
            (account_id, *key, limit),
        )
        lines = []
        for r in rows:
            lines.append(
                StatementLine(
                    entry_id=r[0],
                    day=dt.date.fromisoformat(r[1]),
                    kind=r[2],
                    amount=r[3],
                    balance=balance,
                    category=r[4],
                    note=r[5],
                    counterparties=_other_side(code, r[6].split(), r[7].split()),
                    seq=r[8],
                )
            )
            balance -= r[3]
        return lines

    def entry(self, entry_id: int) -> Entry:
        entries = self.entries(ids=[entry_id])
        if not entries:
            raise NotFound(f"entry: no entry #{entry_id}")
        return entries[0]

    def entries(
        self, *, limit: int = 50, before: int | None = None, ids: Sequence[int] | None = None
    ) -> list[Entry]:
        """Entries newest first (or those with ``ids``), each with its postings."""
        if ids is not None:
            marks = ",".join("?" * len(ids))
            rows = self.conn.execute(
                f"{SELECT_ENTRIES} WHERE id IN ({marks}) ORDER BY id DESC", tuple(ids)
            ).fetchall()
        else:
            rows = self.conn.execute(
                f"{SELECT_ENTRIES} WHERE id < ? ORDER BY id DESC LIMIT ?",
                (before if before is not None else 2**62, limit),
            ).fetchall()
        if not rows:
            return []
        codes = {v: k for k, v in self.account_ids().items()}
        marks = ",".join("?" * len(rows))
        postings: dict[int, list[Posting]] = {}
        for entry_id, account_id, amount in self.conn.execute(
            f"SELECT entry_id, account_id, amount FROM postings WHERE entry_id IN ({marks})"
            " ORDER BY entry_id, seq",
            tuple(r[0] for r in rows),
        ):
            postings.setdefault(entry_id, []).append(Posting(codes[account_id], amount))
        return [_entry_from_row(r, tuple(postings.get(r[0], ()))) for r in rows]

    def entries_of_day(self, day: dt.date, *, or_after: int | None = None, limit: int = 200) -> list[Entry]:
        """Entries for service on ``day``, and any written after entry ``or_after``, newest first."""
        rows = self.conn.execute(
            # Two indexed look-ups: "day = ? OR id > ?" scans every entry when the day has none.
            "SELECT id FROM entries WHERE day = ? UNION SELECT id FROM entries WHERE id > ?"
            " ORDER BY id DESC LIMIT ?",
            (day.isoformat(), or_after if or_after is not None else 2**62, limit),
        ).fetchall()
        return self.entries(ids=[r[0] for r in rows]) if rows else []

    def last_entry_id(self) -> int:
        return self.conn.execute("SELECT coalesce(max(id), 0) FROM entries").fetchone()[0]

    def head_hash(self) -> str:
        return chain_head(self.conn)[1]

    def verify(self, extra_anchors: dict[int, str] | None = None) -> Any:
        from timebank.storage.verify import verify

        return verify(self, extra_anchors)


def _other_side(code: str, givers: list[str], receivers: list[str]) -> tuple[str, ...]:
    if code in givers:
        return tuple(receivers)
    if code in receivers:
        return tuple(givers)
    return tuple(givers + receivers)


def _entry_from_row(row: Sequence[Any], postings: tuple[Posting, ...]) -> Entry:
    return Entry(
        id=row[0],
        kind=row[1],
        day=dt.date.fromisoformat(row[2]),
        recorded_at=row[3],
        recorded_by=row[4],
        givers=tuple(row[5].split()),
        receivers=tuple(row[6].split()),
        minutes=row[7],
        category=row[8],
        note=row[9],
        rules_version=row[10],
        reverses=row[11],
        refs=decode_refs(row[12]),
        prev_hash=row[13],
        hash=row[14],
        postings=postings,
    )
