"""Online backups while others write; restore only what verifies."""

import sqlite3
import stat
import subprocess
import time

import pytest
from click.testing import CliRunner
from conftest import writer_command

from timebank.cli.main import cli
from timebank.errors import InputError, LedgerCorrupt
from timebank.ledger import Ledger
from timebank.storage.backup import backup, restore
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
    path = roomy.path
    with pytest.raises(InputError, match="is open in another process"):
        restore(good, path)  # not under this process's own open connection either
    roomy.close()
    with pytest.raises(LedgerCorrupt, match="does not verify, so it was not restored"):
        restore(bad, path)
    with Ledger(path) as again:
        assert again.conn.execute("SELECT count(*) FROM entries").fetchone()[0] == before
    result = CliRunner().invoke(cli, ["restore", str(good), "--ledger", str(path), "--allow-fewer"])
    assert result.exit_code == 0, result.stderr
    with Ledger(path) as restored:
        assert restored.conn.execute("SELECT count(*) FROM entries").fetchone()[0] == before - 1
        assert restored.verify().ok
    assert list(path.parent.glob(f"{path.name}.before-restore-*")), "the replaced ledger is kept aside"


def test_backup_command(roomy, tmp_path):
    result = CliRunner().invoke(cli, ["backup", str(tmp_path / "b.sqlite"), "--ledger", str(roomy.path)])
    assert result.exit_code == 0 and "ledger verified" in result.output


# Restore: only what extends the history the ledger's anchors vouch for -------------------------

import hashlib  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402

from test_tampering import close, raw, rebuild_chain  # noqa: E402

from timebank.storage.anchors import read_anchor_file  # noqa: E402


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def snapshot(path):
    """The ledger and its anchors, byte for byte."""
    return digest(path), digest(path.with_name(path.name + ".anchors"))


@pytest.fixture
def five(roomy, tmp_path):
    """A closed ledger of five entries, and a backup taken after the third."""
    for minutes in (10, 20, 30):
        roomy.record(exchange("alice", "bob", minutes))
    backup(roomy, tmp_path / "after-three.sqlite")
    for minutes in (40, 50):
        roomy.record(exchange("carol", "dan", minutes))
    backup(roomy, tmp_path / "after-five.sqlite")
    roomy.close()
    return roomy.path


def run_restore(source, ledger, *extra):
    return CliRunner().invoke(cli, ["restore", str(source), "--ledger", str(ledger), *extra])


def test_restore_refuses_an_empty_file(five, tmp_path):
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    before = snapshot(five)
    result = run_restore(empty, five)
    assert result.exit_code == 1 and "is not a timebank ledger" in result.stderr
    assert snapshot(five) == before and empty.read_bytes() == b""
    assert not list(tmp_path.glob(".*"))


def test_restore_refuses_a_backup_killed_half_way_and_leaves_it_as_it_was(five, tmp_path):
    """The old backup wrote straight to DEST; killed mid-way, a hot journal rolls it back to empty."""
    killed = tmp_path / "killed.sqlite"
    script = textwrap.dedent(
        f"""
        import os, signal, sqlite3
        source = sqlite3.connect({str(five)!r})
        target = sqlite3.connect({str(killed)!r})
        target.execute("PRAGMA cache_size = 1")
        def progress(status, remaining, total):
            if total - remaining >= 3:
                os.kill(os.getpid(), signal.SIGKILL)
        source.backup(target, pages=1, progress=progress)
        """
    )
    assert subprocess.run([sys.executable, "-c", script]).returncode == -9
    journal = tmp_path / "killed.sqlite-journal"
    assert journal.exists(), "the killed backup left a hot journal"
    source_before, journal_before, before = digest(killed), digest(journal), snapshot(five)
    result = run_restore(killed, five)
    assert result.exit_code == 1, result.output
    assert "not a timebank ledger" in result.stderr or "has 0 entries" in result.stderr
    assert snapshot(five) == before
    assert (digest(killed), digest(journal)) == (source_before, journal_before), "the source is untouched"


def test_restore_refuses_fewer_entries_unless_told(five, tmp_path):
    before = snapshot(five)
    result = run_restore(tmp_path / "after-three.sqlite", five)
    assert result.exit_code == 1
    assert "has 3 entries but the ledger has 5, so restoring it would lose 2 entries" in result.stderr
    assert snapshot(five) == before
    left = sorted(p.name for p in tmp_path.glob("ledger.sqlite*"))
    assert left == ["ledger.sqlite", "ledger.sqlite.anchors"], "a refused restore leaves no side file"
    result = run_restore(tmp_path / "after-three.sqlite", five, "--allow-fewer")
    assert result.exit_code == 0, result.stderr
    with Ledger(five) as ledger:
        assert ledger.last_entry_id() == 3 and ledger.verify().ok
    (aside,) = tmp_path.glob("ledger.sqlite.before-restore-*[0-9]")
    assert digest(aside) == before[0] and digest(aside.with_name(aside.name + ".anchors")) == before[1]
    with Ledger(aside) as old:
        assert old.last_entry_id() == 5 and old.verify().ok, "the replaced ledger keeps its anchors"


def test_restore_refuses_a_rewritten_history_unless_overridden_and_records_the_override(five, tmp_path):
    forged = tmp_path / "after-five.sqlite"
    conn, triggers = raw(forged)
    conn.execute("UPDATE entries SET minutes = 600, note = 'it was ten hours' WHERE id = 2")
    rebuild_chain(conn, 2)
    close(conn, triggers)
    forged.with_name(forged.name + ".anchors").unlink()  # the forger removed the backup's anchors
    with Ledger(forged) as copy:
        assert copy.verify().ok, "on its own, the rewritten backup holds together"
    before = snapshot(five)
    result = run_restore(forged, five)
    assert result.exit_code == 1
    assert "entry #2" in result.stderr and "history was rewritten" in result.stderr
    assert snapshot(five) == before
    result = run_restore(
        forged, five, "--override-history", "treasurer checked the paper records", "--as", "coord"
    )
    assert result.exit_code == 0, result.stderr
    assert "history override recorded" in result.stdout
    text = five.with_name(five.name + ".anchors").read_text()
    assert "history override" in text and "treasurer checked the paper records" in text and "coord" in text
    with Ledger(five) as ledger:
        assert ledger.verify().ok


