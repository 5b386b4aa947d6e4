"""What a plugin may read of the ledger, and how it reaches the tables it owns.

Plugins never run SQL on the core tables (entries, postings, accounts, members and the
rest): their layout is the storage layer's to change. They read through ``ledger.read``,
a ``LedgerReader`` whose methods are named for what they mean, in the manner of
beancount's getters, take no SQL and no table names, and return records, ints and dicts.
Its SQL lives in ``timebank.storage.getters``. A plugin's own tables (declared with the
``declare_tables`` hook) are reached through ``ledger.plugin_tables(PLUGIN)``, an
``OwnTables`` that runs SQL on those tables and refuses any other. See "Reading the ledger"
in docs/plugins.md.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from timebank.errors import PluginFailed
from timebank.storage import getters
from timebank.storage.store import foreign_keys, is_core_table, now_utc, tables_in

if TYPE_CHECKING:
    from timebank.ledger import Ledger
    from timebank.limits import Limits
    from timebank.models import Account, Member


@attrs.frozen
class Service:
    """A standing service entry, as the reports see it: who gave, who received, how long."""

    id: int
    day: dt.date
    givers: tuple[str, ...]
    receivers: tuple[str, ...]
    minutes: int
    category: str


@attrs.frozen
class Given:
    """Service given under one key (a kind of care, a month): minutes for each giver, and entries."""

    key: str
    minutes: int
    exchanges: int


@attrs.frozen
class Flow:
    """What came into an account and what went out of it, in minutes (both zero or more)."""

    came_in: int
    went_out: int


@attrs.frozen
class Counterpart:
    """One posting of an account, with another account in the same entry."""

    day: dt.date
    amount: int
    other: str


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


class LedgerReader:
    """``ledger.read``: the ledger as plugins read it. Every method reads what is committed,
    or, inside a write transaction, what that transaction sees (its own writes included)."""

    def __init__(self, ledger: Ledger):
        self._ledger = ledger
        self._days_given: getters.DaysGiven | None = None

    # members, accounts, balances, periods: the ledger's own answers ---------

    def members(self, *, include_retired: bool = True) -> list[Member]:
        """Every member (without the retired with ``include_retired=False``), by handle."""
        return self._ledger.members(include_retired=include_retired)

    def members_by_handle(self) -> dict[str, Member]:
        """Every member, retired ones included, keyed by handle."""
        return self._ledger.members_by_handle()

    def member_classes(self) -> list[str]:
        """The member classes the enabled plugins declare."""
        return self._ledger.member_classes()

    def categories(self) -> list[str]:
        """The kinds of care the enabled plugins declare."""
        return self._ledger.categories()

    def balance(self, account: str) -> int:
        """An account's balance in minutes."""
        return self._ledger.balance(account)

    def balances(self) -> list[tuple[Account, int]]:
        """Every account with its balance in minutes."""
        return self._ledger.balances()

    def member_limits(self, members: Iterable[Member] | None = None) -> dict[str, Limits]:
        """Each member's floor and ceiling as the enabled plugins set them."""
        return self._ledger.member_limits(members)

    def last_close(self) -> dt.date | None:
        """The last day of the last closed period (None if no period was closed)."""
        return self._ledger.last_close()

    def period_start(self) -> dt.date | None:
        """The first day a close would cover: the day after the last close, else the first entry's."""
        return self._ledger.period_start()

    def now(self) -> str:
        """The time now as the ledger stamps a change (UTC to the second, ISO 8601), for the
        timestamps of a plugin's own rows."""
        return now_utc()

    # service given ------------------------------------------------------------

    def minutes_given_since(self, since: dt.date) -> dict[str, int]:
        """Minutes each member gave in standing services dated ``since`` or later."""
        return self._ledger.given_since(since)

    def minutes_given_by_day(
        self, days: Sequence[dt.date], givers: Collection[str] | None = None, *, across_batches: bool = False
    ) -> dict[str, dict[str, int]]:
        """Minutes each giver gave on each of ``days`` in standing services: ``{"2026-03-02": {"ben": 90}}``.

        Keys are ISO days; a giver with nothing that day is absent. With ``givers``, at
        least theirs is there (other givers may be too). ``across_batches=True`` is for a
        check run on each batch of a large write (an import): inside a write transaction the
        days read are kept and only entries written since are added at the next call, so an
        unsorted import does not re-read every day for every batch; outside one it reads
        afresh. Any call without it drops what was kept.
        """
        isodays = [d if isinstance(d, str) else d.isoformat() for d in days]
        conn = self._ledger.conn
        if not across_batches or not conn.in_transaction:
            self._days_given = None
            return getters.given_on(conn, isodays, sorted(givers) if givers is not None else None)
        known = self._days_given
        if known is None or known.conn is not conn:
            known = self._days_given = getters.DaysGiven(conn)
        return known.totals(isodays)

    def minutes_given_by_category(
        self, since: dt.date | None = None, until: dt.date | None = None
    ) -> list[Given]:
        """Service given by kind of care (all time, or ``since`` to ``until`` inclusive), by kind.

        Minutes count each giver's time: a session two people gave is twice its length.
        """
        return [
            Given(*row) for row in getters.given_by(self._ledger.conn, "category", _iso(since), _iso(until))
        ]

    def minutes_given_by_month(
        self, since: dt.date | None = None, until: dt.date | None = None
    ) -> list[Given]:
        """Service given by month (``"2026-03"``), like ``minutes_given_by_category``."""
        return [Given(*row) for row in getters.given_by(self._ledger.conn, "month", _iso(since), _iso(until))]

    def last_day_gave(self) -> dict[str, dt.date | None]:
        """Every member's last day as a giver of a service, reversed ones included (None: never)."""
        return {
            handle: dt.date.fromisoformat(day) if day else None
            for handle, day in getters.last_gave(self._ledger.conn).items()
        }

    def services(
        self,
        since: dt.date | None = None,
        until: dt.date | None = None,
        *,
        before: dt.date | None = None,
        newest_first: bool = False,
    ) -> Iterator[Service]:
        """Standing service entries dated ``since`` to ``until`` (inclusive; each optional) or
        ``before`` a day, oldest first unless ``newest_first``; streamed, so a caller may stop early."""
        rows = getters.services(self._ledger.conn, _iso(since), _iso(until), _iso(before), newest_first)
        for entry_id, day, givers, receivers, minutes, category in rows:
            yield Service(
                entry_id,
                dt.date.fromisoformat(day),
                tuple(givers.split()),
                tuple(receivers.split()),
                minutes,
                category,
            )

    def count_services_with_ref(self, name: str, value: str) -> int:
        """How many standing services carry the reference ``name=value`` (``--ref episode=3``)."""
        return getters.services_with_ref(self._ledger.conn, name, value)

    # postings -----------------------------------------------------------------

    def credited(self, accounts: Iterable[str], *, kind: str) -> dict[str, int]:
        """Minutes credited to each account (its positive postings) in entries of ``kind``,
        reversed ones included; an account credited nothing is absent."""
        return getters.credited(self._ledger.conn, sorted(set(accounts)), kind)

    def first_payment(self, payer: str, payee: str, *, kind: str) -> dt.date | None:
        """The first day an entry of ``kind`` took minutes from ``payer`` and gave them to ``payee``."""
        day = getters.first_payment(self._ledger.conn, payer, payee, kind)
        return dt.date.fromisoformat(day) if day else None

    def counterparts(self, account: str, *, through: dt.date) -> list[Counterpart]:
        """Each posting of ``account`` in standing entries up to ``through`` (reversals left out),
        once for every other account in its entry: who paid in, who was paid."""
        return [
            Counterpart(dt.date.fromisoformat(day), amount, other)
            for day, amount, other in getters.counterparts(self._ledger.conn, account, through.isoformat())
        ]

    def shared_flows(self, since: dt.date, until: dt.date) -> dict[str, Flow]:
        """What came into and went out of each shared account (``@chest``, ``@coop``, funds) in
        entries dated ``since`` to ``until``, reversals included; accounts with none are absent."""
        flows = getters.shared_flows(self._ledger.conn, since.isoformat(), until.isoformat())
        return {code: Flow(*pair) for code, pair in flows.items()}


