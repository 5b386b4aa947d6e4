"""Members: add one, change details, retire."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.widgets import DataTable, Label
from timebank.tui.screens.base import LedgerScreen
from timebank.tui.screens.modals import ConfirmModal, MemberFormModal
from timebank.tui.widgets.plain import plain_row

from timebank.errors import TimebankError
from timebank.models import Member


class MembersScreen(LedgerScreen):
    BINDINGS = [("a", "add", "Add"), ("e", "edit", "Change"), ("x", "retire", "Retire")]
    COORDINATOR_ACTIONS = frozenset({"add", "edit", "retire"})

    def compose_body(self) -> ComposeResult:
        yield Label("Members", classes="screen-title")
        yield DataTable(id="members", cursor_type="row", zebra_stripes=True)
        yield Label("", id="members-message", classes="message", markup=False)

    def on_mount(self) -> None:
        table = self.query_one("#members", DataTable)
        table.add_columns("handle", "name", "class", "joined", "status", "flags")
        table.focus()

    def refresh_data(self) -> None:
        table = self.query_one("#members", DataTable)
        keep = str(table.get_row_at(table.cursor_row)[0]) if table.row_count else None
        table.clear()
        sees_flags = self.actor is None or self.actor.is_coordinator
        for m in self.ledger.members():
            role = "co-ordinator" if m.is_coordinator else ""
            flags = sorted(m.flags) if sees_flags or m.handle == self.actor.handle else []
            table.add_row(
                *plain_row(
                    m.handle,
                    m.name,
                    m.member_class,
                    m.joined.isoformat(),
                    m.status if m.is_active else f"retired {m.left}",
                    " ".join([role, *flags]).strip(),  # a member sees only their own flags
                ),
                key=m.handle,
            )
        if keep is not None and keep in self.ledger.members_by_handle():
            table.move_cursor(row=table.get_row_index(keep))  # the same member stays selected

    def selected(self) -> Member | None:
        table = self.query_one("#members", DataTable)
        if not table.row_count:
            return None
        return self.ledger.member(str(table.get_row_at(table.cursor_row)[0]))

    def _acting(self) -> str:
        return self.actor.handle if self.actor else ""

    @work(exclusive=True)
    async def action_add(self) -> None:
        def submit(values: dict) -> Member:
            return self.ledger.add_member(Member(joined=self.today, **values), actor=self._acting())

        added = await self.app.push_screen_wait(
            MemberFormModal(self.ledger.member_classes(), submit, today=self.today)
        )
        if added is not None:
            self.query_one("#members-message", Label).update(f"added {added.name} ({added.handle})")
            self.refresh_data()

    @work(exclusive=True)
    async def action_edit(self) -> None:
        member = self.selected()
        if member is None:
            return

        def submit(values: dict) -> Member:
            changes = {k: v for k, v in values.items() if k != "handle"}
            return self.ledger.update_member(member.handle, actor=self._acting(), **changes)

        changed = await self.app.push_screen_wait(
            MemberFormModal(self.ledger.member_classes(), submit, member)
        )
        if changed is not None:
            self.query_one("#members-message", Label).update(f"changed {changed.name} ({changed.handle})")
            self.refresh_data()

    @work(exclusive=True)
    async def action_retire(self) -> None:
        member = self.selected()
        message = self.query_one("#members-message", Label)
        if member is None:
            return
        if not await self.app.push_screen_wait(
            ConfirmModal(
                f"Retire {member.name} ({member.handle})? Their history and balance are kept.", "Retire"
            )
        ):
            return
        try:
            self.ledger.retire_member(member.handle, actor=self._acting(), day=self.today)
        except TimebankError as exc:
            message.update(str(exc))
            return
        message.update(f"retired {member.name}")
        self.refresh_data()
