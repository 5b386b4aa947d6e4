"""Changes behind the triggers' back, however careful, are named by ``verify``."""

import sqlite3

import pytest

from timebank.chain import GENESIS, SELECT_ENTRIES, entry_hash
from timebank.ledger import Ledger
from timebank.testing import exchange


@pytest.fixture
def ten(roomy):
    for minutes in range(1, 11):
        roomy.record(exchange("alice", "bob", minutes))
    assert roomy.verify().ok
    path = roomy.path
    roomy.close()
    return path


def raw(path):
    conn = sqlite3.connect(path)
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    for name, _ in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    return conn, triggers


def close(conn, triggers):
    for _, sql in triggers:
        conn.execute(sql)
    conn.commit()
    conn.close()


def rebuild_chain(conn, start):
    """What a careful attacker does: change entry ``start`` and recompute every hash after it."""
    codes = dict(conn.execute("SELECT id, code FROM accounts"))
    prev = conn.execute("SELECT hash FROM entries WHERE id = ?", (start - 1,)).fetchone()
    prev = prev[0] if prev else GENESIS
    for row in conn.execute(f"{SELECT_ENTRIES} WHERE id >= ? ORDER BY id", (start,)).fetchall():
        postings = [
            (codes[a], amount)
            for a, amount in conn.execute(
                "SELECT account_id, amount FROM postings WHERE entry_id = ? ORDER BY seq", (row[0],)
            )
        ]
        digest = entry_hash(prev, row[:13], postings)
        conn.execute("UPDATE entries SET prev_hash = ?, hash = ? WHERE id = ?", (prev, digest, row[0]))
        prev = digest


@pytest.mark.parametrize(
    "change, first_bad, fragment",
    [
        ("UPDATE entries SET note = 'changed' WHERE id = 4", 4, "was altered"),
        ("UPDATE postings SET amount = amount + 1 WHERE entry_id = 6 AND seq = 0", 6, "running balance"),
        ("UPDATE balances SET balance = 1", None, "is stored as"),
        ("DELETE FROM postings WHERE entry_id = 7", 7, "was altered"),
    ],
)
def test_a_changed_entry_posting_or_balance_is_named(ten, change, first_bad, fragment):
    conn, triggers = raw(ten)
    conn.execute(change)
    close(conn, triggers)
    report = Ledger(ten).verify()
    assert not report.ok and fragment in report.problem
    assert report.first_bad_entry == first_bad


def test_a_deleted_entry_is_named(ten):
    conn, triggers = raw(ten)
    conn.execute("DELETE FROM postings WHERE entry_id = 5")
    conn.execute("DELETE FROM entries WHERE id = 5")
    close(conn, triggers)
    report = Ledger(ten).verify()
    assert report.first_bad_entry == 5 and "missing" in report.problem


def test_a_chain_cut_and_rebuilt_from_some_point_is_named(ten):
    conn, triggers = raw(ten)
    conn.execute("UPDATE entries SET minutes = 600, note = 'it was ten hours' WHERE id = 5")
    rebuild_chain(conn, 5)
    close(conn, triggers)
    conn = sqlite3.connect(ten)  # the internal chain now holds together...
    assert conn.execute("SELECT count(*) FROM entries").fetchone()[0] == 10
    conn.close()
    report = Ledger(ten).verify()
    assert not report.ok
    assert report.first_bad_entry == 5, report.problem  # ...but not with what was recorded as it was written
    assert "chain was rebuilt" in report.problem


def test_entries_cut_off_the_end_are_noticed(ten):
    conn, triggers = raw(ten)
    conn.execute("DELETE FROM postings WHERE entry_id >= 9")
    conn.execute("DELETE FROM entries WHERE id >= 9")
    conn.execute(
        "UPDATE balances SET balance = (SELECT sum(amount) FROM postings p WHERE p.account_id ="
        " balances.account_id)"
    )
    close(conn, triggers)
    report = Ledger(ten).verify()
    assert report.first_bad_entry == 9 and "cut off the end" in report.problem


def test_a_published_head_hash_is_an_anchor_too(ten, tmp_path):
    with Ledger(ten) as ledger:
        head_id, head = ledger.last_entry_id(), ledger.head_hash()
    ten.with_name(ten.name + ".anchors").unlink()  # the attacker removed the anchors file as well
    conn, triggers = raw(ten)
    conn.execute("UPDATE entries SET note = 'x' WHERE id = 8")
    rebuild_chain(conn, 8)
    close(conn, triggers)
    with Ledger(ten) as ledger:
        assert ledger.verify().ok, "with no anchor left, the rebuilt chain holds together"
        report = ledger.verify({head_id: head})
    assert not report.ok and "chain was rebuilt" in report.problem


def test_a_new_ledger_where_an_old_one_was_deleted_starts_its_own_anchors(ten):
    from timebank.templates import load_template

    for suffix in ("", "-wal", "-shm"):
        ten.with_name(ten.name + suffix).unlink(missing_ok=True)
    assert ten.with_name(ten.name + ".anchors").exists(), "the old ledger's anchors were left behind"
    with Ledger.create(ten, load_template("time-bank")) as second:
        assert second.verify().ok
    assert list(ten.parent.glob(f"{ten.name}.anchors.orphaned-*"))


@pytest.mark.parametrize("stray", ["hello world", "12 not-a-hash", "entry 3 is fine, trust me"])
def test_anchors_with_lines_timebank_never_writes_do_not_vouch(ten, stray):
    """An anchors file holding ``hello world`` (a digest or an export written over it) passed
    ``verify`` as clean: it vouched for nothing and said so to no one."""
    from timebank.storage.anchors import anchor_path

    path = anchor_path(ten)
    lines = path.read_text().splitlines(True)
    path.write_text("".join([*lines[:3], stray + "\n", *lines[3:]]))
    report = Ledger(ten).verify()
    assert not report.ok and "is not an anchor" in report.problem
    path.write_text("".join(lines) + "7 abc")  # a torn last line, as a crash leaves: no alarm
    assert Ledger(ten).verify().ok
