"""A full disk: every command fails with one sentence, and the ledger stays as it was.

The disk is a small tmpfs mounted for the test, so this needs root (CI runs as root; a
developer's machine skips it and says why). The quick test fills the disk beside an open
ledger and runs every writing command once; the soak (``make soak``) writes through the
CLI until the disk fills by itself, several times over.
"""

import datetime as dt
import os
import subprocess
import uuid

import pytest
from click.testing import CliRunner
from conftest import ROOMY, SOAK

from timebank.cli.main import cli
from timebank.interchange import csvio
from timebank.ledger import Ledger
from timebank.testing import build_ledger, exchange

HANDLES = ("alice", "bob", "carol", "dan")


@pytest.fixture
def small_disk(tmp_path):
    """A folder on a tmpfs of its own, 1 MB (4 MB in the soak)."""
    if os.geteuid() != 0:
        pytest.skip("filling a disk needs a small tmpfs, and mounting one needs root")
    folder = tmp_path / "disk"
    folder.mkdir()
    size = "4m" if SOAK else "1m"
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"could not mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def make(folder):
    path = folder / "ledger.sqlite"
    with build_ledger(path, "time-bank", overrides=ROOMY, members={h: "member" for h in HANDLES}) as ledger:
        for i in range(5):
            ledger.record(exchange("alice", "bob", 30, note=f"before-{i}"))
    return path


def fill(folder):
    """Take every free block of the disk; return the filler, to delete later."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as stream:
        try:
            while True:
                stream.write(b"\0" * 4096)
        except OSError:
            pass
    assert os.statvfs(folder).f_bavail == 0
    return filler


def day(n):
    """Days spread over the years, so no daily limit stops a write before the disk does."""
    return (dt.date(2000, 1, 1) + dt.timedelta(days=n % 9000)).isoformat()


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_one_clear_sentence(result, *, saved_ok=False):
    """Exit 1 and one line naming the full disk (never a traceback, never 'not a ledger')."""
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "is full" in lines[0] or (saved_ok and "is saved, but its anchor" in lines[0]), lines[0]


def notes_in(path):
    with Ledger(path) as ledger:
        assert ledger.verify().ok, ledger.verify().problem
        return {row[0] for row in ledger.conn.execute("SELECT note FROM entries")}


def leftovers(folder):
    allowed = {"ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm", "ledger.sqlite.anchors", "filler"}
    allowed.add("ledger.sqlite.import-lock")  # the import marker, kept like SQLite's -shm
    return sorted(p.name for p in folder.iterdir() if p.name not in allowed and not p.name.endswith(".csv"))


def test_every_command_on_a_full_disk_says_so_and_changes_nothing(small_disk, tmp_path):
    path = make(small_disk)
    before = notes_in(path)
    csv = tmp_path / "import.csv"  # on the roomy disk: the import itself is what fills it
    csv.write_text(
        csvio.exchanges_csv(
            [
                {"date": f"2025-01-{n % 28 + 1:02d}", "giver": "carol", "receiver": "dan", "duration": "1m"}
                | {"category": "shopping", "note": f"imp-{n}"}
                for n in range(2000)
            ]
        )
    )
    backup_dir = tmp_path / "elsewhere"
    backup_dir.mkdir()
    assert invoke("backup", backup_dir / "b.sqlite", "--ledger", path).exit_code == 0
    with Ledger(path):  # another process has it open, as the TUI would: its -shm stays
        filler = fill(small_disk)
        for args in (
            ["log", "alice", "bob", "1h", "-k", "shopping", "--as", "coord", "-n", "full-1"],
            ["import", "exchanges", csv, "--as", "coord"],
            ["export", "exchanges", "--out", small_disk / "out.csv"],
            ["publish", "--out", small_disk / "public.sqlite", "--metadata", small_disk / "m.json"],
            ["backup", small_disk / "b.sqlite"],
            ["member", "add", "erin", "Erin", "--as", "coord"],
        ):
            result = invoke(*args, "--ledger", path)
            assert_one_clear_sentence(result, saved_ok=args[0] == "log")
        assert_one_clear_sentence(invoke("demo", "--ledger", small_disk / "demo.sqlite", "--members", "3"))
        assert_one_clear_sentence(invoke("init", "--ledger", small_disk / "new.sqlite"))
        assert leftovers(small_disk) == []
    result = invoke("restore", backup_dir / "b.sqlite", "--ledger", path)
    assert_one_clear_sentence(result)
    filler.unlink()
    after = notes_in(path)
    assert after - before <= {"full-1"} and before <= after, "an entry reported saved was kept, nothing else"
    assert (
        invoke("log", "alice", "bob", "1h", "-k", "shopping", "--as", "coord", "--ledger", path).exit_code
        == 0
    )


@pytest.mark.skipif(not SOAK, reason="soak only (make soak): writes until the disk fills, several rounds")
def test_writing_until_the_disk_fills_loses_nothing_reported_saved(small_disk, tmp_path):
    path = make(small_disk)
    saved = notes_in(path)
    for round_ in range(4):
        for old in small_disk.glob("ballast-*"):  # each round frees some room for the ledger to fill
            old.unlink()
        (small_disk / f"ballast-{round_}").write_bytes(os.urandom((4 - round_) * 384 * 1024))
        with Ledger(path):
            failures = 0
            i = 0
            while failures < 5:
                i += 1
                note = f"r{round_}-{i}-{uuid.uuid4().hex[:6]}"
                if i % 7 == 0:
                    csv = tmp_path / f"batch-{round_}-{i}.csv"
                    rows = [
                        {"date": day(i * 300 + n), "giver": "carol", "receiver": "dan", "duration": "1m"}
                        | {"category": "shopping", "note": f"{note}-{n}"}
                        for n in range(300)
                    ]
                    csv.write_text(csvio.exchanges_csv(rows))
                    result = invoke("import", "exchanges", csv, "--as", "coord", "--ledger", path)
                    if result.exit_code == 0:
                        saved |= {row["note"] for row in rows}
                else:
                    result = invoke(
                        "log",
                        "alice",
                        "bob",
                        "5m",
                        "-k",
                        "shopping",
                        "-n",
                        note,
                        "-d",
                        day(i),
                        "--as",
                        "coord",
                        "--ledger",
                        path,
                    )
                    if result.exit_code == 0 or "was saved, but" in result.stderr:
                        saved.add(note)
                if result.exit_code != 0:
                    assert_one_clear_sentence(result, saved_ok=True)
                    failures += 1
            for args in (
                ["export", "exchanges", "--out", small_disk / "out.csv"],
                ["publish", "--out", small_disk / "public.sqlite"],
            ):
                result = invoke(*args, "--ledger", path)
                if result.exit_code:
                    assert_one_clear_sentence(result)
            assert [n for n in leftovers(small_disk) if not n.startswith("ballast")] in ([], ["out.csv"])
        (small_disk / "out.csv").unlink(missing_ok=True)
        notes = notes_in(path)
        assert saved <= notes, sorted(saved - notes)[:5]
        batches = {n.rsplit("-", 1)[0] for n in notes if n.count("-") == 3}
        for batch in batches:  # an import is all rows or none
            assert sum(1 for n in notes if n.startswith(batch + "-")) == 300, batch
