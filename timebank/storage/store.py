"""SQLite storage: the schema, numbered migrations, triggers, and write transactions.

One ledger is one SQLite file. WAL mode and a busy timeout let the TUI and the
CLI write at once; every write runs in ``BEGIN IMMEDIATE`` so a writer waits for
the lock up front instead of failing half-way with "database is locked".
Entries, postings and rules versions are append-only: triggers refuse updates
and deletes, so a correction can only be a reversing entry.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import functools
import os
import re
import sqlite3
import stat
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import attrs

from timebank.errors import LedgerCorrupt, TimebankError


def _import_sqlite_utils() -> Any:
    """sqlite-utils imports numpy and pandas whenever they are installed, to store their
    scalar types. The ledger stores neither (every value is a Python int or str), and numpy,
    installed for the publication audit's SciPy, added ~0.15 s to every start of the terminal
    UI (measured by ``make bench``). Import sqlite-utils with them hidden; they load as
    usual for whoever imports them afterwards."""
    hidden = [name for name in ("numpy", "pandas") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  (``import`` then raises ImportError)
    try:
        import sqlite_utils
    finally:
        for name in hidden:
            del sys.modules[name]
    return sqlite_utils


sqlite_utils = _import_sqlite_utils()

BUSY_TIMEOUT_MS = 60_000
# How long a writer waits for another writer before giving up with a sentence (tests set it low).
BUSY_TIMEOUT_ENV = "TIMEBANK_BUSY_TIMEOUT_MS"
# A waiting writer asks SQLite for the lock in slices this long, looking in between for an
# import, so it is told within a second that an import is running, not after the timeout.
BUSY_SLICE_MS = 1_000
IMPORT_WAIT = "an import is running; waiting…"
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
        3,
        "ledger identity: a random id that the anchors and backups carry",
        """
        INSERT OR IGNORE INTO meta (key, value) VALUES ('ledger_id', lower(hex(randomblob(16))));
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


