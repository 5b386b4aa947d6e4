"""Each TUI flow driven through the real app with Pilot, checking the ledger afterwards."""

import datetime as dt

from tui_helpers import row_text, type_into

from timebank.ledger import Ledger
from timebank.testing import exchange, snapshot_rows

SIZE = (100, 34)


def entries(path):
    with Ledger(path) as ledger:
        return ledger.entries(limit=100)


async def log(pilot, giver, receivers, duration, note=""):
    await type_into(pilot, "#giver", giver)
    await type_into(pilot, "#receiver", receivers)
    await type_into(pilot, "#duration", duration)
    if note:
        await type_into(pilot, "#note", note)
    await pilot.press("enter")
    await pilot.pause()


async def test_log_hours_previews_then_saves(app_for, coop):
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        await type_into(pilot, "#giver", "alice")
        await type_into(pilot, "#receiver", "bob")
        await type_into(pilot, "#duration", "1h30")
        preview = str(app.screen.query_one("#preview").render())
        assert preview == (
            f"Preview: {dt.date.today():%a %d %b %Y}: Alice Ames gave Bob 1h30 of companionship;"
            " credits: Alice Ames gets 1h30, Bob pays 1h30"
        )
        assert entries(coop.path) == [], "a preview writes nothing"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.query_one("#receiver").value == "" and app.screen.query_one("#duration").value == ""
        assert str(app.screen.query_one("#saved").render()).startswith("Entry #1 saved; the date")
        table = app.screen.query_one("#today")
        assert table.row_count == 1 and row_text(table, 0)[2:5] == ["alice", "bob", "1h30"]
    [entry] = entries(coop.path)
    assert (entry.givers, entry.receivers, entry.minutes, entry.recorded_by) == (
        ("alice",),
        ("bob",),
        90,
        "coord",
    )


async def test_two_exchanges_back_to_back(app_for, coop):
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        await log(pilot, "alice", "bob", "1.5")
        await log(pilot, "carol", "bob,alice", "90m", note="group walk")
        assert app.screen.query_one("#today").row_count == 2
    second, first = entries(coop.path)
    assert first.minutes == 90 and second.receivers == ("bob", "alice") and second.note == "group walk"


async def test_members_are_found_by_part_of_a_name(app_for, coop):
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        await type_into(pilot, "#giver", "ames")
        assert "alice Alice Ames" in str(app.screen.query_one("#matches").render())
        await log(pilot, "ames", "bob", "1h")
    assert entries(coop.path)[0].givers == ("alice",)


async def test_a_rule_refusing_shows_beside_its_field_and_writes_nothing(app_for, coop):
    before = snapshot_rows(coop)
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        await log(pilot, "alice", "alice", "1h")
        assert "cannot give time to themselves" in str(app.screen.query_one("#receiver-error").render())
        assert app.screen.query_one("#receiver").has_class("invalid")
        await log(pilot, "alice", "bob", "1e308")
        assert "'1e308' is not a duration" in str(app.screen.query_one("#duration-error").render())
    assert snapshot_rows(coop) == before


async def test_a_warning_asks_once_and_saves_when_confirmed(app_for, coop):
    coop.change_settings("credit_limits", {"warn_below": "-1h"}, actor="coord")
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        await log(pilot, "alice", "bob", "2h")
        assert type(app.screen).__name__ == "ConfirmModal"
        assert "below the warning level of -1h" in app.screen.question
        await pilot.click("#yes")
        await pilot.pause()
    [entry] = entries(coop.path)
    assert entry.minutes == 120


async def test_a_warning_declined_writes_nothing(app_for, coop):
    coop.change_settings("credit_limits", {"warn_below": "-1h"}, actor="coord")
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        await log(pilot, "alice", "bob", "2h")
        await pilot.press("escape")
        await pilot.pause()
        assert "below the warning level" in str(app.screen.query_one("#receiver-error").render())
    assert entries(coop.path) == []


