"""Every dialog and screen at 80×24, reached by keys alone, wholly on screen; 60×20 legible."""

import datetime as dt

from timebank.ledger import Ledger
from timebank.testing import exchange

SMALL = (80, 24)
TODAY = dt.date(2026, 11, 27)  # a Friday


def wholly_on_screen(app, selector):
    """The widget is drawn, and inside the terminal: not cut at any edge."""
    widget = app.screen.query_one(selector)
    region = widget.region
    assert region.width > 0 and region.height > 0, f"{selector} is not drawn"
    assert app.screen.region.contains_region(region), f"{selector} at {region} is off {app.screen.region}"
    return widget


def text(app, selector):
    return str(wholly_on_screen(app, selector).render())


async def keys(pilot, *presses):
    await pilot.press(*presses)
    await pilot.pause()


async def test_add_member_fits_and_enter_with_a_bad_handle_shows_the_error(app_for, coop):
    app = app_for(today=TODAY)
    async with app.run_test(size=SMALL) as pilot:
        await keys(pilot, "f7", "a")
        assert type(app.screen).__name__ == "MemberFormModal"
        await keys(pilot, *"Bad Handle", "tab", *"Eve Evans", "shift+tab", "enter")
        assert "is not a handle" in text(app, "#form-error")
        for control in ("#save", "#cancel", "#handle", "#name", "#member_class", "#area", "#flags"):
            wholly_on_screen(app, control)
        await keys(pilot, "ctrl+a", "ctrl+k", *"eve", "enter")
        assert type(app.screen).__name__ == "MembersScreen"
    with Ledger(coop.path) as ledger:
        assert ledger.member("eve").name == "Eve Evans"


async def test_change_member_fits(app_for, coop):
    app = app_for(today=TODAY)
    async with app.run_test(size=SMALL) as pilot:
        await keys(pilot, "f7", "e")
        assert type(app.screen).__name__ == "MemberFormModal"
        for control in ("#save", "#cancel", "#form-error", "#flags"):
            wholly_on_screen(app, control)


async def test_at_60_by_20_dialogs_fit_and_every_screen_key_shows(app_for, coop):
    from timebank.tui.widgets.screen_bar import ScreenBar

    app = app_for(today=TODAY)
    async with app.run_test(size=(60, 20)) as pilot:
        await keys(pilot, "f7")
        line = app.screen.query_one(ScreenBar).render().plain
        assert len(line) <= 60 and all(f"F{n}" in line for n in range(2, 10)), line
        title = app.screen.query_one("HeaderTitle")
        header = "".join(s.text for s in title.render_line(0))
        assert "recording as Cora Ordin (co-ordinator)" in header, header  # the co-op's name gives way
        await keys(pilot, "a")
        dialog = app.screen.query_one(".dialog")
        assert dialog.region.width <= 60
        for control in ("#save", "#cancel", "#form-error"):
            wholly_on_screen(app, control)


async def test_reports_screen_by_keys_opens_a_statement(app_for, coop):
    coop.record(exchange("alice", "carol", 60, day=TODAY - dt.timedelta(days=2)))
    app = app_for(today=TODAY)
    async with app.run_test(size=SMALL) as pilot:
        await keys(pilot, "f9")
        assert type(app.screen).__name__ == "ReportsScreen"
        assert text(app, "#report-title").startswith("Members who neither gave nor received")
        table = wholly_on_screen(app, "#report-rows")
        shown = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert "carol" not in shown and "alice" not in shown and "bob" in shown  # received counts
        wholly_on_screen(app, "#since")
        wholly_on_screen(app, "#until")
        await keys(pilot, "tab", "tab", "tab")  # report, from, to, the rows
        assert app.focused is table
        await keys(pilot, "enter")
        assert type(app.screen).__name__ == "StatementScreen"
        assert text(app, "#statement-title").startswith(f"Statement of {shown[0].title()}")


async def test_reports_period_and_choice_by_keys(app_for, coop):
    coop.record(exchange("alice", "carol", 60, day=dt.date(2026, 10, 3), category="shopping"))
    app = app_for(today=TODAY)
    async with app.run_test(size=SMALL) as pilot:
        await keys(pilot, "f9", "tab", "ctrl+a", "ctrl+k", *"1/11", "enter")
        assert "Sun 01 Nov 2026 to Fri 27 Nov 2026" in text(app, "#reports-message")
        await keys(pilot, "shift+tab", "shift+tab", "shift+tab", "enter")  # back to the report choice
        await keys(pilot, "down", "down", "down", "enter")
        assert text(app, "#report-title") == "Hours given by kind of service, 2026-11-01 to 2026-11-27: none"


async def test_every_dialog_fits_60_by_20(app_for, coop):
    coop.record(exchange("alice", "bob", 60, day=TODAY))
    app = app_for(today=TODAY)
    async with app.run_test(size=(60, 20)) as pilot:
        for opening, inside in (
            (("f3", "r"), "#ok"),  # the reason for a reversal
            (("f4", "g"), "#give-ok"),  # a gift to the chest
            (("f7", "x"), "#ok"),  # retiring, with a reason
            (("f7", "e"), "#save"),
            (("f1",), "#help"),
        ):
            await keys(pilot, *opening)
            dialog = wholly_on_screen(app, ".dialog")
            assert dialog.region.width <= 60
            wholly_on_screen(app, inside)
            await keys(pilot, "escape")
            assert not app.screen.query(".dialog"), opening


async def test_report_rows_show_names_as_typed(app_for, coop):
    coop.update_member("bob", actor="coord", name="[b]Bob[/b] [red]")
    app = app_for(today=TODAY)
    async with app.run_test(size=SMALL) as pilot:
        await keys(pilot, "f9")
        table = app.screen.query_one("#report-rows")
        names = [table.get_row_at(i)[1].plain for i in range(table.row_count)]
        assert "[b]Bob[/b] [red]" in names
