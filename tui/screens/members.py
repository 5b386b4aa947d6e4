"""Members, by name: search, add one, change details, retire (saying what happens to the balance)."""

from __future__ import annotations

import attrs
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import DataTable, Input, Label, Static

from timebank.errors import TimebankError
from timebank.models import Member
from timebank.tui.screens.base import LedgerScreen
from timebank.tui.screens.modals import MemberFormModal, ReasonModal
from timebank.tui.widgets.plain import plain_row
from timebank.units import format_minutes

SHARED = {"@chest": "the chest", "@coop": "the co-op"}


class MembersScreen(LedgerScreen):
    BINDINGS = [
        ("a", "add", "Add"),
        ("e", "edit", "Change"),
        ("x", "retire", "Retire"),
        ("slash", "search", "Search"),
    ]
    COORDINATOR_ACTIONS = frozenset({"add", "edit", "retire"})

    def compose_body(self) -> ComposeResult:
        yield Label("Members (by name)", classes="screen-title")
        yield Input(placeholder="/ search by part of a name or short name", id="member-search")
        yield DataTable(id="members", cursor_type="row", zebra_stripes=True)
        yield Static("", id="members-message", classes="message", markup=False)

    def on_mount(self) -> None:
        table = self.query_one("#members", DataTable)
        table.add_columns("short name", "name", "type", "joined", "status", "marks")
        table.focus()

    def action_search(self) -> None:
        self.query_one("#member-search", Input).focus()

    @on(Input.Changed, "#member-search")
    def searched(self) -> None:
        self.refresh_data()

    @on(Input.Submitted, "#member-search")
    def search_done(self) -> None:
        self.query_one("#members", DataTable).focus()

    def refresh_data(self, select: str | None = None) -> None:
        table = self.query_one("#members", DataTable)
        keep = select or (str(table.get_row_at(table.cursor_row)[0]) if table.row_count else None)
        needle = self.query_one("#member-search", Input).value.strip().lower()
        table.clear()
        sees_flags = self.actor is None or self.actor.is_coordinator
        members = sorted(self.ledger.members(), key=lambda m: (not m.is_active, m.name.lower(), m.handle))
        for m in members:
            if needle and needle not in m.handle and needle not in m.name.lower():
                continue
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
        if keep is not None and keep in table.rows:
            table.move_cursor(row=table.get_row_index(keep))  # the same member stays selected
        if not table.row_count:
            self.query_one("#members-message", Static).update(
                f"no member matches {needle!r}" if needle else "no members yet: a adds one"
            )

    def selected(self) -> Member | None:
        table = self.query_one("#members", DataTable)
        if not table.row_count:
            return None
        return self.ledger.member(str(table.get_row_at(table.cursor_row)[0]))

    def balance_fate(self, member: Member) -> str:
        """What retiring does to the balance, asked of the plugins without writing anything."""
        balance = self.ledger.balance(member.handle)
        if not balance:
            return "Their balance is 0."
        leaving = attrs.evolve(member, status="retired", left=self.today)
        moves = [
            p
            for _, drafts in self.ledger.plugins.call(
                "entries_for_member_change",
                self.ledger.rules,
                ledger=self.ledger,
                member=leaving,
                previous=member,
            )
            for draft in drafts
            for p in draft.postings
            if p.account != member.handle
        ]
        if not moves:
            return f"Their balance of {format_minutes(balance)} stays on their account."
        to = " and ".join(dict.fromkeys(SHARED.get(p.account, p.account) for p in moves))
        if balance > 0:
            return f"Their {format_minutes(balance)} of credit goes to {to}."
        return f"Their debt of {format_minutes(-balance)} is written off by {to}."

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
            self.query_one("#members-message", Static).update(f"added {added.name} ({added.handle})")
            self.refresh_data(select=added.handle)

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
            self.query_one("#members-message", Static).update(f"changed {changed.name} ({changed.handle})")
            self.refresh_data()

    @work(exclusive=True)
    async def action_retire(self) -> None:
        member = self.selected()
        message = self.query_one("#members-message", Static)
        if member is None:
            return
        if not member.is_active:
            message.update(f"{member.name} is already retired")
            return
        reason = await self.app.push_screen_wait(
            ReasonModal(
                f"Retire {member.name} ({member.handle})? {self.balance_fate(member)}"
                " Their history is kept. Say why they leave.",
                "Retire",
                reasons=("moved away", "no longer able to take part", "asked to leave", "died"),
            )
        )
        if reason is None:
            return
        try:
            self.ledger.retire_member(member.handle, actor=self._acting(), day=self.today, reason=reason)
        except TimebankError as exc:
            message.update(str(exc))
            return
        message.update(f"retired {member.name}")
        self.refresh_data()
