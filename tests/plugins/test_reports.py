"""The built-in reports every template enables: activity both ways, limits, the chest, hours."""

import datetime as dt

import pytest
from click.testing import CliRunner

from timebank.cli.main import cli
from timebank.templates import load_template, template_names
from timebank.testing import exchange

DAY = dt.date(2026, 11, 27)


@pytest.mark.parametrize("template", template_names())
def test_every_template_enables_the_reports(template):
    assert "reports" in load_template(template)["plugins"]


def reports_of(ledger, **period):
    return {r.name: r for r in ledger.reports(**period)}


def test_receiving_care_is_taking_part(make_ledger):
    """Dora receives weekly care and gives nothing: she is not inactive; Carol is."""
    ledger = make_ledger("time-bank", members={"alice": "member", "carol": "member", "dora": "member"})
    ledger.record(exchange("alice", "dora", 60, day=DAY - dt.timedelta(days=3)))
    ledger.record(exchange("carol", "alice", 60, day=dt.date(2025, 1, 5)))
    inactive = reports_of(ledger, until=DAY)["inactive-members"]
    assert [row[0] for row in inactive.rows] == ["carol", "coord"]
    assert inactive.rows[0][3] == "2025-01-05"  # the day Carol last took part
    assert inactive.columns[0] == "handle"  # the TUI opens a statement from the first column


def test_near_limit_asks_the_plugins(make_ledger):
    ledger = make_ledger("time-bank", members={"alice": "member", "bob": "member"})
    for week in range(10):  # bob receives 19h: 1h from his -20h floor
        ledger.record(exchange("alice", "bob", 114, day=DAY - dt.timedelta(days=week)), acknowledge=True)
    rows = reports_of(ledger, until=DAY)["near-limit"].rows
    assert rows == (("bob", "Bob", "-19h", "-20h", "200h", "near the floor"),)


def test_chest_and_hours_by_kind_and_month_in_the_period(make_ledger):
    ledger = make_ledger("time-bank", members={"alice": "member", "bob": "member"})
    ledger.record(exchange("alice", "bob", 90, day=dt.date(2026, 10, 3), category="shopping"))
    ledger.record(exchange("bob", "alice", 30, day=dt.date(2026, 11, 3), category="gardening"))
    ledger.record(exchange("bob", "alice", 45, day=dt.date(2026, 6, 3), category="gardening"))
    got = reports_of(ledger, since=dt.date(2026, 10, 1), until=DAY)
    assert got["hours-by-kind"].rows == (("gardening", "30m", 1), ("shopping", "1h30", 1))
    assert got["hours-by-month"].rows == (("2026-10", "1h30", 1), ("2026-11", "30m", 1))
    assert [row[0] for row in got["chest-and-funds"].rows] == [
        a.code for a, _ in ledger.balances() if a.code.startswith("@")
    ]


def test_the_cli_report_takes_a_period(tmp_path, monkeypatch):
    monkeypatch.setenv("TIMEBANK_LEDGER", str(tmp_path / "coop.sqlite"))
    monkeypatch.setenv("TIMEBANK_USER", "cora")
    runner = CliRunner()

    def run(*args, code=0):
        result = runner.invoke(cli, list(args), prog_name="timebank")
        assert result.exit_code == code, result.output
        return result.output

    run("init", "--coordinator", "cora")
    for handle in ("alice", "bob"):
        run("member", "add", handle, handle.title(), "--joined", "2024-01-01")
    run("log", "alice", "bob", "1h", "--date", "5/3/2024", "--kind", "shopping")
    out = run("report", "hours-by-month", "--since", "1/3/2024", "--until", "31 Mar 2024")
    assert "Hours given by month, 2024-03-01 to 2024-03-31" in out and "2024-03" in out
    out = run("report", "hours-by-month", "--since", "1/4/2024", "--until", "30/4/2024")
    assert "2024-03" not in out
    assert "inactive-members" in run("report", "--format", "json")
    err = run("report", "--since", "31/2/2024", code=1)
    assert "since: '31/2/2024' is not a day of the calendar" in err
