"""Storage: append-only triggers, migrations, pragmas, file permissions, tamper detection."""

import sqlite3
import stat

import pytest
from helpers import exchange

from timebank.ledger import Ledger
from timebank.storage.store import MIGRATIONS


def test_raw_update_or_delete_of_an_entry_is_refused(ledger, ledger_path):
    ledger.record(exchange())
    raw = sqlite3.connect(ledger_path)
    for statement in (
        "UPDATE entries SET minutes = 600",
        "DELETE FROM entries",
        "UPDATE postings SET amount = 1",
        "DELETE FROM postings",
        "DELETE FROM rules",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute(statement)
    raw.close()
    assert ledger.verify().ok


def _tamper(path, *statements):
    """Change the file behind the triggers' back, as an attacker with the file could."""
    raw = sqlite3.connect(path)
    triggers = raw.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    for name, _ in triggers:
        raw.execute(f"DROP TRIGGER {name}")
    for statement in statements:
        raw.execute(statement)
    for _, sql in triggers:
        raw.execute(sql)
    raw.commit()
    raw.close()


@pytest.fixture
def three_entries(ledger):
    for minutes in (30, 60, 90):
        ledger.record(exchange(minutes=minutes))
    assert ledger.verify().ok
    return ledger


@pytest.mark.parametrize(
    "statements, first_bad, fragment",
    [
        (["UPDATE entries SET note = 'edited' WHERE id = 2"], 2, "was altered"),
        (["UPDATE entries SET minutes = 600 WHERE id = 2"], 2, "was altered"),
        (
            [
                "UPDATE postings SET amount = 61, balance_after = 91 WHERE entry_id = 2 AND seq = 0",
                "UPDATE postings SET balance_after = 181 WHERE entry_id = 3 AND seq = 0",
            ],
            2,
            "was altered",
        ),
        (
            ["DELETE FROM postings WHERE entry_id = 3", "DELETE FROM entries WHERE id = 2"],
            2,
            "missing",
        ),
        (
            ["UPDATE postings SET balance_after = 5 WHERE entry_id = 1 AND seq = 0"],
            1,
            "running balance",
        ),
    ],
)
def test_verify_names_the_first_bad_entry(three_entries, ledger_path, statements, first_bad, fragment):
    _tamper(ledger_path, *statements)
    report = Ledger(ledger_path).verify()
    assert not report.ok
    assert report.first_bad_entry == first_bad
    assert fragment in report.problem


def test_verify_finds_a_stored_balance_that_does_not_match(three_entries, ledger_path):
    _tamper(ledger_path, "UPDATE balances SET balance = balance + 60")
    report = Ledger(ledger_path).verify()
    assert "is stored as" in report.problem and "postings sum to" in report.problem


def test_verify_finds_a_chain_cut_and_rebuilt(three_entries, ledger_path):
    """An attacker who rewrites entry 2 and recomputes hashes from there still breaks entry 3's
    link, unless they rewrite the tail too; then the head hash differs from any published one."""
    head = three_entries.head_hash()
    _tamper(ledger_path, "UPDATE entries SET prev_hash = 'x' WHERE id = 3")
    report = Ledger(ledger_path).verify()
    assert report.first_bad_entry == 3 and "does not link" in report.problem
    assert Ledger(ledger_path).head_hash() == head


def test_migrations_are_recorded_and_pragmas_set(ledger):
    versions = [r[0] for r in ledger.conn.execute("SELECT version FROM migrations")]
    assert versions == [number for number, _, _ in MIGRATIONS]  # numbers are assigned, not contiguous
    assert ledger.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert ledger.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert ledger.conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_reopening_does_not_migrate_again(ledger, ledger_path):
    ledger.close()
    with Ledger(ledger_path) as again:
        assert again.conn.execute("SELECT count(*) FROM migrations").fetchone()[0] == len(MIGRATIONS)


def test_ledger_file_is_private_to_its_owner(ledger, ledger_path):
    assert stat.S_IMODE(ledger_path.stat().st_mode) == 0o600


def test_a_file_that_is_not_a_ledger_is_refused_with_a_sentence(tmp_path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("shopping list\n" * 100)
    with pytest.raises(Exception, match="is not a timebank ledger"):
        Ledger(bogus)
