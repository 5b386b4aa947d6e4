"""The statement by day: a slip typed late sits on its day, the running balance recomputed in
that order, and pages keyed on (day, entry, posting) lose and repeat nothing."""

import datetime as dt

from timebank.testing import exchange


def test_pages_by_day_with_running_balance(make_ledger):
    ledger = make_ledger("time-bank", members={"alice": "member", "bob": "member"})
    start = dt.date(2026, 1, 1)
    days = [start + dt.timedelta(days=(i * 7) % 30) for i in range(30)]  # typed out of order
    for i, day in enumerate(days):
        ledger.record(exchange("alice", "bob", 10 + i, day=day))
    lines, before = [], None
    while True:
        page = ledger.statement_by_day("alice", limit=7, before=before)
        lines += page
        if len(page) < 7:
            break
        last = page[-1]
        before = (last.day.isoformat(), last.entry_id, last.seq)
    assert len(lines) == 30 and len({line.key for line in lines}) == 30
    keys = [(line.day, line.entry_id, line.seq) for line in lines]
    assert keys == sorted(keys, reverse=True)
    assert lines[0].balance == ledger.balance("alice")
    for newer, older in zip(lines, lines[1:], strict=False):
        assert older.balance == newer.balance - newer.amount  # recomputed in day order
    assert lines[-1].balance == lines[-1].amount
