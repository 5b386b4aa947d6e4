"""Balances of all members: searchable, sortable, with members near their limit marked."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Input, Label, Static

from timebank.tui.screens.base import LedgerScreen
from timebank.tui.widgets.plain import plain_row
from timebank.units import format_minutes

SORTS = ("name", "balance", "class")


class BalancesScreen(LedgerScreen):
    BINDINGS = [("s", "sort", "Sort"), ("slash", "search", "Search"), ("g", "give", "Give to chest")]

    def __init__(self) -> None:
        super().__init__()
        self.sort = "name"

    def compose_body(self) -> ComposeResult:
        yield Label("Balances", classes="screen-title")
        yield Input(placeholder="search by handle or name", id="search")
        yield DataTable(id="balances", cursor_type="row", zebra_stripes=True)
        yield Static("", id="balances-empty", classes="message", markup=False)

    def on_mount(self) -> None:
        table = self.query_one("#balances", DataTable)
        table.add_columns("handle", "name", "class", "balance", "floor", "ceiling", "")
        table.focus()

    def within(self) -> int:
        """How close to a limit counts as near: the reports plugin's setting, else 2 hours."""
        rules = self.ledger.rules
        return rules.settings("reports")["near_limit_within"] if "reports" in rules.enabled else 120

    def refresh_data(self) -> None:
        needle = self.query_one("#search", Input).value.strip().lower()
        rows = []
        members = self.ledger.members_by_handle()
        limits = self.ledger.member_limits()  # from the plugins: a floor that grows shows as it is
        within = self.within()
        sight = self.sight
        for account, balance in self.ledger.balances():
            member = members.get(account.code)
            if member is None or not member.is_active or not sight.balance(account.code):
                continue
            if needle and needle not in member.handle and needle not in member.name.lower():
                continue
            lim = limits.get(member.handle)
            mark = ""
            if lim is not None:
                warned = lim.warn_below is not None and balance < lim.warn_below
                if warned or balance - lim.floor <= within:
                    mark = "⚠ near floor"
                elif lim.ceiling - balance <= within:
                    mark = "⚠ near ceiling"
            rows.append((member.handle, member.name, member.member_class, balance, lim, mark))
        key = {"name": lambda r: r[1].lower(), "balance": lambda r: r[3], "class": lambda r: (r[2], r[1])}
        rows.sort(key=key[self.sort])
        table = self.query_one("#balances", DataTable)
        table.clear()
        for handle, name, member_class, balance, lim, mark in rows:
            table.add_row(
                *plain_row(handle, name, member_class),
                Text(format_minutes(balance), justify="right"),
                Text(format_minutes(lim.floor) if lim else "", justify="right"),
                Text(format_minutes(lim.ceiling) if lim else "", justify="right"),
                mark,
                key=handle,
            )
        self.query_one("#balances-empty", Static).update(
            "" if rows else f"no member matches {needle!r}" if needle else "no members yet"
        )

    @on(Input.Changed, "#search")
    def searched(self) -> None:
        self.refresh_data()

    @on(DataTable.HeaderSelected)
    def header_selected(self, event: DataTable.HeaderSelected) -> None:
        label = str(event.label)
        self.sort = {"balance": "balance", "class": "class"}.get(label, "name")
        self.refresh_data()

    def action_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.notify(f"sorted by {self.sort}")
        self.refresh_data()

    def action_give(self) -> None:
        """The selected member gives to the chest (a co-ordinator's choice), else oneself."""
        table = self.query_one("#balances", DataTable)
        chosen = None
        if self.actor is not None and self.actor.is_coordinator and table.row_count:
            chosen = str(table.get_row_at(table.cursor_row)[0])
        self.tb.action_give(chosen)

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()
