"""Claims awaiting confirmation: confirm or decline."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.widgets import DataTable, Label, Static

from timebank.errors import RulesRefused, TimebankError
from timebank.models import Entry
from timebank.tui.screens.base import LedgerScreen
from timebank.tui.screens.modals import ConfirmModal, ReasonModal
from timebank.tui.widgets.plain import plain_row
from timebank.units import format_minutes


class PendingScreen(LedgerScreen):
    BINDINGS = [("c", "confirm", "Confirm"), ("d", "decline", "Decline"), ("w", "withdraw", "Withdraw mine")]

    def compose_body(self) -> ComposeResult:
        yield Label("Claims awaiting confirmation", classes="screen-title")
        yield DataTable(id="claims", cursor_type="row", zebra_stripes=True)
        yield Static("", id="pending-empty", markup=False)
        yield Label("", id="pending-message", classes="message", markup=False)

    def on_mount(self) -> None:
        self.query_one("#claims", DataTable).add_columns(
            "#", "date", "who", "time", "kind", "waiting for", "note"
        )

    def refresh_data(self) -> None:
        table = self.query_one("#claims", DataTable)
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

    def selected(self) -> int | None:
        table = self.query_one("#claims", DataTable)
        return int(str(table.get_row_at(table.cursor_row)[0])) if table.row_count else None

    @work(exclusive=True)
    async def action_confirm(self) -> None:
        claim_id = self.selected()
        message = self.query_one("#pending-message", Label)
        if claim_id is None or self.actor is None:
            return
        try:
            entry = self.ledger.confirm(claim_id, actor=self.actor.handle)
        except RulesRefused as refused:
            if not refused.only_warnings or not await self.app.push_screen_wait(
                ConfirmModal("\n".join(p.message for p in refused.problems) + "\n\nConfirm anyway?")
            ):
                message.update("; ".join(p.message for p in refused.problems))
                return
            entry = self.ledger.confirm(claim_id, actor=self.actor.handle, acknowledge=True)
        except TimebankError as exc:
            message.update(str(exc))
            return
        if isinstance(entry, Entry):
            message.update(f"claim #{claim_id} confirmed as entry #{entry.id}")
        else:  # a group claim: others it charges still confirm for themselves
            message.update(
                f"claim #{claim_id}: your confirmation is recorded; "
                f"waiting for {', '.join(entry.waiting_for)}"
            )
        self.refresh_data()

    @work(exclusive=True)
    async def action_decline(self) -> None:
        claim_id = self.selected()
        message = self.query_one("#pending-message", Label)
        if claim_id is None or self.actor is None:
            return
        reason = await self.app.push_screen_wait(
            ReasonModal(f"Decline claim #{claim_id}?", "Decline", required=False)
        )
        if reason is None:
            return
        try:
            self.ledger.decline(claim_id, actor=self.actor.handle, reason=reason)
        except TimebankError as exc:
            message.update(str(exc))
            return
        message.update(f"claim #{claim_id} declined")
        self.refresh_data()

    @work(exclusive=True)
    async def action_withdraw(self) -> None:
        """Take back a claim you recorded that still waits for someone: it never enters the ledger."""
        claim_id = self.selected()
        message = self.query_one("#pending-message", Label)
        if claim_id is None or self.actor is None:
            return
        reason = await self.app.push_screen_wait(
            ReasonModal(f"Withdraw your claim #{claim_id}?", "Withdraw", required=False)
        )
        if reason is None:
            return
        try:
            self.ledger.withdraw(claim_id, actor=self.actor.handle, reason=reason)
        except TimebankError as exc:
            message.update(str(exc))
            return
        message.update(f"claim #{claim_id} withdrawn")
        self.refresh_data()