def test_restore_refuses_a_backup_of_another_ledger(five, tmp_path, make_ledger):
    other = make_ledger("time-bank", members={"zed": "member", "yan": "member"}, name="other-coop.sqlite")
    for _ in range(6):
        other.record(exchange("zed", "yan", 15))
    backup(other, tmp_path / "other.sqlite")
    before = snapshot(five)
    result = run_restore(tmp_path / "other.sqlite", five)
    assert result.exit_code == 1 and "a backup of another ledger" in result.stderr
    assert snapshot(five) == before


def test_restore_over_a_damaged_ledger_works(five, tmp_path):
    with open(five, "r+b") as stream:
        stream.write(b"\0" * 4096)  # the first page, with the header, is gone
    result = run_restore(tmp_path / "after-five.sqlite", five)
    assert result.exit_code == 0, result.stderr
    with Ledger(five) as ledger:
        assert ledger.last_entry_id() == 5 and ledger.verify().ok
    result = run_restore(tmp_path / "after-three.sqlite", five)
    assert result.exit_code == 1 and "lose 2 entries" in result.stderr, "the anchors still count"


def test_two_restores_in_the_same_second_keep_both_replaced_ledgers(five, tmp_path):
    for _ in range(3):
        assert run_restore(tmp_path / "after-five.sqlite", five).exit_code == 0
    asides = list(tmp_path.glob("ledger.sqlite.before-restore-*[0-9]"))
    assert len(asides) == 3 and len(list(tmp_path.glob("ledger.sqlite.before-restore-*.anchors"))) == 3


def test_restore_refuses_while_another_process_has_the_ledger_open(five, tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import sys; from timebank.ledger import Ledger; l = Ledger({str(five)!r}); "
            "print('open', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "open\n"
        before = snapshot(five)
        result = run_restore(tmp_path / "after-five.sqlite", five)
        assert result.exit_code == 1 and "is open in another process" in result.stderr
        assert snapshot(five) == before
    finally:
        holder.communicate("")
    assert run_restore(tmp_path / "after-five.sqlite", five).exit_code == 0


CRASHING_RESTORE = """
import os, signal, sys
from pathlib import Path
from timebank.storage.backup import restore
limit, renames = int(sys.argv[3]), [0]
real_rename = os.rename
def rename(*args):
    if renames[0] == limit:
        os.kill(os.getpid(), signal.SIGKILL)
    renames[0] += 1
    real_rename(*args)
os.rename = rename
restore(Path(sys.argv[1]), Path(sys.argv[2]))
"""


def test_a_restore_killed_at_any_step_never_raises_a_false_alarm_nor_loses_a_ledger(five, tmp_path):
    """Killed before each of its renames: whatever ledger sits at the path verifies, none is lost."""
    source = tmp_path / "after-five.sqlite"
    for limit in range(8):
        done = subprocess.run([sys.executable, "-c", CRASHING_RESTORE, source, five, str(limit)])
        if five.exists():
            with Ledger(five) as ledger:
                report = ledger.verify()
                assert report.ok, (limit, report.problem)
        else:
            assert list(tmp_path.glob("ledger.sqlite.before-restore-*[0-9]")), "the old ledger is aside"
            assert run_restore(source, five).exit_code == 0, "a second restore finishes the job"
        if done.returncode == 0:
            break
    else:
        pytest.fail("the restore never finished")
    for aside in tmp_path.glob("ledger.sqlite.before-restore-*[0-9]"):
        with Ledger(aside) as old:
            assert old.verify().ok and old.last_entry_id() == 5


def test_restore_records_itself_in_the_anchors(five, tmp_path):
    assert run_restore(tmp_path / "after-five.sqlite", five).exit_code == 0
    anchors = read_anchor_file(five.with_name(five.name + ".anchors"))
    with Ledger(five) as ledger:
        assert (
            anchors.ledger_id
            and anchors.ledger_id
            == ledger.conn.execute("SELECT value FROM meta WHERE key = 'ledger_id'").fetchone()[0]
        )
    assert set(anchors.hashes) == {1, 2, 3, 4, 5}, "the anchors it vouched with are kept"
    assert "restored at" in five.with_name(five.name + ".anchors").read_text()
    assert os.stat(five.with_name(five.name + ".anchors")).st_mode & 0o077 == 0


def test_a_backup_from_before_ledger_ids_restores_and_takes_the_ledgers_id(five, tmp_path):
    old = tmp_path / "after-five.sqlite"
    conn = sqlite3.connect(old)
    conn.execute("DELETE FROM meta WHERE key = 'ledger_id'")
    conn.commit()
    conn.close()
    old.with_name(old.name + ".anchors").unlink()
    with Ledger(five) as ledger:
        own_id = ledger.conn.execute("SELECT value FROM meta WHERE key = 'ledger_id'").fetchone()[0]
    assert run_restore(old, five).exit_code == 0
    with Ledger(five) as ledger:
        assert ledger.conn.execute("SELECT value FROM meta WHERE key = 'ledger_id'").fetchone()[0] == own_id
        assert ledger.verify().ok
    assert read_anchor_file(five.with_name(five.name + ".anchors")).ledger_id == own_id