# 5: offers and requests (timebank/listings.py). Kept beside the entries, never inside the
# chain; their history is append-only; full-text search is FTS5 kept by triggers, the same
# table and triggers sqlite-utils' ``enable_fts(["title", "description"], create_triggers=True)``
# makes. An entry whose refs name ``listing=N`` marks that listing done in the same
# transaction, whatever path wrote it (record, confirm, auto-accept, import); its reversal
# reopens it.
_LISTING_REF = "substr(';' || NEW.refs || ';', instr(';' || NEW.refs || ';', ';listing=') + 9)"
_LISTING_ID = f"CAST(substr({_LISTING_REF}, 1, instr({_LISTING_REF}, ';') - 1) AS INTEGER)"
MIGRATIONS += (
    (
        5,
        "offers and requests (listings) with their history, FTS5 search and e-mail digests",
        f"""
        CREATE TABLE listings (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('offer', 'request')),
            member TEXT NOT NULL,
            posted_by TEXT NOT NULL,
            category TEXT NOT NULL,
            title TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            area TEXT NOT NULL DEFAULT '',
            availability TEXT NOT NULL DEFAULT 'flexible',
            posted_at TEXT NOT NULL,
            posted_on TEXT NOT NULL,
            expires_on TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'taken', 'done', 'withdrawn')),
            taken_by TEXT,
            entry_id INTEGER REFERENCES entries(id),
            updated_at TEXT NOT NULL
        );
        CREATE INDEX listings_board ON listings(kind, status, category, expires_on);
        CREATE INDEX listings_by_member ON listings(member);
        CREATE INDEX listings_by_entry ON listings(entry_id) WHERE entry_id IS NOT NULL;
        CREATE INDEX listings_by_posted_on ON listings(posted_on);
        CREATE TABLE listing_events (
            id INTEGER PRIMARY KEY,
            listing_id INTEGER NOT NULL REFERENCES listings(id),
            at TEXT NOT NULL,
            by TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX listing_events_by_listing ON listing_events(listing_id);
        CREATE TABLE listing_answers (
            id INTEGER PRIMARY KEY,
            listing_id INTEGER NOT NULL REFERENCES listings(id),
            member TEXT NOT NULL,
            at TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            UNIQUE (listing_id, member)
        );
        CREATE TABLE digest_recipients (
            member TEXT PRIMARY KEY,
            email TEXT NOT NULL,
            agreed_on TEXT NOT NULL,
            recorded_by TEXT NOT NULL
        );
        CREATE TABLE digest_sends (
            id INTEGER PRIMARY KEY,
            sent_at TEXT NOT NULL,
            member TEXT NOT NULL,
            email TEXT NOT NULL,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL
        );
        CREATE VIRTUAL TABLE [listings_fts] USING FTS5 ([title], [description], content=[listings]);
        CREATE TRIGGER [listings_ai] AFTER INSERT ON [listings] BEGIN
          INSERT INTO [listings_fts] (rowid, [title], [description])
            VALUES (new.rowid, new.[title], new.[description]);
        END;
        CREATE TRIGGER [listings_ad] AFTER DELETE ON [listings] BEGIN
          INSERT INTO [listings_fts] ([listings_fts], rowid, [title], [description])
            VALUES ('delete', old.rowid, old.[title], old.[description]);
        END;
        CREATE TRIGGER [listings_au] AFTER UPDATE OF title, description ON [listings] BEGIN
          INSERT INTO [listings_fts] ([listings_fts], rowid, [title], [description])
            VALUES ('delete', old.rowid, old.[title], old.[description]);
          INSERT INTO [listings_fts] (rowid, [title], [description])
            VALUES (new.rowid, new.[title], new.[description]);
        END;
        CREATE TRIGGER listings_no_delete BEFORE DELETE ON listings
        BEGIN SELECT RAISE(ABORT, 'listings are kept: withdraw one instead of deleting it'); END;
        CREATE TRIGGER listing_events_no_update BEFORE UPDATE ON listing_events
        BEGIN SELECT RAISE(ABORT, 'listing history is append-only'); END;
        CREATE TRIGGER listing_events_no_delete BEFORE DELETE ON listing_events
        BEGIN SELECT RAISE(ABORT, 'listing history is append-only'); END;
        CREATE TRIGGER entries_listing_done AFTER INSERT ON entries
        WHEN instr(';' || NEW.refs || ';', ';listing=') > 0
        BEGIN
          INSERT INTO listing_events (listing_id, at, by, action, detail)
            SELECT id, NEW.recorded_at, NEW.recorded_by, 'done', 'entry #' || NEW.id
            FROM listings WHERE id = {_LISTING_ID};
          UPDATE listings SET status = 'done', entry_id = NEW.id, updated_at = NEW.recorded_at
            WHERE id = {_LISTING_ID};
        END;
        CREATE TRIGGER entries_listing_reopened AFTER INSERT ON entries
        WHEN NEW.reverses IS NOT NULL
        BEGIN
          INSERT INTO listing_events (listing_id, at, by, action, detail)
            SELECT id, NEW.recorded_at, NEW.recorded_by, 'reopened',
              'entry #' || NEW.reverses || ' reversed by #' || NEW.id
            FROM listings WHERE entry_id = NEW.reverses;
          UPDATE listings SET status = CASE WHEN taken_by IS NULL THEN 'open' ELSE 'taken' END,
            entry_id = NULL, updated_at = NEW.recorded_at WHERE entry_id = NEW.reverses;
        END;
        """,
    ),
)


