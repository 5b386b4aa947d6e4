"""Rows to records and back by field name (timebank/storage/rows.py), on real ledger files."""

import datetime as dt

from helpers import exchange

from timebank.chain import ENTRY_FIELDS, entry_hash
from timebank.models import Member
from timebank.storage import rows


def test_an_entry_is_read_by_column_name_whatever_the_order_of_the_select(ledger):
    written = ledger.record(exchange("alice", "bob,carol", minutes=61, note="tea", refs={"han": "north"}))
    backwards = rows.columns(reversed(rows.ENTRY_COLUMNS))
    row = rows.named(ledger.conn, f"SELECT {backwards} FROM entries WHERE id = ?", (written.id,)).fetchone()
    assert rows.entry_from_row(**row, postings=written.postings) == written
    in_order = ledger.conn.execute(
        f"SELECT {rows.columns(rows.ENTRY_COLUMNS)} FROM entries WHERE id = ?", (written.id,)
    ).fetchone()
    assert rows.entry_from_row(*in_order, postings=written.postings) == written


def test_an_entry_to_its_row_is_what_the_chain_hashed(ledger):
    entry = ledger.record(exchange(minutes=45, refs={"episode": "7"}))
    stored = rows.named(ledger.conn, "SELECT * FROM entries WHERE id = ?", (entry.id,)).fetchone()
    row = rows.entry_to_row(entry)
    assert row == {name: stored[name] for name in rows.ENTRY_COLUMNS}
    pairs = [(p.account, p.amount) for p in entry.postings]
    assert entry_hash(entry.prev_hash, [row[f] for f in ENTRY_FIELDS], pairs) == entry.hash


def test_a_member_goes_into_its_table_and_comes_back_the_same(ledger):
    member = Member(
        "dora",
        "Dora Day",
        "member",
        dt.date(2024, 2, 3),
        left=dt.date(2025, 1, 1),
        status="retired",
        area="north",
        flags={"b", "a"},
    )
    row = rows.member_to_row(member)
    assert row["flags"] == "a,b" and row["joined"] == "2024-02-03"
    with ledger.store.write() as conn:
        conn.execute(
            f"INSERT INTO members ({rows.columns(rows.MEMBER_COLUMNS)})"
            f" VALUES ({rows.placeholders(rows.MEMBER_COLUMNS)})",
            row,
        )
        back = rows.named(conn, "SELECT * FROM members WHERE handle = 'dora'").fetchone()
    assert rows.member_from_row(**{k: back[k] for k in rows.MEMBER_COLUMNS}) == member
    assert Member.from_row(dict(back)) == member


def test_a_claim_goes_into_its_table_and_comes_back_the_same(ledger):
    made = exchange("alice", "bob,carol", minutes=90, recorded_by="alice", note="garden", refs={"a": "1"})
    row = rows.claim_to_row(
        made, awaiting=("bob", "carol"), created_at="2026-01-01T00:00:00Z", auto_accept_on=dt.date(2026, 1, 8)
    )
    with ledger.store.write() as conn:
        claim_id = conn.execute(
            f"INSERT INTO claims ({rows.columns(row)}) VALUES ({rows.placeholders(row)})", row
        ).lastrowid
        stored = rows.named(conn, "SELECT * FROM claims WHERE id = ?", (claim_id,)).fetchone()
    claim = rows.claim_from_row(**stored, confirmed=("bob",))
    assert claim.exchange == made
    assert (claim.awaiting, claim.confirmed, claim.waiting_for) == (("bob", "carol"), ("bob",), ("carol",))
    assert (claim.status, claim.auto_accept_on, claim.withdrawn) == ("pending", dt.date(2026, 1, 8), False)
    older = {k: stored[k] for k in stored.keys() if k != "withdrawn"}  # noqa: SIM118
    assert rows.claim_from_row(**older, confirmed=("bob",)) == claim, (
        "a ledger before withdrawals reads as none withdrawn"
    )


def test_statement_lines_name_the_other_side_and_work_balances_back(ledger):
    ledger.record(exchange("alice", "bob", minutes=60))
    ledger.record(exchange("carol", "alice", minutes=30))
    posting_side = {"entry_id", "seq", "amount", "balance_after"}
    picked = ", ".join(("p." if c in posting_side else "e.") + c for c in rows.STATEMENT_COLUMNS)
    sql = (
        f"SELECT {picked} FROM postings p JOIN entries e ON e.id = p.entry_id"
        " JOIN accounts a ON a.id = p.account_id WHERE a.code = 'alice' ORDER BY p.entry_id DESC"
    )
    found = ledger.conn.execute(sql).fetchall()
    stored = rows.statement_lines("alice", found)
    assert [(line.amount, line.balance, line.counterparties) for line in stored] == [
        (-30, 30, ("carol",)),
        (60, 60, ("bob",)),
    ]
    worked = rows.statement_lines("alice", found, balance=100)
    assert [line.balance for line in worked] == [100, 130]


def test_the_read_facades_hold_no_sql():
    """Reading, SSH access and PINs ask the storage package; none runs a statement itself."""
    import inspect
    import re

    from timebank import access, pins, reading

    for module in (reading, access, pins):
        source = inspect.getsource(module)
        found = re.findall(r"\.execute\(|\.query\(|\b(?:SELECT|INSERT|UPDATE|DELETE)\b", source)
        assert not found, f"{module.__name__} runs SQL: {found}"


def test_postings_and_accounts_to_their_rows_are_what_the_ledger_stored(ledger):
    entry = ledger.record(exchange("alice", "bob", minutes=30))
    ids = ledger.account_ids()
    stored = ledger.conn.execute(
        f"SELECT {rows.columns(rows.POSTING_COLUMNS)} FROM postings WHERE entry_id = ? ORDER BY seq",
        (entry.id,),
    ).fetchall()
    made = [
        rows.posting_to_row(
            p, entry_id=entry.id, seq=seq, account_id=ids[p.account], balance_after=ledger.balance(p.account)
        )
        for seq, p in enumerate(entry.postings)
    ]
    assert [tuple(row[c] for c in rows.POSTING_COLUMNS) for row in made] == stored
    account = ledger.account("alice")
    alice_id = ledger.conn.execute("SELECT id FROM members WHERE handle = 'alice'").fetchone()[0]
    row = rows.account_to_row(account, member_id=alice_id)
    kept = rows.named(ledger.conn, "SELECT code, kind, name, member_id FROM accounts WHERE code = 'alice'")
    assert row == dict(kept.fetchone())
