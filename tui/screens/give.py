"""Give credits to the community chest, and export the ledger: two things the CLI did alone.

Giving asks how much (as time is typed everywhere) and writes one transfer; the rules
(limits, permissions) decide as they do for ``timebank give``. Export is for co-ordinators
and writes into an ``exports`` folder beside the ledger, never over it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from timebank.errors import TimebankError
from timebank.ledger import Ledger
from timebank.models import Entry
from timebank.units import parse_duration

CHEST = "@chest"


class GiveModal(ModalScreen[Entry | None]):
    """How much ``source`` gives the chest; ``give(minutes, note)`` writes it."""

    BINDINGS = [("escape", "cancel", "Cancel")]

    def __init__(self, source_name: str, give: Callable[[int, str], Entry]) -> None:
        super().__init__()
        self.source_name = source_name
        self.give = give

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(
                f"{self.source_name} gives time credits to the community chest, for members who"
                " need care but cannot give back.",
                classes="question",
                markup=False,
            )
            with Grid(classes="form"):
                yield Label("How much")
                yield Input(placeholder="e.g. 2h", id="give-amount")
                yield Label("Note")
                yield Input(placeholder="optional", id="give-note")
            yield Static("", id="give-error", classes="field-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Give", id="give-ok", variant="primary")
                yield Button("Cancel", id="give-cancel")

    def on_mount(self) -> None:
        self.query_one("#give-amount", Input).focus()

    @on(Input.Submitted, "#give-amount")
    def amount_done(self) -> None:
        self.query_one("#give-note", Input).focus()

    @on(Input.Submitted, "#give-note")
    @on(Button.Pressed, "#give-ok")
    def confirm(self) -> None:
        try:
            minutes = parse_duration(self.query_one("#give-amount", Input).value, field="how much")
            entry = self.give(minutes, self.query_one("#give-note", Input).value.strip())
        except TimebankError as exc:
            self.query_one("#give-error", Static).update(str(exc))
            self.query_one("#give-amount", Input).focus()
            return
        self.dismiss(entry)

    @on(Button.Pressed, "#give-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def export_folder(ledger: Ledger) -> Path:
    return Path(ledger.path).resolve().parent / "exports"


def export_csv(ledger: Ledger, actor: str, today: dt.date) -> list[Path]:
    """Write entries and postings as CSV into the exports folder; co-ordinators only."""
    from timebank.interchange import exports

    ledger.require(actor, "export", "entries")  # the same check as the CLI's exports
    folder = export_folder(ledger)
    folder.mkdir(exist_ok=True)
    written = []
    for kind, write in (("entries", exports.export_entries), ("postings", exports.export_postings)):
        path = folder / f"{kind}-{today.isoformat()}.csv"
        with open(path, "w", newline="", encoding="utf-8") as out:
            write(ledger, out)
        written.append(path)
    return written
