"""The CLI through click's runner, and as a real subprocess."""

import datetime as dt
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from helpers import cli_on

from timebank.cli.main import cli
from timebank.ledger import Ledger


@pytest.fixture
def run(tmp_path, monkeypatch):
    invoke = cli_on(tmp_path / "coop.sqlite", monkeypatch)

    invoke("init", "--name", "Valley Care")
    for handle, name in (("alice", "Alice Ames"), ("bob", "Bob Brown"), ("carol", "Carol Cho")):
        invoke("member", "add", handle, name, "--joined", "2024-01-01", "--as", "coordinator")
    return invoke


def test_a_first_session(run, tmp_path):
    out = run("log", "alice", "bob", "1h30", "--kind", "shopping", "--as", "coordinator").output
    assert out == "entry #1 saved: alice +1h30, bob -1h30\n"
    out = run("log", "bob", "alice,carol", "1h", "-k", "transport", "-d", "yesterday", "--as", "bob").output
    assert out == "claim #1 saved; waiting for alice, carol to confirm\n"
    assert "#1 pending" in run("claims", "--as", "alice").output
    out = run("confirm", "1", "--as", "carol").output
    assert out == "claim #1: your confirmation is recorded; waiting for alice; confirmed by carol\n"
    assert run("balance", "alice").output == "alice: 1h30\n"  # alice is charged: she confirms too
    assert run("confirm", "1", "--as", "alice").output == "claim #1 confirmed as entry #2\n"
    assert run("balance", "alice").output == "alice: 1h\n"
    assert "Bob Brown" in run("balance").output
    statement = run("statement", "bob").output.splitlines()
    assert statement[1].split()[:5] == ["2", statement[1].split()[1], "service", "1h", "-30m"]
    assert run("give", "alice", "@coop", "15m", "--as", "alice").output.startswith("entry #3")
    assert run("reverse", "3", "--reason", "wrong account", "--as", "coordinator").output.startswith(
        "entry #4 reverses #3"
    )
    assert "ledger verified: 4 entries" in run("verify").output
    assert "Valley Care" in run("summary").output
    assert "Valley Care" in run().output


def test_errors_are_one_sentence_and_exit_1(run):
    result = run("log", "alice", "bob", "25h", "-k", "shopping", "--as", "coordinator", ok=False)
    assert (
        result.stderr
        == f"error: duration: alice would give 25h on {dt.date.today()}, more than 12h in one day\n"
    )
    result = run("log", "alice", "zed", "1h", "-k", "shopping", "--as", "coordinator", ok=False)
    assert result.stderr == "error: receiver: no member has the handle 'zed'\n"
    result = run("log", "alice", "bob", "1h", "-k", "shopping", ok=False)
    assert "say who is acting with --as HANDLE" in result.stderr
    result = run("reverse", "99", "--reason", "x", "--as", "coordinator", ok=False)
    assert result.stderr == "error: entry: no entry #99\n"
    result = run("member", "add", "Bad Handle", "X", "--as", "coordinator", ok=False)
    assert "'Bad Handle' is not a handle" in result.stderr


def test_group_options_reach_commands(run, tmp_path):
    other = tmp_path / "other.sqlite"
    run("init", "--ledger", other)
    run("--ledger", other, "--as", "coordinator", "member", "add", "dora", "Dora")
    assert "dora" in run("--ledger", other, "member", "list").output
    assert "dora" not in run("member", "list").output


def test_warning_needs_yes(run):
    run("rules", "set", "credit_limits.warn_below", "-1h", "--as", "coordinator")
    result = run("log", "alice", "bob", "2h", "-k", "shopping", "--as", "coordinator", ok=False)
    assert "warning: receiver: Bob Brown would be -2h, below the warning level of -1h" in result.stderr
    assert "repeat with --yes" in result.stderr
    run("log", "alice", "bob", "2h", "-k", "shopping", "--as", "coordinator", "--yes")


