"""Every state change raced by real processes: each is decided once, losers get one sentence.

Three ``writer.py racer`` processes run real ``timebank`` commands, told to start together
(a ``go`` line written to each in turn, microseconds apart). A claim confirmed, declined and
auto-accepted at once, two period closes, three reversals of one entry: exactly one wins,
the others exit 1 with one sentence saying what already happened, and nothing is doubled.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess

import pytest
from conftest import ROOMY, ROOMY_LIMITS, SOAK, writer_command

from timebank.testing import assert_ledger_holds, exchange

ROUNDS = 200 if SOAK else 5


class Racers:
    """Processes that each run one CLI command when told, all told at once."""

    def __init__(self, count: int):
        self.procs = [
            subprocess.Popen(
                writer_command("racer"), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
            for _ in range(count)
        ]

    def race(self, *commands: list[str]) -> list[dict]:
        """Run ``commands[i]`` in racer ``i``, all started together; their results in order."""
        assert len(commands) == len(self.procs)
        for proc, args in zip(self.procs, commands, strict=True):
            proc.stdin.write(json.dumps([str(a) for a in args]) + "\n")
            proc.stdin.flush()
        for proc in self.procs:
            assert proc.stdout.readline() == "ready\n", "a racer died before its command"
        for proc in self.procs:
            proc.stdin.write("go\n")
        for proc in self.procs:
            proc.stdin.flush()
        return [json.loads(proc.stdout.readline()) for proc in self.procs]

    def close(self) -> None:
        for proc in self.procs:
            proc.stdin.close()
        for proc in self.procs:
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def racers():
    racers = Racers(3)
    yield racers
    racers.close()


def one_sentence_error(result: dict, says: str) -> None:
    """A loser: exit 1, one line on stderr saying what already happened, no traceback."""
    assert result["exit"] == 1, result
    assert "Traceback" not in result["err"] and "Integrity" not in result["err"], result["err"]
    assert result["err"].startswith("error: ") and result["err"].count("\n") == 1, result["err"]
    assert says in result["err"], result["err"]


def entries_noted(ledger, note: str) -> list[int]:
    return [row[0] for row in ledger.conn.execute("SELECT id FROM entries WHERE note = ?", (note,))]


def test_one_claim_confirmed_by_three_processes_at_once_is_recorded_once(make_ledger, racers):
    ledger = make_ledger(members={"alice": "member", "bob": "member"}, overrides=ROOMY)
    for r in range(ROUNDS):
        claim = ledger.record(exchange("alice", "bob", 1, recorded_by="alice", note=f"round {r}"))
        confirm = ["confirm", claim.id, "--as", "bob", "--ledger", ledger.path]
        results = racers.race(confirm, confirm, confirm)
        winners = [res for res in results if res["exit"] == 0]
        assert len(winners) == 1, results
        for loser in (res for res in results if res["exit"] != 0):
            one_sentence_error(loser, f"claim: #{claim.id} is already confirmed")
        [entry_id] = entries_noted(ledger, f"round {r}")
        assert ledger.claim(claim.id).entry_id == entry_id
        assert f"as entry #{entry_id}" in winners[0]["out"]
    assert_ledger_holds(ledger)


def test_confirm_decline_and_auto_accept_racing_decide_a_claim_once(make_ledger, racers):
    """Odd rounds: confirm and decline race (and an unrelated write). Even rounds: the claim
    is overdue, so the first write of any kind accepts it automatically, re-checked inside its
    transaction; confirm and decline arrive too late and say so."""
    ledger = make_ledger(members={"alice": "member", "bob": "member", "carol": "member"}, overrides=ROOMY)
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    path = ledger.path
    for r in range(ROUNDS):
        note = f"claim {r}"
        claim = ledger.record(exchange("alice", "bob", 1, recorded_by="alice", note=note))
        overdue = r % 2 == 0
        if overdue:
            ledger.conn.execute("UPDATE claims SET auto_accept_on = ? WHERE id = ?", (yesterday, claim.id))
        commands = [
            ["confirm", claim.id, "--as", "bob", "--ledger", path],
            ["decline", claim.id, "--as", "bob", "--reason", "no", "--ledger", path],
            [
                "log",
                "carol",
                "alice",
                "1m",
                "-k",
                "shopping",
                "-n",
                f"other {r}",
                "--as",
                "coord",
                "--ledger",
                path,
            ],
        ]
        confirmed, declined, other = racers.race(*commands)
        assert other["exit"] == 0, other
        decided = ledger.claim(claim.id)
        entries = entries_noted(ledger, note)
        if decided.status == "confirmed":
            assert entries == [decided.entry_id]
        else:
            assert decided.status == "declined" and entries == [], (decided, entries)
        if overdue:
            assert (decided.status, decided.decided_by) == ("confirmed", "auto")
            for late in (confirmed, declined):
                one_sentence_error(late, f"claim: #{claim.id} is already confirmed automatically as entry #")
            continue
        assert confirmed["exit"] + declined["exit"] == 1, (confirmed, declined)
        if confirmed["exit"] == 0:
            assert (decided.status, decided.decided_by) == ("confirmed", "bob")
        if declined["exit"] == 0:
            assert (decided.status, decided.decided_by) == ("declined", "bob")
        loser = declined if declined["exit"] else confirmed
        one_sentence_error(loser, f"claim: #{claim.id} is already {decided.status} by bob")
    assert len(entries_noted(ledger, "other 0")) == 1
    assert_ledger_holds(ledger)


def test_period_closes_racing_close_each_period_once(make_ledger, racers):
    """Two dates and the later one twice: each date closes at most once, closes only ever move
    forward, and members pay one contribution per period closed."""
    ledger = make_ledger(
        "friendly-society",
        members={"alice": "member", "bob": "member"},
        overrides={"plugins": {"credit_limits": ROOMY_LIMITS}},
    )
    paying = len(ledger.members(include_retired=False))
    start = dt.date(2026, 1, 1)
    for r in range(ROUNDS):
        earlier, later = start + dt.timedelta(days=10 * r + 3), start + dt.timedelta(days=10 * r + 6)
        close = ["close-period", "--as", "coord", "--ledger", ledger.path, "--through"]
        results = racers.race([*close, later], [*close, earlier], [*close, later])
        assert [res["exit"] for res in (results[0], results[2])].count(0) == 1, results
        for res in results:
            if res["exit"]:
                one_sentence_error(res, "error: through: the ledger is already closed through ")
        closes = [row[0] for row in ledger.conn.execute("SELECT through FROM period_closes ORDER BY id")]
        assert closes == sorted(set(closes)), f"closes out of order: {closes}"
        assert later.isoformat() in closes
        assert (earlier.isoformat() in closes) == (results[1]["exit"] == 0)
        for through in closes:
            paid = ledger.conn.execute(
                "SELECT count(*) FROM entries WHERE kind = 'adjustment' AND note LIKE ?",
                (f"contribution % through {through}",),
            ).fetchone()[0]
            assert paid == paying, f"{paid} contributions for the period through {through}"
    assert_ledger_holds(ledger)


def test_one_entry_reversed_by_three_processes_at_once_is_reversed_once(make_ledger, racers):
    ledger = make_ledger(members={"alice": "member", "bob": "member"}, overrides=ROOMY)
    for r in range(ROUNDS):
        original = ledger.record(exchange("alice", "bob", 1, note=f"entry {r}"))
        reverse = [
            "reverse",
            original.id,
            "--reason",
            "logged twice",
            "--as",
            "coord",
            "--ledger",
            ledger.path,
        ]
        results = racers.race(reverse, reverse, reverse)
        assert [res["exit"] for res in results].count(0) == 1, results
        [reversal] = [
            row[0] for row in ledger.conn.execute("SELECT id FROM entries WHERE reverses = ?", (original.id,))
        ]
        for res in results:
            if res["exit"]:
                one_sentence_error(res, f"entry: #{original.id} is already reversed by #{reversal}")
    assert ledger.balance("alice") == ledger.balance("bob") == 0
    assert_ledger_holds(ledger)


def test_benefit_claims_racing_never_pass_the_cap_together(make_ledger, racers):
    """A friendly society pays at most 39 weeks of benefit in 12 months: three claims of 20
    weeks for one member at once pay one of them, the others are told the cap."""
    rounds = min(ROUNDS, 20)
    ledger = make_ledger(
        "friendly-society",
        members={f"m{r}": "member" for r in range(rounds)},
        overrides={"plugins": {"credit_limits": ROOMY_LIMITS, "friendly_society": {"contribution": "100h"}}},
    )
    for week in range(7):
        ledger.close_period(dt.date(2026, 1, 4) + dt.timedelta(days=7 * week), actor="coord")
    for r in range(rounds):
        claim = ["benefit", "claim", f"m{r}", "--start", "2026-03-01", "--days", 140, "--as", "coord"]
        results = racers.race(*[[*claim, "--ledger", ledger.path]] * 3)
        assert [res["exit"] for res in results].count(0) == 1, results
        for res in results:
            if res["exit"]:
                one_sentence_error(res, "more would pass the cap of 273 days")
        paid = ledger.conn.execute("SELECT sum(days) FROM friendly_claims WHERE member = ?", (f"m{r}",))
        assert paid.fetchone()[0] == 140
    assert_ledger_holds(ledger)


def test_a_referral_accepted_and_declined_at_once_is_answered_once(make_ledger, racers):
    from timebank.plugins.social_prescribing import refer

    ledger = make_ledger("social-prescribing", members={"alice": "link worker"})
    for _ in range(ROUNDS):
        referral_id = refer(ledger, "alice", actor="coord", activity="walking group")
        answer = ["--as", "coord", "--ledger", ledger.path, referral_id]
        results = racers.race(
            ["referral", "accept", *answer], ["referral", "decline", *answer], ["referral", "accept", *answer]
        )
        assert [res["exit"] for res in results].count(0) == 1, results
        status = ledger.conn.execute(
            "SELECT status FROM sp_referrals WHERE id = ?", (referral_id,)
        ).fetchone()[0]
        for res in results:
            if res["exit"]:
                one_sentence_error(res, f"referral: #{referral_id} is {status}; only a referred referral")
        events = ledger.conn.execute(
            "SELECT status FROM sp_referral_events WHERE referral_id = ? ORDER BY id", (referral_id,)
        )
        assert [row[0] for row in events] == ["referred", status]


def test_a_han_group_formed_three_times_at_once_is_formed_once(make_ledger, racers):
    ledger = make_ledger("han-group", members={h: "member" for h in ("alice", "bob", "carol")})
    for r in range(ROUNDS):
        form = ["han", "form", f"street {r}", "--leader", "alice", "--member", "bob", "--member", "carol"]
        results = racers.race(*[[*form, "--as", "coord", "--ledger", ledger.path]] * 3)
        assert [res["exit"] for res in results].count(0) == 1, results
        for res in results:
            if res["exit"]:
                one_sentence_error(res, f"name: there is already a Han group called 'street {r}'")
        members = ledger.conn.execute("SELECT count(*) FROM han_members WHERE grp = ?", (f"street {r}",))
        assert members.fetchone()[0] == 3


def test_three_settings_changed_at_once_all_land(make_ledger, racers):
    """Each ``rules set`` makes a new version from the rules in force: read inside its
    transaction, none of three changes made at once is lost."""
    ledger = make_ledger()
    for r in range(ROUNDS):
        values = {
            ("classic", "max_per_day"): ("10h", "11h")[r % 2],
            ("credit_limits", "floor"): ("-20h", "-21h")[r % 2],
            ("confirmation", "auto_accept_days"): (3, 4)[r % 2],
        }
        version = ledger.rules.version
        results = racers.race(
            *[
                ["rules", "set", f"{p}.{k}", v, "--as", "coord", "--ledger", ledger.path]
                for (p, k), v in values.items()
            ]
        )
        assert [res["exit"] for res in results] == [0, 0, 0], results
        rules = ledger.rules
        assert rules.version == version + 3
        data = rules.to_data()["plugins"]
        assert data["confirmation"]["auto_accept_days"] == values[("confirmation", "auto_accept_days")]
        assert data["classic"]["max_per_day"] == (600, 660)[r % 2], "a change was lost"
        assert data["credit_limits"]["floor"] == (-1200, -1260)[r % 2], "a change was lost"


def test_listing_claims_writes_nothing_and_the_next_write_accepts_overdue_ones(make_ledger, tmp_path):
    from click.testing import CliRunner

    from timebank.cli.main import cli
    from timebank.testing import snapshot_rows

    ledger = make_ledger(members={"alice": "member", "bob": "member", "carol": "member"})
    due = ledger.record(exchange("alice", "bob", 30, recorded_by="alice", note="due"))
    refused = ledger.record(exchange("carol", "bob", 300, recorded_by="carol", note="refused since"))
    ledger.change_settings("credit_limits", {"floor": "-3h", "warn_below": "-3h"}, actor="coord")
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    ledger.conn.execute("UPDATE claims SET auto_accept_on = ?", (yesterday,))
    before = snapshot_rows(ledger)

    def run(*args):
        result = CliRunner().invoke(cli, [*map(str, args), "--ledger", str(ledger.path)])
        assert "Traceback" not in result.output
        return result

    listed = run("claims", "--as", "bob")
    assert listed.exit_code == 0
    assert (
        f"#{due.id} pending" in listed.stdout and "accepted automatically at the next change" in listed.stdout
    )
    csv_path = tmp_path / "one.csv"
    csv_path.write_text(
        "date,giver,receiver,duration,category,note\n2026-01-05,alice,carol,10m,shopping,dry\n"
    )
    assert run("import", "exchanges", csv_path, "--dry-run", "--as", "coord").exit_code == 0
    assert snapshot_rows(ledger) == before, "listing claims or a dry run changed the ledger"

    logged = run("log", "carol", "alice", "1m", "-k", "shopping", "-n", "any write", "--as", "coord")
    assert logged.exit_code == 0 and logged.stderr == ""
    accepted = ledger.claim(due.id)
    assert (accepted.status, accepted.decided_by) == ("confirmed", "auto")
    assert entries_noted(ledger, "due") == [accepted.entry_id]
    assert accepted.entry_id < entries_noted(ledger, "any write")[0], "accepted before the write itself"
    assert ledger.claim(refused.id).status == "pending", "bob would go below -3 h: it waits"
    assert_ledger_holds(ledger)


def test_one_handle_added_by_three_processes_at_once_is_added_once(make_ledger, racers):
    """``member add`` read the handles outside its transaction: a UNIQUE-constraint traceback."""
    ledger = make_ledger(members={"alice": "member"})
    for r in range(ROUNDS):
        add = ["member", "add", f"new{r}", f"New {r}", "--as", "coord", "--ledger", ledger.path]
        results = racers.race(add, add, add)
        assert sorted(result["exit"] for result in results) == [0, 1, 1], results
        for result in results:
            if result["exit"]:
                one_sentence_error(result, f"'new{r}' is already a member's handle")
    assert_ledger_holds(ledger)


def test_one_member_retired_by_three_processes_at_once_is_retired_once(make_ledger, racers):
    """Three retirements all succeeded: the leaver rule could settle a balance three times."""
    handles = {f"leaver{r}": "member" for r in range(ROUNDS)}
    ledger = make_ledger(members={"alice": "member", **handles}, overrides=ROOMY)
    for r in range(ROUNDS):
        ledger.record(exchange("alice", f"leaver{r}", 30, recorded_by="coord"))
        retire = ["member", "retire", f"leaver{r}", "--as", "coord", "--ledger", ledger.path]
        results = racers.race(retire, retire, retire)
        assert sorted(result["exit"] for result in results) == [0, 1, 1], results
        for result in results:
            if result["exit"]:
                one_sentence_error(result, f"'leaver{r}' is already retired")
        changes = ledger.conn.execute(
            "SELECT count(*) FROM member_changes c JOIN members m ON m.id = c.member_id"
            " WHERE m.handle = ? AND c.change LIKE '%retired%'",
            (f"leaver{r}",),
        ).fetchone()[0]
        assert changes == 1
    assert_ledger_holds(ledger)


def test_a_plugin_disabled_while_settings_change_keeps_every_change(make_ledger, racers):
    """``rules disable`` read the rules before its transaction: a ``rules set`` made meanwhile
    was silently undone by the version it wrote."""
    ledger = make_ledger()
    for r in range(ROUNDS):
        ledger.change_settings("confirmation", {}, actor="coord")  # enabled again each round
        results = racers.race(
            ["rules", "disable", "confirmation", "--as", "coord", "--ledger", ledger.path],
            [
                "rules",
                "set",
                "classic.max_per_day",
                ("10h", "11h")[r % 2],
                "--as",
                "coord",
                "--ledger",
                ledger.path,
            ],
            [
                "rules",
                "set",
                "credit_limits.floor",
                ("-20h", "-21h")[r % 2],
                "--as",
                "coord",
                "--ledger",
                ledger.path,
            ],
        )
        assert [res["exit"] for res in results] == [0, 0, 0], results
        data = ledger.rules.to_data()["plugins"]
        assert "confirmation" not in data
        assert data["classic"]["max_per_day"] == (600, 660)[r % 2], "a change was lost"
        assert data["credit_limits"]["floor"] == (-1200, -1260)[r % 2], "a change was lost"
