"""The board (F10) under Pilot at 80x24: browse, filter, search, post, answer, accept,
withdraw; members' text shown as text, never as markup."""

import datetime as dt

from tui_helpers import type_into

from timebank.ledger import Ledger
from timebank.listings import Listings
from timebank.tui.app import make_app

SIZE = (80, 24)
TODAY = dt.date.today()


def board_of(path):
    ledger = Ledger(path)
    return ledger, Listings(ledger)


def seed(coop):
    for handle, area in (("alice", "north"), ("bob", "north"), ("carol", "south")):
        coop.update_member(handle, actor="coord", area=area)
    board = Listings(coop)
    board.post(
        "request",
        actor="alice",
        category="gardening",
        title="[b]Hedge[/b] [red]trim",
        description="[link=x]y",
    )
    board.post("offer", actor="bob", category="gardening", title="Garden jobs")
    board.post("offer", actor="carol", category="transport", title="Lifts to town")
    return board


def cells(app):
    table = app.screen.query_one("#board")
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def fits(app):
    width, height = SIZE
    for widget in app.screen.query("*"):
        region = widget.region
        if region.width and region.height:
            assert region.right <= width and region.bottom <= height, (widget, region)


async def test_browse_filter_and_search_showing_text_not_markup(coop):
    seed(coop)
    app = make_app(coop.path, actor="alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f10")
        await pilot.pause()
        rows = cells(app)
        assert [r[0] for r in rows] == ["3", "2", "1"]
        assert rows[2][6] == "[b]Hedge[/b] [red]trim"  # the title as typed ...
        assert "[b]Hedge[/b]" in app.export_screenshot()  # ... and as drawn
        app.screen.query_one("#board").move_cursor(row=2)
        await pilot.pause()
        detail = str(app.screen.query_one("#listing-detail").render())
        assert "[b]Hedge[/b] [red]trim" in detail and "[link=x]y" in detail
        fits(app)
        app.screen.query_one("#board-kind").value = "offer"
        await pilot.pause()
        assert [r[0] for r in cells(app)] == ["3", "2"]
        app.screen.query_one("#board-category").value = "transport"
        await pilot.pause()
        assert [r[6] for r in cells(app)] == ["Lifts to town"]
        app.screen.query_one("#board-category").value = "all"
        app.screen.query_one("#board-kind").value = "all"
        await pilot.pause()
        await pilot.press("slash")
        await type_into(pilot, "#board-search", "garden")
        await pilot.press("enter")
        await pilot.pause()
        assert [r[6] for r in cells(app)] == ["Garden jobs"]


async def test_post_answer_accept_and_withdraw(coop):
    seed(coop)
    app = make_app(coop.path, actor="carol")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f10")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        fits(app)
        await pilot.press("enter")  # no title yet: refused inline, nothing written
        await pilot.pause()
        assert "title:" in str(app.screen.query_one("#form-error").render())
        await type_into(pilot, "#form-title", "Someone to walk with")
        await pilot.press("enter")
        await pilot.pause()
        ledger, board = board_of(coop.path)
        [posted] = board.board(member="carol", kind="request")
        assert (posted.title, posted.area, posted.posted_by) == ("Someone to walk with", "south", "carol")
        assert "request #4 posted" in str(app.screen.query_one("#board-message").render())
        ledger.close()
    app = make_app(coop.path, actor="bob")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f10")
        await pilot.pause()
        table = app.screen.query_one("#board")
        table.move_cursor(row=table.get_row_index("1"))
        await pilot.press("a")  # bob answers alice's request
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        assert "who may fit #1:" in str(app.screen.query_one("#listing-detail").render())
    app = make_app(coop.path, actor="alice")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f10")
        await pilot.pause()
        table = app.screen.query_one("#board")
        table.move_cursor(row=table.get_row_index("1"))
        await pilot.press("c")
        await pilot.pause()
        fits(app)
        await pilot.press("enter")  # the one answer: bob's
        await pilot.pause()
        ledger, board = board_of(coop.path)
        assert board.get(1).state(TODAY) == "taken up" and board.get(1).taken_by == "bob"
        table.move_cursor(row=table.get_row_index("2"))
        await pilot.press("w")  # bob's offer is not alice's to withdraw
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert "only they or a co-ordinator" in str(app.screen.query_one("#board-message").render())
        assert board.get(2).state(TODAY) == "open"
        ledger.close()
