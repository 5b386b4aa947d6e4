"""One member's statement: entries newest day first with the running balance, a page at a time.

The account is found by part of a handle or a name (``chest`` finds ``@chest``, ``ames``
finds Alice Ames). Lines are ordered by day, then entry, then posting, with the running
balance recomputed in that order, and pages are keyed on (day, entry, posting) so that no
line is lost or shown twice between pages.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Input, Label, Static

from timebank.errors import NotFound
from timebank.tui.screens.base import LedgerScreen
from timebank.tui.widgets.member_input import MemberSuggester
from timebank.tui.widgets.plain import plain_row
from timebank.units import format_minutes

PAGE = 50


def what(kind: str, amount: int) -> str:
    """A line's kind in plain words: gave or received for a service."""
    if kind == "service":
        return "gave" if amount > 0 else "received"
    return {"transfer": "transfer", "adjustment": "adjustment", "reversal": "reversal"}.get(kind, kind)


class StatementScreen(LedgerScreen):
    BINDINGS = [("pagedown", "older", "Older"), ("pageup", "newer", "Newer")]

    def __init__(self) -> None:
        super().__init__()
        self.pages: list[tuple[str, int, int] | None] = [None]  # each page's "before" key
        self.wanted: str | None = None
        self.last_lines: list = []

    def compose_body(self) -> ComposeResult:
        yield Label("Statement", classes="screen-title", id="statement-title", markup=False)
        yield Input(
            placeholder="part of a name or short name, or chest",
            id="account",
            suggester=MemberSuggester(self.ledger),
        )
        yield DataTable(id="statement", cursor_type="row", zebra_stripes=True)
        yield Static("", id="statement-empty", classes="message", markup=False)

    def on_mount(self) -> None:
        self.query_one("#statement", DataTable).add_columns(
            "date", "#", "what", "amount", "balance", "with", "kind of care", "note"
        )
        if self.wanted is not None:
            self.query_one("#account", Input).value = self.wanted
        elif self.actor is not None:
            self.query_one("#account", Input).value = self.actor.handle

    def show_account(self, code: str) -> None:
        """Open ``code``'s statement (from a report's row)."""
        self.wanted = code
        if self.is_mounted:
            self.query_one("#account", Input).value = code
            self.query_one("#statement", DataTable).focus()

    @on(Input.Submitted, "#account")
    @on(Input.Changed, "#account")
    def account_changed(self) -> None:
        self.pages = [None]
        self.refresh_data()

    def find_account(self, text: str) -> tuple[str | None, str]:
        """The account ``text`` names (exactly, or as the one match by part), or why not."""
        codes = self.ledger.account_ids()
        if text in codes:
            return text, ""
        needle = text.lower().lstrip("@")
        members = self.ledger.find_members(needle, limit=3)
        if len(members) == 1:
            return members[0].handle, ""
        shared = [c for c in codes if c.startswith("@") and needle in c.lower()]
        found = [m.handle for m in members] + shared
        if len(found) == 1:
            return found[0], ""
        if not found:
            return None, f"no member or account matches {text!r}"
        return None, f"{text!r} matches {', '.join(found[:3])}{', …' if len(found) > 3 else ''}; type more"

    def refresh_data(self) -> None:
        text = self.query_one("#account", Input).value.strip()
        table = self.query_one("#statement", DataTable)
        title = self.query_one("#statement-title", Label)
        empty = self.query_one("#statement-empty", Static)
        table.clear()
        empty.update("")
        self.last_lines = []
        if not text:
            title.update("Statement: type part of a name")
            return
        code, why = self.find_account(text)
        if code is None:
            title.update(f"Statement: {why}")
            return
        if not self.sight.statement(code):
            title.update(f"Statement: {self.actor.handle if self.actor else ''} may read only their own")
            return
        try:
            lines = self.ledger.statement_by_day(code, limit=PAGE, before=self.pages[-1])
            balance = self.ledger.balance(code)
        except NotFound:
            title.update(f"Statement: no account {code!r}")
            return
        member = self.ledger.members_by_handle().get(code)
        who = f"{member.name} ({code})" if member else code
        title.update(f"Statement of {who}: balance {format_minutes(balance)}, page {len(self.pages)}")
        for line in lines:
            table.add_row(
                *plain_row(
                    f"{line.day:%a} {line.day.isoformat()}",
                    str(line.entry_id),
                    what(line.kind, line.amount),
                    format_minutes(line.amount),
                    format_minutes(line.balance),
                    ",".join(line.counterparties),
                    line.category,
                    line.note,
                )
            )
        if not lines:
            empty.update("nothing on this account yet" if len(self.pages) == 1 else "no older lines")
        self.last_lines = lines

    def action_older(self) -> None:
        lines = self.last_lines
        if len(lines) == PAGE:
            last = lines[-1]
            self.pages.append((last.day.isoformat(), last.entry_id, last.seq))
            self.refresh_data()

    def action_newer(self) -> None:
        if len(self.pages) > 1:
            self.pages.pop()
            self.refresh_data()
