"""One member's statement: entries with the running balance, a page at a time."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Input, Label
from timebank.tui.screens.base import LedgerScreen
from timebank.tui.widgets.member_input import MemberSuggester
from timebank.tui.widgets.plain import plain_row

from timebank.errors import NotFound
from timebank.units import format_minutes

PAGE = 50


class StatementScreen(LedgerScreen):
    BINDINGS = [("pagedown", "older", "Older"), ("pageup", "newer", "Newer")]

    def __init__(self) -> None:
        super().__init__()
        self.pages: list[int | None] = [None]  # the "before" cursor of each page shown so far

    def compose_body(self) -> ComposeResult:
        yield Label("Statement", classes="screen-title", id="statement-title", markup=False)
        yield Input(
            placeholder="member handle or account (e.g. @chest)",
            id="account",
            suggester=MemberSuggester(self.ledger),
        )
        yield DataTable(id="statement", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#statement", DataTable).add_columns(
            "#", "date", "kind", "amount", "balance", "with", "kind of care", "note"
        )
        if self.actor is not None:
            self.query_one("#account", Input).value = self.actor.handle

    @on(Input.Submitted, "#account")
    @on(Input.Changed, "#account")
    def account_changed(self) -> None:
        self.pages = [None]
        self.refresh_data()

    def refresh_data(self) -> None:
        code = self.query_one("#account", Input).value.strip()
        table = self.query_one("#statement", DataTable)
        title = self.query_one("#statement-title", Label)
        table.clear()
        if not code:
            return
        if not self.sight.statement(code):
            title.update(f"Statement: {self.actor.handle if self.actor else ''} may read only their own")
            return
        try:
            lines = self.ledger.statement(code, limit=PAGE, before=self.pages[-1])
            balance = self.ledger.balance(code)
        except NotFound:
            title.update(f"Statement: no account {code!r}")
            return
        title.update(f"Statement of {code}: balance {format_minutes(balance)}, page {len(self.pages)}")
        for line in lines:
            table.add_row(
                *plain_row(
                    line.entry_id,
                    line.day.isoformat(),
                    line.kind,
                    format_minutes(line.amount),
                    format_minutes(line.balance),
                    ",".join(line.counterparties),
                    line.category,
                    line.note,
                )
            )
        self.last_lines = lines

    def action_older(self) -> None:
        lines = getattr(self, "last_lines", [])
        if len(lines) == PAGE:
            self.pages.append(lines[-1].key)  # (entry, seq): no posting lost between pages
            self.refresh_data()

    def action_newer(self) -> None:
        if len(self.pages) > 1:
            self.pages.pop()
            self.refresh_data()
