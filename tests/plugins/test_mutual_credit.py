"""mutual-credit: limits that grow with earnings, a levy, demurrage at period close."""

import datetime as dt

import pytest

from timebank.errors import RulesRefused
from timebank.models import Member
from timebank.testing import exchange

MEMBERS = {"alice": "member", "bob": "member", "carol": "business"}


@pytest.fixture
def ledger(make_ledger):
    return make_ledger(
        "mutual-credit", members=MEMBERS, overrides={"plugins": {"mutual_credit": {"levy_percent": "0"}}}
    )


def test_floor_refuses_with_the_sentence(ledger):
    ledger.record(exchange("alice", "bob", 9 * 60))
    with pytest.raises(RulesRefused) as caught:
        ledger.record(exchange("carol", "bob", 90))
    assert caught.value.problems[0].message == "Bob would go below their limit of -10h (now -9h)"


def test_floor_grows_with_what_a_member_has_earned(ledger):
    ledger.record(exchange("bob", "carol", 8 * 60))  # bob earns 8h: floor -10h - 4h = -14h
    ledger.record(exchange("alice", "bob", 8 * 60 + 13 * 60 + 30))
    assert ledger.balance("bob") == -(13 * 60 + 30)
    with pytest.raises(RulesRefused, match="below their limit of -14h"):
        ledger.record(exchange("alice", "bob", 31))


def test_floor_never_grows_past_the_lowest_floor(ledger):
    ledger.change_settings(
        "mutual_credit", {"ceiling": "200h", "floor": "-100h", "lowest_floor": "-100h"}, actor="coord"
    )
    today = dt.date.today()
    ledger.record_many(
        [exchange("bob", "carol", 10 * 60, day=today - dt.timedelta(days=d)) for d in range(10)]
    )
    # bob's floor would be -10h - 50h, but stops at -30h
    ledger.change_settings("mutual_credit", {"floor": "-10h", "lowest_floor": "-30h"}, actor="coord")
    ledger.transfer("bob", "carol", 130 * 60, actor="coord")  # from +100h down to -30h
    with pytest.raises(RulesRefused) as caught:
        ledger.transfer("bob", "carol", 1, actor="coord")
    assert caught.value.problems[0].message == "Bob would go below their limit of -30h (now -30h)"


def test_ceiling(make_ledger):
    ledger = make_ledger(
        "mutual-credit",
        members=MEMBERS,
        overrides={
            "plugins": {"mutual_credit": {"levy_percent": "0", "floor": "-100h", "lowest_floor": "-100h"}}
        },
    )
    with pytest.raises(RulesRefused, match="Alice would go above their limit of 60h"):
        ledger.record_many(
            [
                exchange("alice", h, 10 * 60, day=dt.date.today() - dt.timedelta(days=d))
                for d, h in enumerate(["bob", "carol"] * 4)
            ]
        )


def test_levy_goes_to_the_coop_rounded_to_the_minute(make_ledger):
    ledger = make_ledger("mutual-credit", members=MEMBERS)
    ledger.record(exchange("alice", "bob", 60))  # 2.5 % of 60 = 1.5 -> 2
    assert (ledger.balance("alice"), ledger.balance("bob"), ledger.balance("@coop")) == (58, -60, 2)
    ledger.record(exchange("alice", "bob", 20))  # 0.5 -> 1
    assert ledger.balance("@coop") == 3


def test_demurrage_at_period_close_after_grace(ledger):
    ledger.change_settings(
        "mutual_credit", {"demurrage_percent_year": "6", "demurrage_grace_days": 90}, actor="coord"
    )
    ledger.record(exchange("alice", "bob", 8 * 60 + 45, day=dt.date(2025, 1, 31)))
    # The first period runs from the ledger's first entry: one day, not the 396 days since
    # alice joined on 2024-01-01.
    assert ledger.close_period(dt.date(2025, 1, 31), actor="coord") == []  # 0.086 -> 0
    assert ledger.balance("alice") == 525
    ledger.add_member(Member("newbie", "Newbie", "member", dt.date(2025, 12, 1)), actor="coord")
    ledger.record(exchange("newbie", "carol", 10 * 60, day=dt.date(2025, 12, 1)))
    [charge] = ledger.close_period(dt.date(2026, 1, 31), actor="coord")  # the docs' example
    assert charge.postings[0].account == "alice"
    assert -charge.postings[0].amount == 32  # 6 % of 525 over 365 days: 31.5, halves round up
    assert charge.note == "demurrage 6 % a year for 365 days"
    assert ledger.balance("newbie") == 600, "within the grace period"
    assert ledger.balance("bob") == -525, "no demurrage on negative balances"


def test_a_month_in_a_lets(make_ledger):
    ledger = make_ledger("mutual-credit", members=MEMBERS | {"dan": "member", "eve": "member"})
    start = dt.date.today() - dt.timedelta(days=28)
    trades = [
        ("alice", "bob", 120),
        ("bob", "carol", 90),
        ("carol", "dan", 60),
        ("dan", "eve", 45),
        ("eve", "alice", 75),
    ]
    for week in range(4):
        for i, (g, r, m) in enumerate(trades):
            ledger.record(exchange(g, r, m, day=start + dt.timedelta(days=week * 7 + i), category="repairs"))
    assert ledger.balance("@coop") == 4 * sum(round(m * 0.025 + 1e-9) for *_, m in trades)
    assert sum(v for _, v in ledger.balances()) == 0 and ledger.verify().ok
