"""Recent entries, newest first; reverse one with a reason (a modal that confirms)."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.widgets import DataTable, Label, Static

from timebank.errors import TimebankError
from timebank.storage import figures
from timebank.tui.screens.base import LedgerScreen
from timebank.tui.screens.modals import ReasonModal
from timebank.tui.widgets.plain import plain_row
from timebank.units import format_minutes

PAGE = 100


# What each kind of entry is, in the words members use.
PLAIN_KIND = {
    "service": "time given",
    "transfer": "gift",
    "adjustment": "adjustment",
    "reversal": "taken back",
}


def reversed_by(ledger, ids: list[int]) -> dict[int, int]:
    """Which of these entries a later entry reverses, and by which."""
    return figures.reversed_by(ledger.conn, ids)


class RecentScreen(LedgerScreen):
    BINDINGS = [("r", "reverse", "Reverse"), ("m", "more", "Older")]
    COORDINATOR_ACTIONS = frozenset({"reverse"})

    def compose_body(self) -> ComposeResult:
        yield Label("Recent entries (newest first)", classes="screen-title")
        yield DataTable(id="entries", cursor_type="row", zebra_stripes=True)
        yield Static("", id="recent-message", classes="message", markup=False)

    def on_mount(self) -> None:
        self.query_one("#entries", DataTable).add_columns(
            "#", "date", "what", "time", "state", "who", "kind of care", "note"
        )
        self.query_one("#entries", DataTable).focus()

    def refresh_data(self) -> None:
        table = self.query_one("#entries", DataTable)
        table.clear()
        self._add(self.ledger.entries(limit=PAGE))
        if not table.row_count:
            self.query_one("#recent-message", Static).update("no entries yet: F2 logs hours")

    def _add(self, entries) -> None:
        table = self.query_one("#entries", DataTable)
        undone = reversed_by(self.ledger, [e.id for e in entries])
        sight = self.sight
        for e in entries:
            if not sight.entry(e):
                continue  # a member sees the entries that concern them
            if e.kind == "service":
                who = f"{','.join(e.givers)} → {','.join(e.receivers)}"
                time = format_minutes(e.minutes)
            else:
                who = " ".join(f"{p.account} {format_minutes(p.amount)}" for p in e.postings[:2])
                time = ""
            note = f"reverses #{e.reverses}: {e.note}" if e.reverses else e.note
            state = f"reversed by #{undone[e.id]}" if e.id in undone else ""
            table.add_row(
                *plain_row(
                    e.id,
                    f"{e.day:%a} {e.day.isoformat()}",
                    PLAIN_KIND.get(e.kind, e.kind),
                    time,
                    state,
                    who,
                    e.category,
                    note,
                ),
                key=str(e.id),
            )

    def action_more(self) -> None:
        table = self.query_one("#entries", DataTable)
        if table.row_count:
            oldest = int(str(table.get_row_at(table.row_count - 1)[0]))
            self._add(self.ledger.entries(limit=PAGE, before=oldest))

    def selected_entry(self) -> int | None:
        table = self.query_one("#entries", DataTable)
        if not table.row_count:
            return None
        return int(str(table.get_row_at(table.cursor_row)[0]))

    @work(exclusive=True)
    async def action_reverse(self) -> None:
        entry_id = self.selected_entry()
        message = self.query_one("#recent-message", Static)
        if entry_id is None or self.actor is None:
            message.update("choose who is recording (F8) and an entry")
            return
        reason = await self.app.push_screen_wait(
            ReasonModal(
                f"Reverse entry #{entry_id}? Say why.",
                "Reverse",
                reasons=("logged twice", "wrong member", "wrong time", "wrong date", "did not happen"),
            )
        )
        if reason is None:
            return
        try:
            reversal = self.ledger.reverse(entry_id, reason=reason, actor=self.actor.handle)
        except TimebankError as exc:
            message.update(str(exc))
            return
        message.update(f"entry #{reversal.id} reverses #{entry_id}")
        self.refresh_data()
