"""Claims: exchanges recorded by one side and waiting for the other side to confirm.

A mixin of ``Ledger``. A claim is not in the ledger; confirming records it through the
same rules as any exchange, declining leaves it only here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from timebank.errors import InputError, NotFound, RulesRefused
from timebank.models import Claim, Entry, Exchange, decode_refs
from timebank.store import now_utc
from timebank.units import check_text


class ClaimsMixin:
    """Claims awaiting confirmation, and confirming or declining them."""

    def claim(self, claim_id: int) -> Claim:
        rows = list(self.store.db.query("SELECT * FROM claims WHERE id = ?", (claim_id,)))
        if not rows:
            raise NotFound(f"claim: no claim #{claim_id}")
        return _claim_from_row(rows[0])

    def claims(self, *, status: str = "pending", awaiting: str | None = None) -> list[Claim]:
        rows = self.store.db.query("SELECT * FROM claims WHERE status = ? ORDER BY id", (status,))
        claims = [_claim_from_row(row) for row in rows]
        if awaiting:
            claims = [c for c in claims if awaiting in c.awaiting]
        return claims

    def accept_overdue_claims(self, today: dt.date | None = None) -> list[Entry]:
        """Confirm claims whose auto-accept day has come (the rules set the delay).

        A claim a rule now refuses (a limit reached since) stays pending.
        """
        today = today or dt.date.today()
        entries = []
        for claim in self.claims():
            if claim.auto_accept_on and claim.auto_accept_on <= today:
                try:
                    entries.append(self._confirm(claim, "auto", acknowledge=True))
                except RulesRefused:
                    continue
        return entries

    def confirm(self, claim_id: int, *, actor: str, acknowledge: bool = False) -> Entry:
        """The other side (or a co-ordinator) confirms: the exchange enters the ledger."""
        claim = self._decidable(claim_id, actor, "confirm")
        return self._confirm(claim, actor, acknowledge=acknowledge)

    def _confirm(self, claim: Claim, actor: str, *, acknowledge: bool) -> Entry:
        claim_id = claim.id
        with self.transaction() as conn:
            batch, problems = self.record_batches_in(conn, [[claim.exchange]], acknowledge=acknowledge)
            if problems:
                raise RulesRefused(problems)
            entry = batch.written[0]
            conn.execute(
                "UPDATE claims SET status = 'confirmed', decided_by = ?, decided_at = ?,"
                " entry_id = ? WHERE id = ?",
                (actor, now_utc(), entry.id, claim_id),
            )
        self._after(batch.written)
        return entry

    def decline(self, claim_id: int, *, actor: str, reason: str = "") -> Claim:
        """The other side declines: the claim stays in the claims, never in the ledger."""
        check_text(reason, field="reason")
        self._decidable(claim_id, actor, "decline")
        with self.transaction() as conn:
            conn.execute(
                "UPDATE claims SET status = 'declined', decided_by = ?, decided_at = ?,"
                " reason = ? WHERE id = ?",
                (actor, now_utc(), reason, claim_id),
            )
        return self.claim(claim_id)

    def _decidable(self, claim_id: int, actor: str, action: str) -> Claim:
        claim = self.claim(claim_id)
        if claim.status != "pending":
            raise InputError(f"claim: #{claim_id} is already {claim.status}")
        self.require(actor, action, claim)
        return claim


def _claim_from_row(row: Mapping[str, Any]) -> Claim:
    exchange = Exchange(
        givers=tuple(row["givers"].split()),
        receivers=tuple(row["receivers"].split()),
        minutes=row["minutes"],
        day=dt.date.fromisoformat(row["day"]),
        category=row["category"],
        recorded_by=row["recorded_by"],
        note=row["note"],
        refs=decode_refs(row["refs"]),
    )
    return Claim(
        id=row["id"],
        exchange=exchange,
        awaiting=tuple(row["awaiting"].split()),
        status=row["status"],
        created_at=row["created_at"],
        decided_by=row["decided_by"],
        entry_id=row["entry_id"],
        reason=row["reason"],
        auto_accept_on=dt.date.fromisoformat(row["auto_accept_on"]) if row["auto_accept_on"] else None,
    )
