"""SQLite storage: the schema, numbered migrations, triggers, and write transactions.

One ledger is one SQLite file. WAL mode and a busy timeout let the TUI and the
CLI write at once; every write runs in ``BEGIN IMMEDIATE`` so a writer waits for
the lock up front instead of failing half-way with "database is locked".
Entries, postings and rules versions are append-only: triggers refuse updates
and deletes, so a correction can only be a reversing entry.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from timebank.errors import LedgerCorrupt, TimebankError

BUSY_TIMEOUT_MS = 60_000
# SQLite's default page cache is 2 MB. An import of a million exchanges inserts into the
# by-account postings index at random across every member; with 64 MB the index stays in
# memory instead of spilling to the WAL mid-transaction (a third faster at 1M, measured in
# ``make bench``). The cache grows only as pages are read, so small ledgers pay nothing.
CACHE_KIB = 65_536
FILE_MODE = 0o600

_APPEND_ONLY = ("entries", "postings", "rules")


def _append_only_triggers() -> str:
    statements = []
    for table in _APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            statements.append(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} are append-only: record a reversal "
                f"instead of changing history'); END;"
            )
    return "\n".join(statements)


MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "ledger core",
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE rules (
            version INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            data TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE members (
            id INTEGER PRIMARY KEY,
            handle TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            member_class TEXT NOT NULL,
            joined TEXT NOT NULL,
            left TEXT,
            status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')),
            role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'coordinator')),
            area TEXT,
            flags TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE member_changes (
            id INTEGER PRIMARY KEY,
            member_id INTEGER NOT NULL REFERENCES members(id),
            changed_at TEXT NOT NULL,
            changed_by TEXT NOT NULL,
            change TEXT NOT NULL
        );
        CREATE TABLE accounts (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            member_id INTEGER REFERENCES members(id)
        );
        CREATE TABLE entries (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL
                CHECK (kind IN ('service', 'transfer', 'adjustment', 'reversal')),
            day TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            recorded_by TEXT NOT NULL,
            givers TEXT NOT NULL DEFAULT '',
            receivers TEXT NOT NULL DEFAULT '',
            minutes INTEGER NOT NULL DEFAULT 0,
            category TEXT NOT NULL DEFAULT '',
            note TEXT NOT NULL DEFAULT '',
            rules_version INTEGER NOT NULL REFERENCES rules(version),
            reverses INTEGER REFERENCES entries(id),
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE INDEX entries_by_day ON entries(day);
        CREATE UNIQUE INDEX entries_reversed_once ON entries(reverses)
            WHERE reverses IS NOT NULL;
        CREATE TABLE postings (
            entry_id INTEGER NOT NULL REFERENCES entries(id),
            seq INTEGER NOT NULL,
            account_id INTEGER NOT NULL REFERENCES accounts(id),
            amount INTEGER NOT NULL,
            balance_after INTEGER NOT NULL,
            PRIMARY KEY (entry_id, seq)
        ) WITHOUT ROWID;
        CREATE INDEX postings_by_account ON postings(account_id, entry_id);
        CREATE TABLE balances (
            account_id INTEGER PRIMARY KEY REFERENCES accounts(id),
            balance INTEGER NOT NULL,
            last_entry_id INTEGER NOT NULL REFERENCES entries(id)
        );
        CREATE TABLE claims (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            recorded_by TEXT NOT NULL,
            givers TEXT NOT NULL,
            receivers TEXT NOT NULL,
            minutes INTEGER NOT NULL,
            day TEXT NOT NULL,
            category TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            awaiting TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'confirmed', 'declined')),
            decided_by TEXT,
            decided_at TEXT,
            entry_id INTEGER REFERENCES entries(id),
            reason TEXT NOT NULL DEFAULT '',
            auto_accept_on TEXT
        );
        CREATE INDEX claims_by_status ON claims(status);
        """
        + _append_only_triggers(),
    ),
)

MIGRATIONS += (
    (
        2,
        "references on exchanges (episodes, groups, schemes)",
        """
        ALTER TABLE entries ADD COLUMN refs TEXT NOT NULL DEFAULT '';
        ALTER TABLE claims ADD COLUMN refs TEXT NOT NULL DEFAULT '';
        CREATE TABLE period_closes (
            id INTEGER PRIMARY KEY,
            through TEXT NOT NULL UNIQUE,
            closed_at TEXT NOT NULL,
            closed_by TEXT NOT NULL
        );
        """,
    ),
)