_CREATED = re.compile(
    r"^\s*CREATE\s+(?:TEMP\s+|TEMPORARY\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?[\"`\[]?(\w+)", re.I
)
# What a statement on a plugin's own rows may do: read and write rows of its tables (checked
# by name), select, call functions, recurse in a WITH. Nothing else: no DDL (its tables are
# made by ``declare_tables``), no PRAGMA, ATTACH or transaction control.
_WRITES = {sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE}
_HARMLESS = {sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
# Authorizer actions in words, for saying what a declaration may not do.
_ACTIONS = {
    sqlite3.SQLITE_CREATE_TRIGGER: "CREATE TRIGGER",
    sqlite3.SQLITE_CREATE_VIEW: "CREATE VIEW",
    sqlite3.SQLITE_CREATE_TEMP_TABLE: "CREATE TEMP TABLE",
    sqlite3.SQLITE_CREATE_TEMP_TRIGGER: "CREATE TEMP TRIGGER",
    sqlite3.SQLITE_CREATE_TEMP_VIEW: "CREATE TEMP VIEW",
    sqlite3.SQLITE_ATTACH: "ATTACH",
    sqlite3.SQLITE_PRAGMA: "PRAGMA",
    sqlite3.SQLITE_SELECT: "SELECT",
    sqlite3.SQLITE_READ: "a read",
}


def declared_tables(statements: Iterable[str]) -> set[str]:
    """The tables a plugin's ``declare_tables`` statements create (by the name each begins with)."""
    return {m.group(1).lower() for s in statements if (m := _CREATED.match(s))}


class Declaration:
    """One plugin's ``declare_tables`` statements, checked by SQLite's authorizer as they run.

    They may only CREATE TABLE and CREATE INDEX in the ledger's main database, on tables
    their own statements name, that are not core tables (the migrations' list) and that no
    other plugin declares. Anything else (a core table's name, which ``IF NOT EXISTS``
    would pass over silently and make "own"; a trigger; a view; a TEMP table shadowing
    ``entries``; ATTACH; PRAGMA; a table filled from a SELECT) is refused, naming the plugin.
    """

    def __init__(self, plugin: str, statements: Sequence[str], others: Mapping[str, str]):
        self.plugin = plugin
        self.tables = declared_tables(statements)
        self.others = others  # table -> the other plugin that declares it
        self.why = ""

    def _deny(self, why: str) -> int:
        self.why = self.why or why
        return sqlite3.SQLITE_DENY

    def _mine(self, table: str, doing: str) -> int:
        name = table.lower()
        if is_core_table(name):
            return self._deny(f"it {doing} {name!r}, a core table")
        if name in self.others:
            return self._deny(f"it {doing} {name!r}, a table of the plugin {self.others[name]!r}")
        if name not in self.tables:
            return self._deny(f"it {doing} {name!r}, which is not a table its statements create")
        return sqlite3.SQLITE_OK

    def authorize(self, action: int, arg1: str | None, arg2: str | None, db: str | None, _: Any) -> int:
        """SQLite's authorizer callback while the declarations run."""
        if action in (sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_REINDEX):
            return sqlite3.SQLITE_OK  # a DEFAULT (datetime('now')); CREATE INDEX filling the index
        creates = (sqlite3.SQLITE_INSERT, sqlite3.SQLITE_CREATE_TABLE, sqlite3.SQLITE_CREATE_INDEX)
        if action in creates and db != "main":
            return self._deny(f"it may only create tables in the ledger itself, not in {db!r}")
        schema = (arg1 or "").lower() == "sqlite_master" and db == "main"
        if schema and action in (sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_READ):
            return sqlite3.SQLITE_OK  # how CREATE records what it made
        if action == sqlite3.SQLITE_CREATE_TABLE:
            if (arg1 or "").lower() == "sqlite_sequence":
                return sqlite3.SQLITE_OK  # SQLite's, for an AUTOINCREMENT key: no statement can name it
            return self._mine(arg1 or "", "declares")
        if action == sqlite3.SQLITE_READ:  # CREATE indexing the columns of a key, or AS SELECT
            return self._mine(arg1 or "", "reads")
        if action == sqlite3.SQLITE_CREATE_INDEX:
            return self._mine(arg2 or "", "indexes")
        what = _ACTIONS.get(action, f"SQLite action {action}")
        on = f" ({arg1})" if arg1 else ""
        return self._deny(f"it may only create its own tables and their indexes, not {what}{on}")

    def refused(self, exc: sqlite3.DatabaseError) -> PluginFailed:
        """The error for a statement SQLite refused: why the authorizer said no, else SQLite's words."""
        return PluginFailed(self.plugin, "declare_tables", self.why or str(exc))


@attrs.frozen
class Rows:
    """What one statement on a plugin's own tables gives back, read at once: its rows, and
    for a write the id of the last row inserted and how many rows changed. Never the
    cursor, whose ``.connection`` would reach the core tables past the authorizer."""

    rows: tuple[tuple[Any, ...], ...]
    columns: tuple[str, ...]
    lastrowid: int | None
    rowcount: int

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self.rows)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.rows)


