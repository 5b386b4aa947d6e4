"""Group claims and withdrawals raced by real processes (issue 12).

Two members a claim charges confirm it while its recorder withdraws it, all at once: each
decision is re-checked inside its write transaction, so the claim ends either withdrawn
(no entry) or confirmed by both (exactly one entry), never an entry a member did not
confirm and never two.
"""

from __future__ import annotations

from conftest import SOAK
from test_races import ROOMY, Racers, entries_noted, one_sentence_error

from timebank.testing import assert_ledger_holds, exchange

ROUNDS = 100 if SOAK else 4


def test_two_confirmations_and_a_withdrawal_racing_decide_a_group_claim_once(make_ledger):
    ledger = make_ledger(members={"alice": "member", "bob": "member", "carol": "member"}, overrides=ROOMY)
    path = ledger.path
    racers = Racers(3)
    outcomes = set()
    try:
        for r in range(ROUNDS):
            note = f"group {r}"
            claim = ledger.record(exchange("bob", "alice,carol", 10, recorded_by="bob", note=note))
            assert claim.awaiting == ("alice", "carol")
            alice, carol, bob = racers.race(
                ["confirm", claim.id, "--as", "alice", "--ledger", path],
                ["confirm", claim.id, "--as", "carol", "--ledger", path],
                ["withdraw", claim.id, "--as", "bob", "--ledger", path],
            )
            decided = ledger.claim(claim.id)
            entries = entries_noted(ledger, note)
            if decided.withdrawn:
                outcomes.add("withdrawn")
                assert bob["exit"] == 0 and entries == [], (bob, entries)
                for late in (alice, carol):
                    if late["exit"] != 0:
                        one_sentence_error(late, "already withdrawn by bob")
            else:
                outcomes.add("confirmed")
                assert decided.status == "confirmed" and entries == [decided.entry_id]
                assert alice["exit"] == carol["exit"] == 0, (alice, carol)
                confirmed = {
                    row[0]
                    for row in ledger.conn.execute(
                        "SELECT member FROM claim_confirmations WHERE claim_id = ?", (claim.id,)
                    )
                }
                assert confirmed == {"alice", "carol"}
                one_sentence_error(bob, "already confirmed")
    finally:
        racers.close()
    assert outcomes  # which wins is the scheduler's choice; each round is checked either way
    assert_ledger_holds(ledger)
