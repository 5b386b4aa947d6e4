"""social-prescribing: referrals with SNOMED CT codes, episodes of 6-12 contacts."""

import datetime as dt

import pytest
from click.testing import CliRunner
from helpers import give_current_check

from timebank.cli.main import cli
from timebank.errors import InputError, NotAllowed, RulesRefused
from timebank.plugins.social_prescribing import (
    SNOMED_DECLINED,
    SNOMED_REFERRAL,
    answer,
    contacts,
    refer,
    referral,
)
from timebank.testing import exchange

MEMBERS = {"lin": "link worker", "pat": "participant", "vic": "volunteer", "quinn": "participant"}


@pytest.fixture
def ledger(make_ledger):
    ledger = make_ledger("social-prescribing", members=MEMBERS)
    # the template enables safeguarding: vic gives checked care, so has a current DBS check
    give_current_check(ledger, "vic")
    return ledger


def test_a_link_worker_refers_with_the_snomed_code(ledger):
    referral_id = refer(ledger, "pat", actor="lin", to_member="vic", activity="walking group")
    ref = referral(ledger, referral_id)
    assert (ref["status"], ref["snomed"], ref["to_member"]) == ("referred", SNOMED_REFERRAL, "vic")
    with pytest.raises(NotAllowed, match="only a link worker refers people; Vic is a volunteer"):
        refer(ledger, "pat", actor="vic", activity="arts")


def test_declined_referral_records_the_declined_code(ledger):
    referral_id = refer(ledger, "pat", actor="lin", activity="arts")
    answer(ledger, referral_id, "declined", actor="pat")
    assert referral(ledger, referral_id)["snomed"] == SNOMED_DECLINED
    with pytest.raises(InputError, match="#1 is declined; only a referred referral can be accepted"):
        answer(ledger, referral_id, "accepted", actor="pat")


def test_only_the_person_or_a_link_worker_answers(ledger):
    referral_id = refer(ledger, "pat", actor="lin", activity="arts")
    with pytest.raises(NotAllowed, match="is pat's to answer, not quinn's"):
        answer(ledger, referral_id, "accepted", actor="quinn")


def test_hours_link_to_an_accepted_episode(ledger):
    referral_id = refer(ledger, "pat", actor="lin", to_member="vic")
    with pytest.raises(RulesRefused, match="episode #1 is referred, not open"):
        ledger.record(exchange("vic", "pat", 60, category="befriending", refs={"episode": "1"}))
    answer(ledger, referral_id, "accepted", actor="pat")
    entry = ledger.record(exchange("vic", "pat", 60, category="befriending", refs={"episode": "1"}))
    assert entry.refs == {"episode": "1"} and contacts(ledger, referral_id) == 1
    with pytest.raises(RulesRefused, match="pat, who was referred, must take part"):
        ledger.record(exchange("vic", "quinn", 60, category="befriending", refs={"episode": "1"}))
    with pytest.raises(RulesRefused, match="there is no episode #9"):
        ledger.record(exchange("vic", "pat", 60, category="befriending", refs={"episode": "9"}))


def test_an_episode_has_between_6_and_12_contacts(ledger):
    referral_id = refer(ledger, "pat", actor="lin", to_member="vic")
    answer(ledger, referral_id, "accepted", actor="pat")
    start = dt.date.today() - dt.timedelta(days=90)

    def weekly(weeks):
        return [
            exchange(
                "vic",
                "pat",
                60,
                category="walking group",
                refs={"episode": "1"},
                day=start + dt.timedelta(days=7 * i),
            )
            for i in weeks
        ]

    ledger.record_many(weekly(range(5)))
    with pytest.raises(InputError, match="episode #1 has had 5 contacts; at least 6 before completing"):
        answer(ledger, referral_id, "completed", actor="lin")
    ledger.record_many(weekly(range(5, 12)))
    with pytest.raises(RulesRefused, match="episode #1 has had its 12 contacts"):
        ledger.record(exchange("pat", "vic", 30, category="gardening", refs={"episode": "1"}))
    answer(ledger, referral_id, "completed", actor="lin")
    assert referral(ledger, referral_id)["status"] == "completed"


def test_referrals_through_the_cli_and_the_report(ledger):
    path = str(ledger.path)
    run = CliRunner().invoke
    assert (
        run(
            cli, ["referral", "add", "quinn", "--activity", "arts", "--as", "lin", "--ledger", path]
        ).exit_code
        == 0
    )
    assert run(cli, ["referral", "accept", "1", "--as", "quinn", "--ledger", path]).exit_code == 0
    listed = run(cli, ["referral", "list", "--ledger", path]).output
    assert "#1 quinn -> arts: accepted (SNOMED CT 871731000000106), 0 contacts" in listed
    [report] = [r for r in ledger.reports() if r.name == "referrals"]
    assert report.rows == (("accepted", SNOMED_REFERRAL, 1),)
