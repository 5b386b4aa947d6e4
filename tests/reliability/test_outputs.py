"""No command writes over the ledger, its side files, its anchors or a backup; outputs are whole.

Each output (export, publish --out, publish --metadata, backup, demo) is pointed at the
ledger by every route a careless user or an attacker has: its name, a symlink, a hard link,
its WAL, its anchors, a backup of it. The ledger and its anchors must stay byte for byte.
"""

import hashlib
import os
import sqlite3
import subprocess

import pytest
from click.testing import CliRunner

from timebank.cli.main import cli
from timebank.ledger import Ledger
from timebank.storage.backup import backup
from timebank.storage.outputs import output_file
from timebank.testing import exchange


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


@pytest.fixture
def closed(roomy, tmp_path):
    """A closed ledger with entries, its anchors, a backup, and links to it."""
    roomy.record(exchange("alice", "bob", 30))
    roomy.record(exchange("carol", "dan", 45))
    backup(roomy, tmp_path / "backup.sqlite")
    roomy.close()
    path = roomy.path
    (tmp_path / "link.sqlite").symlink_to(path)
    os.link(path, tmp_path / "hard.sqlite")
    return path


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


TARGETS = {
    "the ledger": lambda p: p,
    "a symlink to it": lambda p: p.with_name("link.sqlite"),
    "a hard link to it": lambda p: p.with_name("hard.sqlite"),
    "its WAL": lambda p: p.with_name(p.name + "-wal"),
    "its shared memory": lambda p: p.with_name(p.name + "-shm"),
    "its anchors": lambda p: p.with_name(p.name + ".anchors"),
    "its anchors through the symlink": lambda p: p.with_name("link.sqlite.anchors"),
    "a backup": lambda p: p.with_name("backup.sqlite"),
    "a backup's anchors": lambda p: p.with_name("backup.sqlite.anchors"),
}
COMMANDS = {
    "export": lambda target: ["export", "exchanges", "--out", target],
    "publish --out": lambda target: ["publish", "--out", target],
    "publish --metadata": lambda target: ["publish", "--out", "public.sqlite", "--metadata", target],
    "export entries": lambda target: ["export", "entries", "--out", target, "--as", "coord"],
    "export journal": lambda target: [
        "export",
        "journal",
        "--format",
        "hledger",
        "--out",
        target,
        "--as",
        "coord",
    ],
    "export ledger": lambda target: ["export", "ledger", "--out", target, "--as", "coord"],
    "digest": lambda target: ["digest", "--all-members", "--out", target, "--as", "coord"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("target", list(TARGETS))
def test_no_output_overwrites_the_ledger_its_files_or_a_backup(closed, command, target, monkeypatch):
    monkeypatch.chdir(closed.parent)
    files = [closed, *(closed.with_name(n) for n in ("ledger.sqlite.anchors", "backup.sqlite"))]
    files += [closed.with_name("backup.sqlite.anchors")]
    before = {f: digest(f) for f in files}
    path = TARGETS[target](closed)
    existed = os.path.lexists(path)
    typed = closed.with_name("link.sqlite") if "symlink" in target else closed
    result = run(*COMMANDS[command](path), "--ledger", typed)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "nothing was written" in result.stderr
    assert {f: digest(f) for f in files} == before
    assert os.path.lexists(path) == existed
    assert not list(closed.parent.glob(".*.tmp"))
    with Ledger(closed) as ledger:
        assert ledger.verify().ok and ledger.last_entry_id() == 2
    assert not closed.with_name("public.sqlite").exists(), "publish refused before writing anything"


def test_outputs_may_not_replace_another_applications_database(closed, tmp_path):
    other = tmp_path / "other-app.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    before = digest(other)
    for args in (["export", "members", "--out", other], ["publish", "--out", other]):
        result = run(*args, "--ledger", closed)
        assert result.exit_code == 1 and "another application's SQLite database" in result.stderr
    assert digest(other) == before


def test_outputs_replace_their_own_kind_whole_and_leave_no_temporary_file(closed, tmp_path):
    out = tmp_path / "exchanges.csv"
    out.write_text("old,contents\n")
    assert run("export", "exchanges", "--out", out, "--ledger", closed).exit_code == 0
    assert out.read_text().count("\n") == 3 and "old" not in out.read_text()
    assert oct(out.stat().st_mode & 0o777) == oct(0o600), "members' data is private"
    public = tmp_path / "public.sqlite"
    for _ in range(2):
        result = run("publish", "--out", public, "--metadata", tmp_path / "meta.json", "--ledger", closed)
        assert result.exit_code == 0, result.stderr
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_failed_output_leaves_the_old_file_and_no_temporary_file(tmp_path):
    out = tmp_path / "report.csv"
    out.write_text("the old report\n")
    with pytest.raises(RuntimeError), output_file(out, ledger=None, kind="csv") as temp:
        temp.write_text("half of the new")
        raise RuntimeError("killed half-way")
    assert out.read_text() == "the old report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.csv"]


def test_a_backup_never_replaces_a_file_that_appears_while_it_is_written(roomy, tmp_path):
    dest = tmp_path / "b.sqlite"
    with (
        pytest.raises(Exception, match="already exists"),
        output_file(dest, ledger=roomy.path, kind="backup", replace=False) as temp,
    ):
        temp.write_text("new")
        dest.write_text("someone else's")
    assert dest.read_text() == "someone else's"
    assert sorted(p.name for p in tmp_path.iterdir() if "b.sqlite" in p.name) == ["b.sqlite"]


def test_backup_refuses_the_ledger_and_its_anchors_by_any_name(closed, tmp_path):
    for dest in (closed.with_name("link.sqlite"), closed.with_name("hard.sqlite"), tmp_path / "x.sqlite"):
        if dest.name == "x.sqlite":
            (tmp_path / "x.sqlite.anchors").write_text("someone's anchors\n")
        result = run("backup", dest, "--ledger", closed)
        assert result.exit_code == 1, result.stderr
        assert "already exists" in result.stderr or "is the ledger itself" in result.stderr
    assert (tmp_path / "x.sqlite.anchors").read_text() == "someone's anchors\n"
    assert not (tmp_path / "x.sqlite").exists()


def test_export_may_still_write_to_a_pipe_or_terminal(closed, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE, text=True)
    result = run("export", "members", "--out", fifo, "--ledger", closed)
    assert result.exit_code == 0, result.stderr
    assert reader.communicate(timeout=30)[0].startswith("handle,")
    assert fifo.exists() and not list(tmp_path.glob(".*.tmp"))
    result = run("publish", "--out", fifo, "--ledger", closed)
    assert result.exit_code == 1 and "is not a regular file" in result.stderr


@pytest.mark.parametrize("suffix", ["-wal", "-journal", "-shm"])
def test_no_output_is_named_as_another_databases_side_file(closed, suffix):
    """A verified backup named ``other.sqlite-wal`` was deleted by SQLite the next time
    ``other.sqlite`` was opened: it took the backup for that database's own log."""
    other = closed.with_name("backup.sqlite")
    side = closed.with_name(f"backup.sqlite{suffix}")
    before, side_before = digest(other), digest(side)
    for args in (
        ["backup", f"{other}{suffix}"],
        ["export", "entries", "--out", f"{other}{suffix}", "--as", "coord"],
    ):
        result = run(*args, "--ledger", closed)
        assert result.exit_code == 1 and "is named as the" in result.stderr, result.stderr
    assert digest(other) == before and digest(side) == side_before


def test_whole_ledger_exports_are_private_to_their_owner(closed, tmp_path):
    """``export entries``, ``journal`` and ``ledger`` were made world-readable (umask 022)."""
    for kind, extra in (
        ("entries", []),
        ("postings", []),
        ("journal", ["--format", "beancount"]),
        ("ledger", []),
    ):
        out = tmp_path / f"{kind}.out"
        result = run("export", kind, *extra, "--out", out, "--as", "coord", "--ledger", closed)
        assert result.exit_code == 0, result.stderr
        assert out.stat().st_mode & 0o777 == 0o600, kind
