"""What the TUI shows and asks comes from the plugins' hooks, never from their settings by name:
an A+B social co-op's sector on the Log screen, mutual credit's growing floor on Balances."""

from tui_helpers import row_text, type_into

from timebank.ledger import Ledger
from timebank.testing import exchange, snapshot_rows
from timebank.tui.app import make_app

SIZE = (100, 40)


async def fill(pilot, giver, receivers, duration):
    await type_into(pilot, "#giver", giver)
    await type_into(pilot, "#receiver", receivers)
    await type_into(pilot, "#duration", duration)


def error_of(app, field):
    return str(app.screen.query_one(f"#{field}-error").render())


async def test_an_a_b_social_coop_records_with_its_sector_from_the_tui(make_ledger):
    coop = make_ledger("social-coop-it", members={"anna": "worker", "ben": "worker"})
    assert [f.name for f in coop.exchange_fields()] == ["sector"]
    before = snapshot_rows(coop)
    app = make_app(coop.path, actor="coord")
    async with app.run_test(size=SIZE) as pilot:
        assert app.screen.query_one("#ref-sector").placeholder == "A or B"
        await fill(pilot, "anna", "ben", "1h")
        await pilot.press("enter")  # no sector: said beside its field, nothing written
        await pilot.pause()
        assert error_of(app, "ref-sector") == "say the sector (A or B)"
        assert app.screen.query_one("#ref-sector").has_class("invalid")
        assert snapshot_rows(coop) == before

        await type_into(pilot, "#ref-sector", "C")
        await pilot.press("enter")
        await pilot.pause()
        assert error_of(app, "ref-sector") == "'C' is not one of A, B"
        await pilot.press("ctrl+s")  # saving straight away is refused the same way
        await pilot.pause()
        assert error_of(app, "ref-sector") == "'C' is not one of A, B"
        assert snapshot_rows(coop) == before

        await type_into(pilot, "#ref-sector", "B")
        await pilot.press("enter")
        await pilot.pause()
        assert error_of(app, "ref-sector") == ""
        assert str(app.screen.query_one("#saved").render()).startswith("Entry #")
    with Ledger(coop.path) as ledger:
        [entry] = [e for e in ledger.entries(limit=10) if e.kind == "service"]
        assert entry.refs == {"sector": "B"} and entry.minutes == 60
        assert "anna~sector-b" in {p.account for p in ledger.entry(entry.id).postings}  # sector B's work


async def test_a_co_op_of_one_sector_is_asked_nothing_more(make_ledger):
    coop = make_ledger(
        "social-coop-it",
        members={"anna": "worker"},
        overrides={"plugins": {"social_coop_it": {"coop_type": "A"}}},
    )
    assert coop.exchange_fields() == []
    app = make_app(coop.path, actor="coord")
    async with app.run_test(size=SIZE):
        assert not app.screen.query("#ref-sector")


async def balances_shown(coop) -> dict[str, list[str]]:
    """The Balances screen's rows by handle, as the co-ordinator sees them."""
    app = make_app(coop.path, actor="coord")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        table = app.screen.query_one("#balances")
        return {row_text(table, i)[0]: row_text(table, i) for i in range(table.row_count)}


async def test_balances_show_mutual_credits_growing_floor_and_the_plugins_measure_of_near(make_ledger):
    coop = make_ledger("mutual-credit", members={"alice": "member", "bob": "member"})
    coop.record(exchange("alice", "bob", 4 * 60), acknowledge=True)  # alice earned 4h: floor -10h - 2h
    rows = await balances_shown(coop)
    assert rows["alice"][4:6] == ["-12h", "60h"] and rows["bob"][4:6] == ["-10h", "60h"]
    assert rows["bob"][6] == ""  # -4h is 6h above its floor: not near by 2h
    coop.change_settings("reports", {"near_limit_within": "7h"}, actor="coord")
    assert coop.near_limit_within() == 7 * 60
    rows = await balances_shown(coop)
    assert rows["bob"][6] == "⚠ near floor"
