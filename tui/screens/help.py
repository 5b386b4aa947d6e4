"""The help screen: what each screen is for and the ideas behind it, in plain words.

Every line fits the 72 columns inside the dialog at 80 columns, so nothing wraps badly.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

SECTIONS = (
    (
        "Screens",
        """\
F2  Log       who gave time to whom, when, how long, what kind
F3  Recent    the newest entries; r takes one back (a reversal)
F4  Balances  everyone's credit, their limits; ⚠ near a limit
F5  Statement one person's history with the balance after each line
F6  Pending   claims waiting for you to confirm (c) or decline (d)
F7  Members   / searches, a adds, e changes, x retires someone
F8  Who       choose who is using the computer now
F9  Reports   inactive members, near a limit, the chest, hours
F10 Board     offers and requests: what members can give and need
Ctrl+R        look again (screens also refresh on their own)
Ctrl+P        all screens and commands; Ctrl+Q quits""",
    ),
    (
        "Moving around",
        """\
Tab goes to the next box, Shift+Tab back. Enter goes to the next
empty or wrong box and saves when everything is filled in.
Escape closes a window or clears the form.""",
    ),
    (
        "Typing",
        """\
Time:   1.5  1h30  90m  1:30
Date:   today  yesterday  -2  saturday  last sat  21/11  21 Nov
People: part of a name or short name; the right arrow accepts the
        suggestion. Several people: alice,bob (a group).""",
    ),
    (
        "Claims",
        """\
When a member logs time they gave, the other person confirms it
first (a claim). Until then no credit moves. It shows on their
Pending screen; a co-ordinator's entries need no confirming.""",
    ),
    (
        "Limits",
        """\
Each member's balance may go down to a floor (what they may owe)
and up to a ceiling. Near a limit you are warned once; past it the
entry is refused. Balances shows each person's floor and ceiling.""",
    ),
    (
        "The chest",
        """\
The community chest is time members give to the co-op. It pays for
people who need care but cannot give back. Find it on Statement by
typing chest; Reports shows what came in and went out.""",
    ),
)

FOOTER = "Escape or F1 closes this help."


def help_text() -> Text:
    text = Text()
    for title, body in SECTIONS:
        text.append(title + "\n", style="bold")
        text.append(body + "\n\n")
    text.append(FOOTER)
    return text


class HelpScreen(ModalScreen[None]):
    BINDINGS = [("escape", "dismiss", "Close"), ("f1", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide", id="help"):
            yield Static(help_text(), markup=False)
