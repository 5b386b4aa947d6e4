"""The ledger: members, accounts, recording, claims, reversals, balances, statements.

``Ledger`` is the API the CLI, the TUI and the importer all use. Every entry is written
by ``Ledger.write``, the one write path: its batches go through the rules
(``timebank.pipeline``) and into the file (``timebank.storage.writes``) in one
transaction, and after-hooks run only once it has committed.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import attrs

from timebank import pipeline
from timebank.access import AccessMixin
from timebank.claims import ClaimsMixin
from timebank.errors import InputError, NotAllowed, NotFound, PluginFailed, RulesRefused, TimebankError
from timebank.limits import NEAR_LIMIT_WITHIN, Limits
from timebank.members import MembersMixin
from timebank.models import (
    Claim,
    Decision,
    Draft,
    Entry,
    Exchange,
    ExchangeField,
    Member,
    Posting,
    Problem,
    Report,
)
from timebank.permissions import (
    CHANGE_RULES,
    CLOSE_PERIOD,
    REVERSE,
    SYSTEM,
    TRANSFER,
    Actor,
    PermissionsMixin,
    actor_label,
)
from timebank.pins import PinsMixin
from timebank.plugin_manager import Plugins, default_plugins
from timebank.read_api import Declaration, LedgerReader, OwnTables, declared_tables
from timebank.reading import ReadingMixin
from timebank.rules import MissingPlugin, Rules, build_rules, check_rules
from timebank.storage import reads, writes
from timebank.storage.anchors import append_anchor, ledger_id, set_aside_orphans
from timebank.storage.store import Store, is_core_table, undoable
from timebank.templates import DEFAULT_TEMPLATE, load_template
from timebank.units import check_text


@attrs.frozen
class Preview:
    """What an exchange would do, with nothing written: postings, balances, problems."""

    draft: Draft | None
    problems: tuple[Problem, ...]
    decision: Decision | None = None

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")


@attrs.frozen
class WriteResult:
    """What ``Ledger.write`` did: the entries written, or the problems that refused them all.

    ``problems`` are the blocking ones (errors, and warnings unless acknowledged), each
    with its index counted from the first item of the first batch; if there are any,
    nothing was written. ``count`` is how many entries were written (or, in a dry run,
    would have been); ``entries`` holds them unless the caller asked not to keep them
    (an import of a million that no after-hook reads).
    """

    count: int = 0
    entries: tuple[Entry, ...] = ()
    problems: tuple[Problem, ...] = ()
    dry_run: bool = False

    @property
    def written(self) -> bool:
        """Whether entries are now in the ledger (not refused, not a dry run, not empty)."""
        return bool(self.count) and not self.problems and not self.dry_run

    def refuse(self) -> WriteResult:
        """This result, or ``RulesRefused`` with its problems if it has any."""
        if self.problems:
            raise RulesRefused(self.problems)
        return self


class Ledger(PermissionsMixin, MembersMixin, ClaimsMixin, ReadingMixin, AccessMixin, PinsMixin):
    """One ledger file and the plugins that apply its rules."""

    def __init__(
        self,
        path: str | Path,
        plugins: Plugins | None = None,
        *,
        create: bool = False,
        group: str | None = None,
    ):
        self.store = Store(path, create=create, group=group)
        self.path = self.store.path
        self.conn = self.store.conn
        self.plugins = plugins or default_plugins()
        self._seen_version = -1
        self._rules: Rules | None = None
        self._members: dict[str, Member] | None = None
        self._accounts: dict[str, int] | None = None
        # Entries written inside the open transaction, for the after-hooks once it commits,
        # and whether it is a dry run (nothing in it commits, so nothing follows up).
        self._deferred: list[Entry] = []
        self._wrote_entries = False
        self._dry_run = False
        # Follow-ups that failed after a commit (an after-hook, the anchor): the change
        # stands, so these are warnings for the person, never errors that invite a retry.
        self.warnings: list[str] = []

    @classmethod
    def create(
        cls,
        path: str | Path,
        rules: Mapping[str, Any] | None = None,
        plugins: Plugins | None = None,
        *,
        group: str | None = None,
    ) -> Ledger:
        """Create a new ledger file with ``rules`` as its one initial version of the rules.

        With no ``rules``, the ``time-bank`` template's: the templates are the one source of
        starter rules, so a ledger made here and one made by ``timebank init`` agree.
        """
        if os.path.lexists(path):  # a symlink, even a dangling one, is not a free name
            raise InputError(f"ledger: {path} already exists; choose another path")
        if rules is None:
            rules = load_template(DEFAULT_TEMPLATE)
        # a bad rule set must not leave a half-made ledger behind
        checking = plugins or default_plugins()
        declared = checking.declared_settings()
        check_rules(build_rules(rules, declared), declared, checking)
        set_aside_orphans(Path(path))
        ledger = cls(path, plugins, create=True, group=group)
        ledger.set_rules(rules, actor=SYSTEM, note="initial rules")
        return ledger

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # caches -----------------------------------------------------------------

    def data_version(self) -> int:
        """A number that changes when another connection commits to the ledger: a screen
        polls it to know when to reload (SQLite's ``data_version``)."""
        return self.store.data_version()

    def _fresh(self) -> None:
        """Drop cached members, accounts and rules if another connection wrote."""
        version = self.store.data_version()
        if version != self._seen_version:
            self._seen_version = version
            self._forget()

    @contextmanager
    def transaction(
        self, *, importing: bool = False, settle_claims: bool = True, dry_run: bool = False
    ) -> Iterator[Any]:
        """The write transaction; if it rolls back, cached rows are dropped with it.

        Nested calls join the outer transaction; after-hooks wait for the outer commit.
        Claims whose auto-accept day has come are accepted first, each in its own
        transaction (``settle_claims=False`` for those, and for dry runs). ``importing``
        holds the import marker, so writers kept waiting know an import is running. A
        ``dry_run`` does everything, then rolls back what it did: nothing is raised, and
        no anchor or after-hook follows.
        """
        outermost = not self.conn.in_transaction
        if outermost and settle_claims and not dry_run:
            self._accept_due_claims()
        was_dry = self._dry_run
        try:
            with self.store.write(importing=importing) as conn:
                if dry_run:
                    self._dry_run = True
                    with undoable(conn, outermost) as undo:
                        yield conn
                        undo()
                else:
                    yield conn
        except BaseException:
            self._forget()
            if outermost:
                self._deferred.clear()
                self._wrote_entries = False
            raise
        finally:
            self._dry_run = was_dry
        if dry_run:
            self._forget()
        if outermost:
            self._after_commit()

    def _after_commit(self) -> None:
        """Follow-ups of a committed transaction: the anchor, then the after-hooks.

        The entries are committed by now: a plugin that fails here cannot undo them, and an
        error would make the person record them again. So each plugin is called in turn and
        a failure becomes a warning naming the plugin; the others still run.
        """
        if self._wrote_entries:
            self._wrote_entries = False
            try:
                append_anchor(self.path, *reads.chain_head(self.conn), ledger_id=ledger_id(self.conn))
            except TimebankError as exc:
                self.warnings.append(f"{exc}; the entry stands, so do not record it again")
        if not self._deferred:
            return
        entries, self._deferred = self._deferred, []
        for _, call in self.plugins.callers("after_entries_recorded", self.rules):
            try:
                call(ledger=self, entries=entries)
            except PluginFailed as exc:
                self.warnings.append(
                    f"{_saved(entries)}, but plugin {exc.plugin!r} failed in {exc.hook}: "
                    f"{exc.detail}; "
                    + (
                        "it stands, so do not record it again"
                        if len(entries) == 1
                        else "they stand, so do not record them again"
                    )
                )

    def write(
        self,
        batches: Iterable[Sequence[Exchange] | Sequence[Draft]],
        *,
        acknowledge: bool = False,
        dry_run: bool = False,
        importing: bool = False,
        keep_entries: bool = True,
        check: Callable[[WriteResult], None] | None = None,
    ) -> WriteResult:
        """The one write path: batches of exchanges or of drafts, checked and written together.

        Exchanges go through the exchange rules; drafts (transfers, adjustments, reversals)
        are checked for known accounts and balanced postings. Both then meet the balance
        rules (``validate_drafts``) and are written with their postings and balances. If
        any problem blocks (errors; warnings unless ``acknowledge``) nothing is written and
        the result lists them all: a later batch is still judged on the balances the earlier
        ones would leave. Called inside an open transaction, the write joins it, and its
        after-hooks wait for that transaction to commit. ``keep_entries=False`` keeps no
        ``Entry`` records (a bulk import) unless an after-hook will read them. ``check``
        sees the result before the commit and may refuse it by raising (the importer's
        own problems with the file), which rolls everything back.
        """
        outermost = not self.conn.in_transaction
        with self.transaction(importing=importing, dry_run=dry_run, settle_claims=not dry_run) as conn:
            with undoable(conn, outermost) as undo:
                rules = self.rules  # read under the write lock
                keep = keep_entries or self.plugins.implements("after_entries_recorded", rules)
                state = writes.WriteState(conn, rules.version, self.account_ids, keep_entries=keep)
                problems = self._admit_and_write(state, rules, batches, acknowledge)
                dry = dry_run or self._dry_run
                if problems:
                    result = WriteResult(problems=tuple(problems), dry_run=dry)
                else:
                    result = WriteResult(state.count, tuple(state.written), dry_run=dry)
                if check is not None:
                    check(result)
                if problems:
                    undo()
                    return result
            if state.count and not self._dry_run:
                self._wrote_entries = True
                self._deferred.extend(state.written)
        return result

    def _admit_and_write(
        self,
        state: writes.WriteState,
        rules: Rules,
        batches: Iterable[Sequence[Exchange] | Sequence[Draft]],
        acknowledge: bool,
    ) -> list[Problem]:
        """Each batch through the rules and into the file; every blocking problem, indexed
        across batches (the caller rolls back if there are any)."""
        problems: list[Problem] = []
        offset = 0
        for items in batches:
            if not items:
                continue
            if isinstance(items[0], Draft):
                pipeline.check_drafts(items, self.account_ids())  # type: ignore[arg-type]
                drafts: list[Draft | None] = list(items)  # type: ignore[arg-type]
                found: list[Problem] = []
            else:
                drafts, found = pipeline.service_drafts(self, rules, items, self.account_ids())  # type: ignore[arg-type]
                found = pipeline.text_problems(items) + found  # type: ignore[arg-type]
            drafts, refused = pipeline.admit(self, rules, drafts, state.balance, acknowledge=acknowledge)
            problems.extend(
                attrs.evolve(p, index=p.index + offset)
                for p in pipeline.blocking(found + refused, acknowledge=acknowledge)
            )
            writes.write_drafts(state, [d for d in drafts if d is not None])
            offset += len(items)
        writes.flush_balances(state)
        return problems

    def _forget(self) -> None:
        self._rules = None
        self._members = None
        self._accounts = None

    # what plugins read ----------------------------------------------------------

    @property
    def read(self) -> LedgerReader:
        """The ledger as plugins read it (``timebank.read_api``): no SQL, no table names."""
        reader = self.__dict__.get("_reader")
        if reader is None:
            reader = self.__dict__["_reader"] = LedgerReader(self)
        return reader

    def plugin_tables(self, plugin: str) -> OwnTables:
        """SQL on the tables ``plugin`` declares (``declare_tables``), refused on any other.

        Asked of the plugin whether or not these rules enable it: a plugin disabled later
        still reads the rows it kept. A core table's name is never "own", whatever a plugin
        declares (``create_plugin_tables`` refuses such a declaration)."""
        mine = {
            table
            for name, call in self.plugins.callers("declare_tables", None)
            if name == plugin
            for table in declared_tables(call() or ())
        }
        return OwnTables(self, plugin, {t for t in mine if not is_core_table(t)})

    def _declared_tables(self) -> dict[str, set[str]]:
        """The tables each installed plugin declares, enabled or not. A plugin whose
        ``declare_tables`` fails is left out: it must not stop the rest."""
        found: dict[str, set[str]] = {}
        for name, call in self.plugins.callers("declare_tables", None):
            with suppress(PluginFailed):
                found.setdefault(name, set()).update(declared_tables(call() or ()))
        return found

    def create_plugin_tables(self, conn: Any, rules: Rules) -> None:
        """Run the ``declare_tables`` statements of the plugins ``rules`` enable, each checked
        by SQLite's authorizer (``read_api.Declaration``): a plugin that declares a core table,
        another plugin's, a trigger, a view or a TEMP table is refused by name."""
        declared = self._declared_tables()
        for plugin, statements in self.plugins.call("declare_tables", rules):
            others = {t: name for name, tables in declared.items() if name != plugin for t in tables}
            check = Declaration(plugin, statements, others)
            try:
                writes.create_plugin_tables(conn, statements, check.authorize)
            except sqlite3.DatabaseError as exc:
                raise check.refused(exc) from None

    # rules ------------------------------------------------------------------

    @property
    def rules(self) -> Rules:
        """The rules in force: the newest version stored in the ledger."""
        self._fresh()
        if self._rules is None:
            stored = writes.newest_rules(self.conn)
            if stored is None:
                raise NotFound("ledger: no rules are stored yet")
            self._rules = build_rules(stored[1], self.plugins.declared_settings(), version=stored[0])
        return self._rules

    def set_rules(self, data: Mapping[str, Any], *, actor: Actor, note: str = "") -> Rules:
        """Check and store a new version of the rules; system accounts are created."""
        self.require(actor, CHANGE_RULES)
        check_text(note, field="note")
        declared = self.plugins.declared_settings()
        checked = build_rules(data, declared)
        check_rules(checked, declared, self.plugins)
        with self.transaction() as conn:
            version = writes.next_rules_version(conn)
            rules = attrs.evolve(checked, version=version)
            writes.insert_rules(
                conn, version=version, created_by=actor_label(actor), data=rules.to_json(), note=note
            )
            self.create_plugin_tables(conn, rules)
            for _, accounts in self.plugins.call("declare_system_accounts", rules):
                for account in accounts:
                    self._ensure_account(conn, account)
            self._rules = rules
            active = {m.member_class for m in self.members(include_retired=False)}
            stranded = sorted(active - set(self.member_classes()))
            if stranded:  # they could no longer be changed or retired
                raise InputError(
                    f"rules: active members are in the class {stranded[0]!r}, which these rules no "
                    f"longer declare; move them to another class first"
                )
            for member_id, handle in writes.member_ids(conn):
                self._open_member_accounts(conn, self.members_by_handle()[handle], member_id)
        self._forget()
        return self.rules

    def disable_plugins(self, names: Sequence[str], *, actor: str) -> Rules:
        """A new rules version without the plugins ``names`` (``timebank rules disable``).

        Also the way out when the rules in force enable a plugin since uninstalled, which
        stops every command that applies the rules: who may change the rules is then judged
        by the rules in force without the missing plugins. Every missing plugin must be among
        ``names``, so that the new version can be applied here.
        """
        with self.transaction(settle_claims=False):  # read under the lock: a change made meanwhile is kept
            self._fresh()
            stored = writes.newest_rules(self.conn)
            if stored is None:
                raise NotFound("ledger: no rules are stored yet")
            version, data = stored
            enabled = data.get("plugins", {})
            for name in names:
                if name not in enabled:
                    raise InputError(f"plugin: {name!r} is not enabled")
            declared = self.plugins.declared_settings()
            missing = [name for name in enabled if name not in declared]
            if [name for name in missing if name not in names]:
                raise MissingPlugin([name for name in missing if name not in names], version)
            if missing and self._rules is None:
                self._rules = build_rules(data, declared, version=version, drop_missing=True)
            remaining = {k: v for k, v in enabled.items() if k not in names}
            return self.set_rules(
                {**data, "plugins": remaining}, actor=actor, note=f"disabled {', '.join(names)}"
            )

    def change_settings(
        self, section: str, values: Mapping[str, Any], *, actor: Actor, note: str = ""
    ) -> Rules:
        """A new rules version with some settings of ``section`` (``coop`` or a plugin) changed.

        A plugin not yet enabled is enabled, its other settings at their defaults. The rules
        are read inside the write transaction, so two changes made at once both land.
        """
        with self.transaction():
            data = self.rules.to_data()
            target = data["coop"] if section == "coop" else data["plugins"].setdefault(section, {})
            target.update(values)
            return self.set_rules(data, actor=actor, note=note)

    def rules_history(self) -> list[dict[str, Any]]:
        return writes.rules_history(self.conn)

    def member_classes(self) -> list[str]:
        """Member classes from the enabled plugins, in the order the rules list the plugins."""
        return self._declared("declare_member_classes")

    def categories(self) -> list[str]:
        """Kinds of care from the enabled plugins, in the order the rules list the plugins."""
        return self._declared("declare_categories")

    def flags(self) -> list[str]:
        """Member flags the enabled plugins read (``supported``), in the rules' plugin order."""
        return self._declared("declare_flags")

    def _declared(self, hook: str) -> list[str]:
        rules = self.rules
        order = {name: i for i, name in enumerate(rules.enabled)}
        answers = sorted(self.plugins.call(hook, rules), key=lambda pair: order[pair[0]])
        return _union(result for _, result in answers)

    # recording --------------------------------------------------------------

    def preview(self, exchange: Exchange, *, actor: str | None = None) -> Preview:
        """What recording ``exchange`` would post and which problems it meets; writes nothing."""
        decision = None
        if actor is not None:
            decision = self._decide(exchange, actor)
        rules = self.rules
        with self.store.read() as conn:
            drafts, problems = pipeline.service_drafts(self, rules, [exchange], self.account_ids())
            problems = pipeline.text_problems([exchange]) + problems
            drafts, refused = pipeline.admit(
                self, rules, drafts, lambda code: reads.stored_balance(conn, code), acknowledge=True
            )
        return Preview(drafts[0], tuple(problems + refused), decision)

    def record(self, exchange: Exchange, *, acknowledge: bool = False) -> Entry | Claim:
        """Record an exchange as its recorder; a claim if the other side must confirm.

        Raises ``RulesRefused`` with every problem if a rule says no (warnings
        too, unless ``acknowledge``), ``NotAllowed`` if the recorder may not.
        """
        decision = self._decide(exchange, exchange.recorded_by)
        if decision.direct:
            return self.record_many([exchange], acknowledge=acknowledge)[0]
        preview = self.preview(exchange)
        blocking = pipeline.blocking(preview.problems, acknowledge=acknowledge)
        if blocking:
            raise RulesRefused(blocking)
        days = decision.auto_accept_days
        with self.transaction() as conn:
            claim_id = writes.insert_claim(
                conn,
                exchange,
                awaiting=decision.needs_confirmation_from,
                auto_accept_on=dt.date.today() + dt.timedelta(days=days) if days else None,
            )
        return self.claim(claim_id)

    def _decide(self, exchange: Exchange, actor: str) -> Decision:
        member = self.actor(actor)
        answer = self.plugins.first(
            "decide_recording", self.rules, ledger=self, exchange=exchange, actor=member
        )
        if answer is None:
            return _every_charged_confirms(_default_decision(exchange, member), exchange)
        plugin, result = answer
        if isinstance(result, Problem):  # else a Decision: the plugin manager checks the type
            raise NotAllowed(result.message)
        return _every_charged_confirms(result, exchange)

    def record_many(
        self,
        exchanges: Sequence[Exchange],
        *,
        acknowledge: bool = False,
        batch_size: int = 5000,
        dry_run: bool = False,
    ) -> list[Entry]:
        """Record exchanges straight into the ledger (no claims) in one transaction.

        All are checked; if any is refused nothing is written and
        ``RulesRefused`` lists every problem with its index in ``exchanges``.
        """
        batches = [exchanges[i : i + batch_size] for i in range(0, len(exchanges), batch_size)]
        return list(self.write(batches, acknowledge=acknowledge, dry_run=dry_run).refuse().entries)

    def write_drafts(self, drafts: Sequence[Draft], *, acknowledge: bool = False) -> list[Entry]:
        """Write drafts that are not exchanges (transfers, adjustments, reversals).

        They still pass ``validate_drafts`` so limits apply to gifts too.
        """
        return list(self.write([drafts], acknowledge=acknowledge).refuse().entries)

    def close_period(self, through: dt.date, *, actor: Actor) -> list[Entry]:
        """Close the period ending on ``through``: plugins' adjustments, written together.

        A period can be closed once; closing an earlier date than the last close is refused.
        The last close is read inside the write transaction, so two closes racing are
        decided one after the other: closes only move forward, each period is paid once.
        """
        self.require(actor, CLOSE_PERIOD, through)
        if through > dt.date.today():
            raise InputError(f"through: {through} is in the future; close a period once it has ended")
        with self.transaction() as conn:
            last = self.last_close()
            if last and through <= last:
                raise InputError(f"through: the ledger is already closed through {last}")
            drafts = []
            for _, found in self.plugins.call("close_period", self.rules, ledger=self, through=through):
                drafts.extend(found)  # each a Draft: the plugin manager checks every result's type
            result = self.write([drafts], acknowledge=True).refuse()
            writes.insert_period_close(conn, through, actor_label(actor))
        return list(result.entries)

    def last_close(self) -> dt.date | None:
        return writes.last_close(self.conn)

    def period_start(self) -> dt.date | None:
        """The first day of the period a close would end: the day after the last close, else
        the day of the ledger's first entry (None while there are no entries)."""
        last = self.last_close()
        if last is not None:
            return last + dt.timedelta(days=1)
        return writes.first_entry_day(self.conn)

    def reports(self, *, since: dt.date | None = None, until: dt.date | None = None) -> list[Report]:
        """Every report the enabled plugins offer a co-ordinator, for ``since`` to ``until``
        (both included; by default the 90 days to today)."""
        until = until or dt.date.today()
        since = since or until - dt.timedelta(days=89)
        out = []
        for _, found in self.plugins.call("make_reports", self.rules, ledger=self, since=since, until=until):
            out.extend(found)  # each a Report: the plugin manager checks every result's type
        return out

    def member_limits(self, members: Iterable[Member] | None = None) -> dict[str, Limits]:
        """Each member's floor and ceiling as the enabled plugins set them (``member_limits``);
        a member no plugin bounds is absent. The tightest answer holds."""
        chosen = list(members) if members is not None else self.members(include_retired=False)
        out: dict[str, Limits] = {}
        for _, answer in self.plugins.call("member_limits", self.rules, ledger=self, members=chosen):
            for handle, limits in answer.items():
                had = out.get(handle)
                out[handle] = limits if had is None else _tighter(had, limits)
        return out

    def near_limit_within(self) -> int:
        """How close to a limit counts as near (``near_limit_within``; the widest answer),
        ``NEAR_LIMIT_WITHIN`` when no enabled plugin says."""
        answers = [minutes for _, minutes in self.plugins.call("near_limit_within", self.rules)]
        return max(answers) if answers else NEAR_LIMIT_WITHIN

    def exchange_fields(self) -> list[ExchangeField]:
        """What the enabled plugins need to know besides the exchange (``exchange_fields``),
        each once by name (the first plugin to ask for a name defines it)."""
        fields: dict[str, ExchangeField] = {}
        for _, answer in self.plugins.call("exchange_fields", self.rules, ledger=self):
            for field in answer:
                fields.setdefault(field.name, field)
        return list(fields.values())

    def transfer(
        self,
        source: str,
        target: str,
        minutes: int,
        *,
        actor: Actor,
        note: str = "",
        day: dt.date | None = None,
        acknowledge: bool = False,
    ) -> Entry:
        """Move credits between accounts: a gift, a donation to the chest."""
        check_text(note, field="note")
        self.require(actor, TRANSFER, source)
        if minutes <= 0:
            raise InputError(f"minutes: {minutes} must be more than zero")
        if source == target:
            raise InputError("to: a transfer needs two different accounts")
        for code in (source, target):
            owner = self.account(code).member
            if owner is not None and not self.member(owner).is_active:
                # The leaver rule has already settled a retired member's balance.
                raise InputError(f"account: {code!r} belongs to {owner}, who has retired")
        day = day or dt.date.today()
        closed = self.last_close()
        if closed is not None and day <= closed:
            raise InputError(f"date: {day} is in a closed period (the ledger is closed through {closed})")
        draft = Draft(
            kind="transfer",
            day=day,
            recorded_by=actor_label(actor),
            postings=(Posting(source, -minutes), Posting(target, minutes)),
            note=note,
        )
        return self.write_drafts([draft], acknowledge=acknowledge)[0]

    def reverse(self, entry_id: int, *, reason: str, actor: Actor) -> Entry:
        """Undo an entry by a new entry with the opposite postings; the original stays.

        Whether it is already reversed is asked inside the write transaction, so of two
        reversals racing one is written and the other is told which entry reversed it.
        """
        self.require(actor, REVERSE, entry_id)
        check_text(reason, field="reason")
        if not reason.strip():
            raise InputError("reason: say why the entry is reversed")
        original = self.entry(entry_id)
        if original.kind == "reversal":
            raise InputError(f"entry: #{entry_id} is itself a reversal; record the entry again")
        draft = Draft(
            kind="reversal",
            day=dt.date.today(),
            recorded_by=actor_label(actor),
            postings=tuple(Posting(p.account, -p.amount) for p in original.postings),
            note=reason.strip(),
            reverses=entry_id,
        )
        with self.transaction() as conn:
            reversed_by = reads.reversed_by(conn, [entry_id]).get(entry_id)
            if reversed_by is not None:
                raise InputError(f"entry: #{entry_id} is already reversed by #{reversed_by}")
            result = self.write([[draft]], acknowledge=True).refuse()
        return result.entries[0]


def _every_charged_confirms(decision: Decision, exchange: Exchange) -> Decision:
    """A claim waits for every member it charges, whatever a plugin decided: a recorder who
    names a co-receiver of a group session cannot charge them without their word. (A direct
    recording, which a rule such as "either side records" allows, stays direct.)"""
    if decision.direct:
        return decision
    charged = [r for r in exchange.receivers if r != exchange.recorded_by]
    waiting = tuple(dict.fromkeys([*decision.needs_confirmation_from, *charged]))
    return attrs.evolve(decision, needs_confirmation_from=waiting)


def _default_decision(exchange: Exchange, member: Member) -> Decision:
    """How an exchange is recorded when no plugin decides: the strictest way, so that
    dropping a plugin such as ``confirmation`` never lets a member record more.

    A co-ordinator records anything directly; a member records only an exchange they
    took part in, and it waits for the other side to confirm.
    """
    if member.is_coordinator:
        return Decision()
    if member.handle in exchange.givers:
        return Decision(needs_confirmation_from=tuple(exchange.receivers))
    if member.handle in exchange.receivers:
        return Decision(needs_confirmation_from=tuple(exchange.givers))
    raise NotAllowed(f"recorded_by: {member.name} can only record exchanges they took part in")


def _saved(entries: Sequence[Entry]) -> str:
    if len(entries) == 1:
        return f"entry #{entries[0].id} is saved"
    return f"entries #{entries[0].id} to #{entries[-1].id} are saved"


def _tighter(a: Limits, b: Limits) -> Limits:
    warn = [w for w in (a.warn_below, b.warn_below) if w is not None]
    return Limits(max(a.floor, b.floor), min(a.ceiling, b.ceiling), max(warn) if warn else None)


def _union(lists: Iterable[Iterable[str]]) -> list[str]:
    seen: dict[str, None] = {}
    for items in lists:
        for item in items:
            seen.setdefault(item, None)
    return list(seen)


__all__ = ["Ledger", "Preview", "WriteResult"]
