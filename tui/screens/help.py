"""The help screen: every key, and what each screen is for."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """\
[b]timebank[/b] — log hours of care, quickly.

[b]Screens[/b]
  F2  Log hours      giver, receivers, date, duration, kind, note; Enter saves
  F3  Recent         newest entries first; r reverses the selected one
  F4  Balances       / searches, s sorts (name, balance, class); ⚠ marks near-limit
  F5  Statement      a member's entries with running balance; PgDn/PgUp page
  F6  Pending        claims awaiting confirmation; c confirms, d declines
  F7  Members        a adds, e changes, x retires
  F8  Who            choose who is recording
  Ctrl+P             command palette: every screen, including plugins' screens
  Ctrl+Q             quit

[b]Typing[/b]
  Durations: 1.5  1h30  1h 30m  90m  1:30      Dates: today  yesterday  -2  2026-11-26
  Members: type part of a handle or a name; → accepts the suggestion; a unique
  match is accepted when you save. Several receivers: alice,bob (a group session).

Escape closes this help.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [("escape", "dismiss", "Close"), ("f1", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide"):
            yield Static(HELP)
