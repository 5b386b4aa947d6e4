"""Typing into the real app, key by key."""


async def type_into(pilot, selector, text):
    """Focus a field by clicking it, clear it, and type ``text`` key by key."""
    widget = pilot.app.screen.query_one(selector)
    widget.focus()
    widget.value = ""
    await pilot.press(*text)
    await pilot.pause()
