"""Who acts is checked, and each role reads what it should (issue 12, the core's part).

Every member a claim charges confirms it for themselves; its recorder may withdraw it;
a member reads their own balance, statement and claims, others' balances only when the
rules say so, and a ledger opened for a proven member acts as nobody else.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from helpers import cli_on

from timebank.errors import NotAllowed
from timebank.ledger import Ledger
from timebank.models import Claim, Entry


@pytest.fixture
def run(tmp_path, monkeypatch):
    invoke = cli_on(tmp_path / "coop.sqlite", monkeypatch)

    invoke("init", "--name", "Valley Care")
    for handle in ("alice", "bob", "carol"):
        invoke("member", "add", handle, handle.title(), "--joined", "2024-01-01", "--as", "coordinator")
    invoke("log", "alice", "bob", "1h", "-k", "shopping", "--as", "coordinator")
    invoke("log", "carol", "alice", "20m", "-k", "shopping", "--as", "coordinator")
    return invoke


def test_every_member_charged_confirms_a_group_claim(run):
    out = run("log", "bob", "alice,carol", "1h", "-k", "transport", "--as", "bob").output
    assert out == "claim #1 saved; waiting for alice, carol to confirm\n"
    assert "confirmation is recorded; waiting for alice" in run("confirm", "1", "--as", "carol").output
    # carol cannot confirm for alice, nor twice
    assert "already confirmed" in run("confirm", "1", "--as", "carol", ok=False).stderr
    [claim] = json.loads(run("claims", "--as", "alice", "--format", "json").output)
    assert claim["awaiting"] == ["alice"] and claim["confirmed"] == ["carol"]
    assert json.loads(run("claims", "--as", "carol", "--format", "json").output)[0]["claim"] == 1
    with Ledger(run.path) as ledger:
        assert ledger.conn.execute("SELECT count(*) FROM entries").fetchone()[0] == 2
    assert run("confirm", "1", "--as", "alice").output == "claim #1 confirmed as entry #3\n"
    with Ledger(run.path) as ledger:
        assert ledger.claim(1).status == "confirmed" and ledger.claim(1).entry_id == 3


def test_a_recorder_cannot_charge_a_co_receiver_without_their_word(run):
    """Alice, a receiver, logged a group session for herself and carol: the claim waited for
    bob (the giver, who is credited) only, and carol was charged without being asked."""
    out = run("log", "bob", "alice,carol", "1h", "-k", "transport", "--as", "alice").output
    assert out == "claim #1 saved; waiting for bob, carol to confirm\n"
    assert "waiting for carol" in run("confirm", "1", "--as", "bob").output
    with Ledger(run.path) as ledger:
        assert ledger.claim(1).status == "pending" and ledger.balance("carol") == 20
    assert run("confirm", "1", "--as", "carol").output == "claim #1 confirmed as entry #3\n"


def test_a_coordinator_still_confirms_for_everyone(run):
    run("log", "bob", "alice,carol", "1h", "-k", "transport", "--as", "bob")
    assert run("confirm", "1", "--as", "coordinator").output == "claim #1 confirmed as entry #3\n"


def test_the_recorder_withdraws_their_own_pending_claim_and_nobody_else_can(run):
    run("log", "bob", "alice", "30m", "-k", "transport", "--as", "bob")
    refused = run("withdraw", "1", "--as", "alice", ok=False).stderr
    assert refused == "error: claim #1 was recorded by bob; only they may withdraw it\n"
    shown = run("claims", "--as", "bob").output
    assert "#1 pending" in shown and "waiting for alice" in shown  # bob sees his own, waiting
    assert run("withdraw", "1", "--as", "bob", "--reason", "wrong day").output == "claim #1 withdrawn\n"
    assert "already withdrawn by bob" in run("confirm", "1", "--as", "alice", ok=False).stderr
    assert "withdrawn by bob: wrong day" in run("claims", "--all", "--as", "bob").output
    with Ledger(run.path) as ledger:
        claim = ledger.claim(1)
        assert claim.withdrawn and claim.status == "declined" and claim.entry_id is None


def test_withdrawing_a_decided_claim_is_refused(run):
    run("log", "bob", "alice", "30m", "-k", "transport", "--as", "bob")
    run("confirm", "1", "--as", "alice")
    assert "already confirmed by alice" in run("withdraw", "1", "--as", "bob", ok=False).stderr


def test_a_member_reads_only_their_own(run):
    assert run("balance", "--as", "alice").output.split()[0] == "alice"
    assert len(run("balance", "--as", "alice").output.splitlines()) == 1
    for args in (("balance", "bob"), ("statement", "bob")):
        result = run(*args, "--as", "alice", ok=False)
        assert result.stderr.startswith("error: ") and "'bob'" in result.stderr
    rows = json.loads(run("balance", "--as", "alice", "--format", "json").output)
    assert [r["account"] for r in rows] == ["alice"]
    rows = list(csv.DictReader(io.StringIO(run("balance", "--as", "alice", "--format", "csv").output)))
    assert [r["account"] for r in rows] == ["alice"]
    members = json.loads(run("member", "list", "--as", "alice", "--format", "json").output)
    assert [m["handle"] for m in members] == ["alice"]
    lines = json.loads(run("statement", "--as", "alice", "--format", "json").output)
    assert {line["entry"] for line in lines} == {1, 2}
    # entry 1 is alice and bob's; carol may not read it
    assert "does not concern carol" in run("show", "1", "--as", "carol", ok=False).stderr
    run("log", "carol", "bob", "10m", "-k", "shopping", "--as", "carol")  # a claim alice is not in
    assert json.loads(run("claims", "--all", "--as", "alice", "--format", "json").output) == []


def test_co_ordinators_and_the_owner_read_everything(run):
    for who in (("--as", "coordinator"), ()):
        rows = json.loads(run("balance", *who, "--format", "json").output)
        assert {"alice", "bob", "carol"} <= {r["account"] for r in rows}
        assert run("statement", "bob", *who).output.count("\n") == 2


def test_the_rules_may_let_members_see_each_others_balances(run):
    assert "'bob'" in run("balance", "bob", "--as", "alice", ok=False).stderr  # default: not shown
    run("rules", "set", "coop.members_see_balances", "true", "--as", "coordinator")
    assert run("balance", "bob", "--as", "alice").output == "bob: -1h\n"
    assert "'bob'" in run("statement", "bob", "--as", "alice", ok=False).stderr  # never statements


def test_a_ledger_opened_for_a_proven_member_acts_as_nobody_else(run):
    run("log", "bob", "alice", "30m", "-k", "transport", "--as", "bob")
    with Ledger(run.path) as ledger:
        ledger.prove("bob")
        with pytest.raises(NotAllowed, match="opened for bob"):
            ledger.confirm(1, actor="alice")
        with pytest.raises(NotAllowed, match="already opened for bob"):
            ledger.prove("alice")
        with pytest.raises(NotAllowed, match="waits for alice, not bob"):
            ledger.confirm(1, actor="")  # empty means the proven member
        assert ledger.visible_to(None).member.handle == "bob"
    with Ledger(run.path) as ledger:
        ledger.prove("alice")
        assert isinstance(ledger.confirm(1, actor=""), Entry)
        assert ledger.claim(1).decided_by == "alice"
    assert not isinstance(Claim, Entry)
