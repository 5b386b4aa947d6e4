"""Property: whatever members, exchanges, transfers and reversals happen, the ledger holds.

After every step: all balances sum to zero, each stored balance equals the sum of its
postings, and ``verify`` passes. A refused step leaves no trace.
"""

import datetime as dt

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from timebank.errors import TimebankError
from timebank.ledger import Ledger
from timebank.models import Exchange, Member
from timebank.testing import snapshot_rows

HANDLES = ["ann", "ben", "cat", "dan", "eve"]
CATEGORIES = ["shopping", "transport", "juggling"]


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        import tempfile
        from pathlib import Path

        self.dir = tempfile.TemporaryDirectory()
        self.ledger = Ledger.create(
            Path(self.dir.name) / "p.sqlite",
            rules={
                "plugins": {
                    "classic": {},
                    "confirmation": {},
                    "credit_limits": {"floor": "-3h", "warn_below": "-2h", "ceiling": "5h"},
                }
            },
        )
        self.ledger.add_member(
            Member("coord", "C", "member", dt.date(2024, 1, 1), role="coordinator"), actor="system"
        )
        self.entries = []

    def teardown(self):
        self.ledger.close()
        self.dir.cleanup()

    def attempt(self, action):
        before = snapshot_rows(self.ledger)
        try:
            return action()
        except TimebankError:
            assert snapshot_rows(self.ledger) == before, "a refused change left a trace"
            return None

    @rule(handle=st.sampled_from(HANDLES))
    def add_member(self, handle):
        self.attempt(
            lambda: self.ledger.add_member(
                Member(handle, handle.title(), "member", dt.date(2024, 1, 1)), actor="coord"
            )
        )

    @rule(
        givers=st.lists(st.sampled_from(HANDLES), min_size=1, max_size=2),
        receivers=st.lists(st.sampled_from(HANDLES), min_size=1, max_size=3),
        minutes=st.integers(1, 300),
        category=st.sampled_from(CATEGORIES),
        acknowledge=st.booleans(),
        days_ago=st.integers(0, 3),
    )
    def exchange(self, givers, receivers, minutes, category, acknowledge, days_ago):
        entry = self.attempt(
            lambda: self.ledger.record(
                Exchange(
                    tuple(givers),
                    tuple(receivers),
                    minutes,
                    dt.date.today() - dt.timedelta(days_ago),
                    category,
                    "coord",
                ),
                acknowledge=acknowledge,
            )
        )
        if entry is not None:
            self.entries.append(entry.id)

    @rule(
        source=st.sampled_from([*HANDLES, "@coop"]),
        sink=st.sampled_from([*HANDLES, "@coop"]),
        minutes=st.integers(1, 200),
    )
    def transfer(self, source, sink, minutes):
        entry = self.attempt(
            lambda: self.ledger.transfer(source, sink, minutes, actor="coord", acknowledge=True)
        )
        if entry is not None:
            self.entries.append(entry.id)

    @precondition(lambda self: self.entries)
    @rule(data=st.data())
    def reverse(self, data):
        entry_id = data.draw(st.sampled_from(self.entries))
        self.attempt(lambda: self.ledger.reverse(entry_id, reason="property", actor="coord"))

    @invariant()
    def ledger_holds(self):
        balances = self.ledger.balances()
        assert sum(value for _, value in balances) == 0
        for account, value in balances:
            posted = self.ledger.conn.execute(
                "SELECT coalesce(sum(p.amount), 0) FROM postings p JOIN accounts a"
                " ON a.id = p.account_id WHERE a.code = ?",
                (account.code,),
            ).fetchone()[0]
            assert posted == value
        report = self.ledger.verify()
        assert report.ok, report.problem


LedgerMachine.TestCase.settings = settings(
    max_examples=75,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLedgerProperties = LedgerMachine.TestCase
