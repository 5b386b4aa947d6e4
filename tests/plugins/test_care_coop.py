"""care-coop: four classes, paid regulated care kept apart, inactivity report."""

import datetime as dt

import pytest
from helpers import give_current_check

from timebank.errors import RulesRefused
from timebank.models import Member
from timebank.testing import exchange

MEMBERS = {"pam": "person supported", "fred": "family", "cara": "care worker", "vera": "community volunteer"}


@pytest.fixture
def ledger(make_ledger):
    ledger = make_ledger("care-coop", members=MEMBERS)
    # the template enables safeguarding: vera gives checked care, so has a current DBS check
    give_current_check(ledger, "vera")
    return ledger


def test_the_four_classes(ledger):
    assert set(ledger.member_classes()) >= {
        "person supported",
        "family",
        "care worker",
        "community volunteer",
    }


def test_paid_care_is_recorded_but_moves_no_credits(ledger):
    entry = ledger.record(exchange("cara", "pam", 120, category="regulated care"))
    assert entry.postings == () and entry.minutes == 120
    assert ledger.balance("cara") == ledger.balance("pam") == 0
    voluntary = ledger.record(exchange("vera", "pam", 60, category="companionship"))
    assert ledger.balance("vera") == 60 and len(voluntary.postings) == 2
    [report] = [r for r in ledger.reports() if r.name == "paid-and-voluntary"]
    assert report.rows == (("paid regulated care", "2.00 h"), ("voluntary time credits", "1.00 h"))


def test_only_care_workers_give_paid_care(ledger):
    with pytest.raises(RulesRefused) as caught:
        ledger.record(exchange("vera", "pam", 60, category="regulated care"))
    assert (
        caught.value.problems[0].message
        == "Vera is a community volunteer; only care workers give regulated care"
    )


def test_members_who_have_given_nothing_in_n_months(ledger):
    ledger.add_member(Member("nina", "Nina New", "family", dt.date.today()), actor="coord")
    ledger.record(exchange("vera", "pam", 60, category="companionship"))
    ledger.record(
        exchange("fred", "vera", 30, category="shopping", day=dt.date.today() - dt.timedelta(days=200))
    )
    [report] = [r for r in ledger.reports() if r.name == "inactive"]
    handles = [row[0] for row in report.rows]
    assert "vera" not in handles, "gave this month"
    assert "fred" in handles and "pam" in handles and "cara" in handles
    assert "nina" not in handles, "joined too recently to judge"
    assert (
        dict((r[0], r[3]) for r in report.rows)["fred"]
        == (dt.date.today() - dt.timedelta(days=200)).isoformat()
    )


def test_a_month_in_a_care_coop(ledger):
    start = dt.date.today() - dt.timedelta(days=28)
    for week in range(4):
        day = start + dt.timedelta(days=7 * week)
        ledger.record(exchange("cara", "pam", 180, category="regulated care", day=day))
        ledger.record(exchange("vera", "pam", 60, category="companionship", day=day))
        ledger.record(exchange("fred", "vera", 45, category="gardening", day=day))
    assert ledger.balance("pam") == -240 and ledger.balance("vera") == 240 - 180
    assert ledger.balance("cara") == 0
    assert ledger.verify().ok
