"""Text shown exactly as the ledger holds it: never parsed as markup.

Names, notes, kinds of care and reasons are typed by members. A note holding ``[/]``,
``[bold]`` or ``[@click=app.quit]`` must show as those characters: parsed as markup it
raises an error that closes the app (for good, on screens that list append-only entries)
or runs an action. Every table cell that shows ledger text is a ``Text`` made here, and
every label that can show it is created with ``markup=False``. Control characters an
older ledger may hold are shown as escapes.
"""

from __future__ import annotations

from rich.text import Text

from timebank.units import printable


def plain(value: object) -> Text:
    """One value as literal text, for a table cell, an option or a select prompt."""
    return Text(printable(str(value)), no_wrap=True, end="")


def plain_row(*cells: object) -> list[Text]:
    """A table row of literal text; read a cell back with ``str(cell)``."""
    return [plain(cell) for cell in cells]


__all__ = ["plain", "plain_row"]
