"""Claims awaiting confirmation: confirm or decline."""

from __future__ import annotations

from collections.abc import Callable

from textual import work
from textual.app import ComposeResult
from textual.widgets import Label, Static

from timebank.errors import RulesRefused, TimebankError
from timebank.models import Claim, Entry
from timebank.tui.screens.modals import ConfirmModal, ReasonModal
from timebank.tui.screens.table_screen import TableScreen
from timebank.tui.widgets.plain import plain_row
from timebank.units import format_minutes


class PendingScreen(TableScreen):
    """Listing the claims only reads: a claim past its auto-accept day is accepted by the
    next change to the ledger (the write path), never by looking at it."""

    BINDINGS = [("c", "confirm", "Confirm"), ("d", "decline", "Decline"), ("w", "withdraw", "Withdraw mine")]
    HEADING = "Claims awaiting confirmation"
    TABLE = "claims"
    COLUMNS = ("#", "date", "who", "time", "kind", "waiting for", "note")
    MESSAGE = "pending-message"
    FOCUS_TABLE = False

    def compose_below(self) -> ComposeResult:
        yield Static("", id="pending-empty", markup=False)
        yield Label("", id="pending-message", classes="message", markup=False)

    def refresh_data(self) -> None:
        table = self.table
        table.clear()
        sight = self.sight  # a member: claims waiting for them, and their own waiting for others
        mine = self.actor is not None and not self.actor.is_coordinator
        claims = [c for c in self.ledger.claims() if sight.claim(c)]
        for claim in claims:
            e = claim.exchange
            table.add_row(
                *plain_row(
                    claim.id,
                    e.day.isoformat(),
                    f"{','.join(e.givers)} → {','.join(e.receivers)}",
                    format_minutes(e.minutes),
                    e.category,
                    ", ".join(claim.waiting_for),
                    e.note,
                )
            )
        self.query_one("#pending-empty", Static).update(
            "" if claims else "no claims waiting for you" if mine else "no claims waiting for anyone"
        )

    @work(exclusive=True)
    async def action_confirm(self) -> None:
        claim_id = self.selected_number()
        if claim_id is None or self.actor is None:
            return
        actor = self.actor.handle
        try:
            entry = self.ledger.confirm(claim_id, actor=actor)
        except RulesRefused as refused:
            if not refused.only_warnings or not await self.app.push_screen_wait(
                ConfirmModal("\n".join(p.message for p in refused.problems) + "\n\nConfirm anyway?")
            ):
                self.say("; ".join(p.message for p in refused.problems))
                return
            self.attempt(
                lambda: self.ledger.confirm(claim_id, actor=actor, acknowledge=True),
                lambda result: confirmed(claim_id, result),
            )
            return
        except TimebankError as exc:
            self.say(str(exc))
            return
        self.say(confirmed(claim_id, entry))
        self.refresh_data()

    @work(exclusive=True)
    async def action_decline(self) -> None:
        await self.decide("Decline claim #{}?", "Decline", self.ledger.decline, "claim #{} declined")

    @work(exclusive=True)
    async def action_withdraw(self) -> None:
        """Take back a claim you recorded that still waits for someone: it never enters the ledger."""
        await self.decide("Withdraw your claim #{}?", "Withdraw", self.ledger.withdraw, "claim #{} withdrawn")

    async def decide(self, question: str, verb: str, change: Callable[..., object], done: str) -> None:
        """Decline or withdraw the selected claim, with a reason if the member gives one."""
        claim_id = self.selected_number()
        if claim_id is None or self.actor is None:
            return
        actor = self.actor.handle
        reason = await self.app.push_screen_wait(ReasonModal(question.format(claim_id), verb, required=False))
        if reason is not None:
            self.attempt(
                lambda: change(claim_id, actor=actor, reason=reason), lambda _: done.format(claim_id)
            )


def confirmed(claim_id: int, result: Entry | Claim) -> str:
    """What a confirmation did: the claim entered the ledger, or (a group claim) still waits
    for others it charges, who confirm for themselves."""
    if isinstance(result, Entry):
        return f"claim #{claim_id} confirmed as entry #{result.id}"
    return f"claim #{claim_id}: your confirmation is recorded; waiting for {', '.join(result.waiting_for)}"