# 6: proven identity (timebank/access.py, timebank/pins.py) and group claims. Each member
# charged by a claim confirms it themselves (``claim_confirmations``); the recorder may
# withdraw a pending claim (a declined claim with ``withdrawn`` = 1). Members' SSH keys with
# their fingerprints, who added and revoked them; kiosk PINs only as scrypt hashes; every
# PIN attempt, which is what a lockout is computed from. All append-only except the keys'
# revocation and a PIN's replacement.
MIGRATIONS += (
    (
        6,
        "proven identity: group claim confirmations, withdrawals, SSH keys, PINs, PIN attempts",
        """
        ALTER TABLE claims ADD COLUMN withdrawn INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE claim_confirmations (
            claim_id INTEGER NOT NULL REFERENCES claims(id),
            member TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (claim_id, member)
        );
        CREATE TABLE member_keys (
            id INTEGER PRIMARY KEY,
            member TEXT NOT NULL,
            key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            added_at TEXT NOT NULL,
            added_by TEXT NOT NULL,
            revoked_at TEXT,
            revoked_by TEXT
        );
        CREATE INDEX member_keys_by_fingerprint ON member_keys(fingerprint);
        CREATE TABLE member_pins (
            member TEXT PRIMARY KEY,
            hash TEXT NOT NULL,
            one_time INTEGER NOT NULL DEFAULT 0,
            set_at TEXT NOT NULL,
            set_by TEXT NOT NULL
        );
        CREATE TABLE pin_attempts (
            id INTEGER PRIMARY KEY,
            member TEXT NOT NULL,
            at TEXT NOT NULL,
            ok INTEGER NOT NULL,
            place TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX pin_attempts_by_member ON pin_attempts(member, id);
        CREATE TRIGGER claim_confirmations_no_delete BEFORE DELETE ON claim_confirmations
        BEGIN SELECT RAISE(ABORT, 'claim confirmations are append-only'); END;
        CREATE TRIGGER pin_attempts_no_update BEFORE UPDATE ON pin_attempts
        BEGIN SELECT RAISE(ABORT, 'PIN attempts are append-only'); END;
        CREATE TRIGGER pin_attempts_no_delete BEFORE DELETE ON pin_attempts
        BEGIN SELECT RAISE(ABORT, 'PIN attempts are append-only'); END;
        """,
    ),
)

SCHEMA_VERSION = max(version for version, _, _ in MIGRATIONS)

# SQL for "entry ``e`` stands": no reversal undoes it. Every figure built from service
# entries (limits per day, reports, publication, export) counts only standing ones.
STANDING = "NOT EXISTS (SELECT 1 FROM entries r WHERE r.reverses = e.id)"


@contextmanager
def undoable(conn: Any, outermost: bool) -> Iterator[Callable[[], None]]:
    """A part of the transaction that can be undone without raising: yields ``undo``.

    In the outermost transaction ``undo`` rolls the whole of it back (and must come last:
    the store then has nothing to commit); inside another one it rolls back to a savepoint,
    so a refused write undoes only itself. An exception undoes it too, and propagates.
    """
    if outermost:

        def rollback() -> None:
            if conn.in_transaction:
                conn.execute("ROLLBACK")

        yield rollback
        return
    conn.execute("SAVEPOINT timebank_write")
    undone = False

    def undo() -> None:
        nonlocal undone
        if not undone:
            undone = True
            conn.execute("ROLLBACK TO timebank_write")

    try:
        yield undo
    except BaseException:
        if conn.in_transaction:
            undo()
            conn.execute("RELEASE timebank_write")
        raise
    conn.execute("RELEASE timebank_write")


def tables_in(conn: sqlite3.Connection) -> set[str]:
    """The names of the tables in a database (a ledger, a backup, a published file)."""
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


@functools.cache
def core_tables() -> frozenset[str]:
    """Every table the core's migrations create or rename (lower case): the names no plugin
    may declare, read or write. A virtual table's shadow tables (``listings_fts_data``) and
    SQLite's own are caught by ``is_core_table``."""
    names: set[str] = set()
    for _, _, sql in MIGRATIONS:
        names.update(n for _, n in _CREATE_TABLE.findall(sql))
        for pair in _RENAME_TABLE.findall(sql):
            names.update(pair)
    return frozenset(n.lower() for n in names)


