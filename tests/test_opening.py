"""Opening a ledger: only init creates one, only upgrade migrates one, and a file that is not
a ledger, a ledger from a newer timebank, or one we may not read or write is named with one
sentence and left exactly as it was."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from timebank.cli.main import cli
from timebank.errors import TimebankError
from timebank.ledger import Ledger
from timebank.storage.anchors import anchor_path
from timebank.storage.store import MIGRATIONS, SCHEMA_VERSION, WRITTEN_BY_KEY, LedgerTooNew, _apply

LOG = ("log", "alice", "bob", "1h", "-k", "shopping", "--as", "coordinator")


def invoke(path: Path, *args: str):
    return CliRunner().invoke(cli, [*args, "--ledger", str(path)] if args else ["--ledger", str(path)])


def make_ledger(path: Path) -> Path:
    """A ledger made by the real CLI: the co-ordinator, two members, two entries."""
    for args in (
        ("init", "--name", "Valley Care"),
        ("member", "add", "alice", "Alice", "--as", "coordinator"),
        ("member", "add", "bob", "Bob", "--as", "coordinator"),
        LOG,
        ("log", "bob", "alice", "30m", "-k", "shopping", "--as", "coordinator"),
    ):
        result = invoke(path, *args)
        assert result.exit_code == 0, result.output
    return path


def snapshot(folder: Path) -> dict[str, str]:
    """Every file in ``folder`` and a hash of its bytes."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


EMPTY = hashlib.sha256(b"").hexdigest()


def assert_unchanged(before: dict[str, str], after: dict[str, str]) -> None:
    """Every file byte-for-byte as it was. Reading a database that is in WAL mode makes
    SQLite leave an empty ``-wal`` and its ``-shm`` index beside it: those alone may appear."""
    assert {k: v for k, v in after.items() if k in before} == before
    for name in set(after) - set(before):
        assert name.endswith(("-wal", "-shm")), name
        assert not name.endswith("-wal") or after[name] == EMPTY, name


