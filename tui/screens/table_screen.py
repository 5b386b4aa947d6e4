"""What the screens built around one table share: the title, the search box, the table,
the message line under it, the selected row, and one change made and reported.

Each screen says its widgets' ids and columns in class attributes; the ids stay what the
styles and the tests know them by.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Input, Label, Static

from timebank.errors import TimebankError
from timebank.tui.screens.base import LedgerScreen

T = TypeVar("T")


class TableScreen(LedgerScreen):
    """A screen whose heart is one table of rows (members, balances, entries, claims...)."""

    HEADING = ""
    """The title line above the table ('' for none)."""
    HEADING_ID: str | None = None
    TABLE = ""
    """The table's id."""
    COLUMNS: tuple[str, ...] = ()
    """The table's columns, added when the screen is mounted."""
    SEARCH: tuple[str, str] | None = None
    """A search box above the table: its id and placeholder; typing refreshes the rows."""
    MESSAGE = ""
    """The id of the line that says what a change did, or why it could not."""
    FOCUS_TABLE = True

    def compose_body(self) -> ComposeResult:
        if self.HEADING:
            yield Label(self.HEADING, classes="screen-title", id=self.HEADING_ID, markup=False)
        yield from self.compose_above()
        yield DataTable(id=self.TABLE, cursor_type="row", zebra_stripes=True)
        yield from self.compose_below()

    def compose_above(self) -> ComposeResult:
        """What comes between the title and the table: the search box, if any."""
        if self.SEARCH is not None:
            search_id, placeholder = self.SEARCH
            yield Input(placeholder=placeholder, id=search_id)

    def compose_below(self) -> ComposeResult:
        """What comes under the table: the message line."""
        yield Static("", id=self.MESSAGE, classes="message", markup=False)

    @property
    def table(self) -> DataTable:
        return self.query_one(f"#{self.TABLE}", DataTable)

    def on_mount(self) -> None:
        # Textual calls every class's ``on_mount``: a screen's own runs first, then this one.
        table = self.table
        if self.COLUMNS:
            table.add_columns(*self.COLUMNS)
        if self.FOCUS_TABLE:
            table.focus()

    @property
    def needle(self) -> str:
        """What is typed in the search box, as searched for ('' with no box)."""
        if self.SEARCH is None:
            return ""
        return self.query_one(f"#{self.SEARCH[0]}", Input).value.strip().lower()

    def on_input_changed(self, event: Input.Changed) -> None:
        if self.SEARCH is not None and event.input.id == self.SEARCH[0]:
            self.refresh_data()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self.SEARCH is not None and event.input.id == self.SEARCH[0]:
            self.table.focus()  # Enter in the search box: on to the rows found

    def action_search(self) -> None:
        if self.SEARCH is not None:
            self.query_one(f"#{self.SEARCH[0]}", Input).focus()

    def selected_key(self) -> str | None:
        """The first cell of the row under the cursor (a handle, an entry's or claim's number)."""
        table = self.table
        return str(table.get_row_at(table.cursor_row)[0]) if table.row_count else None

    def selected_number(self) -> int | None:
        """The row under the cursor as the number in its first cell (an entry's or a claim's)."""
        key = self.selected_key()
        return int(key) if key is not None else None

    def say(self, message: str) -> None:
        """Put ``message`` on the message line, as text (never read as markup)."""
        self.query_one(f"#{self.MESSAGE}", Static).update(Text(message))

    def attempt(self, change: Callable[[], T], done: Callable[[T], str]) -> T | None:
        """Make one change: say what it did and show the rows again, or say why it could not
        (the ledger refused it and nothing was written)."""
        try:
            result = change()
        except TimebankError as exc:
            self.say(str(exc))
            return None
        self.say(done(result))
        self.refresh_data()
        return result
