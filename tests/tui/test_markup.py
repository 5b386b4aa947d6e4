"""Text from the ledger is shown as text on every screen, never parsed as markup.

A member named with markup, a note and a kind of care holding ``[/]``, ``[bold]`` and
``[@click=app.quit]``: parsed as markup they raise an error that closes the app (for good
on Recent and Statement, since entries are append-only) or run an action. The app must
stay up and show the literal characters.
"""

import datetime as dt

from tui_helpers import row_text, type_into

from timebank.models import Member
from timebank.testing import exchange
from timebank.tui.app import make_app

SIZE = (200, 40)
NAME = "Mal [/] [bold]Lory[/bold] [@click=app.quit]x[/]"
NOTE = "tea [/] [red]spilt[/red] [@click=app.quit]bye[/]"
KIND = "[b]care[/b]"


def shown(table):
    return [" ".join(row_text(table, i)) for i in range(table.row_count)]


async def test_every_screen_shows_markup_as_literal_text(make_ledger):
    ledger = make_ledger("time-bank", members={"alice": "member", "bob": "member"})
    ledger.change_settings("classic", {"categories": [KIND, "shopping"]}, actor="coord")
    ledger.add_member(Member("mal", NAME, "member", dt.date(2024, 1, 1)), actor="coord")
    ledger.record(exchange("mal", "bob", category=KIND, note=NOTE))
    ledger.record(exchange("alice", "bob", recorded_by="alice", category=KIND, note=NOTE))
    app = make_app(ledger.path, actor="coord")
    async with app.run_test(size=SIZE) as pilot:
        await type_into(pilot, "#giver", "mal")
        assert NAME in str(app.screen.query_one("#matches").render())
        await type_into(pilot, "#receiver", "bob")
        await type_into(pilot, "#duration", "1h")
        await type_into(pilot, "#note", NOTE)
        preview = str(app.screen.query_one("#preview").render())
        assert preview.startswith("Preview: ") and f"{NAME} gave Bob 1h" in preview, preview
        await pilot.press("enter")
        await pilot.pause()
        assert any(KIND in row for row in shown(app.screen.query_one("#today")))

        await pilot.press("f3")
        await pilot.pause()
        assert any(NOTE in row and KIND in row for row in shown(app.screen.query_one("#entries")))

        await pilot.press("f4")
        await pilot.pause()
        assert any(NAME in row for row in shown(app.screen.query_one("#balances")))

        await pilot.press("f5")
        await pilot.pause()
        await type_into(pilot, "#account", "mal")
        assert any(NOTE in row for row in shown(app.screen.query_one("#statement")))

        await pilot.press("f6")
        await pilot.pause()
        assert any(NOTE in row for row in shown(app.screen.query_one("#claims")))

        await pilot.press("f7")
        await pilot.pause()
        assert any(NAME in row for row in shown(app.screen.query_one("#members")))

        await pilot.press("f8")
        await pilot.pause()
        options = app.screen.query_one("#who-list")
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any(NAME in prompt for prompt in prompts)
        await pilot.press("escape")
        await pilot.pause()
        assert app.is_running, "a note's [@click=app.quit] must not quit the app"


async def test_a_plugin_screen_shows_markup_as_literal_text(make_ledger):
    from timebank.plugins.social_prescribing import refer

    ledger = make_ledger("social-prescribing", members={"lin": "link worker", "pat": "participant"})
    refer(ledger, "pat", actor="lin", activity=NOTE)
    app = make_app(ledger.path, actor="lin")
    async with app.run_test(size=SIZE) as pilot:
        app.switch_mode("referrals")
        await pilot.pause()
        assert NOTE in shown(app.screen.query_one("#referrals"))[0]