def test_rules_show_set_load_and_history(run, tmp_path):
    shown = run("rules", "show").output
    assert "[plugins.credit_limits]" in shown and 'floor = "-20h"' in shown
    run("rules", "set", "credit_limits.floor", "-10h", "--as", "coordinator")
    assert 'floor = "-10h"' in run("rules", "show").output
    result = run("rules", "set", "credit_limits.flor", "-10h", "--as", "coordinator", ok=False)
    assert "unknown setting 'flor'" in result.stderr
    result = run("rules", "set", "credit_limits.floor", "lots", "--as", "coordinator", ok=False)
    assert "'lots' is not a duration" in result.stderr
    result = run("rules", "set", "coop.name", "X", "--as", "alice", ok=False)
    assert "only a co-ordinator may change rules" in result.stderr
    result = run("rules", "set", "mutual_credit.levy_percent", "2", "--as", "coordinator", ok=False)
    assert "plugin 'mutual_credit' is not enabled; enable it with 'rules enable'" in result.stderr
    run("rules", "enable", "mutual_credit", "--as", "coordinator")
    run("rules", "set", "mutual_credit.levy_percent", "2", "--as", "coordinator")
    assert "[plugins.mutual_credit]" in run("rules", "show").output
    toml = tmp_path / "rules.toml"
    toml.write_text(run("rules", "show").output)
    run("rules", "load", toml, "--as", "coordinator")
    toml.write_text("[plugins.classic]\nmax_per_day = true\n")
    result = run("rules", "load", toml, "--as", "coordinator", ok=False)
    assert "plugins.classic.max_per_day: True is not a duration" in result.stderr
    history = run("rules", "history").output.splitlines()
    assert len(history) == 5  # one initial version, then four changes


def test_rules_show_round_trips(run, tmp_path):
    toml = tmp_path / "rules.toml"
    toml.write_text(run("rules", "show").output)
    run("rules", "load", toml, "--as", "coordinator")
    again = run("rules", "show").output
    assert again.splitlines()[1:] == toml.read_text().splitlines()[1:]


def test_member_commands(run):
    assert "Alice Ames" in run("member", "show", "alice").output
    run("member", "change", "alice", "--area", "north", "--as", "coordinator")
    assert "area: north" in run("member", "show", "alice").output
    run("member", "retire", "carol", "--as", "coordinator")
    assert "carol" not in run("member", "list").output
    assert "(retired)" in run("member", "list", "--all").output


def test_import_export_and_plugins(run, tmp_path):
    csv = tmp_path / "x.csv"
    csv.write_text(
        "date,giver,receiver,duration,category\n2026-01-01,alice,bob,1h,shopping\n"
        "2026-01-02,bob,zed,1h,shopping\n"
    )
    result = run("import", "exchanges", csv, "--as", "coordinator", ok=False)
    assert "line 3, receiver: no member has the handle 'zed'" in result.stderr
    csv.write_text("date,giver,receiver,duration,category\n2026-01-01,alice,bob,1h,shopping\n")
    assert "would import 1" in run("import", "exchanges", csv, "--dry-run", "--as", "coordinator").output
    assert "imported 1" in run("import", "exchanges", csv, "--as", "coordinator").output
    assert "2026-01-01,alice,bob,1h,shopping" in run("export", "exchanges").output
    assert "classic" in run("plugins").output


def test_demo_builds_a_realistic_coop(tmp_path):
    path = tmp_path / "demo.sqlite"
    result = CliRunner().invoke(cli, ["demo", "--ledger", str(path)])
    assert result.exit_code == 0, result.output
    with Ledger(path) as ledger:
        members = ledger.members()
        assert len(members) >= 50
        assert len({m.member_class for m in members}) >= 3
        days = ledger.conn.execute("SELECT min(day), max(day), count(*) FROM entries").fetchone()
        assert days[2] > 1000
        assert (int(days[1][:4]) - int(days[0][:4])) >= 1
        assert ledger.verify().ok
        assert ledger.claims()
    again = CliRunner().invoke(cli, ["demo", "--ledger", str(path)])
    assert again.exit_code == 1 and "already exists" in again.stderr


def test_the_installed_command_as_a_subprocess(tmp_path):
    env = {**os.environ, "TIMEBANK_LEDGER": str(tmp_path / "sub.sqlite"), "TIMEBANK_USER": ""}
    timebank = [sys.executable, "-m", "timebank"]

    def sh(*args):
        return subprocess.run([*timebank, *args], capture_output=True, text=True, env=env, timeout=60)

    assert sh("init").returncode == 0
    assert sh("member", "add", "alice", "Alice", "--as", "coordinator").returncode == 0
    assert sh("member", "add", "bob", "Bob", "--as", "coordinator").returncode == 0
    done = sh("log", "alice", "bob", "1.5", "-k", "shopping", "--as", "coordinator")
    assert done.returncode == 0 and "alice +1h30" in done.stdout
    bad = sh("log", "alice", "bob", "nan", "-k", "shopping", "--as", "coordinator")
    assert bad.returncode == 1
    assert bad.stderr == "error: duration: 'nan' is not a duration; try 1.5, 1h30, 90m or 1:30\n"
    assert sh("verify").returncode == 0
