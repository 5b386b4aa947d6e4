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


PIN_GUESSER = """
import sys
from timebank.errors import NotAllowed
from timebank.ledger import Ledger
ledger = Ledger(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
for guess in range(int(sys.argv[2])):
    try:
        ledger.check_pin("alice", f"{guess:04d}0")
    except NotAllowed:
        pass
print("done", flush=True)
"""


def test_guessers_racing_at_several_kiosks_get_no_more_guesses_than_the_lockout_allows(make_ledger):
    import subprocess
    import sys

    from timebank.pins import LOCK_AFTER

    ledger = make_ledger(members={"alice": "member", "bob": "member"})
    ledger.set_pin("alice", "2468", actor="alice")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PIN_GUESSER, str(ledger.path), "4"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for proc in procs:
        assert proc.stdout.readline() == "ready\n"
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        assert proc.stdout.readline() == "done\n"
        proc.wait(timeout=30)
    attempts = [ok for _, ok, _ in ledger.pin_attempts("alice")]
    assert len(attempts) == 16  # every attempt is recorded
    assert attempts == [0] * LOCK_AFTER + [-1] * (16 - LOCK_AFTER)  # checked: only the first five
    assert ledger.locked_until("alice") is not None


def test_a_key_revoked_by_three_processes_at_once_is_revoked_once(make_ledger, tmp_path):
    import subprocess

    ledger = make_ledger(members={"alice": "member", "bob": "member"})
    key = tmp_path / "alice"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
    authorized = tmp_path / "authorized_keys"
    ledger.add_key("alice", (tmp_path / "alice.pub").read_text(), actor="coord", authorized_keys=authorized)
    assert "--member alice" in authorized.read_text()
    racers = Racers(3)
    try:
        revoke = [
            "access",
            "revoke",
            "1",
            "--authorized-keys",
            authorized,
            "--as",
            "coord",
            "--ledger",
            ledger.path,
        ]
        results = racers.race(revoke, revoke, revoke)
    finally:
        racers.close()
    assert [r["exit"] for r in results].count(0) == 1, results
    for loser in (r for r in results if r["exit"]):
        one_sentence_error(loser, "no key '1' in use")
    assert "--member alice" not in authorized.read_text()
    [row] = ledger.conn.execute("SELECT revoked_by FROM member_keys").fetchall()
    assert row[0] == "coord"
