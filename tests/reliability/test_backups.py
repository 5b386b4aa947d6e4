"""Online backups while others write; restore only what verifies."""

import sqlite3
import stat
import subprocess
import time

import pytest
from click.testing import CliRunner
from conftest import writer_command

from timebank.backup import backup, restore
from timebank.cli import cli
from timebank.errors import InputError, LedgerCorrupt
from timebank.ledger import Ledger
from timebank.testing import exchange


def test_backup_while_another_process_writes_and_the_copy_verifies(roomy, tmp_path):
    path = roomy.path
    writer = subprocess.Popen(writer_command("ledger", path, "busy", 3000), stderr=subprocess.PIPE, text=True)
    copies, writing = [], []
    try:
        while roomy.last_entry_id() < 50:
            time.sleep(0.02)
        for i in range(5):
            dest = tmp_path / f"backup-{i}.sqlite"
            report = backup(roomy, dest)
            assert report.ok
            copies.append(report.entries)
            writing.append(writer.poll() is None)
            time.sleep(0.1)
    finally:
        assert writer.wait(timeout=300) == 0, writer.stderr.read()
    assert all(writing), "the writer was still writing during every backup"
    assert copies == sorted(copies) and copies[0] >= 50 and copies[-1] > copies[0], copies
    for i in range(5):
        with Ledger(tmp_path / f"backup-{i}.sqlite") as copy:
            assert copy.verify().ok
        assert stat.S_IMODE((tmp_path / f"backup-{i}.sqlite").stat().st_mode) == 0o600


def test_backup_refuses_to_overwrite(roomy, tmp_path):
    (tmp_path / "exists.sqlite").write_text("keep me")
    with pytest.raises(InputError, match="already exists"):
        backup(roomy, tmp_path / "exists.sqlite")
    assert (tmp_path / "exists.sqlite").read_text() == "keep me"


def test_restore_refuses_a_copy_that_does_not_verify(roomy, tmp_path):
    roomy.record(exchange("alice", "bob", 30))
    good = tmp_path / "good.sqlite"
    backup(roomy, good)
    bad = tmp_path / "bad.sqlite"
    backup(roomy, bad)
    conn = sqlite3.connect(bad)
    conn.execute("DROP TRIGGER entries_no_update")
    conn.execute("UPDATE entries SET minutes = 999")
    conn.commit()
    conn.close()
    roomy.record(exchange("carol", "dan", 45))
    before = roomy.conn.execute("SELECT count(*) FROM entries").fetchone()[0]
    with pytest.raises(LedgerCorrupt, match="does not verify, so it was not restored"):
        restore(bad, roomy.path)
    assert roomy.conn.execute("SELECT count(*) FROM entries").fetchone()[0] == before
    path = roomy.path
    roomy.close()
    result = CliRunner().invoke(cli, ["restore", str(good), "--ledger", str(path), "--allow-fewer"])
    assert result.exit_code == 0, result.stderr
    with Ledger(path) as restored:
        assert restored.conn.execute("SELECT count(*) FROM entries").fetchone()[0] == before - 1
        assert restored.verify().ok
    assert list(path.parent.glob(f"{path.name}.before-restore-*")), "the replaced ledger is kept aside"


def test_backup_command(roomy, tmp_path):
    result = CliRunner().invoke(cli, ["backup", str(tmp_path / "b.sqlite"), "--ledger", str(roomy.path)])
    assert result.exit_code == 0 and "ledger verified" in result.output
