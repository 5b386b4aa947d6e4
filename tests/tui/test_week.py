"""A real week at a care co-op, at 80×24, by keys alone: each control reached is wholly on screen."""

import datetime as dt

from test_fit import SMALL, TODAY, keys, text, wholly_on_screen
from tui_helpers import row_text

from timebank.ledger import Ledger
from timebank.testing import exchange


async def test_enter_goes_to_the_next_empty_or_wrong_field_then_saves(app_for, coop):
    app = app_for(today=TODAY)
    async with app.run_test(size=SMALL) as pilot:
        await keys(pilot, *"alice", "enter")
        assert app.focused.id == "receiver", "Enter in Giver moves on; it does not save"
        await keys(pilot, *"bob", "enter")
        assert app.focused.id == "duration"  # the date is filled in (today)
        await keys(pilot, *"1h3O", "enter")
        assert app.focused.id == "duration", "a wrong field keeps the cursor"
        error = text(app, "#duration-error")
        assert error == "'1h3O' is not a duration; try 1.5, 1h30, 90m or 1:30"  # whole, wrapped
        assert text(app, "#preview").startswith("Preview: check duration: '1h3O'")
        await keys(pilot, "backspace", "0", "enter")
        assert text(app, "#saved").startswith("Entry #1 saved")
        assert text(app, "#duration-error") == ""
        await keys(pilot, *"nobody", "enter")
        assert text(app, "#giver-error") == "no member matches 'nobody'"
        assert text(app, "#saved") == "", "the earlier 'Entry #1 saved' is stale next to a new error"
    with Ledger(coop.path) as ledger:
        [entry] = ledger.entries()
    assert (entry.givers, entry.receivers, entry.minutes) == (("alice",), ("bob",), 90)


async def test_dates_as_said_resolved_with_the_weekday_and_kept_for_the_next_slip(app_for, coop):
    app = app_for(today=TODAY)
    async with app.run_test(size=SMALL) as pilot:
        await keys(pilot, *"alice", "tab", *"bob", "tab", "ctrl+a", "ctrl+k", *"last sat", "tab", *"1h")
        assert text(app, "#preview").startswith("Preview: Sat 21 Nov 2026: Alice Ames gave Bob 1h of ")
        await keys(pilot, "enter")
        assert "the date (Sat 21 Nov) and kind are kept" in text(app, "#saved")
        assert text(app, "#date-label") == "Date kept" and text(app, "#category-label") == "Kind kept"
        today = wholly_on_screen(app, "#today")
        assert row_text(today, 0)[1] == "Sat 21 Nov"
        assert app.focused.id == "giver"
        await keys(pilot, "tab", "tab", "ctrl+a", "ctrl+k", *"21/11")
        assert text(app, "#date-label") == "Date", "changed: no longer carried over"
    with Ledger(coop.path) as ledger:
        assert ledger.entries()[0].day == dt.date(2026, 11, 21)


async def test_statement_finds_the_chest_by_part_and_orders_by_day(app_for, coop):
    coop.record(exchange("alice", "bob", 60, day=dt.date(2026, 11, 20)))
    coop.record(exchange("alice", "bob", 30, day=dt.date(2026, 11, 10)))  # typed later, happened earlier
    app = app_for(today=TODAY)
    async with app.run_test(size=SMALL) as pilot:
        await keys(pilot, "f5")
        await keys(pilot, "ctrl+a", "ctrl+k", *"chest")
        assert text(app, "#statement-title").startswith("Statement of @chest: balance")
        await keys(pilot, "ctrl+a", "ctrl+k", *"ames")  # part of Alice Ames's name
        assert text(app, "#statement-title").startswith("Statement of Alice Ames (alice): balance 1h30")
        table = wholly_on_screen(app, "#statement")
        rows = [row_text(table, i) for i in range(table.row_count)]
        assert [(r[0], r[4]) for r in rows] == [("Fri 2026-11-20", "1h30"), ("Tue 2026-11-10", "30m")]


async def test_recent_marks_reversed_entries_and_reasons_by_number(app_for, coop):
    coop.record(exchange("alice", "bob", 60, day=TODAY))
    app = app_for(today=TODAY)
    async with app.run_test(size=SMALL) as pilot:
        await keys(pilot, "f3", "r")
        wholly_on_screen(app, "#reason")
        assert "1 logged twice" in text(app, "#reason-choices")
        await keys(pilot, "1", "enter")
        table = wholly_on_screen(app, "#entries")
        rows = {row_text(table, i)[0]: row_text(table, i) for i in range(table.row_count)}
        assert rows["1"][4] == "reversed by #2" and rows["2"][7] == "reverses #1: logged twice"
        assert (rows["1"][2], rows["2"][2]) == ("time given", "taken back")  # in plain words
        through_state = sum(c.get_render_width(table) for c in list(table.columns.values())[:5])
        assert through_state <= table.region.width, "the reversed mark is on screen at 80 columns"
        await keys(pilot, "f2")
        today = wholly_on_screen(app, "#today")
        assert [row_text(today, 0)[0], row_text(today, 0)[6]] == ["1", "reversed"]


async def test_screens_refresh_when_another_process_writes(app_for, coop):
    app = app_for(today=TODAY)
    async with app.run_test(size=SMALL) as pilot:
        await keys(pilot, "f3")
        table = app.screen.query_one("#entries")
        assert table.row_count == 0 and text(app, "#recent-message") == "no entries yet: F2 logs hours"
        with Ledger(coop.path) as other:  # another connection: the CLI, another TUI
            other.record(exchange("alice", "bob", 60, day=TODAY))
        await pilot.pause(1.5)  # the poll of PRAGMA data_version
        assert table.row_count == 1
        with Ledger(coop.path) as other:
            other.record(exchange("carol", "bob", 60, day=TODAY))
        await keys(pilot, "ctrl+r")
        assert table.row_count == 2


