"""fureai-kippu: weighted credits issued by the co-op, savings, sending to relatives."""

import datetime as dt

import pytest
from click.testing import CliRunner

from timebank.cli.main import cli
from timebank.errors import NotAllowed, RulesRefused
from timebank.models import Posting
from timebank.testing import exchange

MEMBERS = {"aiko": "volunteer", "ben": "volunteer", "chie": "elder", "dai": "family"}


@pytest.fixture
def ledger(make_ledger):
    return make_ledger("fureai-kippu", members=MEMBERS)


def test_credits_weighted_by_kind_of_care_issued_by_the_coop(ledger):
    body = ledger.record(exchange("aiko", "chie", 60, category="body care"))
    assert body.postings == (Posting("aiko~savings", 120), Posting("@coop", -120))
    ledger.record(exchange("ben", "chie", 60, category="shopping"))
    assert ledger.balance("ben~savings") == 60
    assert ledger.balance("chie") == 0, "the person cared for is not charged"


def test_rounding_rule_nearest_minute_halves_up(ledger):
    entry = ledger.record(exchange("aiko", "chie", 45, category="housework"))  # 45 x 1.5 = 67.5
    assert entry.postings[0].amount == 68
    entry = ledger.record(exchange("aiko", "chie", 25, category="housework"))  # 37.5 -> 38
    assert entry.postings[0].amount == 38


def test_kinds_of_care_come_from_the_weights_table(ledger):
    assert set(ledger.categories()) >= {"shopping", "reading", "housework", "body care"}
    with pytest.raises(RulesRefused, match="'gardening' is not a kind of care here"):
        ledger.record(exchange("aiko", "chie", 60, category="gardening"))


def test_credits_earmarked_as_savings_for_ones_own_care(make_ledger):
    ledger = make_ledger("fureai-kippu", members=MEMBERS)
    ledger.record(exchange("aiko", "chie", 60, category="reading"))
    assert ledger.balance("aiko") == 0 and ledger.balance("aiko~savings") == 60
    spend = make_ledger(
        "fureai-kippu",
        members=MEMBERS,
        name="b.sqlite",
        overrides={"plugins": {"fureai_kippu": {"earmark_savings": False}}},
    )
    spend.record(exchange("aiko", "chie", 60, category="reading"))
    assert spend.balance("aiko") == 60


def test_send_credits_to_a_relative_in_this_scheme(ledger):
    ledger.record(exchange("aiko", "chie", 120, category="body care"))
    ledger.transfer("aiko~savings", "dai", 90, actor="aiko", note="for my mother's care")
    assert ledger.balance("dai") == 90 and ledger.balance("aiko~savings") == 150
    with pytest.raises(NotAllowed, match="only give from their own account"):
        ledger.transfer("aiko~savings", "ben", 10, actor="ben")


def test_send_credits_to_a_relative_in_another_scheme_through_the_clearing_house(ledger, tmp_path):
    ledger.record(exchange("aiko", "chie", 120, category="body care"))
    result = CliRunner().invoke(
        cli,
        [
            "fureai",
            "send",
            "aiko~savings",
            "1h",
            "--scheme",
            "Sawayaka Fund",
            "--relative",
            "Hana Sato",
            "--as",
            "aiko",
            "--ledger",
            str(ledger.path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "1h to Hana Sato at Sawayaka Fund" in result.output
    ledger._forget()
    assert ledger.balance("@clearing") == 60 and ledger.balance("aiko~savings") == 180


def test_a_month_of_fureai_kippu(make_ledger):
    ledger = make_ledger("fureai-kippu", members=MEMBERS | {"emi": "volunteer"})
    start = dt.date.today() - dt.timedelta(days=30)
    visits = [
        ("aiko", "chie", 90, "body care"),
        ("ben", "chie", 60, "shopping"),
        ("emi", "chie", 45, "housework"),
        ("aiko", "chie", 30, "reading"),
    ]
    for week in range(4):
        for i, (g, r, m, c) in enumerate(visits):
            ledger.record(exchange(g, r, m, category=c, day=start + dt.timedelta(days=week * 7 + i)))
    assert ledger.balance("aiko~savings") == 4 * (180 + 30)
    assert ledger.balance("emi~savings") == 4 * 68
    assert ledger.balance("@coop") == -4 * (180 + 60 + 68 + 30)
    assert ledger.verify().ok
