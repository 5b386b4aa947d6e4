"""solidarity-coop: users, workers, supporters; activity reported by class."""

import datetime as dt

from timebank.testing import exchange


def test_classes_and_activity_reported_separately_for_users_and_workers(make_ledger):
    ledger = make_ledger(
        "solidarity-coop",
        members={"ursula": "user", "ulf": "user", "wanda": "worker", "walt": "worker", "sam": "supporter"},
    )
    assert set(ledger.member_classes()) >= {"user", "worker", "supporter"}
    start = dt.date.today() - dt.timedelta(days=28)
    for week in range(4):
        day = start + dt.timedelta(days=7 * week)
        ledger.record(exchange("wanda", "ursula", 60, category="home visit", day=day))
        ledger.record(exchange("ursula", "ulf", 30, category="accompaniment", day=day))
        ledger.record(exchange("sam", "walt", 45, category="transport", day=day))
    [report] = [r for r in ledger.reports() if r.name == "activity-by-class"]
    assert report.columns == ("class", "members", "active", "hours given", "hours received")
    assert report.rows == (
        ("user", 3, 2, "2.00 h", "6.00 h"),  # the co-ordinator is a user too
        ("worker", 2, 2, "4.00 h", "3.00 h"),
    )
    assert ledger.verify().ok


def test_report_through_the_cli(make_ledger):
    from click.testing import CliRunner

    from timebank.cli.main import cli

    ledger = make_ledger("solidarity-coop", members={"ursula": "user", "wanda": "worker"})
    ledger.record(exchange("wanda", "ursula", 60, category="home visit"))
    result = CliRunner().invoke(cli, ["report", "activity-by-class", "--ledger", str(ledger.path)])
    assert result.exit_code == 0
    assert "Activity with members, by stakeholder class" in result.output
    assert "worker" in result.output and "1.00 h" in result.output
    missing = CliRunner().invoke(cli, ["report", "nonsense", "--ledger", str(ledger.path)])
    assert missing.exit_code == 1 and "no report 'nonsense'" in missing.stderr
