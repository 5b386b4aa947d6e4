"""Typing into the real app, key by key."""


async def type_into(pilot, selector, text):
    """Focus a field by clicking it, clear it, and type ``text`` key by key."""
    widget = pilot.app.screen.query_one(selector)
    widget.focus()
    widget.value = ""
    await pilot.press(*text)
    await pilot.pause()


def row_text(table, index):
    """A table row as the text it shows (cells are ``Text``, never markup)."""
    return [str(cell) for cell in table.get_row_at(index)]