_QUOTED = r"[\[\"`]?(\w+)[\]\"`]?"
_CREATE_TABLE = re.compile(rf"CREATE\s+(VIRTUAL\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?{_QUOTED}", re.I)
_RENAME_TABLE = re.compile(rf"ALTER\s+TABLE\s+{_QUOTED}\s+RENAME\s+TO\s+{_QUOTED}", re.I)


@functools.cache
def _core_virtual_tables() -> frozenset[str]:
    return frozenset(n.lower() for *_, sql in MIGRATIONS for v, n in _CREATE_TABLE.findall(sql) if v)


def is_core_table(name: str) -> bool:
    """Whether ``name`` is a core table, the shadow of a core virtual table, or SQLite's own."""
    name = name.lower()
    return (
        name in core_tables()
        or name.startswith("sqlite_")
        or any(name.startswith(f"{table}_") for table in _core_virtual_tables())
    )


def foreign_keys(conn: sqlite3.Connection, tables: Iterable[str]) -> set[tuple[str, str]]:
    """(table, column) each foreign key of ``tables`` points at, as the file declares them
    (a key naming no column points at the parent's primary key)."""
    found = set()
    for table in sorted(tables):
        for parent, column in conn.execute('SELECT "table", "to" FROM pragma_foreign_key_list(?)', (table,)):
            if column is None:
                keys = conn.execute("SELECT name FROM pragma_table_info(?) WHERE pk > 0", (parent,))
                found.update((parent.lower(), name.lower()) for (name,) in keys)
            else:
                found.add((parent.lower(), column.lower()))
    return found


def rows_of(conn: sqlite3.Connection, table: str) -> list[tuple]:
    """Every row of one table, in storage order: for comparing a file before and after."""
    if table not in tables_in(conn):
        raise ValueError(f"no table {table!r}")
    return conn.execute(f'SELECT * FROM "{table}"').fetchall()


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


class NotALedger(TimebankError):
    """The file exists but is not a timebank ledger; it was left exactly as it was."""


class LedgerUnreadable(TimebankError):
    """The ledger cannot be read: no permission, or SQLite cannot make its files beside it."""


class LedgerReadOnly(TimebankError):
    """The ledger can be read but not written (read-only file, folder or file system)."""


class NeedsUpgrade(TimebankError):
    """The ledger is at an older schema: reading may work, writing needs ``timebank upgrade``."""


class LedgerTooNew(TimebankError):
    """The ledger was upgraded by a newer timebank than this one; it is neither read nor written."""


# Written into ``meta`` with every migration, so a timebank that finds a schema it does not
# know can say which version of timebank it needs.
WRITTEN_BY_KEY = "schema_written_by"
_CORE_TABLES = frozenset({"migrations", "meta", "rules", "entries", "postings", "accounts"})


def file_uri(path: str | Path, query: str) -> str:
    """A ``file:`` URI for SQLite with ``query`` (``mode=ro``); ``?``, ``#`` and ``%`` in the
    path are escaped, which ``f"file:{path}?..."`` would take as the start of the query."""
    return Path(os.path.abspath(path)).as_uri() + "?" + query


def _uri(path: Path, mode: str) -> str:
    """A ``file:`` URI for opening the ledger at ``path``.

    On a read-only file system SQLite cannot create the ``-shm`` file a WAL ledger needs
    even for reading; there nothing can change the file, so it is opened as immutable.
    """
    uri = file_uri(path, f"mode={mode}")
    if mode == "ro" and _read_only_fs(path) and not Path(f"{path}-wal").exists():
        uri += "&immutable=1"
    return uri


def _owner(path: Path) -> str:
    info = path.stat()
    try:
        import pwd

        name = pwd.getpwuid(info.st_uid).pw_name
    except (ImportError, KeyError):
        name = str(info.st_uid)
    return f"owned by {name}, mode {stat.S_IMODE(info.st_mode):03o}"


