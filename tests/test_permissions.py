"""Permission is the core's and fails closed: a member tries what they may not.

Each attack runs through the real CLI on a real ledger file, under the default rules,
with the ``confirmation`` plugin disabled, and with a rules file that never enables
it; the ledger must refuse with one sentence and keep every row as it was.
"""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import cli_on, exchange

from timebank import Problem, hookimpl
from timebank.errors import InputError, NotAllowed
from timebank.ledger import Ledger
from timebank.models import Member
from timebank.permissions import AUTO_ACCEPT, SYSTEM
from timebank.plugin_manager import Plugins
from timebank.testing import build_ledger, snapshot_rows

NO_CONFIRMATION = """\
[coop]
name = "No confirmation here"

[plugins.classic]
member_classes = ["member"]
categories = ["shopping", "other"]

[plugins.credit_limits]
floor = "-20h"
"""


@pytest.fixture
def run(tmp_path, monkeypatch):
    path = tmp_path / "coop.sqlite"
    invoke = cli_on(path, monkeypatch)

    invoke("init", "--coordinator", "coord")
    for handle in ("alice", "bob"):
        invoke("member", "add", handle, handle.title(), "--as", "coord")
    invoke("log", "alice", "bob", "2h", "-k", "shopping", "--as", "coord")
    return invoke


def rows(path):
    with Ledger(path) as ledger:
        return snapshot_rows(ledger)


def refused(run, *args, says, env=None):
    """Run a command that must be refused: exit 1, one sentence, nothing written."""
    before = rows(run.path)
    result = run(*args, ok=False, env=env)
    assert result.stderr.startswith("error: "), result.stderr
    assert says in result.stderr, result.stderr
    assert rows(run.path) == before, f"{args} wrote to the ledger although refused"
    return result


# 1. the ledger's own actor cannot be named from outside ------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("member", "add", "mallory", "Mallory", "--coordinator", "--as", "system"),
        ("member", "change", "alice", "--role", "coordinator", "--as", "system"),
        ("rules", "set", "credit_limits.floor", "-999h", "--as", "system"),
        ("rules", "disable", "credit_limits", "--as", "system"),
        ("give", "bob", "alice", "1h", "--as", "system"),
        ("reverse", "1", "--reason", "mine now", "--as", "system"),
    ],
)
def test_as_system_is_no_member_and_may_do_nothing(run, args):
    refused(run, *args, says="no member has the handle 'system'")


def test_timebank_user_system_is_refused_too(run):
    refused(
        run,
        "member",
        "add",
        "mallory",
        "Mallory",
        "--coordinator",
        says="no member has the handle 'system'",
        env={"TIMEBANK_USER": "system"},
    )


def test_as_an_unknown_or_retired_member_is_refused(run):
    refused(run, "rules", "set", "coop.name", "X", "--as", "nobody", says="no member has the handle 'nobody'")
    run("member", "retire", "bob", "--as", "coord")
    refused(run, "give", "bob", "alice", "10m", "--as", "bob", says="'bob' is retired")


@pytest.mark.parametrize("handle", ["system", "auto"])
def test_no_member_may_take_the_ledgers_own_names(run, handle):
    refused(run, "member", "add", handle, "Sneaky", "--as", "coord", says="names the ledger's own actions")


def test_the_internal_actors_are_not_text(ledger):
    assert not isinstance(SYSTEM, str) and not isinstance(AUTO_ACCEPT, str)
    with pytest.raises(NotAllowed):
        ledger.add_member(Member("zed", "Zed", "member", dt.date(2024, 1, 1)), actor="system")
    with pytest.raises(NotAllowed, match="may not change_rules"):
        ledger.change_settings("coop", {"name": "X"}, actor=AUTO_ACCEPT)
    ledger.change_settings("coop", {"name": "Ours"}, actor=SYSTEM)
    assert ledger.rules_history()[-1]["created_by"] == "system"


# 2. permission does not depend on an optional plugin ----------------------------------

ATTACKS = [
    (("rules", "set", "credit_limits.floor", "-999h", "--as", "alice"), "only a co-ordinator"),
    (("rules", "enable", "time_bank", "--as", "alice"), "only a co-ordinator"),
    (("rules", "disable", "credit_limits", "--as", "alice"), "only a co-ordinator"),
    (("member", "change", "alice", "--role", "coordinator", "--as", "alice"), "only a co-ordinator"),
    (("member", "add", "mallory", "Mallory", "--coordinator", "--as", "alice"), "only a co-ordinator"),
    (("member", "retire", "bob", "--as", "alice"), "only a co-ordinator"),
    (("reverse", "1", "--reason", "I prefer it undone", "--as", "bob"), "only a co-ordinator"),
    (("give", "alice", "bob", "1h", "--as", "bob"), "can only give from their own account"),
    (("give", "@coop", "bob", "1h", "--as", "bob"), "can only give from their own account"),
    (("close-period", "--through", "2020-01-01", "--as", "alice"), "only a co-ordinator"),
    (("log", "alice", "bob", "1h", "-k", "shopping", "--as", "carol"), ""),
]


def _without_confirmation(run, how, tmp_path):
    if how == "disabled":
        run("rules", "disable", "confirmation", "--as", "coord")
    elif how == "loaded without it":
        rules_file = tmp_path / "rules.toml"
        rules_file.write_text(NO_CONFIRMATION, "utf-8")
        run("rules", "load", rules_file, "--as", "coord")
    with Ledger(run.path) as ledger:
        assert ("confirmation" in ledger.rules.enabled) == (how == "enabled")


