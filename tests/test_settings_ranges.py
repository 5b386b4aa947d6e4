"""Settings declare the values that make sense; a new rules version is checked as a whole.

The attacks are the ones that broke the ledger when only a value's type was checked:
each must now be refused with one sentence naming the setting and what it allows, and
leave the rules in force as they were.
"""

from __future__ import annotations

import json

import pytest
from helpers import cli_invoker

from timebank.errors import InputError
from timebank.ledger import Ledger
from timebank.plugin_manager import Plugins
from timebank.rules import build_rules, check_rules
from timebank.templates import load_template, template_names
from timebank.testing import build_ledger


@pytest.fixture
def run(tmp_path, monkeypatch):
    path = tmp_path / "coop.sqlite"
    monkeypatch.setenv("TIMEBANK_LEDGER", str(path))
    monkeypatch.setenv("TIMEBANK_USER", "coord")
    invoke = cli_invoker()

    invoke("init", "--coordinator", "coord")
    invoke("rules", "enable", "mutual_credit")
    invoke("rules", "enable", "han_group")
    invoke("rules", "enable", "social_prescribing")
    invoke.path = path
    return invoke


def history(path):
    with Ledger(path) as ledger:
        return ledger.rules_history()


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("confirmation.auto_accept_days", "-3", "-3 is out of range; it must be from 0 to 365"),
        ("confirmation.auto_accept_days", "999999999", "999999999 is out of range; it must be from 0 to 365"),
        ("confirmation.mode", "bogus", "'bogus' is not one of other-side-confirms, either-records"),
        ("classic.member_classes", "[]", "plugins.classic.member_classes: must not be empty"),
        ("classic.member_classes", '["member", ""]', "holds an empty item"),
        ("classic.categories", '["a\\nb"]', "control characters"),
        ("classic.max_per_day", "0m", "0m is out of range; it must be from 1m to 24h"),
        ("credit_limits.floor", "10h", "plugins.credit_limits.floor: 10h is out of range; it must be from"),
        ("credit_limits.floor_by_class", '{ member = "5h" }', "floor_by_class.member: 5h is out of range"),
        ("mutual_credit.levy_percent", "60", "60 is out of range; it must be from 0 to 50"),
        ("mutual_credit.lowest_floor", "-5h", "plugins.mutual_credit.lowest_floor: -5h is above the floor"),
        ("mutual_credit.demurrage_percent_year", "101", "101 is out of range; it must be from 0 to 100"),
        ("han_group.min_members", "20", "plugins.han_group.min_members: 20 is more than max_members (12)"),
        (
            "social_prescribing.min_contacts",
            "13",
            "social_prescribing.min_contacts: 13 is more than max_contacts (12)",
        ),
        ("coop.name", '""', "coop.name: must not be empty"),
        ("coop.name", '"x\\u001b[2J"', "control characters"),
    ],
)
def test_rules_set_refuses_nonsense_naming_the_setting_and_range(run, key, value, says):
    before = history(run.path)
    result = run("rules", "set", key, value, ok=False)
    assert result.stderr.startswith("error: ") and says in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert history(run.path) == before


def test_a_floor_above_the_ceiling_is_refused(run):
    run("rules", "set", "credit_limits.floor", "0m")
    result = run("rules", "set", "credit_limits.ceiling", "0m", ok=False)
    assert "plugins.credit_limits.floor: the floor (0m) must be below the ceiling (0m)" in result.stderr
    result = run("rules", "set", "credit_limits.ceiling_by_class", '{ member = "0m" }', ok=False)
    assert "for the class 'member'" in result.stderr


def test_rules_load_checks_the_whole_file_before_storing_it(run, tmp_path):
    good = run("rules", "show").output
    bad = good.replace("[plugins.confirmation]", "[plugins.confirmation]\nauto_accept_days = -3", 1)
    bad = bad.replace("auto_accept_days = 14\n", "", 1)
    path = tmp_path / "bad.toml"
    path.write_text(bad, "utf-8")
    before = history(run.path)
    result = run("rules", "load", path, ok=False)
    assert "plugins.confirmation.auto_accept_days: -3 is out of range" in result.stderr
    assert history(run.path) == before


def test_a_refused_template_leaves_no_ledger_behind(tmp_path):
    rules = load_template("time-bank")
    rules["plugins"]["confirmation"]["mode"] = "bogus"
    with pytest.raises(InputError, match="plugins.confirmation.mode: 'bogus' is not one of"):
        Ledger.create(tmp_path / "l.sqlite", rules)
    assert not (tmp_path / "l.sqlite").exists()


@pytest.mark.parametrize("name", template_names())
def test_every_template_passes_the_whole_check(name):
    plugins = Plugins(entry_points=False)
    declared = plugins.declared_settings()
    check_rules(build_rules(load_template(name), declared), declared, plugins)


def test_every_builtin_plugins_defaults_pass_and_every_number_has_a_range():
    plugins = Plugins(entry_points=False)
    declared = plugins.declared_settings()
    for plugin, settings in declared.items():
        rules = build_rules({"plugins": {"classic": {}, plugin: {}}}, declared)
        check_rules(rules, declared, plugins)
        for setting in settings:
            if setting.type in ("int", "minutes", "decimal", "minutes_table", "decimal_table"):
                assert setting.min is not None and setting.max is not None, f"{plugin}.{setting.name}"


def test_an_old_ledger_with_nonsense_rules_still_opens_and_can_be_repaired(run):
    with Ledger(run.path) as ledger:
        data = ledger.rules.to_data()
        data["plugins"]["confirmation"]["auto_accept_days"] = 999999999
        with ledger.transaction() as conn:  # what an older timebank let through
            conn.execute(
                "INSERT INTO rules (version, created_at, created_by, data, note) VALUES (?, ?, ?, ?, ?)",
                (ledger.rules.version + 1, "2025-01-01T00:00:00Z", "coord", json.dumps(data), "old"),
            )
    assert "auto_accept_days = 999999999" in run("rules", "show").output
    run("rules", "set", "confirmation.auto_accept_days", "14")
    run("member", "add", "alice", "Alice")
    assert "claim #1 saved" in run("log", "alice", "coord", "1h", "-k", "shopping", "--as", "alice").output
    with Ledger(run.path) as ledger:
        assert ledger.rules.settings("confirmation")["auto_accept_days"] == 14


def test_rules_that_would_stop_members_being_added_or_changed_are_refused(tmp_path):
    """``rules load`` of an empty file, ``rules disable classic``, a class list without a class
    members hold, and a warning level above the ceiling were all taken; ``member add`` then
    crashed, members could not be retired, or every exchange asked for --yes."""
    ledger = build_ledger(tmp_path / "l.sqlite", None)
    version = ledger.rules.version
    with pytest.raises(InputError, match="no enabled plugin declares a member class"):
        ledger.set_rules({"coop": {}, "plugins": {}}, actor="coord")
    with pytest.raises(InputError, match="no enabled plugin declares a member class"):
        ledger.disable_plugins(["classic"], actor="coord")
    with pytest.raises(InputError, match="active members are in the class 'member'"):
        ledger.change_settings("classic", {"member_classes": ["volunteer"]}, actor="coord")
    with pytest.raises(InputError, match="warning level .* must be below the ceiling"):
        ledger.change_settings("credit_limits", {"warn_below": "300h", "ceiling": "200h"}, actor="coord")
    assert ledger.rules.version == version