MIGRATIONS += (
    (
        4,
        "publications recorded in the ledger",
        # Every ``timebank publish``: the months it covered, the rows the public now has (so
        # a later publication repeats them byte for byte), the figures before rounding and
        # suppression (private: what later audits of those months need), a digest, and the
        # key of the ledger-head commitment it published. ``meta.ledger_id`` is a random name
        # for this ledger (its backups share it): a public file says which ledger it is from.
        """
        CREATE TABLE publications (
            id INTEGER PRIMARY KEY,
            published_at TEXT NOT NULL,
            through TEXT NOT NULL,
            months TEXT NOT NULL,
            tables TEXT NOT NULL,
            truth TEXT NOT NULL,
            digest TEXT NOT NULL,
            head_hash TEXT NOT NULL,
            commitment_key TEXT NOT NULL,
            commitment TEXT NOT NULL
        );
        INSERT OR IGNORE INTO meta (key, value) VALUES ('ledger_id', lower(hex(randomblob(16))));
        CREATE TRIGGER publications_no_update BEFORE UPDATE ON publications
            BEGIN SELECT RAISE(ABORT, 'publications are append-only: the public has them'); END;
        CREATE TRIGGER publications_no_delete BEFORE DELETE ON publications
            BEGIN SELECT RAISE(ABORT, 'publications are append-only: the public has them'); END;
        """,
    ),
)

SCHEMA_VERSION = max(version for version, _, _ in MIGRATIONS)

# SQL for "entry ``e`` stands": no reversal undoes it. Every figure built from service
# entries (limits per day, reports, publication, export) counts only standing ones.
STANDING = "NOT EXISTS (SELECT 1 FROM entries r WHERE r.reverses = e.id)"


def now_utc() -> str:
    """The time a change was recorded, UTC to the second, as ISO 8601."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


GROUP_ENV = "TIMEBANK_GROUP"


def create_private_file(path: Path, *, group: str | None = None) -> None:
    """Create a file readable and writable by its owner only (members' records live in it).

    With a ``group`` (or ``TIMEBANK_GROUP``), the co-op's group may read and write it too.
    """
    group = group or os.environ.get(GROUP_ENV)
    gid = None
    if group:
        import grp

        try:
            gid = grp.getgrnam(group).gr_gid
        except KeyError:
            raise TimebankError(f"group: there is no group called {group!r} on this machine") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    os.close(fd)
    if gid is not None:
        os.chown(path, -1, gid)
        os.chmod(path, 0o660)


class Store:
    """A connection to one ledger file with the pragmas every writer needs."""

    def __init__(self, path: str | Path, *, create: bool = False, group: str | None = None):
        self.path = Path(path)
        exists = self.path.exists()
        if not exists and not create:
            raise TimebankError(
                f"no ledger at {self.path}; create one with 'timebank init' or 'timebank demo'"
            )
        if not exists:
            create_private_file(self.path, group=group)
        try:
            self.conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                timeout=BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,
            )
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute("PRAGMA synchronous = FULL")
            self.conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        except sqlite3.DatabaseError as exc:
            raise LedgerCorrupt(f"{self.path} is not a timebank ledger ({exc})") from None
        self.db = sqlite_utils.Database(self.conn)
        self._migrate()

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is written, or none of it."""
        if self.conn.in_transaction:
            yield self.conn
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for reading; nothing in it is ever committed."""
        if self.conn.in_transaction:
            yield self.conn
            return
        self.conn.execute("BEGIN")
        try:
            yield self.conn
        finally:
            self.conn.execute("ROLLBACK")

    def data_version(self) -> int:
        """Changes when another connection commits: the cue to drop cached rows."""
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    def schema_version(self) -> int:
        if "migrations" not in self.db.table_names():
            return 0
        row = self.conn.execute("SELECT max(version) FROM migrations").fetchone()
        return row[0] or 0

    def _migrate(self) -> None:
        if self.schema_version() >= SCHEMA_VERSION:
            return
        with self.write() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS migrations ("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            done = {row[0] for row in conn.execute("SELECT version FROM migrations")}
            for version, name, sql in MIGRATIONS:
                if version in done:
                    continue
                for statement in _split_sql(sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, now_utc()),
                )


def _split_sql(sql: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    statements, current = [], ""
    for line in sql.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements
