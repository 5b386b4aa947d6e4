"""han-group: small groups with a group account and a leader who records for them."""

import pytest
from click.testing import CliRunner

from timebank.cli.main import cli
from timebank.errors import InputError, NotAllowed, RulesRefused
from timebank.models import Claim, Posting
from timebank.plugins.han_group import form_group, groups
from timebank.testing import exchange

MEMBERS = {h: "member" for h in ("aiko", "ben", "chie", "dai", "emi")}


@pytest.fixture
def ledger(make_ledger):
    led = make_ledger("han-group", members=MEMBERS)
    form_group(led, "riverside", "aiko", ["ben", "chie"], actor="coord")
    return led


def test_a_group_needs_its_minimum_size(ledger):
    with pytest.raises(InputError) as caught:
        form_group(ledger, "hilltop", "dai", ["emi"], actor="coord")
    assert str(caught.value) == "members: a Han group needs at least 3 members; hilltop would have 2"


def test_a_group_has_its_own_account(ledger):
    assert ledger.account("@han:riverside").kind == "group"
    assert groups(ledger)["riverside"] == ("aiko", {"aiko", "ben", "chie"})


def test_the_leader_records_a_collective_entry_for_the_group(ledger):
    entry = ledger.record(
        exchange(
            "aiko,ben,chie", "dai", 60, category="cleaning", recorded_by="aiko", refs={"han": "riverside"}
        )
    )
    assert not isinstance(entry, Claim), "a leader's collective entry needs no confirmation"
    assert entry.postings == (Posting("@han:riverside", 180), Posting("dai", -180))
    assert entry.refs == {"han": "riverside"}


def test_only_the_leader_records_for_the_group(ledger):
    with pytest.raises(NotAllowed) as caught:
        ledger.record(
            exchange("aiko,ben", "dai", 60, category="cleaning", recorded_by="ben", refs={"han": "riverside"})
        )
    assert str(caught.value) == "only the leader of riverside (aiko) records the group's collective entries"


def test_givers_must_be_in_the_group(ledger):
    with pytest.raises(RulesRefused, match="emi is not in the Han group riverside"):
        ledger.record(
            exchange(
                "aiko,emi", "dai", 60, category="cleaning", recorded_by="aiko", refs={"han": "riverside"}
            )
        )


def test_form_through_the_cli(ledger):
    result = CliRunner().invoke(
        cli,
        [
            "han",
            "form",
            "hilltop",
            "--leader",
            "dai",
            "--member",
            "emi",
            "--member",
            "ben",
            "--as",
            "coord",
            "--ledger",
            str(ledger.path),
        ],
    )
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(
        cli, ["han", "form", "tiny", "--leader", "dai", "--as", "coord", "--ledger", str(ledger.path)]
    )
    assert result.exit_code == 1 and "needs at least 3 members" in result.stderr


def test_a_month_of_han_groups(ledger):
    for _week in range(4):
        ledger.record(
            exchange(
                "aiko,ben,chie",
                "dai",
                60,
                category="watching over",
                recorded_by="aiko",
                refs={"han": "riverside"},
            )
        )
        ledger.record(exchange("emi", "aiko", 30, category="shopping", recorded_by="emi"))
    assert ledger.balance("@han:riverside") == 4 * 180
    assert ledger.balance("dai") == -4 * 180 and ledger.balance("emi") == 120
    assert ledger.verify().ok


def test_han_groups_and_fureai_kippu_share_a_ledger(make_ledger):
    """Each exchange is posted by the first plugin that answers for it: the group's work by
    han_group, the rest by fureai_kippu, the same whatever else is in the batch."""
    fureai = {"fureai_kippu": {"weights": {"cleaning": "2"}, "earmark_savings": False}}
    led = make_ledger("han-group", overrides={"plugins": fureai}, members=MEMBERS)
    form_group(led, "riverside", "aiko", ["ben", "chie"], actor="coord")
    group_work = exchange("aiko,ben", "dai", 60, category="cleaning", refs={"han": "riverside"})
    alone = exchange("emi", "dai", 60, category="cleaning")
    together = led.record_many([group_work, alone])
    assert [e.postings for e in together] == [
        (Posting("@han:riverside", 120), Posting("dai", -120)),
        (Posting("emi", 120), Posting("@coop", -120)),
    ]
    assert led.record(alone).postings == together[1].postings
    assert led.verify().ok
