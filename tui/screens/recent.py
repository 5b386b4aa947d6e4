"""Recent entries, newest first; reverse one with a reason (a modal that confirms)."""

from __future__ import annotations

from textual import work

from timebank.tui.screens.modals import ReasonModal
from timebank.tui.screens.table_screen import TableScreen
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


class RecentScreen(TableScreen):
    BINDINGS = [("r", "reverse", "Reverse"), ("m", "more", "Older")]
    COORDINATOR_ACTIONS = frozenset({"reverse"})
    HEADING = "Recent entries (newest first)"
    TABLE = "entries"
    COLUMNS = ("#", "date", "what", "time", "state", "who", "kind of care", "note")
    MESSAGE = "recent-message"

    def refresh_data(self) -> None:
        table = self.table
        table.clear()
        self._add(self.ledger.entries(limit=PAGE))
        if not table.row_count:
            self.say("no entries yet: F2 logs hours")

    def _add(self, entries) -> None:
        table = self.table
        undone = self.ledger.reversed_by([e.id for e in entries])
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
        table = self.table
        if table.row_count:
            oldest = int(str(table.get_row_at(table.row_count - 1)[0]))
            self._add(self.ledger.entries(limit=PAGE, before=oldest))

    @work(exclusive=True)
    async def action_reverse(self) -> None:
        entry_id = self.selected_number()
        if entry_id is None or self.actor is None:
            self.say("choose who is recording (F8) and an entry")
            return
        reason = await self.app.push_screen_wait(
            ReasonModal(
                f"Reverse entry #{entry_id}? Say why.",
                "Reverse",
                reasons=("logged twice", "wrong member", "wrong time", "wrong date", "did not happen"),
            )
        )
        if reason is not None:
            actor = self.actor.handle
            self.attempt(
                lambda: self.ledger.reverse(entry_id, reason=reason, actor=actor),
                lambda reversal: f"entry #{reversal.id} reverses #{entry_id}",
            )