def dump(path: Path) -> list:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def at_schema(source: Path, dest: Path, schema: int) -> Path:
    """The ledger ``source`` as a timebank that knew only migrations up to ``schema`` wrote it.

    Migrations only add (tables, columns with defaults), so an older ledger is the newer
    one's rows, projected onto the older tables' columns.
    """
    conn = sqlite3.connect(dest, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN")
    _apply(conn, [m for m in MIGRATIONS if m[0] <= schema])
    conn.execute("ATTACH DATABASE ? AS src", (str(source),))
    tables = [
        row[0]
        for row in conn.execute("SELECT name FROM main.sqlite_master WHERE type = 'table'")
        if row[0] != "migrations" and not row[0].startswith("sqlite_")
    ]
    for table in tables:
        columns = ", ".join(row[1] for row in conn.execute(f"PRAGMA main.table_info({table})"))
        conn.execute(f"INSERT OR REPLACE INTO main.{table} ({columns}) SELECT {columns} FROM src.{table}")
    conn.execute("COMMIT")
    conn.execute("DETACH DATABASE src")
    conn.close()
    shutil.copy(anchor_path(source), anchor_path(dest))
    return dest


# 1. a file that is not a ledger ---------------------------------------------------------


def other_apps_database(path: Path, *, wal: bool) -> Path:
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO recipes (name) VALUES ('soup')")
    conn.commit()
    conn.close()
    return path


def not_ledgers(folder: Path) -> dict[str, Path]:
    folder.mkdir()
    empty = folder / "empty.sqlite"
    empty.touch()
    text = folder / "notes.txt"
    text.write_text("shopping list\n" * 50)
    migrations_only = folder / "lookalike.sqlite"
    conn = sqlite3.connect(migrations_only)
    conn.execute("CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)")
    conn.execute("INSERT INTO migrations VALUES (1, 'create users', '2024')")
    for table in ("meta", "rules", "entries", "postings", "accounts"):
        conn.execute(f"CREATE TABLE {table} (x)")
    conn.commit()
    conn.close()
    return {
        "another app's database": other_apps_database(folder / "recipes.db", wal=False),
        "another app's WAL database": other_apps_database(folder / "recipes-wal.db", wal=True),
        "an empty file": empty,
        "a text file": text,
        "a database with a migrations table of its own": migrations_only,
    }


@pytest.mark.parametrize("command", [(), ("balance",), ("summary",), LOG, ("verify",), ("rules", "show")])
def test_a_file_that_is_not_a_ledger_is_refused_and_left_unchanged(tmp_path, command):
    files = not_ledgers(tmp_path / "files")
    before = snapshot(tmp_path / "files")
    for what, path in files.items():
        result = invoke(path, *command)
        assert result.exit_code == 1, (what, result.output)
        assert result.stderr.count("\n") == 1 and "not a timebank ledger" in result.stderr, (
            what,
            result.stderr,
        )
        assert str(path) in result.stderr
    after = snapshot(tmp_path / "files")
    assert_unchanged(before, after)
    assert set(after) - set(before) <= {"recipes-wal.db-wal", "recipes-wal.db-shm"}


def test_a_missing_ledger_is_named_and_not_created(tmp_path):
    path = tmp_path / "typo.sqlite"
    for command in (("balance",), LOG, ("upgrade",)):
        result = invoke(path, *command)
        assert result.exit_code == 1
        assert (
            result.stderr
            == f"error: no ledger at {path}; create one with 'timebank init' or 'timebank demo'\n"
        )
    assert list(tmp_path.iterdir()) == []


def test_only_init_creates_a_ledger_and_the_api_never_migrates_another_file(tmp_path):
    files = not_ledgers(tmp_path / "files")
    for path in files.values():
        before = path.read_bytes()
        with pytest.raises(TimebankError, match="not a timebank ledger"):
            Ledger(path)
        assert path.read_bytes() == before
    assert "already exists" in invoke(files["an empty file"], "init").stderr


# 2. an older schema: read it, refuse to write it, upgrade it ---------------------------


@pytest.fixture
def old_ledger(tmp_path):
    """A ledger with members and entries at schema 1 (only the first migration applied)."""
    current = make_ledger(tmp_path / "current" / "coop.sqlite")
    (tmp_path / "old").mkdir()
    return at_schema(current, tmp_path / "old" / "coop.sqlite", 1)


def test_an_older_ledger_is_readable_but_writes_ask_for_upgrade(old_ledger):
    before = dump(old_ledger)
    result = invoke(old_ledger, "balance", "alice")
    assert result.exit_code == 0 and result.output == "alice: 30m\n"
    result = invoke(old_ledger, *LOG)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: the ledger {old_ledger} needs 'timebank upgrade' "
        f"(schema 1, this timebank needs {SCHEMA_VERSION})\n"
    )
    # a reading command that needs what the newer schema adds says the same, not a traceback
    result = invoke(old_ledger, "statement", "alice")
    assert result.exit_code in (0, 1)
    if result.exit_code:
        assert "needs 'timebank upgrade' (schema 1" in result.stderr
    assert dump(old_ledger) == before


def test_upgrade_backs_up_verifies_and_migrates_in_one_step(old_ledger):
    before = dump(old_ledger)
    result = invoke(old_ledger, "upgrade")
    assert result.exit_code == 0, result.output
    backups = sorted(old_ledger.parent.glob("coop.sqlite.before-upgrade-1-*"))
    backup = next(b for b in backups if not b.name.endswith(".anchors"))
    assert result.output.startswith(
        f"upgraded {old_ledger} from schema 1 to {SCHEMA_VERSION} (migrations 2 ("
    )
    assert f"is kept, verified, at {backup}" in result.output
    assert dump(backup) == before  # the backup is the ledger as it was, still at schema 1
    with Ledger(old_ledger) as ledger:
        versions = [r[0] for r in ledger.conn.execute("SELECT version FROM migrations")]
        assert versions == [m[0] for m in MIGRATIONS]
    assert "ledger verified: 2 entries" in invoke(old_ledger, "verify").output
    assert invoke(old_ledger, *LOG).output.startswith("entry #3 saved")
    assert (
        invoke(old_ledger, "upgrade").output
        == f"{old_ledger} is already at schema {SCHEMA_VERSION}; nothing to do\n"
    )
    # the backup still opens (read-only use) and asks for its own upgrade before any write
    assert "needs 'timebank upgrade'" in invoke(backup, *LOG).stderr


