"""Balances of all members: searchable, sortable, with members near their limit marked."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.widgets import DataTable

from timebank.tui.screens.table_screen import TableScreen
from timebank.tui.widgets.plain import plain_row
from timebank.units import format_minutes

SORTS = ("name", "balance", "class")


class BalancesScreen(TableScreen):
    BINDINGS = [("s", "sort", "Sort"), ("slash", "search", "Search"), ("g", "give", "Give to chest")]
    HEADING = "Balances"
    SEARCH = ("search", "search by handle or name")
    TABLE = "balances"
    COLUMNS = ("handle", "name", "class", "balance", "floor", "ceiling", "")
    MESSAGE = "balances-empty"

    def __init__(self) -> None:
        super().__init__()
        self.sort = "name"

    def refresh_data(self) -> None:
        needle = self.needle
        rows = []
        members = self.ledger.members_by_handle()
        limits = self.ledger.member_limits()  # from the plugins: a floor that grows shows as it is
        within = self.ledger.near_limit_within()  # the plugins' measure of near
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
        table = self.table
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
        self.say("" if rows else f"no member matches {needle!r}" if needle else "no members yet")

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
        chosen = self.selected_key() if self.actor is not None and self.actor.is_coordinator else None
        self.tb.action_give(chosen)
