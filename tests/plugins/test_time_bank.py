"""time-bank: hour for an hour, joining bonus, community chest, group sessions, leavers."""

import datetime as dt

import pytest

from timebank.errors import RulesRefused
from timebank.models import Posting
from timebank.testing import exchange

MEMBERS = {"alice": "member", "bob": "member", "carol": "member", "dora": ("member", {"supported"})}


@pytest.fixture
def ledger(make_ledger):
    return make_ledger("time-bank", members=MEMBERS)


def test_one_hour_is_one_credit_whatever_the_skill(ledger):
    a = ledger.record(exchange("alice", "bob", 60, category="admin help"))
    b = ledger.record(exchange("carol", "bob", 60, category="gardening"))
    assert a.postings[0] == Posting("alice", 60) and b.postings[0] == Posting("carol", 60)


def test_joining_bonus_after_orientation_from_the_coop(ledger):
    ledger.update_member("alice", actor="coord", flags={"oriented"})
    assert ledger.balance("alice") == 120 and ledger.balance("@coop") == -120
    ledger.update_member("alice", actor="coord", name="Alice A")
    assert ledger.balance("alice") == 120, "the bonus is paid once"
    [bonus] = [e for e in ledger.entries() if e.kind == "adjustment"]
    assert bonus.note == "joining bonus after orientation"


def test_chest_receives_donations_and_pays_for_supported_members(ledger):
    ledger.record(exchange("alice", "bob", 120))
    ledger.transfer("alice", "@chest", 90, actor="alice", note="donation")
    entry = ledger.record(exchange("carol", "dora", 60))
    assert ledger.balance("dora") == 0 and ledger.balance("@chest") == 30
    assert Posting("@chest", -60) in entry.postings


def test_chest_cannot_pay_more_than_it_has(ledger):
    ledger.record(exchange("alice", "bob", 60))
    ledger.transfer("alice", "@chest", 30, actor="alice")
    with pytest.raises(RulesRefused) as caught:
        ledger.record(exchange("carol", "dora", 60))
    assert caught.value.problems[0].message == "the community chest has only 30m; it cannot pay 1h"


def test_group_session_one_giver_serves_many(ledger):
    entry = ledger.record(exchange("alice", "bob,carol", 60))
    assert entry.postings == (Posting("alice", 60), Posting("bob", -30), Posting("carol", -30))


def test_group_session_the_coop_pays_each_attendee(ledger):
    entry = ledger.record(exchange("alice,bob,carol", "coord", 120, category="community event"))
    assert [ledger.balance(h) for h in ("alice", "bob", "carol", "coord")] == [120, 120, 120, 0]
    assert ledger.balance("@coop") == -360 and sum(p.amount for p in entry.postings) == 0


def test_leaving_returns_the_balance_to_zero_credits_to_the_chest_debt_to_the_coop(ledger):
    ledger.record(exchange("alice", "bob", 90))
    coop = ledger.balance("@coop")
    ledger.retire_member("bob", actor="coord")  # in debt: the co-op absorbs it, not the chest
    assert ledger.balance("bob") == 0 and ledger.balance("@chest") == 0
    assert ledger.balance("@coop") == coop - 90
    ledger.retire_member("alice", actor="coord")  # in credit: donated to the chest
    assert ledger.balance("alice") == 0 and ledger.balance("@chest") == 90
    notes = sorted(e.note for e in ledger.entries() if e.kind == "adjustment")
    assert notes == ["leaver's credits donated to the chest", "leaver's debt written off by the co-op"]


def test_a_month_in_a_small_time_bank(make_ledger):
    """Set up from the template, a month of exchanges, what the co-ordinator checks."""
    ledger = make_ledger("time-bank", members=MEMBERS | {"ed": "volunteer", "fay": "family"})
    for handle in ("alice", "bob", "carol", "ed"):
        ledger.update_member(handle, actor="coord", flags={"oriented"})
    start = dt.date.today() - dt.timedelta(days=30)
    pattern = [
        ("alice", "dora", 60, "shopping"),
        ("bob", "fay", 90, "transport"),
        ("carol", "alice", 45, "companionship"),
        ("ed", "dora", 120, "gardening"),
        ("fay", "bob", 30, "admin help"),
    ]
    ledger.transfer("alice", "@chest", 60, actor="alice", note="donation")
    ledger.transfer("ed", "@chest", 120, actor="ed", note="donation")
    for week in range(4):
        for i, (giver, receiver, minutes, category) in enumerate(pattern):
            if receiver == "dora" and ledger.balance("@chest") < minutes:
                continue
            ledger.record(
                exchange(
                    giver, receiver, minutes, category=category, day=start + dt.timedelta(days=week * 7 + i)
                )
            )
    assert sum(v for _, v in ledger.balances()) == 0
    assert ledger.balance("dora") == 0, "the chest paid for dora's care"
    assert ledger.balance("@chest") >= 0
    assert ledger.balance("@coop") == -4 * 120, "four joining bonuses"
    assert ledger.verify().ok
    assert ledger.member("dora").flags == {"supported"}