async def test_member_records_a_claim_and_the_other_side_confirms(app_for, coop):
    app = app_for(actor="alice")
    async with app.run_test(size=SIZE) as pilot:
        assert app.screen.query_one("#giver").value == "alice"
        await log(pilot, "alice", "bob", "45m")
        assert row_text(app.screen.query_one("#today"), 0)[6] == "to confirm"
    assert entries(coop.path) == [] and len(coop.claims()) == 1
    app = app_for(actor="bob")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f6")
        await pilot.pause()
        assert app.screen.query_one("#claims").row_count == 1
        await pilot.press("c")
        await pilot.pause()
        assert "confirmed as entry #1" in str(app.screen.query_one("#pending-message").render())
    assert entries(coop.path)[0].minutes == 45


async def test_decline_a_claim(app_for, coop):
    claim = coop.record(exchange("alice", "bob", 30, recorded_by="alice"))
    app = app_for(actor="bob")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f6", "d")
        await pilot.pause()
        await type_into(pilot, "#reason", "it was 15 minutes")
        await pilot.press("enter")
        await pilot.pause()
    assert coop.claim(claim.id).status == "declined" and coop.claim(claim.id).reason == "it was 15 minutes"


async def test_recent_entries_and_a_reversal_with_a_reason(app_for, coop):
    coop.record(exchange("alice", "bob", 60))
    coop.record(exchange("carol", "bob", 30))
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        await pilot.pause()
        table = app.screen.query_one("#entries")
        assert [row_text(table, i)[0] for i in range(table.row_count)] == ["2", "1"], "newest first"
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert "say why" in str(app.screen.query_one("#reason-error").render()), "a reason is required"
        await type_into(pilot, "#reason", "logged twice")
        await pilot.press("enter")
        await pilot.pause()
        assert "reverses #2" in str(app.screen.query_one("#recent-message").render())
    reversal = entries(coop.path)[0]
    assert (reversal.kind, reversal.reverses, reversal.note) == ("reversal", 2, "logged twice")


async def test_balances_search_sort_and_near_limit(app_for, coop):
    yesterday = dt.date.today() - dt.timedelta(days=1)
    coop.record_many(
        [exchange("alice", "bob", 8 * 60), exchange("alice", "bob", 8 * 60, day=yesterday)], acknowledge=True
    )
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        table = app.screen.query_one("#balances")
        rows = {row_text(table, i)[0]: row_text(table, i) for i in range(table.row_count)}
        assert str(rows["bob"][3]) == "-16h" and rows["bob"][6] == "⚠ near floor"
        assert [str(v) for v in rows["bob"][4:6]] == ["-20h", "200h"]  # asked of the plugins
        assert rows["alice"][6] == ""
        await pilot.press("s")  # by balance
        await pilot.pause()
        assert row_text(table, 0)[0] == "bob" and row_text(table, table.row_count - 1)[0] == "alice"
        await type_into(pilot, "#search", "ames")
        assert table.row_count == 1 and row_text(table, 0)[0] == "alice"


async def test_statement_pages_through_a_long_history(app_for, coop):
    coop.change_settings("credit_limits", {"floor": "-500h", "warn_below": "-500h"}, actor="coord")
    today = dt.date.today()
    coop.record_many([exchange("alice", "bob", 10, day=today - dt.timedelta(days=i)) for i in range(120)])
    app = app_for(actor="bob")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        table = app.screen.query_one("#statement")
        assert table.row_count == 50 and str(row_text(table, 0)[4]) == "-20h"
        await pilot.press("pagedown")
        await pilot.pause()
        assert str(row_text(table, 0)[4]) == "-11h40" and "page 2" in str(
            app.screen.query_one("#statement-title").render()
        )
        await pilot.press("pagedown")
        await pilot.pause()
        assert table.row_count == 20 and str(row_text(table, 19)[4]) == "-10m"
        await pilot.press("pageup")
        await pilot.pause()
        assert "page 2" in str(app.screen.query_one("#statement-title").render())


