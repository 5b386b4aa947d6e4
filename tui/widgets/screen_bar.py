"""The line under the header naming each screen's key, with the current screen marked.

Seven screens' keys with their names do not fit an 80-column footer beside a screen's own
keys (Save, Sort, Retire…); on a line of their own they take 76 columns, and the line shows
where you are. The footer keeps the current screen's own keys and F1.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

# (key, mode or None for a key that opens a dialog, name shown)
ScreenKey = tuple[str, str | None, str]


class ScreenBar(Static):
    """``F2 Log  F3 Recent …``, the screen being shown in reverse."""

    DEFAULT_CSS = """
    ScreenBar {
        height: 1;
        background: $boost;
        color: $text-muted;
    }
    """

    def __init__(self, keys: Sequence[ScreenKey], current: str | None) -> None:
        super().__init__(self.line(keys, current))

    @staticmethod
    def line(keys: Sequence[ScreenKey], current: str | None) -> Text:
        text = Text()
        for key, mode, name in keys:
            text.append(" ")
            text.append(f"{key.upper()} {name}", style="bold reverse" if mode == current else "")
            text.append(" ")
        return text