def test_a_failing_migration_changes_nothing(old_ledger):
    """A migration that fails half-way (here: a table migration 2 creates is in the way)
    leaves the ledger at its old schema with every row as it was."""
    conn = sqlite3.connect(old_ledger)
    conn.execute("CREATE TABLE period_closes (x)")
    conn.commit()
    conn.close()
    before = dump(old_ledger)
    result = invoke(old_ledger, "upgrade", "--backup", str(old_ledger.parent / "safe.sqlite"))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: upgrade: a migration failed (table period_closes already exists)")
    assert dump(old_ledger) == before


def test_upgrade_of_a_ledger_that_does_not_verify_changes_nothing(old_ledger):
    conn = sqlite3.connect(old_ledger)
    conn.execute("DROP TRIGGER entries_no_update")
    conn.execute("UPDATE entries SET minutes = 600 WHERE id = 1")
    conn.commit()
    conn.close()
    before = dump(old_ledger)
    result = invoke(old_ledger, "upgrade")
    assert result.exit_code == 1 and "upgrade: nothing was changed" in result.stderr
    assert "did not verify" in result.stderr
    assert dump(old_ledger) == before
    assert not list(old_ledger.parent.glob("*.before-upgrade-*"))


# 3. a newer schema ----------------------------------------------------------------------


def from_the_future(path: Path, written_by: str | None = "9.9.0") -> None:
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO migrations VALUES (?, 'tables of tomorrow', '2030-01-01T00:00:00Z')",
        (SCHEMA_VERSION + 1,),
    )
    if written_by:
        conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (WRITTEN_BY_KEY, written_by))
    conn.commit()
    conn.close()


def test_a_ledger_from_a_newer_timebank_is_neither_read_nor_written(tmp_path):
    path = make_ledger(tmp_path / "coop.sqlite")
    from_the_future(path)
    before = snapshot(tmp_path)
    for command in (LOG, ("balance",), ("verify",), ("upgrade",)):
        result = invoke(path, *command)
        assert result.exit_code == 1
        assert f"was upgraded by a newer timebank (schema {SCHEMA_VERSION + 1};" in result.stderr
        assert result.stderr.endswith("install timebank 9.9.0 or later to use it\n")
    assert_unchanged(before, snapshot(tmp_path))


def test_a_ledger_upgraded_by_a_newer_timebank_while_open_is_not_written(tmp_path):
    path = make_ledger(tmp_path / "coop.sqlite")
    with Ledger(path) as ledger:
        from_the_future(path, written_by=None)
        before = dump(path)
        with pytest.raises(LedgerTooNew, match="install a newer timebank to use it; nothing was written"):
            ledger.set_rules(ledger.rules.to_data(), actor="coordinator")
        assert dump(path) == before


# 4. permission: read-only files, folders and file systems ------------------------------


