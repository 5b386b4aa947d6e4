"""Who is recording: pick yourself from the member list (co-ordinators act for anyone)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from timebank.ledger import Ledger
from timebank.models import Member
from timebank.tui.widgets.plain import plain


class WhoScreen(ModalScreen[Member | None]):
    """Type part of your handle or name, pick with the arrows, Enter."""

    BINDINGS = [("escape", "cancel", "Cancel")]

    def __init__(self, ledger: Ledger) -> None:
        super().__init__()
        self.ledger = ledger

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Who is recording?", classes="question")
            yield Input(placeholder="type part of your handle or name", id="who-search")
            yield OptionList(id="who-list", markup=False)

    def on_mount(self) -> None:
        self.fill("")
        self.query_one("#who-search", Input).focus()

    def fill(self, text: str) -> None:
        options = self.query_one("#who-list", OptionList)
        options.clear_options()
        members = (
            self.ledger.find_members(text, limit=50) if text else self.ledger.members(include_retired=False)
        )
        for m in members[:50]:
            role = "  co-ordinator" if m.is_coordinator else ""
            options.add_option(Option(plain(f"{m.handle:<14} {m.name}{role}"), id=m.handle))
        if members:
            options.highlighted = 0

    @on(Input.Changed, "#who-search")
    def searched(self, event: Input.Changed) -> None:
        self.fill(event.value)

    @on(Input.Submitted, "#who-search")
    def submitted(self) -> None:
        options = self.query_one("#who-list", OptionList)
        if options.highlighted is not None:
            self.dismiss(self.ledger.member(options.get_option_at_index(options.highlighted).id))

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.ledger.member(event.option.id))

    def key_down(self) -> None:
        self.query_one("#who-list", OptionList).action_cursor_down()

    def key_up(self) -> None:
        self.query_one("#who-list", OptionList).action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)
