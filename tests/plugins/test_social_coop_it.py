"""social-coop-it: Law 381/1991 member classes, ratios, volunteer hours apart, A+B sectors."""

import datetime as dt

import pytest

from timebank.errors import RulesRefused
from timebank.models import Member
from timebank.testing import exchange

JOINED = dt.date(2024, 1, 1)


def admit(ledger, handle, member_class):
    return ledger.add_member(Member(handle, handle.title(), member_class, JOINED), actor="coord")


@pytest.fixture
def ledger(make_ledger):
    # coord is a worker; with these, 2 workers, 1 disadvantaged, 1 user, 1 volunteer
    return make_ledger(
        "social-coop-it",
        members={"anna": "worker", "bruno": "disadvantaged", "carla": "user", "dario": "volunteer"},
    )


def test_classes_are_the_laws(ledger):
    assert set(ledger.member_classes()) >= {"worker", "user", "volunteer", "disadvantaged"}


def test_volunteers_at_most_half_refused_at_admission_with_the_count(ledger):
    admit(ledger, "elena", "volunteer")
    admit(ledger, "fabio", "volunteer")
    admit(ledger, "gina", "volunteer")  # 4 of 8: half, which the law allows
    with pytest.raises(RulesRefused) as caught:
        admit(ledger, "ugo", "volunteer")  # 5 of 9
    assert caught.value.problems[0].message == (
        "volunteers would be 5 of 9 members; the law allows at most 50 %"
    )
    assert "ugo" not in ledger.members_by_handle()


def test_type_b_disadvantaged_at_least_30_percent_of_workers(ledger):
    admit(ledger, "w1", "worker")  # workers: coord, anna, w1 and bruno (disadvantaged): 4
    with pytest.raises(RulesRefused) as caught:
        admit(ledger, "w2", "worker")
    assert caught.value.problems[0].message == (
        "disadvantaged people would be 1 of 5 workers; a type B co-op needs at least 30 %"
    )
    admit(ledger, "d2", "disadvantaged")
    admit(ledger, "w2", "worker")  # 2 of 6 = 33 %
    [ratios] = [r for r in ledger.reports() if r.name == "type-b-ratio"]
    assert ("disadvantaged workers", "2 of 6 workers", "33 %", "ok") in ratios.rows


def test_volunteer_hours_are_recorded_apart_from_paid_work(ledger):
    entry = ledger.record(exchange("dario", "carla", 120, category="home care", refs={"sector": "A"}))
    assert ledger.balance("dario") == 0 and ledger.balance("dario~volunteer") == 120
    assert sum(p.amount for p in entry.postings) == 0


def test_mixed_a_and_b_keeps_separate_accounts(ledger):
    with pytest.raises(RulesRefused, match="say which sector this work is for"):
        ledger.record(exchange("anna", "carla", 60, category="home care"))
    ledger.record(exchange("anna", "carla", 60, category="home care", refs={"sector": "A"}))
    ledger.record(exchange("bruno", "carla", 90, category="gardening", refs={"sector": "B"}))
    ledger.record(exchange("anna", "carla", 30, category="cleaning", refs={"sector": "B"}))
    assert (ledger.balance("anna~sector-a"), ledger.balance("anna~sector-b")) == (60, 30)
    assert ledger.balance("bruno~sector-b") == 90 and ledger.balance("anna") == 0


def test_a_month_in_a_social_coop(ledger):
    start = dt.date.today() - dt.timedelta(days=28)
    for week in range(4):
        day = start + dt.timedelta(days=7 * week)
        ledger.record(exchange("anna", "carla", 120, category="home care", day=day, refs={"sector": "A"}))
        ledger.record(exchange("bruno", "carla", 60, category="gardening", day=day, refs={"sector": "B"}))
        ledger.record(exchange("dario", "carla", 60, category="transport", day=day, refs={"sector": "A"}))
    assert ledger.balance("dario~volunteer") == 240 and ledger.balance("dario") == 0
    assert ledger.balance("anna~sector-a") == 480 and ledger.balance("bruno~sector-b") == 240
    assert ledger.balance("carla") == -4 * 240
    assert ledger.verify().ok
