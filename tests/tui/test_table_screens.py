"""The table screens' shared parts (``TableScreen``): looking only reads, a refused change
says why beside the table and writes nothing, a search box narrows and hands on to the rows."""

import datetime as dt
import hashlib

from tui_helpers import row_text, type_into

from timebank.testing import exchange, snapshot_rows

SIZE = (100, 34)


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_listing_an_overdue_claim_on_the_pending_screen_writes_nothing(app_for, coop):
    claim = coop.record(exchange("alice", "bob", 30, recorded_by="alice"))
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    coop.conn.execute("UPDATE claims SET auto_accept_on = ?", (yesterday,))
    coop.conn.commit()
    before, rows = digest(coop.path), snapshot_rows(coop)
    app = app_for(actor="coord")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f6")
        await pilot.pause()
        table = app.screen.query_one("#claims")
        assert table.row_count == 1 and row_text(table, 0)[0] == str(claim.id)
        await pilot.press("f3", "f6")  # back again: listed twice
        await pilot.pause()
    assert digest(coop.path) == before and snapshot_rows(coop) == rows
    assert coop.claim(claim.id).status == "pending", "accepted only by the next change"


async def test_a_refused_withdrawal_says_why_and_writes_nothing(app_for, coop):
    claim = coop.record(exchange("alice", "bob", 30, recorded_by="alice"))
    rows = snapshot_rows(coop)
    app = app_for(actor="bob")  # bob did not record it: only alice may withdraw it
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f6", "w")
        await pilot.pause()
        await pilot.press("enter")  # no reason given
        await pilot.pause()
        said = str(app.screen.query_one("#pending-message").render())
        assert "withdraw" in said and f"#{claim.id}" in said, said
    assert snapshot_rows(coop) == rows and coop.claim(claim.id).status == "pending"


async def test_the_members_search_narrows_and_enter_moves_to_the_rows(app_for, coop):
    app = app_for()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f7", "slash")
        await type_into(pilot, "#member-search", "ames")
        table = app.screen.query_one("#members")
        assert table.row_count == 1 and row_text(table, 0)[0] == "alice"
        await pilot.press("enter")
        await pilot.pause()
        assert app.focused is table
        await type_into(pilot, "#member-search", "nobody")
        assert table.row_count == 0
        assert str(app.screen.query_one("#members-message").render()) == "no member matches 'nobody'"
