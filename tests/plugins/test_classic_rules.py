"""classic owns how long one exchange may be: its ``max_per_day``, not a cap in the parser.

``units.parse_duration`` once refused anything over 24 hours before classic was asked, so a
co-op whose day is 8 hours was told about 24 hours, and a rule lived outside its plugin.
"""

import datetime as dt

import pytest
from click.testing import CliRunner

from timebank.cli.main import cli
from timebank.errors import RulesRefused
from timebank.testing import exchange
from timebank.units import parse_duration

D = dt.date(2026, 3, 2)


@pytest.fixture
def ledger(make_ledger):
    return make_ledger(
        "time-bank",
        members={h: "member" for h in ("alice", "bob")},
        overrides={"plugins": {"classic": {"max_per_day": "8h"}}},
    )


def test_one_exchange_longer_than_the_day_is_refused_by_classic_with_the_coops_limit(ledger):
    assert parse_duration("25h") == 25 * 60  # the parser reads it; the rule is classic's
    with pytest.raises(RulesRefused, match="alice would give 25h on 2026-03-02, more than 8h in one day"):
        ledger.record(exchange("alice", "bob", 25 * 60, day=D))
    with pytest.raises(RulesRefused, match="more than 8h in one day"):
        ledger.record(exchange("alice", "bob", 9 * 60, day=D))
    assert ledger.record(exchange("alice", "bob", 8 * 60, day=D)).minutes == 8 * 60


def test_an_import_row_of_25h_names_its_line_and_the_coops_limit(ledger, tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text(
        "date,giver,receiver,duration,category\n2026-03-02,alice,bob,1h,shopping\n"
        "2026-03-03,bob,alice,25h,shopping\n"
    )
    result = CliRunner().invoke(
        cli, ["import", "exchanges", str(rows), "--ledger", str(ledger.path), "--as", "coord"]
    )
    assert result.exit_code == 1, result.output
    assert (
        "line 3" in result.stderr
        and "bob would give 25h on 2026-03-03, more than 8h in one day" in result.stderr
    )
    assert list(ledger.read.services()) == []  # all rows or none
