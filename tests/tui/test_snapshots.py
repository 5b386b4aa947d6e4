"""Each screen of the demo co-op, at 80x24 and at 120x40, compared with accepted snapshots.

The demo is built for a fixed day and shown from a relative path, so a screen only changes
when the code that draws it does. Update with ``pytest --snapshot-update`` after looking.
"""

import datetime as dt

import pytest

from timebank.demo import build_demo
from timebank.tui.app import make_app

DAY = dt.date(2026, 3, 2)
SIZES = [(80, 24), (120, 40)]
SCREENS = {
    "log": [],
    "recent": ["f3"],
    "balances": ["f4"],
    "statement": [],  # opened in settle(), to choose whose statement
    "pending": ["f6"],
    "members": ["f7"],
    "help": ["f1"],
    "reports": ["f9"],
    "add-member": ["f7", "a"],
}


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("snapshots")
    build_demo(folder / "demo.sqlite", today=DAY, board=False).close()
    return folder


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", SCREENS)
def test_screen(snap_compare, demo_dir, monkeypatch, screen, size):
    monkeypatch.chdir(demo_dir)
    app = make_app("demo.sqlite", actor="coordinator", today=DAY)

    async def settle(pilot):
        await pilot.pause()
        if screen == "statement":  # a member with a history, rather than the co-ordinator's empty one
            await pilot.press("f5")
            pilot.app.screen.query_one("#account").value = "deva"
            await pilot.pause()

    assert snap_compare(app, press=SCREENS[screen], terminal_size=size, run_before=settle)


def test_who_screen(snap_compare, demo_dir, monkeypatch):
    monkeypatch.chdir(demo_dir)
    assert snap_compare(make_app("demo.sqlite", today=DAY), terminal_size=(80, 24))


@pytest.mark.parametrize("theme", ["textual-light", "NO_COLOR"])
def test_log_per_theme(snap_compare, demo_dir, monkeypatch, theme):
    """The themes whose contrast tests/tui/test_contrast.py checks, and NO_COLOR=1."""
    monkeypatch.chdir(demo_dir)
    if theme == "NO_COLOR":
        monkeypatch.setenv("NO_COLOR", "1")
    app = make_app("demo.sqlite", actor="coordinator", today=DAY)

    async def settle(pilot):
        if theme != "NO_COLOR":
            pilot.app.theme = theme
        await pilot.press(*"zz", "enter")  # an error beside Giver
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)
