"""Contrast, computed from what the app draws: WCAG AA (4.5:1 for text, 3:1 for the focused
field against the others) in every theme the app offers, and with NO_COLOR=1."""

import pytest
from rich.color import Color, ColorSystem
from test_fit import SMALL, TODAY, keys

from timebank.tui.app import THEMES


def luminance(color: Color) -> float:
    def channel(v: int) -> float:
        v = v / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = color.get_truecolor()
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


DOWNGRADE: list[ColorSystem] = []  # set for a 256-colour terminal


def ratio(a: Color, b: Color) -> float:
    for system in DOWNGRADE:  # what a 256-colour terminal shows
        a, b = a.downgrade(system), b.downgrade(system)
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def drawn(app, widget):
    """The widget's segments as the terminal gets them (after NO_COLOR's filter)."""
    for y in range(widget.region.height):
        segments = list(widget.render_line(y))
        for f in app._filters:
            segments = f.apply(segments, app.styles.background)
        yield from segments


def text_contrast(app, selector):
    """The lowest contrast of any visible character of the widget."""
    widget = app.screen.query_one(selector)
    ratios = [
        ratio(s.style.color, s.style.bgcolor)
        for s in drawn(app, widget)
        if s.text.strip() and s.style and s.style.color and s.style.bgcolor
    ]
    assert ratios, f"{selector} shows no text"
    return min(ratios)


def background(app, selector):
    """The colour behind most of the widget's cells (not the cursor or a selection)."""
    cells: dict = {}
    for s in drawn(app, app.screen.query_one(selector)):
        if s.style and s.style.bgcolor:
            cells[s.style.bgcolor] = cells.get(s.style.bgcolor, 0) + len(s.text)
    return max(cells, key=cells.get)


@pytest.fixture
def colours(monkeypatch):
    """NO_COLOR=1, or a 256-colour terminal, or a theme's full colours."""

    def set_up(theme):
        if theme == "NO_COLOR":
            monkeypatch.setenv("NO_COLOR", "1")
        if theme == "256":
            monkeypatch.setattr("test_contrast.DOWNGRADE", [ColorSystem.EIGHT_BIT])

    return set_up


KINDS = [*THEMES, "NO_COLOR", "256"]


@pytest.mark.parametrize("theme", KINDS)
async def test_log_form_text_and_focus_meet_wcag_aa(app_for, coop, colours, theme):
    colours(theme)
    assert bool(DOWNGRADE) == (theme == "256")
    app = app_for(today=TODAY)
    async with app.run_test(size=SMALL) as pilot:
        assert sorted(app.available_themes) == sorted(THEMES)  # only the themes checked here
        if theme in THEMES:
            app.theme = theme
        await keys(pilot, *"alice", "enter", *"nobody", "enter")  # an error beside Receivers
        await keys(pilot, "tab", "tab", *"2x")  # the duration focused, the receiver wrong
        await keys(pilot, "shift+tab")  # the date focused
        found = {
            s: text_contrast(app, s)
            for s in ("#receiver-error", ".field-label", "#preview", "ScreenBar", "HeaderTitle", "#date")
        }
        found["#receiver"] = text_contrast(app, "#receiver")  # wrong, not focused
        found["#giver"] = text_contrast(app, "#giver")
        assert all(r >= 4.5 for r in found.values()), {s: round(r, 2) for s, r in found.items()}
        focus = ratio(background(app, "#date"), background(app, "#giver"))
        assert focus >= 3, f"the focused field is {focus:.2f}:1 against the others"
        await keys(pilot, "tab", "tab")  # the kind of care, a drop-down
        assert app.focused.id == "category"
        assert text_contrast(app, "#category #label") >= 4.5


@pytest.mark.parametrize("theme", KINDS)
async def test_who_highlight_meets_wcag_aa(app_for, coop, colours, theme):
    colours(theme)
    app = app_for(actor=None, today=TODAY)
    async with app.run_test(size=SMALL) as pilot:
        if theme in THEMES:
            app.theme = theme
        await keys(pilot, *"a")
        found = {s: text_contrast(app, s) for s in ("#who-list", "#who-search", ".question")}
        assert all(r >= 4.5 for r in found.values()), {s: round(r, 2) for s, r in found.items()}


@pytest.mark.parametrize("theme", KINDS)
async def test_reports_choice_focused_meets_wcag_aa(app_for, coop, colours, theme):
    colours(theme)
    app = app_for(today=TODAY)
    async with app.run_test(size=SMALL) as pilot:
        if theme in THEMES:
            app.theme = theme
        await keys(pilot, "f9")
        assert app.focused.id == "report"
        found = {s: text_contrast(app, s) for s in ("#report #label", "#report-title", "#reports-message")}
        assert all(r >= 4.5 for r in found.values()), {s: round(r, 2) for s, r in found.items()}