@pytest.mark.parametrize("how", ["enabled", "disabled", "loaded without it"])
def test_a_member_cannot_act_as_a_coordinator_whatever_the_plugins(run, tmp_path, how):
    run("member", "add", "carol", "Carol", "--as", "coord")
    _without_confirmation(run, how, tmp_path)
    for args, says in ATTACKS:
        refused(run, *args, says=says)
    members_csv = tmp_path / "members.csv"
    members_csv.write_text("handle,name,member_class\nmallory,Mallory,member\n", "utf-8")
    refused(run, "import", "members", members_csv, "--as", "alice", says="only a co-ordinator")


@pytest.mark.parametrize("how", ["disabled", "loaded without it"])
def test_without_confirmation_a_member_still_records_only_their_own_exchanges(run, tmp_path, how):
    _without_confirmation(run, how, tmp_path)
    refused(run, "log", "alice", "coord", "3h", "-k", "shopping", "--as", "bob", says="took part in")
    out = run("log", "bob", "alice", "1h", "-k", "shopping", "--as", "bob").output
    assert "waiting for alice to confirm" in out, "with no plugin deciding, the other side confirms"
    refused(run, "confirm", "1", "--as", "bob", says="waits for alice, not bob")
    refused(run, "decline", "1", "--as", "coord", "--as", "bob", says="waits for alice, not bob")
    assert "confirmed as entry" in run("confirm", "1", "--as", "alice").output


def test_a_plugin_may_narrow_but_never_widen(tmp_path):
    class Everyone:
        """Tries to let every member do anything."""

        @hookimpl
        def check_permission(self, ledger, actor, action, subject, settings):
            return []

    class NoCoordinatorReversals:
        @hookimpl
        def check_permission(self, ledger, actor, action, subject, settings):
            if action == "reverse":
                return [Problem("error", "strict", "entry", "reversals are frozen during the audit")]
            return []

    plugins = Plugins(entry_points=False)
    plugins.register(Everyone(), "everyone")
    plugins.register(NoCoordinatorReversals(), "strict")
    rules = {"plugins": {"classic": {}, "everyone": {}, "strict": {}}}
    members = {"alice": "member", "bob": "member"}
    with build_ledger(tmp_path / "l.sqlite", rules=rules, plugins=plugins, members=members) as led:
        entry = led.record(exchange(recorded_by="coord"))
        with pytest.raises(NotAllowed, match="only a co-ordinator may change rules"):
            led.change_settings("coop", {"name": "Mine"}, actor="alice")
        with pytest.raises(NotAllowed, match="only a co-ordinator may manage members"):
            led.update_member("alice", actor="alice", role="coordinator")
        with pytest.raises(NotAllowed, match="can only give from their own account"):
            led.transfer("bob", "alice", 60, actor="alice")
        with pytest.raises(NotAllowed, match="reversals are frozen"):
            led.reverse(entry.id, reason="typo", actor="coord")


def test_an_action_the_core_does_not_know_is_a_coordinators(ledger):
    with pytest.raises(NotAllowed, match="only a co-ordinator may pay benefit"):
        ledger.require("alice", "pay_benefit", "bob")
    assert ledger.require("coord", "pay_benefit", "bob").handle == "coord"


# 3. someone must always be able to act -------------------------------------------------


def test_the_last_coordinator_cannot_retire_or_step_down(run):
    refused(run, "member", "retire", "coord", "--as", "coord", says="is the last active co-ordinator")
    refused(
        run,
        "member",
        "change",
        "coord",
        "--role",
        "member",
        "--as",
        "coord",
        says="is the last active co-ordinator",
    )
    run("member", "change", "alice", "--role", "coordinator", "--as", "coord")
    run("member", "change", "coord", "--role", "member", "--as", "coord")
    refused(run, "member", "retire", "alice", "--as", "alice", says="is the last active co-ordinator")


def test_the_last_coordinator_rule_holds_for_the_ledgers_own_actor_too(ledger):
    with pytest.raises(NotAllowed, match="last active co-ordinator"):
        ledger.retire_member("coord", actor=SYSTEM)
    assert ledger.member("coord").is_active
    with pytest.raises(InputError, match="already a member"):
        ledger.add_member(Member("coord", "Again", "member", dt.date(2024, 1, 1)), actor=SYSTEM)


def test_as_must_name_a_member_even_where_nothing_is_written(run):
    refused(run, "claims", "--as", "system", says="no member has the handle 'system'")
    assert run("claims", "--as", "bob").exit_code == 0


def test_a_role_or_status_the_ledger_does_not_know_is_refused_in_one_sentence(ledger):
    with pytest.raises(InputError, match="role: 'admin' is not member or coordinator"):
        ledger.update_member("alice", actor="coord", role="admin")
    with pytest.raises(InputError, match="status: 'gone' is not active or retired"):
        ledger.add_member(Member("dan", "Dan", "member", dt.date(2024, 1, 1), status="gone"), actor="coord")


def test_a_member_may_not_read_reports_naming_other_members(run):
    """``report`` (and the safeguarding plugin's ``check expiring``) listed other members'
    activity and checks to a member acting as themselves."""
    refused(run, "report", "--as", "alice", says="only a co-ordinator may read reports")
    run("report", "--as", "coord")
    run("rules", "enable", "safeguarding", "--as", "coord")
    refused(run, "check", "expiring", "--as", "alice", says="only a co-ordinator may read checks")
    run("check", "expiring", "--as", "coord")


def test_a_plugins_command_is_refused_where_its_plugin_is_not_enabled(run):
    """``han list`` and ``benefit claim`` ended in 'no such table' and KeyError tracebacks on a
    ledger whose rules do not enable the plugin."""
    for args in (
        ("han", "list"),
        ("benefit", "claim", "alice", "--start", "2026-01-01", "--days", "3", "--as", "coord"),
    ):
        result = refused(run, *args, says="which this ledger's rules do not enable")
        assert "Traceback" not in result.output