async def test_members_add_change_and_retire(app_for, coop):
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f7")
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        await type_into(pilot, "#handle", "Bad Handle")
        await type_into(pilot, "#name", "Eve Evans")
        await pilot.press("enter")
        await pilot.pause()
        assert "is not a handle" in str(app.screen.query_one("#form-error").render())
        await type_into(pilot, "#handle", "eve")
        await pilot.press("enter")
        await pilot.pause()
        assert "added Eve Evans (eve)" in str(app.screen.query_one("#members-message").render())
        table = app.screen.query_one("#members")
        table.move_cursor(row=[row_text(table, i)[0] for i in range(table.row_count)].index("eve"))
        await pilot.press("e")
        await pilot.pause()
        await type_into(pilot, "#area", "north")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        assert "Their balance is 0." in str(app.screen.query_one(".question").render())
        await pilot.press("1", "enter")  # the first common reason: moved away
        await pilot.pause()
    with Ledger(coop.path) as ledger:
        eve = ledger.member("eve")
        change = ledger.conn.execute("SELECT change FROM member_changes ORDER BY id DESC").fetchone()[0]
    assert '"reason": "moved away"' in change
    assert (eve.name, eve.area, eve.status) == ("Eve Evans", "north", "retired")


async def test_who_is_recording_and_the_header(app_for, coop):
    app = app_for(actor=None)
    async with app.run_test(size=SIZE) as pilot:
        assert type(app.screen).__name__ == "WhoScreen"
        await type_into(pilot, "#who-search", "bob")
        await pilot.press("enter")
        await pilot.pause()
        assert app.actor.handle == "bob"
        assert "recording as Bob" in app.sub_title and str(coop.path) in app.sub_title
        assert app.title == coop.rules.coop["name"]
        assert app.screen.query_one("#giver").value == "bob"


async def test_help_and_a_plugin_screen(make_ledger):
    from timebank.plugins.social_prescribing import answer, refer
    from timebank.tui.app import make_app

    ledger = make_ledger("social-prescribing", members={"lin": "link worker", "pat": "participant"})
    answer(ledger, refer(ledger, "pat", actor="lin", activity="walking group"), "accepted", actor="pat")
    app = make_app(ledger.path, actor="lin")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        assert "referrals" in app.MODES
        app.switch_mode("referrals")
        await pilot.pause()
        table = app.screen.query_one("#referrals")
        assert row_text(table, 0)[1:4] == ["pat", "walking group", "accepted"]


async def test_dates_as_people_type_them(app_for, coop):
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        await type_into(pilot, "#date", "yesterday")
        await log(pilot, "alice", "bob", "1h")
        await type_into(pilot, "#date", "-3")
        await log(pilot, "carol", "bob", "1h")
        await type_into(pilot, "#date", "2021-13-01")
        await log(pilot, "carol", "bob", "1h")
        assert "'2021-13-01' is not a date" in str(app.screen.query_one("#date-error").render())
    second, first = entries(coop.path)
    assert first.day == dt.date.today() - dt.timedelta(days=1)
    assert second.day == dt.date.today() - dt.timedelta(days=3)


async def test_every_screen_key_shows_at_80_columns_and_marks_where_you_are(app_for, coop):
    """F2–F10 fit an 80×24 terminal (short names where needed); a pressed one is marked."""
    from timebank.tui.widgets.screen_bar import ScreenBar

    names = [f"F{n} " for n in range(2, 11)]  # every key; names are shortened to fit, but the current one
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        for key, shown in (
            ("f2", "F2 Log"),
            ("f4", "F4 Balances"),
            ("f7", "F7 Members"),
            ("f3", "F3 Recent"),
        ):
            await pilot.press(key)
            await pilot.pause()
            bar = app.screen.query_one(ScreenBar)
            line = bar.render()
            assert bar.size.width == 80 and line.cell_length <= 80
            assert all(name in line.plain for name in names), line.plain
            marked = [line.plain[span.start : span.end] for span in line.spans if span.style.reverse]
            assert marked == [shown]
