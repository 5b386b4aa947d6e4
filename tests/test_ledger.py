"""The ledger API against real SQLite files."""

import datetime as dt

import pytest
from helpers import TODAY, add_members, exchange

from timebank.errors import InputError, NotAllowed, NotFound, RulesRefused
from timebank.ledger import Ledger
from timebank.models import Claim, Entry, Member, Posting
from timebank.testing import snapshot_rows


def test_coordinator_records_directly_and_balances_follow(ledger):
    entry = ledger.record(exchange(minutes=90))
    assert isinstance(entry, Entry)
    assert entry.postings == (Posting("alice", 90), Posting("bob", -90))
    assert ledger.balance("alice") == 90
    assert ledger.balance("bob") == -90
    assert sum(value for _, value in ledger.balances()) == 0
    assert entry.rules_version == ledger.rules.version


def test_group_session_one_giver_many_receivers_is_one_entry(ledger):
    entry = ledger.record(exchange("alice", "bob,carol", minutes=61))
    assert entry.postings == (Posting("alice", 61), Posting("bob", -31), Posting("carol", -30))
    assert ledger.conn.execute("SELECT count(*) FROM entries").fetchone()[0] == 1


def test_group_session_many_givers_one_receiver(ledger):
    entry = ledger.record(exchange("alice,bob", "carol", minutes=60))
    assert entry.postings == (Posting("alice", 60), Posting("bob", 60), Posting("carol", -120))


def test_member_records_and_other_side_confirms(ledger):
    claim = ledger.record(exchange(recorded_by="alice"))
    assert isinstance(claim, Claim) and claim.awaiting == ("bob",)
    assert ledger.balance("alice") == 0, "an unconfirmed claim is not in the ledger"
    with pytest.raises(NotAllowed, match="waits for bob"):
        ledger.confirm(claim.id, actor="carol")
    entry = ledger.confirm(claim.id, actor="bob")
    assert ledger.balance("alice") == 60
    assert ledger.claim(claim.id).status == "confirmed"
    assert ledger.claim(claim.id).entry_id == entry.id
    with pytest.raises(InputError, match="already confirmed"):
        ledger.confirm(claim.id, actor="bob")


def test_declined_claim_stays_only_in_claims(ledger):
    claim = ledger.record(exchange(recorded_by="bob"))
    assert claim.awaiting == ("alice",)
    ledger.decline(claim.id, actor="alice", reason="it was 30 minutes")
    assert ledger.claim(claim.id).status == "declined"
    assert ledger.conn.execute("SELECT count(*) FROM entries").fetchone()[0] == 0


def test_member_cannot_record_for_others(ledger):
    with pytest.raises(NotAllowed, match="only record exchanges they took part in"):
        ledger.record(exchange("alice", "bob", recorded_by="carol"))


def test_either_records_mode_and_coordinator_only_mode(ledger):
    ledger.change_settings("confirmation", {"mode": "either-records"}, actor="coord")
    assert isinstance(ledger.record(exchange(recorded_by="bob")), Entry)
    ledger.change_settings("confirmation", {"mode": "coordinator-only"}, actor="coord")
    with pytest.raises(NotAllowed, match="only a co-ordinator records"):
        ledger.record(exchange(recorded_by="bob"))


def test_auto_accept_after_n_days(ledger):
    ledger.change_settings("confirmation", {"auto_accept_days": 3}, actor="coord")
    claim = ledger.record(exchange(recorded_by="alice"))
    assert claim.auto_accept_on == TODAY + dt.timedelta(days=3)
    assert ledger.accept_overdue_claims(TODAY + dt.timedelta(days=2)) == []
    [entry] = ledger.accept_overdue_claims(TODAY + dt.timedelta(days=3))
    assert ledger.claim(claim.id).status == "confirmed"
    assert ledger.claim(claim.id).decided_by == "auto"
    assert ledger.entry(entry.id).givers == ("alice",)


