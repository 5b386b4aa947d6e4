"""Four processes, two CLI-style and two TUI-style, write to one ledger at once; writers
and a long import."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SOAK, writer_command

from timebank.interchange import csvio
from timebank.ledger import Ledger
from timebank.plugin_manager import Plugins
from timebank.testing import snapshot_rows

PER_WRITER = 3000 if SOAK else 1000


def test_four_writers_lose_nothing_and_never_see_database_is_locked(roomy):
    path = roomy.path
    roomy.close()
    began = time.perf_counter()
    writers = {
        name: subprocess.Popen(
            writer_command(kind, path, name, PER_WRITER),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, kind in (("cli1", "cli"), ("cli2", "cli"), ("tui1", "ledger"), ("tui2", "ledger"))
    }
    for name, writer in writers.items():
        out, err = writer.communicate(timeout=600)
        assert writer.returncode == 0, f"{name}: {err[-500:]}"
        assert "locked" not in (out + err).lower()
    with Ledger(path) as ledger:
        notes = [row[0] for row in ledger.conn.execute("SELECT note FROM entries")]
        assert len(notes) == 4 * PER_WRITER
        for name in writers:
            assert {f"{name}-{i}" for i in range(PER_WRITER)} <= set(notes), name
        assert sum(value for _, value in ledger.balances()) == 0
        assert sum(ledger.balance(h) for h in ("alice", "bob", "carol", "dan")) == 0
        report = ledger.verify()
        assert report.ok, report.problem
    print(
        f"\n4 writers x {PER_WRITER}: {4 * PER_WRITER} exchanges in "
        f"{time.perf_counter() - began:.1f} s, all there"
    )


HOLDER = """
import os
import time
from pathlib import Path

from timebank import hookimpl


@hookimpl
def validate_exchanges(ledger, exchanges, settings):
    # Inside the import's write transaction: hold it until the test says so.
    folder = Path(os.environ["HOLD_DIR"])
    if any(e.note == "hold" for e in exchanges):
        (folder / "holding").touch()
        for _ in range(6000):
            if (folder / "release").exists():
                break
            time.sleep(0.01)
    return []
"""


def _timebank(*args, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "timebank", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )


def _wait_for(path: Path) -> None:
    for _ in range(3000):
        if path.exists():
            return
        time.sleep(0.01)
    raise AssertionError(f"{path.name} never appeared")


@pytest.fixture
def holding(make_ledger, tmp_path):
    """A ledger whose ``holder`` plugin holds an import open inside its write transaction
    until the file ``release`` appears; the environment for ``timebank`` and a 50-row CSV."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "holder.py").write_text(HOLDER)
    ledger = make_ledger(
        members={"alice": "member", "bob": "member"},
        overrides={"plugins": {"holder": {}}},
        plugins=Plugins(entry_points=False, plugins_dir=folder),
    )
    path = ledger.path
    ledger.close()
    env = {"TIMEBANK_PLUGINS_DIR": str(folder), "HOLD_DIR": str(tmp_path), "TIMEBANK_BUSY_TIMEOUT_MS": "200"}
    rows = [
        {
            "date": "2026-01-01",
            "giver": "alice",
            "receiver": "bob",
            "duration": "1m",
            "category": "shopping",
            "note": "hold" if n == 25 else f"row {n}",
        }
        for n in range(50)
    ]
    (tmp_path / "long.csv").write_text(csvio.exchanges_csv(rows))
    return path, env, rows