def _read_only_fs(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _check_readable(path: Path) -> None:
    """Say what stops timebank reading an existing ``path``, before SQLite is asked to."""
    try:
        exists = path.exists()
    except PermissionError:
        raise LedgerUnreadable(f"no permission to look in the folder {path.parent}") from None
    if not exists:
        raise TimebankError(f"no ledger at {path}; create one with 'timebank init' or 'timebank demo'")
    if path.is_dir():
        raise NotALedger(f"{path} is a folder, not a timebank ledger")
    if not os.access(path, os.R_OK):
        raise LedgerUnreadable(f"no permission to read the ledger {path} ({_owner(path)})")


def _os_reason(exc: OSError) -> str:
    """Why the operating system said no, in words (the folder, not just "Permission denied")."""
    where = Path(exc.filename) if exc.filename else None
    if exc.errno in (errno.EACCES, errno.EPERM) and where is not None:
        return f"no permission to write in the folder {where.parent}"
    if exc.errno == errno.EROFS:
        return "the folder is on a read-only file system"
    return exc.strerror or str(exc)


def why_not_writable(path: Path) -> str:
    """Why the ledger at ``path`` cannot be written (one sentence), or "" if it can be."""
    folder = path.parent
    if _read_only_fs(path):
        return f"the ledger {path} is on a read-only file system"
    if not os.access(path, os.W_OK):
        if path.stat().st_uid == os.geteuid():
            return f"the ledger file {path} is read-only ({_owner(path)})"
        return f"no permission to write the ledger {path} ({_owner(path)})"
    if not os.access(folder, os.W_OK | os.X_OK):
        return (
            f"the folder {folder} is not writable, and SQLite must create the ledger's "
            f"write-ahead log ({path.name}-wal) there to write ({_owner(folder)})"
        )
    return ""


@attrs.frozen
class Identity:
    """What a file says about itself before timebank touches it: schema and who wrote it."""

    schema: int
    written_by: str


def identify(path: Path) -> Identity:
    """Check that ``path`` is a timebank ledger, reading it without changing a byte.

    The file is read through a read-only connection, so a typo in ``--ledger``, another
    application's database or an empty file is never migrated, converted to WAL or
    checkpointed. Raises ``NotALedger`` or ``LedgerUnreadable`` with one sentence.
    """
    _check_readable(path)
    # The file is never opened by anything but SQLite: closing any other descriptor on it
    # would drop the POSIX locks this process's own connections hold on it, and another
    # process would then delete the write-ahead log from under them.
    if path.stat().st_size == 0:
        raise NotALedger(f"{path} is an empty file, not a timebank ledger; 'timebank init' creates one")
    try:
        return _read_identity(path, "ro")
    except sqlite3.Error as exc:
        if getattr(exc, "sqlite_errorname", "") == "SQLITE_NOTADB":
            raise _cannot_open(path, exc) from None
        # A read-only connection cannot rebuild a WAL index that another process replaced
        # under this one's open connections ("disk I/O error"); a read-write one can, and
        # reading through it writes nothing to the file. On a read-only folder or file system
        # it fails too, and the first error says why.
        try:
            return _read_identity(path, "rw")
        except sqlite3.Error:
            raise _cannot_open(path, exc) from None


def _read_identity(path: Path, mode: str) -> Identity:
    conn = sqlite3.connect(_uri(path, mode), uri=True)
    try:
        tables = tables_in(conn)
        if not tables >= _CORE_TABLES:
            shown = ", ".join(sorted(tables)[:5]) or "none"
            raise NotALedger(f"{path} is an SQLite database but not a timebank ledger (its tables: {shown})")
        first = conn.execute("SELECT name FROM migrations WHERE version = 1").fetchone()
        if first is None or first[0] != MIGRATIONS[0][1]:
            raise NotALedger(f"{path} is an SQLite database but not a timebank ledger")
        schema = conn.execute("SELECT max(version) FROM migrations").fetchone()[0] or 0
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (WRITTEN_BY_KEY,)).fetchone()
    finally:
        conn.close()
    return Identity(schema=schema, written_by=row[0] if row else "")