def as_nobody() -> list[str]:
    """Run as the unprivileged ``nobody`` when root (root ignores file modes); else as ourselves."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot act as another user")
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


@pytest.fixture
def shared_dir():
    """A folder anyone may enter (pytest's tmp_path is private to its owner)."""
    folder = Path(tempfile.mkdtemp(prefix="timebank-perm-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def cli_as(user: list[str], path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMEBANK_")}
    return subprocess.run(
        [*user, sys.executable, "-m", "timebank", *args, "--ledger", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd="/",
    )


def give_to(user: list[str], *paths: Path) -> None:
    if user:
        for path in paths:
            os.chown(path, 65534, 65534)


def test_a_read_only_ledger_file_is_read_and_writes_say_it_is_read_only(shared_dir):
    user = as_nobody()
    folder = shared_dir / "coop"
    folder.mkdir()
    path = make_ledger(folder / "coop.sqlite")
    give_to(user, folder, path, anchor_path(path))
    path.chmod(0o400)
    before = snapshot(folder)
    result = cli_as(user, path, "balance", "alice")
    assert result.returncode == 0 and result.stdout == "alice: 30m\n", result.stderr
    assert cli_as(user, path, "verify").returncode == 0
    result = cli_as(user, path, *LOG)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: the ledger file {path} is read-only (owned by ")
    assert result.stderr.endswith("mode 400); nothing was written\n")
    assert_unchanged(before, snapshot(folder))


def test_a_ledger_someone_else_owns_says_no_permission(shared_dir):
    user = as_nobody()
    if not user:
        pytest.skip("needs root to make a file another user owns")
    folder = shared_dir / "coop"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    path = make_ledger(folder / "coop.sqlite")  # root's, mode 600
    result = cli_as(user, path, "balance")
    assert result.returncode == 1
    assert result.stderr == f"error: no permission to read the ledger {path} (owned by root, mode 600)\n"
    path.chmod(0o644)
    result = cli_as(user, path, "balance", "alice")
    assert result.returncode == 0 and result.stdout == "alice: 30m\n", result.stderr
    result = cli_as(user, path, *LOG)
    assert result.returncode == 1
    assert result.stderr == (
        f"error: no permission to write the ledger {path} (owned by root, mode 644); nothing was written\n"
    )


def test_a_folder_that_is_not_writable_is_named(shared_dir):
    user = as_nobody()
    if not user:
        pytest.skip("needs root to make a folder another user may not write")
    folder = shared_dir / "coop"
    folder.mkdir()
    path = make_ledger(folder / "coop.sqlite")
    path.chmod(0o666)
    result = cli_as(user, path, "balance")
    assert result.returncode == 1
    assert result.stderr == (
        f"error: cannot read the ledger {path}: SQLite must create coop.sqlite-shm beside it even "
        f"to read, and the folder {folder} is not writable (owned by root, mode 755)\n"
    )


@pytest.fixture
def read_only_mount(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a read-only tmpfs needs root")
    mount = tmp_path / "ro"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)]).returncode:
        pytest.skip("this machine does not let root mount a tmpfs")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_ledger_on_a_read_only_file_system_is_read_and_not_written(read_only_mount):
    path = make_ledger(read_only_mount / "coop.sqlite")
    subprocess.run(["mount", "-o", "remount,ro", str(read_only_mount)], check=True)
    result = invoke(path, "balance", "alice")
    assert result.exit_code == 0 and result.output == "alice: 30m\n", result.output
    assert invoke(path, "verify").exit_code == 0
    result = invoke(path, *LOG)
    assert result.exit_code == 1
    assert result.stderr == f"error: the ledger {path} is on a read-only file system; nothing was written\n"


def test_opening_a_second_time_in_one_process_keeps_the_first_connections_locks(tmp_path):
    """Checking a file must go through SQLite only: a plain open() and close() of the ledger
    drops every POSIX lock this process holds on it, another process then deletes the WAL
    from under the open connections, and the next open here fails with "disk I/O error"."""
    path = make_ledger(tmp_path / "coop.sqlite")
    first = Ledger(path)  # stays open while the next ones come and go
    first.balances()
    with Ledger(path) as second:
        second.balances()
    code = (
        "import sys\n"
        "from timebank.cli.main import main\n"
        "sys.argv = ['timebank', 'log', 'alice', 'bob', '5m', '-k', 'shopping', '--as', 'coordinator',"
        f" '--ledger', {str(path)!r}]\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert Path(f"{path}-wal").exists()
    with Ledger(path) as third:
        assert third.balance("alice") == 30 + 5  # alice gave 5 more minutes
    first.close()


def test_two_upgrades_at_once_migrate_once(old_ledger):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMEBANK_")}
    command = [sys.executable, "-m", "timebank", "upgrade", "--ledger", str(old_ledger)]
    racers = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(2)
    ]
    outputs = sorted(racer.communicate(timeout=60)[0] for racer in racers)
    assert [racer.returncode for racer in racers] == [0, 0]
    assert outputs[0].startswith(f"{old_ledger} is already at schema {SCHEMA_VERSION}; nothing to do")
    assert outputs[1].startswith(f"upgraded {old_ledger} from schema 1 to {SCHEMA_VERSION}")
    backups = [p for p in old_ledger.parent.glob("*.before-upgrade-*") if not p.name.endswith(".anchors")]
    assert len(backups) == 1
    with Ledger(old_ledger) as ledger:
        assert [r[0] for r in ledger.conn.execute("SELECT version FROM migrations")] == [
            m[0] for m in MIGRATIONS
        ]
        assert ledger.verify().ok


def test_init_where_the_folder_is_not_writable_is_one_sentence(shared_dir):
    user = as_nobody()
    folder = shared_dir / "coop"
    folder.mkdir()
    folder.chmod(0o555)
    path = folder / "coop.sqlite"
    try:
        result = cli_as(user, path, "init")
    finally:
        folder.chmod(0o755)
    assert result.returncode == 1
    assert result.stderr == f"error: ledger: cannot write in {folder} (Permission denied)\n"
    assert list(folder.iterdir()) == []
