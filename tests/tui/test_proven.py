"""The TUI opened for a proven member (``timebank shell`` over SSH): who they are is fixed,
no F8, and they see only what a member may read."""

from __future__ import annotations

import pytest

from timebank.ledger import Ledger
from timebank.testing import exchange
from timebank.tui.app import TimebankApp
from timebank.tui.screens.who import WhoScreen


@pytest.fixture
def app(coop):
    """The TUI opened for alice, proven, on a ledger where she and carol each gave bob time."""
    coop.record(exchange("alice", "bob", 30, recorded_by="coord"))
    coop.record(exchange("carol", "bob", 45, recorded_by="coord"))
    ledger = Ledger(coop.path)
    ledger.prove("alice")
    yield TimebankApp(ledger, actor="alice")
    ledger.close()


async def test_a_proven_member_cannot_switch_and_sees_their_own(app):
    async with app.run_test(size=(140, 40)) as pilot:
        assert "signed in as Alice Ames (alice)" in app.sub_title
        await pilot.press("f8")
        await pilot.pause()
        assert not isinstance(app.screen, WhoScreen)
        assert app.actor.handle == "alice"
        assert "Who is recording" not in [c.title for c in app.get_system_commands(app.screen)]
        await pilot.press("f4")
        await pilot.pause()
        table = app.screen.query_one("#balances")
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == ["alice"]
        await pilot.press("f5")
        await pilot.pause()
        app.screen.query_one("#account").value = "carol"
        await pilot.pause()
        assert "may read only their own" in str(app.screen.query_one("#statement-title").render())
        assert app.screen.query_one("#statement").row_count == 0


async def test_a_member_is_not_offered_a_coordinators_keys(app):
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("f7")
        await pilot.pause()
        offered = {b.binding.action for b in app.screen.active_bindings.values() if b.node is app.screen}
        assert not {"add", "edit", "retire"} & offered
        await pilot.press("a")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "MembersScreen"  # no form opened
        await pilot.press("f3")
        await pilot.pause()
        table = app.screen.query_one("#entries")
        shown = [str(table.get_row_at(i)[5]) for i in range(table.row_count)]  # the "who" column
        assert shown == ["alice → bob"]  # carol's entry is not alice's to read
        await pilot.press("r")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "RecentScreen"
