"""safeguarding: checked kinds of care need a current check, on the exchange's day, in every
path that writes; offers and matches too; a report of checks expiring; details kept private."""

import datetime as dt

import pytest
from click.testing import CliRunner

from timebank.cli.main import cli
from timebank.errors import NotAllowed, RulesRefused
from timebank.listings import Listings
from timebank.plugins.safeguarding import expiring, record_check
from timebank.testing import exchange, snapshot_rows

TODAY = dt.date.today()
MEMBERS = {"pam": "person supported", "vera": "community volunteer", "val": "community volunteer"}


@pytest.fixture
def ledger(make_ledger):
    ledger = make_ledger("care-coop", members=MEMBERS)
    # vera's check ran from a year ago until ten days ago; val's is current for 20 more days
    record_check(
        ledger,
        "vera",
        kind="DBS",
        reference="001122334455",
        done_on=TODAY - dt.timedelta(days=365),
        valid_until=TODAY - dt.timedelta(days=10),
        actor="coord",
    )
    record_check(
        ledger,
        "val",
        kind="DBS",
        reference="009988776655",
        done_on=TODAY - dt.timedelta(days=100),
        valid_until=TODAY + dt.timedelta(days=20),
        actor="coord",
    )
    return ledger


def test_checked_care_needs_a_current_check_on_the_exchanges_day(ledger):
    expired_on = TODAY - dt.timedelta(days=10)
    before = snapshot_rows(ledger)
    with pytest.raises(RulesRefused) as refused:
        ledger.record(exchange("vera", "pam", 60, category="companionship"), acknowledge=True)
    assert refused.value.problems[0].message == (
        f"Vera may not give companionship on {TODAY}: their DBS check expired on {expired_on},"
        " and companionship needs a current DBS check"
    )
    assert snapshot_rows(ledger) == before
    # the same care on a day her check was current is fine, and unchecked care always is
    ledger.record(exchange("vera", "pam", 60, category="companionship", day=TODAY - dt.timedelta(days=30)))
    ledger.record(exchange("vera", "pam", 60, category="shopping"))
    ledger.record(exchange("val", "pam", 60, category="companionship"))
    with pytest.raises(RulesRefused, match="no DBS check is recorded for them"):
        ledger.record(exchange("pam", "val", 30, category="household"))


def test_import_confirm_and_auto_accept_are_refused_too(ledger):
    with pytest.raises(RulesRefused, match="Vera may not give companionship"):
        ledger.record_many(  # the import's bulk path: the whole batch is refused
            [
                exchange("val", "pam", 30, category="companionship"),
                exchange("vera", "pam", 30, category="companionship"),
            ]
        )
    # a claim for transport made before the co-op said transport needs a check ...
    claim = ledger.record(exchange("vera", "pam", 45, category="transport", recorded_by="vera"))
    other = ledger.record(exchange("vera", "pam", 30, category="transport", recorded_by="vera"))
    assert claim.status == "pending"
    ledger.change_settings(
        "safeguarding", {"checked_categories": ["companionship", "transport"]}, actor="coord"
    )
    # ... is refused when confirmed, and stays pending when its auto-accept day comes
    with pytest.raises(RulesRefused, match="Vera may not give transport"):
        ledger.confirm(claim.id, actor="pam")
    assert ledger.accept_overdue_claims(TODAY + dt.timedelta(days=30)) == []
    assert ledger.claim(claim.id).status == ledger.claim(other.id).status == "pending"


def test_offers_matches_and_answers_of_checked_care(ledger):
    board = Listings(ledger)
    with pytest.raises(RulesRefused, match="Vera may not give companionship .* expired on"):
        board.post("offer", actor="vera", category="companionship", title="Afternoon visits")
    board.post("offer", actor="vera", category="shopping", title="Weekly shop")
    offer = board.post("offer", actor="val", category="companionship", title="Tea and a chat")
    request = board.post("request", actor="pam", category="companionship", title="Someone to visit")
    ledger.record(exchange("vera", "pam", 60, category="companionship", day=TODAY - dt.timedelta(days=40)))
    # vera has given companionship before, but her check is out of date: never offered
    assert [(m.member, m.other) for m in board.match(request.id)] == [("val", offer.id)]
    with pytest.raises(RulesRefused, match="Vera may not give companionship"):
        board.answer(request.id, actor="vera")
    board.answer(request.id, actor="val")


def test_report_of_checks_expiring_in_the_next_30_days(ledger):
    record_check(
        ledger,
        "pam",
        kind="references",
        done_on=TODAY,
        valid_until=TODAY + dt.timedelta(days=29),
        actor="coord",
    )
    record_check(
        ledger,
        "val",
        kind="references",
        done_on=TODAY,
        valid_until=TODAY + dt.timedelta(days=31),
        actor="coord",
    )
    [report] = [r for r in ledger.reports() if r.name == "checks-expiring"]
    assert [(r[0], r[2], r[4]) for r in report.rows] == [("val", "DBS", 20), ("pam", "references", 29)]
    record_check(  # a renewal replaces the expiring check
        ledger,
        "val",
        kind="DBS",
        done_on=TODAY,
        valid_until=TODAY + dt.timedelta(days=3 * 365),
        actor="coord",
    )
    assert [r[0] for r in expiring(ledger, 30)] == ["pam"]


def test_only_coordinators_record_checks_and_members_see_only_their_own(ledger, monkeypatch):
    with pytest.raises(NotAllowed, match="only a co-ordinator may record check"):
        record_check(ledger, "val", kind="DBS", done_on=TODAY, valid_until=TODAY, actor="val")
    monkeypatch.setenv("TIMEBANK_LEDGER", str(ledger.path))
    runner = CliRunner()
    out = runner.invoke(
        cli,
        [
            "check",
            "add",
            "pam",
            "--reference",
            "0042",
            "--done",
            "2026-01-02",
            "--valid-until",
            "2029-01-01",
            "--as",
            "coord",
        ],
    )
    assert out.exit_code == 0 and "check #3 recorded for pam" in out.output
    mine = runner.invoke(cli, ["check", "list", "val", "--as", "val"])
    assert "009988776655" in mine.output and "001122334455" not in mine.output
    theirs = runner.invoke(cli, ["check", "list", "vera", "--as", "val"])
    assert theirs.exit_code == 1 and "only their own checks" in theirs.stderr
    listed = runner.invoke(cli, ["check", "list", "--csv", "--as", "coord"]).output
    assert (
        listed.splitlines()[0] == "member,kind,reference,done_on,valid_until,recorded_by" and "0042" in listed
    )
    assert "val " in runner.invoke(cli, ["check", "expiring"]).output


def test_check_details_are_never_exported_with_members_nor_published(ledger, monkeypatch, tmp_path):
    monkeypatch.setenv("TIMEBANK_LEDGER", str(ledger.path))
    runner = CliRunner()
    exported = runner.invoke(cli, ["export", "members"])
    assert exported.exit_code == 0 and "vera" in exported.output
    for secret in ("001122334455", "009988776655", "DBS"):
        assert secret not in exported.output
    out = tmp_path / "public.sqlite"
    assert runner.invoke(cli, ["publish", "--out", str(out)]).exit_code == 0
    data = out.read_bytes()
    assert b"001122334455" not in data and b"009988776655" not in data and b"safeguarding" not in data