async def test_balances_show_each_floor_and_ceiling_and_give_to_the_chest(app_for, coop):
    for days_ago in (0, 1):
        coop.record(
            exchange("alice", "bob", 8 * 60, day=TODAY - dt.timedelta(days=days_ago)), acknowledge=True
        )
    app = app_for(today=TODAY)
    async with app.run_test(size=SMALL) as pilot:
        await keys(pilot, "f4")
        table = wholly_on_screen(app, "#balances")
        rows = {row_text(table, i)[0]: row_text(table, i) for i in range(table.row_count)}
        assert [str(v) for v in rows["bob"][3:6]] == ["-16h", "-20h", "200h"] and rows["bob"][
            6
        ] == "⚠ near floor"
        assert sum(c.width for c in table.columns.values()) <= 80, "every column fits at 80"
        await keys(pilot, "home", "g")  # alice, the first by name
        wholly_on_screen(app, "#give-ok")
        await keys(pilot, *"2h", "enter", *"for the chest", "enter")
    with Ledger(coop.path) as ledger:
        assert ledger.balance("@chest") == 120 and ledger.balance("alice") == 14 * 60


async def test_help_fits_80_columns_in_plain_words(app_for, coop):
    app = app_for(today=TODAY)
    async with app.run_test(size=SMALL) as pilot:
        await keys(pilot, "f1")
        dialog = wholly_on_screen(app, "#help")
        body = dialog.query_one("Static")
        lines = str(body.render()).splitlines()
        assert max(len(line) for line in lines) <= dialog.content_region.width
        for idea in ("Claims", "Limits", "The chest", "Tab goes to the next box"):
            assert any(idea in line for line in lines), idea
        await keys(pilot, "escape")
        assert type(app.screen).__name__ == "LogScreen"


async def test_palette_in_plain_words_and_keys_close_with_escape(app_for, coop):
    app = app_for(today=TODAY)
    async with app.run_test(size=SMALL) as pilot:
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Screenshot" not in titles and "Maximize" not in titles and "Reports" in titles
        assert "Give to the chest" in titles and "Export" in titles  # co-ordinator
        await keys(pilot, "ctrl+p", *"keys")
        await pilot.pause(0.3)
        await keys(pilot, "enter")
        assert app.screen.query("HelpPanel")
        await keys(pilot, "escape")
        assert not app.screen.query("HelpPanel")
        assert type(app.screen).__name__ == "LogScreen"


async def test_export_is_for_coordinators_into_an_exports_folder(app_for, coop):
    coop.record(exchange("alice", "bob", 60, day=TODAY))
    app = app_for(today=TODAY)
    async with app.run_test(size=SMALL) as pilot:
        await keys(pilot, "ctrl+p", *"export")
        await pilot.pause(0.3)
        await keys(pilot, "enter")
    folder = coop.path.parent / "exports"
    assert sorted(p.name for p in folder.iterdir()) == ["entries-2026-11-27.csv", "postings-2026-11-27.csv"]
    member = app_for(actor="alice", today=TODAY)
    async with member.run_test(size=SMALL):
        assert "Export" not in [c.title for c in member.get_system_commands(member.screen)]
        member.action_export()  # even asked directly
    assert len(list(folder.iterdir())) == 2


async def test_members_search_sorted_and_retire_says_where_the_balance_goes(app_for, coop):
    coop.record(exchange("alice", "bob", 90, day=TODAY))
    app = app_for(today=TODAY)
    async with app.run_test(size=SMALL) as pilot:
        await keys(pilot, "f7")
        table = app.screen.query_one("#members")
        names = [row_text(table, i)[1] for i in range(table.row_count)]
        assert names == sorted(names, key=str.lower)
        await keys(pilot, "slash", *"ames", "enter")
        assert table.row_count == 1 and row_text(table, 0)[0] == "alice"
        await keys(pilot, "x")
        question = text(app, ".question")
        assert "Their 1h30 of credit goes to the chest." in question
        wholly_on_screen(app, "#ok")
        await keys(pilot, "escape", "slash", "ctrl+a", "ctrl+k", *"zzz")
        assert text(app, "#members-message") == "no member matches 'zzz'"


async def test_pending_says_when_empty_and_shows_my_own_waiting_claims(app_for, coop):
    app = app_for(actor="alice", today=TODAY)
    async with app.run_test(size=SMALL) as pilot:
        await keys(pilot, "f6")
        assert text(app, "#pending-empty") == "no claims waiting for you"
        await keys(pilot, "f2", "tab", *"bob", "enter", *"1h", "enter")
        await keys(pilot, "f6")
        table = wholly_on_screen(app, "#claims")
        assert table.row_count == 1 and row_text(table, 0)[5] == "bob"  # waiting for bob
        claim_id = int(row_text(table, 0)[0])
        await keys(pilot, "w", *"wrong day", "enter")  # withdraw my own, with a reason
        assert text(app, "#pending-message") == f"claim #{claim_id} withdrawn"
        assert app.ledger.claim(claim_id).status == "declined"  # never in the ledger
        assert table.row_count == 0


async def test_the_header_never_cuts_who_is_recording_at_80_columns(app_for, coop):
    app = app_for(actor="alice", today=TODAY)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        title = app.screen.query_one("HeaderTitle")
        shown = "".join(s.text for y in range(title.region.height) for s in title.render_line(y))
        assert "recording as Alice Ames · " in shown, shown  # the path after it is what gets cut