def _cannot_open(path: Path, exc: sqlite3.Error) -> TimebankError:
    """The sentence for an SQLite error met while opening: permission first, damage second."""
    name = getattr(exc, "sqlite_errorname", "")
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_READONLY")) or "unable to open" in str(exc):
        folder = path.parent
        if not os.access(folder, os.W_OK | os.X_OK) or _read_only_fs(path):
            return LedgerUnreadable(
                f"cannot read the ledger {path}: SQLite must create {path.name}-shm beside it "
                f"even to read, and the folder {folder} is not writable ({_owner(folder)})"
            )
        return LedgerUnreadable(f"cannot open the ledger {path} ({exc})")
    if name == "SQLITE_NOTADB":
        return NotALedger(f"{path} is not a timebank ledger (it is not an SQLite database)")
    return LedgerCorrupt(f"{path} cannot be read as a timebank ledger ({exc})")


def _version_key(version: str) -> tuple[int, ...]:
    """``"1.10.2"`` as ``(1, 10, 2)``; whatever is not a number counts as 0."""
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def too_new_message(path: Path, found: Identity) -> str:
    from timebank import __version__

    newer = _version_key(found.written_by) > _version_key(__version__)
    needed = f"timebank {found.written_by} or later" if newer else "a newer timebank"
    return (
        f"the ledger {path} was upgraded by a newer timebank (schema {found.schema}; this timebank "
        f"{__version__} knows schema {SCHEMA_VERSION}); install {needed} to use it"
    )


def busy_timeout_ms() -> int:
    """``TIMEBANK_BUSY_TIMEOUT_MS`` if set, else 60 s."""
    value = os.environ.get(BUSY_TIMEOUT_ENV, "").strip()
    if not value:
        return BUSY_TIMEOUT_MS
    if not value.isdigit() or int(value) == 0:
        raise TimebankError(f"{BUSY_TIMEOUT_ENV}: {value!r} is not a whole number of milliseconds above 0")
    return int(value)


def import_lock_path(ledger_path: Path) -> Path:
    """The import marker: a sidecar file an import holds an advisory lock on while it runs.

    Beside the ledger's real path, so writers reaching it through a symlink find it too.
    """
    real = Path(os.path.realpath(ledger_path))
    return real.with_name(real.name + ".import-lock")


