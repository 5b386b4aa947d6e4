"""Once an entry is committed, a failing follow-up (an after-hook, the anchor) cannot unsay it.

The CLI says the entry is saved, exits 0 and names the follow-up that failed on stderr, so
nobody records the entry again. Run through the real ``timebank`` command in its own
process, with a plugin folder (``TIMEBANK_PLUGINS_DIR``) holding the faulty plugin.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from timebank.interchange import csvio
from timebank.plugin_manager import Plugins
from timebank.storage.anchors import anchor_path

FAILING = """
from timebank import hookimpl

@hookimpl
def after_entries_recorded(ledger, entries, settings):
    raise RuntimeError("the mail server is down")
"""

AUDIT = """
import os
from timebank import hookimpl

@hookimpl
def after_entries_recorded(ledger, entries, settings):
    with open(os.environ["AUDIT_FILE"], "a") as out:
        out.write(" ".join(str(e.id) for e in entries) + "\\n")
"""


def timebank(*args, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "timebank", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def notes(path, note: str) -> int:
    import sqlite3

    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM entries WHERE note LIKE ?", (note,)).fetchone()[0]


@pytest.fixture
def noisy(make_ledger, tmp_path):
    """A ledger whose rules enable ``notify`` (its after-hook raises) and ``audit``.

    ``notify`` is registered after ``audit``, so it is called first: ``audit`` still
    running shows one failing plugin does not stop the others.
    """
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "notify.py").write_text(textwrap.dedent(FAILING))
    (folder / "audit.py").write_text(textwrap.dedent(AUDIT))
    ledger = make_ledger(
        members={"alice": "member", "bob": "member"},
        overrides={"plugins": {"notify": {}, "audit": {}}},
        plugins=Plugins(entry_points=False, plugins_dir=folder),
    )
    ledger.close()
    env = {"TIMEBANK_PLUGINS_DIR": str(folder), "AUDIT_FILE": str(tmp_path / "audit.txt")}
    return ledger.path, env, tmp_path / "audit.txt"


def test_an_after_hook_failing_after_the_commit_is_a_warning_and_exit_0(noisy):
    path, env, audit = noisy
    done = timebank(
        "log",
        "alice",
        "bob",
        "1h",
        "-k",
        "shopping",
        "-n",
        "once",
        "--as",
        "coord",
        "--ledger",
        path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    entry_id = int(done.stdout.split()[1].lstrip("#"))
    assert done.stdout.startswith(f"entry #{entry_id} saved")
    assert done.stderr == (
        f"warning: entry #{entry_id} is saved, but plugin 'notify' failed in after_entries_recorded: "
        "RuntimeError: the mail server is down; it stands, so do not record it again\n"
    )
    assert notes(path, "once") == 1
    assert audit.read_text().split() == [str(entry_id)], "the other plugin's after-hook still ran"


def test_an_import_whose_after_hook_fails_is_reported_imported_with_a_warning(noisy, tmp_path):
    path, env, audit = noisy
    rows = [
        {
            "date": "2026-01-0" + str(d),
            "giver": "alice",
            "receiver": "bob",
            "duration": "30m",
            "category": "shopping",
            "note": f"imported {d}",
        }
        for d in (1, 2, 3)
    ]
    csv_path = tmp_path / "three.csv"
    csv_path.write_text(csvio.exchanges_csv(rows))
    done = timebank("import", "exchanges", csv_path, "--as", "coord", "--ledger", path, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("imported 3 exchanges")
    [warning] = done.stderr.splitlines()
    assert warning.startswith("warning: entries #") and " are saved, but plugin 'notify' failed" in warning
    assert warning.endswith("they stand, so do not record them again")
    assert notes(path, "imported %") == 3


def test_an_anchor_that_cannot_be_written_is_a_warning_and_exit_0(make_ledger):
    ledger = make_ledger(members={"alice": "member", "bob": "member"})
    ledger.close()
    anchors = anchor_path(ledger.path)
    anchors.unlink(missing_ok=True)
    anchors.mkdir()  # cannot be appended to, even by root
    done = timebank(
        "log",
        "alice",
        "bob",
        "1h",
        "-k",
        "shopping",
        "-n",
        "anchorless",
        "--as",
        "coord",
        "--ledger",
        ledger.path,
    )
    assert done.returncode == 0, done.stderr
    entry_id = int(done.stdout.split()[1].lstrip("#"))
    [warning] = done.stderr.splitlines()
    assert warning.startswith(
        f"warning: entry #{entry_id} is saved, but its anchor could not be added to {anchors}"
    )
    assert "do not record it again" in warning
    assert notes(ledger.path, "anchorless") == 1
