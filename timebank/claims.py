"""Claims: exchanges recorded by one side and waiting for the other side to confirm.

A mixin of ``Ledger``. A claim is not in the ledger; confirming records it through the
same rules as any exchange, declining leaves it only here. Every decision reads the claim
inside its ``BEGIN IMMEDIATE`` transaction, so a claim is decided once however many
processes confirm, decline or auto-accept it at the same moment.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from timebank.errors import InputError, NotFound, RulesRefused, TimebankError
from timebank.models import Claim, Entry
from timebank.permissions import AUTO_ACCEPT, WITHDRAW, actor_label
from timebank.storage import reads, writes
from timebank.units import check_text

# Who decided a claim its auto-accept day accepted, as the claims table records it.
AUTO = actor_label(AUTO_ACCEPT)


class ClaimsMixin:
    """Claims awaiting confirmation, and confirming or declining them."""

    def claim(self, claim_id: int) -> Claim:
        found = reads.claim(self.conn, claim_id)
        if found is None:
            raise NotFound(f"claim: no claim #{claim_id}")
        return found

    def claims(self, *, status: str = "pending", awaiting: str | None = None) -> list[Claim]:
        """Claims with ``status``; ``awaiting`` keeps those still waiting for that member."""
        claims = reads.claims(self.conn, status)
        if awaiting:
            claims = [c for c in claims if awaiting in c.waiting_for]
        return claims

    def accept_overdue_claims(self, today: dt.date | None = None) -> list[Entry]:
        """Confirm claims whose auto-accept day has come (the rules set the delay).

        Every write does this first (see ``Ledger.transaction``), so a claim enters the
        ledger with the first change after its day, whoever makes it; listing claims never
        writes. Each claim is re-checked inside its own write transaction, so processes
        accepting, confirming or declining it at once decide it once. A claim a rule now
        refuses (a limit reached since) stays pending.
        """
        today = today or dt.date.today()
        entries = []
        for claim_id in self._due_claim_ids(today):
            try:
                entry = self._confirm(claim_id, AUTO, acknowledge=True, due_by=today)
            except RulesRefused:
                continue
            except TimebankError as exc:
                self.warnings.append(f"claim #{claim_id} could not be accepted automatically: {exc}")
                continue
            if entry is not None:
                entries.append(entry)
        return entries

    def _accept_due_claims(self) -> None:
        """The write path's first step: one indexed query, and nothing more unless a claim is due."""
        today = dt.date.today()
        if self._due_claim_ids(today):
            self.accept_overdue_claims(today)

    def _decline(self, conn: Any, claim_id: int, actor: str, reason: str, *, withdrawn: bool = False) -> None:
        """Close a claim without an entry: declined by the other side, or withdrawn by its
        recorder (the same state; ``withdrawn`` says which)."""
        writes.decide_claim(
            conn,
            claim_id,
            status="declined",
            decided_by=actor_label(self._acting(actor)),
            reason=reason,
            **({"withdrawn": 1} if withdrawn else {}),
        )

    def _acting(self, actor: str) -> str:
        """Who decides a claim: the member named, else the one this session has proven."""
        return actor or self.proven or ""

    def _due_claim_ids(self, today: dt.date) -> list[int]:
        return reads.due_claim_ids(self.conn, today)

    def confirm(self, claim_id: int, *, actor: str, acknowledge: bool = False) -> Entry | Claim:
        """A member the claim waits for confirms for themselves; a co-ordinator for everyone.

        Every member a claim charges confirms it: a group claim "waiting for alice, carol"
        enters the ledger only when both have. Returns the entry once it has, else the claim
        still pending with who has confirmed so far.
        """
        result = self._confirm(claim_id, actor, acknowledge=acknowledge)
        assert result is not None
        return result

    def withdraw(self, claim_id: int, *, actor: str, reason: str = "") -> Claim:
        """The member who recorded a pending claim takes it back: it never enters the ledger."""
        check_text(reason, field="reason")
        with self.transaction() as conn:
            claim = self.claim(claim_id)
            if claim.status != "pending":
                raise InputError(f"claim: #{claim_id} is already {_decided(claim)}")
            self.require(actor, WITHDRAW, claim)
            self._decline(conn, claim_id, actor, reason, withdrawn=True)
        return self.claim(claim_id)

    def _confirm(
        self, claim_id: int, actor: str, *, acknowledge: bool, due_by: dt.date | None = None
    ) -> Entry | Claim | None:
        """Record a pending claim; ``due_by`` for an auto-accept (None if no longer due).

        A member's confirmation is recorded inside the write transaction; the exchange
        enters the ledger in that same transaction only if it was the last one missing.
        """
        with self.transaction(settle_claims=due_by is None) as conn:
            if due_by is not None:
                claim = self.claim(claim_id)
                if claim.status != "pending" or not claim.auto_accept_on or claim.auto_accept_on > due_by:
                    return None  # decided by someone else since it was found due
            else:
                claim = self._decidable(claim_id, actor, "confirm")
                handle = self._acting(actor)
                if handle in claim.waiting_for:
                    writes.add_confirmation(conn, claim_id, handle)
                    claim = self.claim(claim_id)
                    if claim.waiting_for:
                        return claim  # others it charges still have to confirm
            entry = self.write([[claim.exchange]], acknowledge=acknowledge).refuse().entries[0]
            writes.decide_claim(
                conn,
                claim_id,
                status="confirmed",
                decided_by=actor_label(self._acting(actor)),
                entry_id=entry.id,
            )
        return entry

    def decline(self, claim_id: int, *, actor: str, reason: str = "") -> Claim:
        """The other side declines: the claim stays in the claims, never in the ledger."""
        check_text(reason, field="reason")
        with self.transaction() as conn:
            self._decidable(claim_id, actor, "decline")
            self._decline(conn, claim_id, actor, reason)
        return self.claim(claim_id)

    def _decidable(self, claim_id: int, actor: str, action: str) -> Claim:
        """The claim, still pending, and the actor allowed to decide it.

        Called inside the write transaction: what it reads cannot change before the commit.
        """
        claim = self.claim(claim_id)
        if claim.status != "pending":
            raise InputError(f"claim: #{claim_id} is already {_decided(claim)}")
        self.require(actor, action, claim)
        return claim


def _decided(claim: Claim) -> str:
    """How a claim was decided, for the one who comes too late: "confirmed by bob as entry #4"."""
    who = "automatically" if claim.decided_by == AUTO else f"by {claim.decided_by}"
    text = f"{'withdrawn' if claim.withdrawn else claim.status} {who}"
    return text + f" as entry #{claim.entry_id}" if claim.entry_id else text