def import_running(ledger_path: Path) -> bool:
    """Whether a process holds the import marker (the lock goes when that process does)."""
    try:
        fd = os.open(import_lock_path(ledger_path), os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def say_on_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


class Store:
    """A connection to one ledger file with the pragmas every writer needs.

    Opening never changes the file: only ``create=True`` (``timebank init``, ``demo``)
    makes a ledger, and only ``upgrading()`` (``timebank upgrade``) migrates one. A ledger
    at an older schema opens for reading; ``write()`` refuses it. A ledger from a newer
    timebank is refused outright, since this code cannot know what its figures mean.
    """

    # How a writer kept waiting by an import is told so (the CLI: a line on stderr).
    on_wait: Callable[[str], None] = staticmethod(say_on_stderr)

    def __init__(self, path: str | Path, *, create: bool = False, group: str | None = None):
        self.path = Path(path)
        self.read_only = ""
        self.busy_timeout_ms = busy_timeout_ms()
        if create:
            try:
                create_private_file(self.path, group=group)
            except FileExistsError:
                raise TimebankError(f"ledger: {self.path} already exists; choose another path") from None
            except OSError as exc:
                raise LedgerUnreadable(f"ledger: cannot create {self.path}: {_os_reason(exc)}") from None
            self._connect("rw")
            with self.write(migrating=True) as conn:
                _apply(conn, MIGRATIONS)
            self.schema = SCHEMA_VERSION
        else:
            found = identify(self.path)
            if found.schema > SCHEMA_VERSION:
                raise LedgerTooNew(too_new_message(self.path, found))
            self.schema = found.schema
            self.read_only = why_not_writable(self.path)
            self._connect("ro" if _read_only_fs(self.path) else "rw")
        self.db = sqlite_utils.Database(self.conn)

    def _connect(self, mode: str) -> None:
        # mode=rw never creates a file (a ledger deleted since it was checked is not
        # recreated empty); SQLite opens a write-protected file read-only by itself.
        try:
            self.conn = sqlite3.connect(
                _uri(self.path, mode),
                uri=True,
                isolation_level=None,
                timeout=self.busy_timeout_ms / 1000,
                check_same_thread=False,
            )
            self.conn.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
            if not self.read_only:
                self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute("PRAGMA synchronous = FULL")
            self.conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        except sqlite3.Error as exc:
            if _no_room(self.path):
                raise TimebankError(
                    f"the disk holding {os.path.abspath(self.path.parent)} is full, so the ledger "
                    f"cannot be opened (SQLite needs room beside it); free some space; nothing was changed"
                ) from None
            raise _cannot_open(self.path, exc) from None

    @property
    def outdated(self) -> bool:
        return self.schema < SCHEMA_VERSION

    def needs_upgrade_message(self) -> str:
        return (
            f"the ledger {self.path} needs 'timebank upgrade' "
            f"(schema {self.schema}, this timebank needs {SCHEMA_VERSION})"
        )

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def write(self, *, importing: bool = False, migrating: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is written, or none of it.

        The schema is re-read under the write lock, so a ledger upgraded (or downgraded
        from a backup) by another process since it was opened is never written blindly.
        An import (``importing``) holds the import marker for as long as it holds the write
        lock, so writers kept waiting past the busy timeout know to keep waiting.
        """
        if self.conn.in_transaction:
            yield self.conn
            return
        if self.read_only:
            raise LedgerReadOnly(f"{self.read_only}; nothing was written")
        with self._import_marker() if importing else nullcontext():
            self._begin_immediate(importing=importing)
            try:
                if not migrating:
                    self._check_schema_for_writing()
                yield self.conn
                if self.conn.in_transaction:  # a dry run or a refused write rolled back itself
                    self.conn.execute("COMMIT")
            except BaseException as exc:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                if _disk_full(exc):
                    raise TimebankError(
                        f"the disk holding {os.path.abspath(self.path.parent)} is full; nothing was "
                        f"written to the ledger, which is as it was"
                    ) from None
                raise

    def _begin_immediate(self, *, importing: bool) -> None:
        """Take the write lock, waiting for other writers; never "database is locked".

        While an import holds the marker the writer keeps waiting, however long the import
        takes, and says so once. A writer held up longer than the busy timeout by anything
        else gives up with one sentence, having written nothing.
        """
        total = self.busy_timeout_ms
        deadline = time.monotonic() + total / 1000
        told = False
        self.conn.execute(f"PRAGMA busy_timeout = {min(total, BUSY_SLICE_MS)}")
        try:
            while True:
                try:
                    self.conn.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if "readonly" in str(exc):
                        raise LedgerReadOnly(
                            f"the ledger {self.path} is read-only ({exc}); nothing was written"
                        ) from None
                    if not _is_busy(exc):
                        raise
                if not importing and import_running(self.path):  # an import sees its own marker
                    if not told:
                        told = True
                        self.on_wait(IMPORT_WAIT)
                    deadline = time.monotonic() + total / 1000
                elif time.monotonic() >= deadline:
                    raise TimebankError(
                        f"ledger: another program has kept {self.path} busy for more than "
                        f"{total / 1000:g} s, so nothing was written; try again when it has finished"
                    )
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {total}")

    @contextmanager
    def _import_marker(self) -> Iterator[None]:
        """Hold the import marker (an ``flock`` on a sidecar file) for the import's duration.

        The lock is the kernel's: it goes with the process, so a killed import leaves no stale
        marker. Where the marker cannot be made (a read-only folder) the import runs without
        it; writers then wait only the busy timeout.
        """
        try:
            fd = os.open(import_lock_path(self.path), os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
        except OSError:
            fd = None
        if fd is None:
            yield
            return
        try:
            _match_ledger_access(fd, self.path)
            # Writers checking for an import hold the lock shared for a moment: retry briefly
            # before concluding another import is running.
            for _ in range(100):
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    time.sleep(0.005)
            else:
                self.on_wait(IMPORT_WAIT)
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _check_schema_for_writing(self) -> None:
        self.schema = self.schema_version()
        if self.schema > SCHEMA_VERSION:
            found = identify(self.path)
            raise LedgerTooNew(too_new_message(self.path, found) + "; nothing was written")
        if self.schema < SCHEMA_VERSION:
            raise NeedsUpgrade(self.needs_upgrade_message())

    @contextmanager
    def read(self, *, as_current: bool = False) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for reading; nothing in it is ever committed.

        With ``as_current``, a ledger at an older schema is read as if upgraded: the
        pending migrations run inside the snapshot and are rolled back with it (this needs
        the write lock for as long as the read lasts, and a writable file).
        """
        if self.conn.in_transaction:
            yield self.conn
            return
        if as_current and self.outdated and not self.read_only:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                _apply(self.conn, self.pending())
                yield self.conn
            finally:
                self.conn.execute("ROLLBACK")
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
        row = self.conn.execute("SELECT max(version) FROM migrations").fetchone()
        return row[0] or 0

    def pending(self) -> tuple[tuple[int, str, str], ...]:
        """The migrations this ledger has not had yet, in order."""
        done = {row[0] for row in self.conn.execute("SELECT version FROM migrations")}
        return tuple(m for m in MIGRATIONS if m[0] not in done)

    @contextmanager
    def upgrading(self) -> Iterator[tuple[tuple[int, str, str], ...]]:
        """The write lock, and the migrations still pending under it; they are applied and
        committed when the block ends, or nothing is if it raises (``timebank upgrade``)."""
        with self.write(migrating=True) as conn:
            found = self.schema_version()
            if found > SCHEMA_VERSION:
                raise LedgerTooNew(too_new_message(self.path, identify(self.path)))
            pending = self.pending()
            yield pending
            _apply(conn, pending)
        self.schema = self.schema_version()


def _match_ledger_access(fd: int, ledger_path: Path) -> None:
    """Give the marker the ledger's group and mode, so a co-op's group can see imports too."""
    try:
        ledger, marker = os.stat(ledger_path), os.fstat(fd)
        if marker.st_uid != os.getuid():
            return
        if marker.st_gid != ledger.st_gid:
            os.fchown(fd, -1, ledger.st_gid)
        if marker.st_mode & 0o777 != ledger.st_mode & 0o660:
            os.fchmod(fd, ledger.st_mode & 0o660)
    except OSError:
        pass


def _no_room(path: Path) -> bool:
    """True if the file system holding ``path`` has no free block left."""
    try:
        return os.statvfs(path.parent).f_bavail == 0
    except OSError:
        return False


def _disk_full(exc: BaseException) -> bool:
    from timebank.storage.outputs import is_disk_full

    return is_disk_full(exc)


def _apply(conn: sqlite3.Connection, migrations: Iterable[tuple[int, str, str]]) -> None:
    """Run ``migrations`` in the caller's transaction, recording each and who wrote them."""
    from timebank import __version__

    conn.execute(
        "CREATE TABLE IF NOT EXISTS migrations ("
        "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    applied = False
    for version, name, sql in migrations:
        for statement in _split_sql(sql):
            conn.execute(statement)
        conn.execute(
            "INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (version, name, now_utc()),
        )
        applied = True
    if applied:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (WRITTEN_BY_KEY, __version__))


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