@pytest.mark.parametrize(
    "kwargs, field, fragment",
    [
        ({"givers": "alice", "receivers": "alice"}, "receiver", "cannot give time to themselves"),
        ({"givers": "zed"}, "giver", "no member has the handle 'zed'"),
        ({"category": "juggling"}, "category", "'juggling' is not a kind of care"),
        ({"givers": "alice,bob", "receivers": "carol,coord"}, "receiver", "not several of each"),
    ],
)
def test_classic_rules_refuse_with_a_sentence_and_write_nothing(ledger, kwargs, field, fragment):
    before = snapshot_rows(ledger)
    with pytest.raises(RulesRefused) as caught:
        ledger.record(exchange(**kwargs))
    problem = caught.value.problems[0]
    assert (problem.plugin, problem.field) == ("classic", field)
    assert fragment in problem.message
    assert snapshot_rows(ledger) == before


def test_nobody_gives_more_than_a_day(ledger):
    ledger.record(exchange(minutes=20 * 60, receivers="bob"), acknowledge=True)
    with pytest.raises(RulesRefused, match="more than 24h in one day"):
        ledger.record(exchange(minutes=5 * 60, receivers="carol"))
    ledger.record(exchange(minutes=4 * 60, receivers="carol"))
    assert ledger.balance("alice") == 24 * 60


def four_hour_days(ledger):
    ledger.change_settings("classic", {"max_per_day": "4h"}, actor="coord")


def test_a_day_counts_group_sessions_and_only_the_givers_own_time(ledger):
    """Time given in a group session counts towards each giver's day; other members' does not."""
    four_hour_days(ledger)
    ledger.record(exchange("alice,bob", "carol", minutes=3 * 60))
    ledger.record(exchange("carol", "alice", minutes=3 * 60))
    with pytest.raises(RulesRefused, match="bob would give 5h on"):
        ledger.record(exchange("bob", "alice", minutes=2 * 60))
    ledger.record(exchange("carol", "bob", minutes=60))


def test_a_day_is_judged_alike_in_a_batch_spanning_many_days(ledger):
    """A batch over more than 500 days (one member's slips for two years) reads them in chunks."""
    four_hour_days(ledger)
    today = dt.date.today()
    ledger.record(exchange("alice", "bob", minutes=230, day=today))
    ledger.record(exchange("bob", "carol", minutes=30, day=today - dt.timedelta(days=500)))
    pairs = [("alice", "bob"), ("bob", "alice")]
    batch = [exchange(*pairs[i % 2], minutes=20, day=today - dt.timedelta(days=i)) for i in range(501)]
    with pytest.raises(RulesRefused) as caught:
        ledger.record_many(batch)
    assert [(p.index, p.message) for p in caught.value.problems] == [
        (0, f"alice would give 4h10 on {today}, more than 4h in one day")
    ]


def test_a_day_is_judged_alike_in_a_batch_with_many_givers(ledger):
    """A batch naming more than 500 givers reads the whole day instead of each giver's part."""
    four_hour_days(ledger)
    many = [f"g{i:03d}" for i in range(501)]
    add_members(ledger, *many)
    ledger.record(exchange("alice,g000", "bob", minutes=3 * 60))
    batch = [exchange(g, many[(i + 1) % len(many)], minutes=2 * 60) for i, g in enumerate(many)]
    with pytest.raises(RulesRefused) as caught:
        ledger.record_many(batch)
    assert [(p.index, p.message[:21]) for p in caught.value.problems] == [(0, "g000 would give 5h on")]


def test_retired_member_keeps_history_and_balance_but_cannot_exchange(ledger):
    ledger.record(exchange())
    ledger.retire_member("bob", actor="coord")
    assert ledger.member("bob").status == "retired"
    assert ledger.balance("bob") == -60
    with pytest.raises(RulesRefused, match="has retired"):
        ledger.record(exchange("alice", "bob"))
    assert [line.amount for line in ledger.statement("bob")] == [-60]


def test_hard_floor_refuses_and_soft_warning_needs_acknowledging(ledger):
    ledger.change_settings("credit_limits", {"floor": "-10h", "warn_below": "-9h"}, actor="coord")
    ledger.record(exchange("alice", "bob", minutes=8 * 60 + 30))
    with pytest.raises(RulesRefused) as caught:
        ledger.record(exchange("carol", "bob", minutes=60))
    assert caught.value.only_warnings
    assert caught.value.problems[0].message == (
        "Bob would be -9h30, below the warning level of -9h (now -8h30)"
    )
    ledger.record(exchange("carol", "bob", minutes=60), acknowledge=True)
    with pytest.raises(RulesRefused) as caught:
        ledger.record(exchange("carol", "bob", minutes=31), acknowledge=True)
    assert caught.value.problems[0].message == "Bob would go below their limit of -10h (now -9h30)"
    assert ledger.balance("bob") == -570


def supported_class(ledger):
    """Members may go to -2h, the 'supported' class to -50h; dora is supported."""
    ledger.change_settings("classic", {"member_classes": ["member", "supported"]}, actor="coord")
    ledger.change_settings(
        "credit_limits",
        {
            "floor": "-2h",
            "warn_below": "-2h",
            "floor_by_class": {"supported": "-50h"},
            "warn_below_by_class": {"supported": "-50h"},
        },
        actor="coord",
    )
    add_members(ledger, "dora", member_class="supported")


def test_limits_per_member_class(ledger):
    supported_class(ledger)
    ledger.record(exchange("alice", "dora", minutes=10 * 60))
    with pytest.raises(RulesRefused, match="below their limit of -2h"):
        ledger.record(exchange("alice", "bob", minutes=3 * 60))


def test_limits_per_member_class_in_one_batch(ledger):
    """Each member is judged by their own class's limits, whoever came before them in the batch."""
    supported_class(ledger)
    with pytest.raises(RulesRefused) as caught:
        ledger.record_many([exchange("alice", "dora", minutes=600), exchange("alice", "bob", minutes=180)])
    assert [(p.index, p.message) for p in caught.value.problems] == [
        (1, "Bob would go below their limit of -2h (now 0m)")
    ]


def test_ceiling(ledger):
    ledger.change_settings("credit_limits", {"ceiling": "2h"}, actor="coord")
    ledger.record(exchange(minutes=120))
    with pytest.raises(RulesRefused, match="Alice would go above their limit of 2h"):
        ledger.record(exchange(minutes=1, receivers="carol"))


def test_later_exchanges_in_a_batch_see_earlier_ones(ledger):
    ledger.change_settings("credit_limits", {"floor": "-2h", "warn_below": "-2h"}, actor="coord")
    with pytest.raises(RulesRefused) as caught:
        ledger.record_many([exchange(minutes=90), exchange("carol", "bob", minutes=60)])
    assert [p.index for p in caught.value.problems] == [1]
    assert ledger.balance("bob") == 0


def test_refusal_messages_use_the_balances_really_met(ledger):
    ledger.change_settings("credit_limits", {"floor": "-2h", "warn_below": "-2h"}, actor="coord")
    batch = [
        exchange("alice", "bob", minutes=90),
        exchange("carol", "bob", minutes=60),
        exchange("carol", "bob", minutes=45),
        exchange("carol", "bob", minutes=30),
    ]
    with pytest.raises(RulesRefused) as caught:
        ledger.record_many(batch)
    assert [(p.index, p.message) for p in caught.value.problems] == [
        (1, "Bob would go below their limit of -2h (now -1h30)"),
        (2, "Bob would go below their limit of -2h (now -1h30)"),
    ]


def test_transfer_and_permissions(ledger):
    ledger.record(exchange(minutes=120))
    entry = ledger.transfer("alice", "@coop", 30, actor="alice", note="donation")
    assert entry.kind == "transfer"
    assert ledger.balance("@coop") == 30
    assert ledger.statement("alice")[0].counterparties == ("@coop",)
    assert ledger.statement("@coop")[0].counterparties == ("alice",)
    with pytest.raises(NotAllowed, match="only give from their own account"):
        ledger.transfer("bob", "alice", 30, actor="alice")
    with pytest.raises(NotFound, match="no account '@nowhere'"):
        ledger.transfer("alice", "@nowhere", 30, actor="alice")


def test_reverse_by_a_new_entry(ledger):
    original = ledger.record(exchange(minutes=45))
    reversal = ledger.reverse(original.id, reason="logged twice", actor="coord")
    assert reversal.reverses == original.id
    assert reversal.postings == (Posting("alice", -45), Posting("bob", 45))
    assert ledger.balance("alice") == ledger.balance("bob") == 0
    assert ledger.entry(original.id).postings == original.postings, "the original stays"
    with pytest.raises(InputError, match="already reversed"):
        ledger.reverse(original.id, reason="again", actor="coord")
    with pytest.raises(NotAllowed, match="only a co-ordinator may reverse"):
        ledger.reverse(ledger.record(exchange()).id, reason="x", actor="alice")


def test_preview_writes_nothing(ledger):
    before = snapshot_rows(ledger)
    preview = ledger.preview(exchange("alice", "bob,carol", minutes=90), actor="alice")
    assert preview.draft.postings == (
        Posting("alice", 90),
        Posting("bob", -45),
        Posting("carol", -45),
    )
    assert preview.draft.balances_after == {"alice": 90, "bob": -45, "carol": -45}
    assert preview.decision.needs_confirmation_from == ("bob", "carol")
    assert snapshot_rows(ledger) == before


def test_statement_pages_with_running_balance(ledger):
    ledger.change_settings("credit_limits", {"floor": "-200h", "warn_below": "-200h"}, actor="coord")
    ledger.record_many([exchange(minutes=m, day=TODAY - dt.timedelta(days=m)) for m in range(1, 121)])
    first = ledger.statement("alice", limit=50)
    assert [line.balance for line in first[:2]] == [sum(range(1, 121)), sum(range(1, 120))]
    second = ledger.statement("alice", limit=50, before=first[-1].entry_id)
    third = ledger.statement("alice", limit=50, before=second[-1].entry_id)
    assert len(first) == len(second) == 50 and len(third) == 20
    assert third[-1].balance == 1 and third[-1].counterparties == ("bob",)


def test_members_add_change_retire_and_their_history(ledger):
    with pytest.raises(InputError, match="already a member's handle"):
        add_members(ledger, "alice")
    with pytest.raises(RulesRefused, match="'wizard' is not a member class"):
        ledger.add_member(Member("zed", "Zed", "wizard", TODAY), actor="coord")
    with pytest.raises(NotAllowed, match="only a co-ordinator may manage members"):
        ledger.add_member(Member("zed", "Zed", "member", TODAY), actor="alice")
    ledger.update_member("alice", actor="coord", name="Alice Smith", area="north")
    assert ledger.member("alice").name == "Alice Smith"
    changes = ledger.conn.execute("SELECT change FROM member_changes").fetchall()
    assert any("Alice Smith" in c[0] for c in changes)
    assert [m.handle for m in ledger.find_members("ali")] == ["alice"]
    assert [m.handle for m in ledger.find_members("smi")] == ["alice"]


def test_rules_are_versioned_and_entries_name_their_version(ledger):
    first = ledger.record(exchange())
    ledger.set_rules(ledger.rules.to_data() | {"coop": {"name": "Renamed"}}, actor="coord")
    second = ledger.record(exchange())
    assert second.rules_version == first.rules_version + 1
    assert [r["version"] for r in ledger.rules_history()] == [1, 2]


def test_change_settings_keeps_the_rest_and_enables_a_plugin(ledger):
    before = ledger.rules
    ledger.change_settings("credit_limits", {"floor": "-3h"}, actor="coord", note="tighter")
    ledger.change_settings("time_bank", {"joining_bonus": "1h"}, actor="coord")
    after = ledger.rules
    assert after.settings("credit_limits")["floor"] == -180
    assert after.settings("credit_limits")["ceiling"] == before.settings("credit_limits")["ceiling"]
    assert after.settings("time_bank")["joining_bonus"] == 60 and "time_bank" not in before.enabled
    assert [r["note"] for r in ledger.rules_history()][-2:] == ["tighter", ""]


def test_another_connection_sees_new_members_and_rules(ledger, ledger_path):
    with Ledger(ledger_path) as other:
        assert "dora" not in other.members_by_handle()
        add_members(ledger, "dora")
        assert "dora" in other.members_by_handle()
        other.record(exchange("dora", "alice"))
    assert ledger.balance("dora") == 60
