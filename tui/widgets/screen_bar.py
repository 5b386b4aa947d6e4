"""The line under the header naming each screen's key, with the current screen marked.

The screens' keys with their names do not fit an 80-column footer beside a screen's own
keys (Save, Sort, Retire…); on a line of their own they fit, and the line shows where you
are. In a narrower terminal the other screens' names shorten (``F7 Mem``) so that no key
falls off the end; the current screen keeps its full name.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.content import Content
from textual.widgets import Static

# (key, mode or None for a key that opens a dialog, name shown)
ScreenKey = tuple[str, str | None, str]


class ScreenBar(Static):
    """``F2 Log  F3 Recent …``, the screen being shown in reverse."""

    DEFAULT_CSS = """
    ScreenBar {
        height: 1;
        background: $boost;
        color: $text;
    }
    """

    def __init__(self, keys: Sequence[ScreenKey], current: str | None) -> None:
        super().__init__(markup=False)
        self.keys = tuple(keys)
        self.current = current

    def render(self) -> Content:
        return Content.from_rich_text(self.line(self.keys, self.current, self.size.width or None))

    @staticmethod
    def line(keys: Sequence[ScreenKey], current: str | None, width: int | None = None) -> Text:
        """The widest form that fits ``width``: full names, then the longest other names
        shortened one at a time (``Stmt``), then three letters, then keys alone."""
        names = [name for _, _, name in keys]
        tries = [(1, list(names)), (0, list(names))]
        order = sorted(
            (i for i, (_, mode, name) in enumerate(keys) if mode != current and name in SHORT),
            key=lambda i: (len(SHORT[names[i]]) - len(names[i]), -len(names[i])),
        )
        shorter = list(names)
        for i in order:
            shorter[i] = SHORT[names[i]]
            tries.append((0, list(shorter)))
        tries.append((0, [SHORT.get(n, n) for n in names]))  # the current one short too
        for cut in (3, 0):
            tries.append((0, [n if keys[i][1] == current else n[:cut] for i, n in enumerate(names)]))
        for gap, shown in tries:
            text = Text()
            for (key, mode, _), name in zip(keys, shown, strict=True):
                text.append(" " * (gap + 1) if text else " ")
                text.append(f"{key.upper()} {name}".strip(), style="bold reverse" if mode == current else "")
            if width is None or text.cell_len <= width:
                return text
        return text


SHORT = {
    "Statement": "Stmt",
    "Balances": "Bal",
    "Members": "Memb",
    "Pending": "Pend",
    "Reports": "Rep",
    "Recent": "Rec",
}
