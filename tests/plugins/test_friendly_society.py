"""friendly-society: contributions into the fund, benefits after a wait, caps, reductions."""

import datetime as dt

import pytest

from timebank.errors import InputError
from timebank.plugins.friendly_society import claim_benefit

MEMBERS = {h: "member" for h in ("alice", "bob", "carol", "dan", "eve", "fay")}
FIRST = dt.date(2026, 1, 4)


def contributions(ledger, weeks, start=FIRST):
    for week in range(weeks):
        ledger.close_period(start + dt.timedelta(days=7 * week), actor="coord")


@pytest.fixture
def ledger(make_ledger):
    led = make_ledger(
        "friendly-society",
        members=MEMBERS,
        overrides={"plugins": {"credit_limits": {"floor": "-500h", "warn_below": "-500h"}}},
    )
    contributions(led, 10)
    return led


def test_regular_contributions_into_the_fund_at_period_close(ledger):
    assert ledger.balance("@fund") == 10 * 7 * 60  # 7 members (with coord) x 1h x 10 weeks
    assert ledger.balance("alice") == -600


def test_benefit_paid_after_the_waiting_period(ledger):
    entry = claim_benefit(ledger, "alice", FIRST + dt.timedelta(weeks=6), 5, actor="coord")
    assert entry.postings[1].amount == 5 * 60
    assert ledger.balance("alice") == -600 + 300


def test_no_benefit_before_the_waiting_period(ledger):
    with pytest.raises(InputError) as caught:
        claim_benefit(ledger, "alice", FIRST + dt.timedelta(weeks=5), 5, actor="coord")
    assert str(caught.value) == "member: Alice has paid in for 5 weeks; benefit starts after 6"


def test_a_claim_has_a_minimum_length(ledger):
    with pytest.raises(InputError, match="a claim must be for at least 3 days; this one is 2"):
        claim_benefit(ledger, "alice", FIRST + dt.timedelta(weeks=8), 2, actor="coord")


def test_cap_of_39_weeks_in_any_12_months_and_reduced_rate_after_26(make_ledger):
    ledger = make_ledger(
        "friendly-society",
        members=MEMBERS,
        overrides={
            "plugins": {
                "credit_limits": {"floor": "-5000h", "warn_below": "-5000h"},
                "friendly_society": {"contribution": "20h", "fund_threshold": "0m"},
            }
        },
    )
    contributions(ledger, 8)
    start = FIRST + dt.timedelta(weeks=8)
    first = claim_benefit(ledger, "alice", start, 26 * 7, actor="coord")
    assert first.postings[1].amount == 26 * 7 * 60
    second = claim_benefit(ledger, "alice", start + dt.timedelta(weeks=26), 7, actor="coord")
    assert second.postings[1].amount == 7 * 30, "reduced to 50 % after 26 weeks"
    assert "7 at 50 %" in second.note
    with pytest.raises(InputError) as caught:
        claim_benefit(ledger, "alice", start + dt.timedelta(weeks=27), 13 * 7, actor="coord")
    assert str(caught.value) == (
        "days: Alice has had 189 days of benefit in the last 12 months; "
        "91 more would pass the cap of 273 days (39 weeks)"
    )


def test_claims_scaled_down_while_the_fund_is_low(make_ledger):
    ledger = make_ledger(
        "friendly-society",
        members=MEMBERS,
        overrides={
            "plugins": {
                "credit_limits": {"floor": "-500h", "warn_below": "-500h"},
                "friendly_society": {"fund_threshold": "100h"},
            }
        },
    )
    contributions(ledger, 8)  # 56h in the fund, below 100h
    entry = claim_benefit(ledger, "bob", FIRST + dt.timedelta(weeks=7), 4, actor="coord")
    assert entry.postings[1].amount == 2 * 60
    assert "scaled to 50 % while the fund is below 100h" in entry.note


def test_the_fund_never_goes_below_zero(make_ledger):
    ledger = make_ledger(
        "friendly-society",
        members=MEMBERS,
        overrides={"plugins": {"friendly_society": {"daily_benefit": "10h", "fund_threshold": "0m"}}},
    )
    contributions(ledger, 7)  # 49h
    with pytest.raises(InputError, match="the fund has only 49h; this claim needs 50h"):
        claim_benefit(ledger, "bob", FIRST + dt.timedelta(weeks=6), 5, actor="coord")


def test_only_a_coordinator_pays_benefit(ledger):
    from timebank.errors import NotAllowed

    with pytest.raises(NotAllowed, match="only a co-ordinator may pay benefit"):
        claim_benefit(ledger, "alice", FIRST + dt.timedelta(weeks=8), 3, actor="alice")


def test_a_season_of_a_friendly_society(ledger):
    claim_benefit(ledger, "carol", FIRST + dt.timedelta(weeks=7), 3, actor="coord")
    claim_benefit(ledger, "dan", FIRST + dt.timedelta(weeks=8), 10, actor="coord")
    [health] = [r for r in ledger.reports() if r.name == "fund-health"]
    rows = dict(health.rows)
    assert rows["fund balance"] == "57h" and rows["status"] == "healthy"
    assert ledger.verify().ok