class OwnTables:
    """``ledger.plugin_tables(PLUGIN)``: SQL on the tables that plugin declares, and no others.

    SQLite's authorizer checks each statement as it is prepared: one that reads or writes
    any table the plugin does not declare (a core table never counts), or does anything but
    read and write rows (DDL, PRAGMA, ATTACH, BEGIN), is refused with ``PluginFailed``. A
    write (INSERT, UPDATE, DELETE, in a WITH or not) is refused outside
    ``ledger.transaction()``, so it commits or rolls back with the entries it goes with.

    A foreign key from an own table to a core key (``entry_id REFERENCES entries(id)``) is
    checked by SQLite, which reads that core column to do so. That read is allowed only in
    a statement that writes an own table and does not name the core table anywhere in its
    text: SQL cannot name a table without spelling it, so such a read is SQLite's own
    foreign key check, never a subquery, ``INSERT ... SELECT``, a WITH or ``UPDATE ... FROM``.
    (SQLite's authorizer cannot tell the two apart by itself: a subquery's reads come
    before, or without, any SELECT action.)
    """

    def __init__(self, ledger: Ledger, plugin: str, tables: set[str]):
        self._ledger = ledger
        self.plugin = plugin
        self.tables = frozenset(tables)
        self._references: frozenset[tuple[str, str]] | None = None
        self._why = ""
        self._writes = False
        self._named: set[str] = set()  # referenced core tables the statement names

    @property
    def references(self) -> frozenset[tuple[str, str]]:
        """(table, column) of another table each foreign key of this plugin's tables points
        at, as the file declares them."""
        if self._references is None:
            present = {name.lower() for name in tables_in(self._ledger.conn)}
            found = foreign_keys(self._ledger.conn, self.tables & present)
            self._references = frozenset((t, c) for t, c in found if t not in self.tables)
        return self._references

    def exist(self) -> bool:
        """Whether every declared table is in the file (the plugin has been enabled in it)."""
        found = {name.lower() for name in tables_in(self._ledger.conn)}
        return bool(self.tables) and self.tables <= found

    def _deny(self, why: str) -> int:
        self._why = self._why or why
        return sqlite3.SQLITE_DENY

    def _authorize(self, action: int, table: str | None, column: str | None, _db: Any, source: Any) -> int:
        if action in _HARMLESS or action == sqlite3.SQLITE_SELECT:
            return sqlite3.SQLITE_OK
        name = (table or "").lower()
        own = name in self.tables
        if action in _WRITES and own:
            if not self._ledger.conn.in_transaction:
                return self._deny("writes to its tables run inside ledger.transaction()")
            self._writes = True
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ and own:
            return sqlite3.SQLITE_OK
        if (
            action == sqlite3.SQLITE_READ
            and self._writes
            and source is None
            and name not in self._named
            and (name, (column or "").lower()) in self.references
        ):
            return sqlite3.SQLITE_OK  # the foreign key check of a row the plugin writes
        return self._deny("")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """Run one statement on this plugin's tables (a write only inside ``ledger.transaction()``);
        its rows are read before it returns."""
        conn = self._ledger.conn
        parents = {t for t, _ in self.references}  # read before the authorizer is set: it asks the file
        self._named = {t for t in parents if re.search(rf"\b{re.escape(t)}\b", sql, re.I)}
        self._why = ""
        self._writes = False
        conn.set_authorizer(self._authorize)
        try:
            cursor = conn.execute(sql, params)
            rows = tuple(cursor.fetchall())
            columns = tuple(c[0] for c in cursor.description or ())
            return Rows(rows, columns, cursor.lastrowid, cursor.rowcount)
        except sqlite3.DatabaseError as exc:
            if "not authorized" in str(exc) or "prohibited" in str(exc):
                own = ", ".join(sorted(self.tables)) or "none declared"
                raise PluginFailed(
                    self.plugin,
                    "plugin_tables",
                    self._why or f"it may only read and write rows of its own tables ({own})",
                ) from None
            raise
        finally:
            conn.set_authorizer(None)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one write for each of ``rows`` (inside ``ledger.transaction()``)."""
        for row in rows:
            self.execute(sql, row)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a SELECT as dicts by column name."""
        result = self.execute(sql, params)
        return [dict(zip(result.columns, row, strict=True)) for row in result.rows]
