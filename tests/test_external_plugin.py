"""An example plugin shipped as its own package, found through the ``timebank`` entry point."""

import importlib.metadata

from timebank.plugin_manager import Plugins
from timebank.testing import exchange


def test_the_example_package_is_installed_and_registered():
    entry_points = importlib.metadata.entry_points(group="timebank")
    assert "tea_levy" in {ep.name for ep in entry_points}
    described = {p["name"]: p for p in Plugins().describe()}
    assert described["tea_levy"]["version"] == "0.1.0"
    assert "add_postings" in described["tea_levy"]["hooks"]


def test_it_takes_effect_once_enabled(make_ledger):
    ledger = make_ledger("time-bank", plugins=Plugins(), members={"alice": "member", "bob": "member"})
    ledger.record(exchange("alice", "bob", 60))
    assert ledger.balance("alice") == 60, "installed but not enabled: no effect"
    ledger.change_settings("tea_levy", {"minutes": 3}, actor="coord")
    ledger.record(exchange("alice", "bob", 60))
    assert (ledger.balance("alice"), ledger.balance("@tea")) == (117, 3)


def test_it_is_not_loaded_without_entry_points():
    assert "tea_levy" not in Plugins(entry_points=False).names()
