"""Reports: what a co-ordinator checks before a meeting, for a period they choose.

Every report comes from the plugins (``make_reports``): the built-in ``reports`` plugin's
inactive members, near-limit, chest and hours, and any a co-op's own plugins add. Enter on a
row naming a member (or an account such as ``@chest``) opens their statement.
"""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Label, Select, Static

from timebank.errors import InputError, TimebankError
from timebank.models import Report
from timebank.tui.screens.base import LedgerScreen
from timebank.units import parse_day


class ReportsScreen(LedgerScreen):
    BINDINGS = [("slash", "period", "Period")]
    AUTO_REFRESH = False  # reading a large ledger's history takes seconds: Ctrl+R refreshes

    def __init__(self) -> None:
        super().__init__()
        self.reports: dict[str, Report] = {}

    def compose_body(self) -> ComposeResult:
        yield Label("Reports", classes="screen-title")
        with Horizontal(id="report-bar"):
            yield Select([], id="report", allow_blank=True, prompt="choose a report")
            yield Label("from", classes="field-label")
            yield Input(
                value=f"{self.today - dt.timedelta(days=89):%d/%m/%Y}", id="since", placeholder="e.g. 1/9"
            )
            yield Label("to", classes="field-label")
            yield Input(value="today", id="until", placeholder="today")
        yield Static("", id="report-title", markup=False)
        yield DataTable(id="report-rows", cursor_type="row", zebra_stripes=True)
        yield Static("", id="reports-message", classes="message", markup=False)

    def on_mount(self) -> None:
        self.query_one("#report", Select).focus()

    def period(self):
        until = parse_day(self.query_one("#until", Input).value, today=self.today, field="to")
        since = parse_day(self.query_one("#since", Input).value, today=until, field="from")
        if since > until:
            raise InputError(f"from: {since.isoformat()} is after {until.isoformat()}")
        return since, until

    def refresh_data(self) -> None:
        message = self.query_one("#reports-message", Static)
        try:
            since, until = self.period()
            self.reports = {r.name: r for r in self.ledger.reports(since=since, until=until)}
        except TimebankError as exc:
            message.update(str(exc))
            return
        message.update(f"{since:%a %d %b %Y} to {until:%a %d %b %Y}; Enter on a member opens their statement")
        select = self.query_one("#report", Select)
        options = [(r.name.replace("-", " "), r.name) for r in self.reports.values()]
        chosen = select.value if select.value in self.reports else next(iter(self.reports), Select.BLANK)
        with self.prevent(Select.Changed):
            select.set_options(options)
            if chosen != Select.BLANK:
                select.value = chosen
        self.show(str(chosen) if chosen != Select.BLANK else None)

    def show(self, name: str | None) -> None:
        table = self.query_one("#report-rows", DataTable)
        table.clear(columns=True)
        title = self.query_one("#report-title", Static)
        report = self.reports.get(name) if name else None
        if report is None:
            title.update("No reports: no enabled plugin offers one" if not self.reports else "")
            return
        title.update(report.title)
        table.add_columns(*report.columns)
        for row in report.rows:
            table.add_row(*(Text(str(v)) for v in row))  # as text: a name is never markup
        if not report.rows:
            title.update(f"{report.title}: none")

    @on(Select.Changed, "#report")
    def chosen(self, event: Select.Changed) -> None:
        self.show(str(event.value) if event.value != Select.BLANK else None)

    @on(Input.Submitted, "#since")
    @on(Input.Submitted, "#until")
    def period_changed(self) -> None:
        self.refresh_data()
        self.query_one("#report-rows", DataTable).focus()

    def action_period(self) -> None:
        self.query_one("#since", Input).focus()

    @on(DataTable.RowSelected, "#report-rows")
    def open_statement(self, event: DataTable.RowSelected) -> None:
        first = str(event.data_table.get_row_at(event.cursor_row)[0])
        if first in self.ledger.account_ids():
            self.tb.open_statement(first)
        else:
            self.query_one("#reports-message", Static).update(f"{first!r} is not a member or an account")
