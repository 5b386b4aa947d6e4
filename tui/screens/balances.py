"""Balances of all members: searchable, sortable, with members near their limit marked."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Input, Label
from timebank.tui.screens.base import LedgerScreen
from timebank.tui.widgets.plain import plain_row

from timebank.units import format_minutes

SORTS = ("name", "balance", "class")


class BalancesScreen(LedgerScreen):
    BINDINGS = [("s", "sort", "Sort"), ("slash", "search", "Search")]

    def __init__(self) -> None:
        super().__init__()
        self.sort = "name"

    def compose_body(self) -> ComposeResult:
        yield Label("Balances", classes="screen-title")
        yield Input(placeholder="search by handle or name", id="search")
        yield DataTable(id="balances", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one("#balances", DataTable)
        table.add_columns("handle", "name", "class", "balance", "")
        table.focus()

    def warning_level(self, member_class: str) -> int | None:
        """Where a member counts as near their limit, from the credit rules in force."""
        rules = self.ledger.rules
        if "credit_limits" in rules.enabled:
            s = rules.settings("credit_limits")
            return s["warn_below_by_class"].get(member_class, s["warn_below"])
        if "mutual_credit" in rules.enabled:
            return rules.settings("mutual_credit")["floor"] + 120
        return None

    def refresh_data(self) -> None:
        needle = self.query_one("#search", Input).value.strip().lower()
        rows = []
        members = self.ledger.members_by_handle()
        sight = self.sight
        for account, balance in self.ledger.balances():
            member = members.get(account.code)
            if member is None or not member.is_active or not sight.balance(account.code):
                continue
            if needle and needle not in member.handle and needle not in member.name.lower():
                continue
            level = self.warning_level(member.member_class)
            mark = "⚠ near limit" if level is not None and balance < level else ""
            rows.append((member.handle, member.name, member.member_class, balance, mark))
        key = {"name": lambda r: r[1].lower(), "balance": lambda r: r[3], "class": lambda r: (r[2], r[1])}
        rows.sort(key=key[self.sort])
        table = self.query_one("#balances", DataTable)
        table.clear()
        for handle, name, member_class, balance, mark in rows:
            table.add_row(
                *plain_row(handle, name, member_class),
                Text(format_minutes(balance), justify="right"),
                mark,
                key=handle,
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

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()
