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
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from timebank.errors import PluginFailed
from timebank.storage import getters
from timebank.storage.store import now_utc, tables_in

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
_ROWS = {sqlite3.SQLITE_READ, sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE}
_HARMLESS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}


_REFERENCES = re.compile(r"\bREFERENCES\s+[\"`\[]?(\w+)[\"`\]]?\s*\(\s*[\"`\[]?(\w+)", re.I)


def declared_tables(statements: Iterable[str]) -> set[str]:
    """The tables a plugin's ``declare_tables`` statements create."""
    return {m.group(1).lower() for s in statements if (m := _CREATED.match(s))}


def declared_references(statements: Iterable[str]) -> set[tuple[str, str]]:
    """(table, column) each foreign key in the statements points at: SQLite reads that column
    to check a row a plugin writes (``entry_id ... REFERENCES entries(id)``)."""
    return {(t.lower(), c.lower()) for s in statements for t, c in _REFERENCES.findall(s)}


class OwnTables:
    """``ledger.plugin_tables(PLUGIN)``: SQL on the tables that plugin declares, and no others.

    SQLite's authorizer checks each statement as it is prepared: one that reads or writes
    any other table (a core table, another plugin's), or does anything but read and write
    rows (DDL, PRAGMA, ATTACH, BEGIN), is refused with ``PluginFailed``.
    Writes must run inside ``ledger.transaction()``, so they commit or roll back with the
    entries they go with.
    """

    def __init__(
        self, ledger: Ledger, plugin: str, tables: set[str], references: set[tuple[str, str]] = frozenset()
    ):
        self._ledger = ledger
        self.plugin = plugin
        self.tables = frozenset(tables)
        self.references = frozenset(references)

    def exist(self) -> bool:
        """Whether every declared table is in the file (the plugin has been enabled in it)."""
        found = {name.lower() for name in tables_in(self._ledger.conn)}
        return bool(self.tables) and self.tables <= found

    def _authorize(self, action: int, table: str | None, column: str | None, *_: Any) -> int:
        if action in _HARMLESS:
            return sqlite3.SQLITE_OK
        if action not in _ROWS or table is None:
            return sqlite3.SQLITE_DENY
        if table.lower() in self.tables:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ and (table.lower(), (column or "").lower()) in self.references:
            return sqlite3.SQLITE_OK  # the foreign key check of a row the plugin writes
        return sqlite3.SQLITE_DENY

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Run one statement on this plugin's tables; a write only inside ``ledger.transaction()``."""
        conn = self._ledger.conn
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")) and not conn.in_transaction:
            raise PluginFailed(
                self.plugin, "plugin_tables", "writes to its tables run inside ledger.transaction()"
            )
        conn.set_authorizer(self._authorize)
        try:
            return conn.execute(sql, params)
        except sqlite3.DatabaseError as exc:
            if "not authorized" in str(exc) or "prohibited" in str(exc):
                own = ", ".join(sorted(self.tables)) or "none declared"
                raise PluginFailed(
                    self.plugin, "plugin_tables", f"it may only read and write rows of its own tables ({own})"
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
        cursor = self.execute(sql, params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
