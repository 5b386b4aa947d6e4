"""The referrals screen social prescribing adds to the terminal UI (through ``add_tui_screens``).

Kept in its own module, imported only when the TUI asks, so the plugin loads without Textual.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label

from timebank.plugins.social_prescribing import contacts
from timebank.units import printable


class ReferralsScreen(Screen):
    """Referrals with their status, SNOMED CT code and contacts so far."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("Social prescribing referrals", classes="screen-title")
        yield DataTable(id="referrals", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("#", "person", "referred to", "status", "SNOMED CT", "contacts")

    def on_screen_resume(self) -> None:
        ledger = self.app.ledger
        table = self.query_one(DataTable)
        table.clear()
        for ref in ledger.plugin_tables("social_prescribing").query("SELECT * FROM sp_referrals ORDER BY id"):
            table.add_row(
                *(
                    Text(printable(str(cell)), no_wrap=True, end="")
                    for cell in (
                        ref["id"],
                        ref["person"],
                        ref["to_member"] or ref["activity"],
                        ref["status"],
                        ref["snomed"],
                        contacts(ledger, ref["id"]),
                    )
                )  # shown as text, never markup: a person's name may hold "[/]"
            )