def test_writers_wait_out_an_import_longer_than_the_busy_timeout_and_are_told_why(holding, tmp_path):
    """The import holds the write lock well past the writers' busy timeout (0.2 s here, 60 s
    by default); a writer and a second import keep waiting, say once that an import is
    running, and then write."""
    path, env, rows = holding
    folder = tmp_path / "plugins"
    importer = _timebank(
        "import", "exchanges", tmp_path / "long.csv", "--as", "coord", "--ledger", path, env=env
    )
    _wait_for(tmp_path / "holding")
    (tmp_path / "short.csv").write_text(
        csvio.exchanges_csv([{**row, "note": "second import"} for row in rows[:3]])
    )
    writers = {
        "log": _timebank(
            "log",
            "bob",
            "alice",
            "1m",
            "-k",
            "shopping",
            "-n",
            "waited",
            "--as",
            "coord",
            "--ledger",
            path,
            env=env,
        ),
        "import": _timebank(
            "import", "exchanges", tmp_path / "short.csv", "--as", "coord", "--ledger", path, env=env
        ),
    }
    for writer in writers.values():
        assert writer.stderr.readline() == "an import is running; waiting…\n"
    time.sleep(1)  # five times their busy timeout: without the marker they would have given up
    assert all(writer.poll() is None for writer in writers.values()), "a writer stopped waiting"
    (tmp_path / "release").touch()
    out, err = importer.communicate(timeout=60)
    assert (importer.returncode, err) == (0, ""), err
    assert out.startswith("imported 50 exchanges")
    for kind, writer in writers.items():
        out, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err
        assert out.startswith("entry #" if kind == "log" else "imported 3 exchanges"), out
        assert err == "" and "locked" not in out.lower()
    with Ledger(path, Plugins(entry_points=False, plugins_dir=folder)) as ledger:
        notes = [row[0] for row in ledger.conn.execute("SELECT note FROM entries WHERE kind = 'service'")]
        assert len(notes) == 54 and {"waited", "second import", "hold"} <= set(notes)
        assert ledger.verify().ok


def test_a_writer_held_up_past_the_busy_timeout_by_anything_else_gives_up_in_one_sentence(make_ledger):
    ledger = make_ledger(members={"alice": "member", "bob": "member"})
    path = ledger.path
    before = snapshot_rows(ledger)
    ledger.close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline() == "holding\n"
        writer = _timebank(
            "log",
            "alice",
            "bob",
            "1h",
            "-k",
            "shopping",
            "--as",
            "coord",
            "--ledger",
            path,
            env={"TIMEBANK_BUSY_TIMEOUT_MS": "300"},
        )
        out, err = writer.communicate(timeout=60)
    finally:
        holder.communicate("done\n", timeout=30)
    assert (writer.returncode, out) == (1, "")
    assert err == (
        f"error: ledger: another program has kept {path} busy for more than 0.3 s, "
        "so nothing was written; try again when it has finished\n"
    )
    with Ledger(path) as ledger:
        assert snapshot_rows(ledger) == before


def test_a_killed_import_leaves_no_marker_behind(holding, tmp_path):
    """The marker is a kernel lock: SIGKILL the import half-way and the next writer neither
    waits nor says an import is running; the import left nothing (all or none)."""
    path, env, _ = holding
    importer = _timebank(
        "import", "exchanges", tmp_path / "long.csv", "--as", "coord", "--ledger", path, env=env
    )
    _wait_for(tmp_path / "holding")
    importer.send_signal(signal.SIGKILL)
    importer.wait(timeout=30)
    writer = _timebank(
        "log",
        "alice",
        "bob",
        "1m",
        "-k",
        "shopping",
        "-n",
        "after",
        "--as",
        "coord",
        "--ledger",
        path,
        env=env,
    )
    out, err = writer.communicate(timeout=60)
    assert (writer.returncode, err) == (0, ""), err
    with Ledger(path, Plugins(entry_points=False, plugins_dir=tmp_path / "plugins")) as ledger:
        notes = [row[0] for row in ledger.conn.execute("SELECT note FROM entries WHERE kind = 'service'")]
        assert notes == ["after"]
        assert ledger.verify().ok


def test_a_busy_timeout_that_is_not_a_number_is_one_sentence(make_ledger):
    ledger = make_ledger()
    ledger.close()
    writer = _timebank("balance", "coord", "--ledger", ledger.path, env={"TIMEBANK_BUSY_TIMEOUT_MS": "1.5s"})
    out, err = writer.communicate(timeout=60)
    assert writer.returncode == 1
    assert err == "error: TIMEBANK_BUSY_TIMEOUT_MS: '1.5s' is not a whole number of milliseconds above 0\n"


HOLD_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("holding", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""
