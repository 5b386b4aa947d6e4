"""The ledger: members, accounts, recording, claims, reversals, balances, statements.

``Ledger`` is the API the CLI, the TUI and the importer all use. Every write runs
in one transaction through ``timebank.pipeline``; after-hooks run only once it
has committed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from timebank import pipeline
from timebank.access import AccessMixin
from timebank.claims import ClaimsMixin
from timebank.errors import InputError, NotAllowed, NotFound, PluginFailed, RulesRefused, TimebankError
from timebank.limits import Limits
from timebank.members import MembersMixin
from timebank.models import (
    Claim,
    Decision,
    Draft,
    Entry,
    Exchange,
    Member,
    Posting,
    Problem,
    Report,
    encode_refs,
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
from timebank.read_api import LedgerReader, OwnTables, declared_references, declared_tables
from timebank.reading import ReadingMixin
from timebank.rules import MissingPlugin, Rules, build_rules, check_rules
from timebank.storage.anchors import append_anchor, ledger_id, set_aside_orphans
from timebank.storage.store import Store, now_utc
from timebank.units import NOTE_LENGTH, check_text, text_fault

DEFAULT_RULES: dict[str, Any] = {
    "coop": {},
    "plugins": {"classic": {}, "credit_limits": {}, "confirmation": {}, "reports": {}},
}


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
        self._deferred: list[Entry] = []
        self._wrote_entries = False
        # Follow-ups that failed after a commit (an after-hook, the anchor): the change
        # stands, so these are warnings for the person, never errors that invite a retry.
        self.warnings: list[str] = []
        if create and self.conn.execute("SELECT count(*) FROM rules").fetchone()[0] == 0:
            self.set_rules(DEFAULT_RULES, actor=SYSTEM, note="initial rules")

    @classmethod
    def create(
        cls,
        path: str | Path,
        rules: Mapping[str, Any] | None = None,
        plugins: Plugins | None = None,
        *,
        group: str | None = None,
    ) -> Ledger:
        """Create a new ledger file with ``rules`` (the default time-bank rules if None)."""
        if os.path.lexists(path):  # a symlink, even a dangling one, is not a free name
            raise InputError(f"ledger: {path} already exists; choose another path")
        if rules is not None:  # a bad rule set must not leave a half-made ledger behind
            checking = plugins or default_plugins()
            declared = checking.declared_settings()
            check_rules(build_rules(rules, declared), declared, checking)
        set_aside_orphans(Path(path))
        ledger = cls(path, plugins, create=True, group=group)
        if rules is not None:
            ledger.set_rules(rules, actor=SYSTEM, note="initial rules")
        return ledger

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # caches -----------------------------------------------------------------

    def _fresh(self) -> None:
        """Drop cached members, accounts and rules if another connection wrote."""
        version = self.store.data_version()
        if version != self._seen_version:
            self._seen_version = version
            self._forget()

    @contextmanager
    def transaction(self, *, importing: bool = False, settle_claims: bool = True) -> Iterator[Any]:
        """A write transaction; if it rolls back, cached rows are dropped with it.

        Nested calls join the outer transaction; after-hooks wait for the outer commit.
        Claims whose auto-accept day has come are accepted first, each in its own
        transaction (``settle_claims=False`` for those, and for dry runs). ``importing``
        holds the import marker, so writers kept waiting know an import is running.
        """
        outermost = not self.conn.in_transaction
        if outermost and settle_claims:
            self._accept_due_claims()
        try:
            with self.store.write(importing=importing) as conn:
                yield conn
        except BaseException:
            self._forget()
            if outermost:
                self._deferred.clear()
                self._wrote_entries = False
            raise
        if outermost and self._wrote_entries:
            self._wrote_entries = False
            row = self.conn.execute("SELECT id, hash FROM entries ORDER BY id DESC LIMIT 1").fetchone()
            try:
                append_anchor(self.path, *row, ledger_id=ledger_id(self.conn))
            except TimebankError as exc:
                self.warnings.append(f"{exc}; the entry stands, so do not record it again")
        if outermost and self._deferred:
            entries, self._deferred = self._deferred, []
            self._after(entries)

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
        still reads the rows it kept."""
        statements = [
            s
            for name, call in self.plugins.callers("declare_tables", None)
            if name == plugin
            for s in call() or ()
        ]
        return OwnTables(self, plugin, declared_tables(statements), declared_references(statements))

    # rules ------------------------------------------------------------------

    @property
    def rules(self) -> Rules:
        """The rules in force: the newest version stored in the ledger."""
        self._fresh()
        if self._rules is None:
            row = self.conn.execute(
                "SELECT version, data FROM rules ORDER BY version DESC LIMIT 1"
            ).fetchone()
            if row is None:
                raise NotFound("ledger: no rules are stored yet")
            self._rules = build_rules(json.loads(row[1]), self.plugins.declared_settings(), version=row[0])
        return self._rules

    def set_rules(self, data: Mapping[str, Any], *, actor: Actor, note: str = "") -> Rules:
        """Check and store a new version of the rules; system accounts are created."""
        self.require(actor, CHANGE_RULES)
        check_text(note, field="note")
        declared = self.plugins.declared_settings()
        checked = build_rules(data, declared)
        check_rules(checked, declared, self.plugins)
        with self.transaction() as conn:
            version = (conn.execute("SELECT max(version) FROM rules").fetchone()[0] or 0) + 1
            rules = attrs.evolve(checked, version=version)
            conn.execute(
                "INSERT INTO rules (version, created_at, created_by, data, note) VALUES (?, ?, ?, ?, ?)",
                (version, now_utc(), actor_label(actor), rules.to_json(), note),
            )
            for _, statements in self.plugins.call("declare_tables", rules):
                for statement in statements:
                    conn.execute(statement)
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
            for member_id, handle in conn.execute("SELECT id, handle FROM members").fetchall():
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
            row = self.conn.execute(
                "SELECT version, data FROM rules ORDER BY version DESC LIMIT 1"
            ).fetchone()
            if row is None:
                raise NotFound("ledger: no rules are stored yet")
            version, data = row[0], json.loads(row[1])
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
        return list(
            self.store.db.query("SELECT version, created_at, created_by, note FROM rules ORDER BY version")
        )

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
            batch = pipeline.Batch(self, conn, rules)
            drafts, problems = pipeline.service_drafts(self, rules, [exchange])
            problems = _text_problems([exchange]) + problems
            drafts, problems = pipeline.admit(batch, drafts, acknowledge=True, offset_problems=problems)
        return Preview(drafts[0], tuple(problems), decision)

    def record(self, exchange: Exchange, *, acknowledge: bool = False) -> Entry | Claim:
        """Record an exchange as its recorder; a claim if the other side must confirm.

        Raises ``RulesRefused`` with every problem if a rule says no (warnings
        too, unless ``acknowledge``), ``NotAllowed`` if the recorder may not.
        """
        decision = self._decide(exchange, exchange.recorded_by)
        if decision.direct:
            return self.record_many([exchange], acknowledge=acknowledge)[0]
        preview = self.preview(exchange)
        blocking = [p for p in preview.problems if p.severity == "error" or not acknowledge]
        if blocking:
            raise RulesRefused(blocking)
        with self.transaction() as conn:
            claim_id = conn.execute(
                "INSERT INTO claims (created_at, recorded_by, givers, receivers, minutes, day,"
                " category, note, awaiting, auto_accept_on, refs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    now_utc(),
                    exchange.recorded_by,
                    " ".join(exchange.givers),
                    " ".join(exchange.receivers),
                    exchange.minutes,
                    exchange.day.isoformat(),
                    exchange.category,
                    exchange.note,
                    " ".join(decision.needs_confirmation_from),
                    (dt.date.today() + dt.timedelta(days=decision.auto_accept_days)).isoformat()
                    if decision.auto_accept_days
                    else None,
                    encode_refs(exchange.refs),
                ),
            ).lastrowid
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
        return self.record_stream(
            [exchanges[i : i + batch_size] for i in range(0, len(exchanges), batch_size)],
            acknowledge=acknowledge,
            dry_run=dry_run,
        )

    def record_stream(
        self,
        batches: Iterable[Sequence[Exchange]],
        *,
        acknowledge: bool = False,
        dry_run: bool = False,
    ) -> list[Entry]:
        """Record batches of exchanges in one transaction (the bulk path of an import).

        Problem indexes count from the first exchange of the first batch.
        """
        try:
            with self.transaction(settle_claims=not dry_run) as conn:
                batch, problems = self.record_batches_in(conn, batches, acknowledge=acknowledge)
                if problems:
                    raise RulesRefused(problems)
                if dry_run:
                    raise DryRunDone(batch.written)
        except DryRunDone as done:
            return done.entries
        return self._after(batch.written)

    def record_batches_in(
        self,
        conn: Any,
        batches: Iterable[Sequence[Exchange]],
        *,
        acknowledge: bool,
        keep_entries: bool = True,
    ) -> tuple[pipeline.Batch, list[Problem]]:
        """The bulk path inside the caller's transaction.

        Returns the batch state and every problem (indexes count across batches);
        the caller must roll back if there are any. Without ``keep_entries`` the
        batch counts what it wrote instead of keeping an ``Entry`` for each.
        """
        problems: list[Problem] = []
        batch = pipeline.Batch(self, conn, self.rules, keep_entries=keep_entries)
        offset = 0
        for exchanges in batches:
            drafts, found = pipeline.service_drafts(self, batch.rules, exchanges)
            found = _text_problems(exchanges) + found
            drafts, found = pipeline.admit(batch, drafts, acknowledge=acknowledge, offset_problems=found)
            problems.extend(
                attrs.evolve(p, index=p.index + offset)
                for p in found
                if p.severity == "error" or not acknowledge
            )
            pipeline.write_drafts(batch, [d for d in drafts if d is not None])
            offset += len(exchanges)
        pipeline.flush_balances(batch)
        return batch, problems

    def _after(self, entries: list[Entry]) -> list[Entry]:
        """Run after-hooks for committed entries (deferred while a transaction is open).

        The entries are committed by now: a plugin that fails here cannot undo them, and an
        error would make the person record them again. So each plugin is called in turn and
        a failure becomes a warning naming the plugin; the others still run.
        """
        if entries and self.conn.in_transaction:
            self._deferred.extend(entries)
        elif entries:
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
        return entries

    def write_drafts(self, drafts: Sequence[Draft], *, acknowledge: bool = False) -> list[Entry]:
        """Write drafts that are not exchanges (transfers, adjustments, reversals).

        They still pass ``validate_drafts`` so limits apply to gifts too.
        """
        with self.transaction() as conn:
            batch = self._write_drafts_in(conn, drafts, acknowledge=acknowledge)
        return self._after(batch.written)

    def _write_drafts_in(self, conn: Any, drafts: Sequence[Draft], *, acknowledge: bool) -> Any:
        batch = pipeline.Batch(self, conn, self.rules)
        accounts = self.account_ids()
        for draft in drafts:
            check_text(draft.note, field="note")
            for posting in draft.postings:
                if posting.account not in accounts:
                    raise NotFound(f"account: no account {posting.account!r}")
                if type(posting.amount) is not int:
                    raise InputError(f"postings: {posting!r} is not in whole minutes")
            if sum(p.amount for p in draft.postings) != 0:
                raise InputError("postings: an entry's postings must sum to zero")
        admitted, problems = pipeline.admit(batch, drafts, acknowledge=acknowledge, offset_problems=[])
        if any(d is None for d in admitted):
            raise RulesRefused(problems)
        pipeline.write_drafts(batch, [d for d in admitted if d is not None])
        pipeline.flush_balances(batch)
        return batch

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
            batch = self._write_drafts_in(conn, drafts, acknowledge=True)
            conn.execute(
                "INSERT INTO period_closes (through, closed_at, closed_by) VALUES (?, ?, ?)",
                (through.isoformat(), now_utc(), actor_label(actor)),
            )
        return self._after(batch.written)

    def last_close(self) -> dt.date | None:
        last = self.conn.execute("SELECT max(through) FROM period_closes").fetchone()[0]
        return dt.date.fromisoformat(last) if last else None

    def period_start(self) -> dt.date | None:
        """The first day of the period a close would end: the day after the last close, else
        the day of the ledger's first entry (None while there are no entries)."""
        last = self.last_close()
        if last is not None:
            return last + dt.timedelta(days=1)
        first = self.conn.execute("SELECT min(day) FROM entries").fetchone()[0]
        return dt.date.fromisoformat(first) if first else None

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
            reversed_by = conn.execute("SELECT id FROM entries WHERE reverses = ?", (entry_id,)).fetchone()
            if reversed_by:
                raise InputError(f"entry: #{entry_id} is already reversed by #{reversed_by[0]}")
            batch = self._write_drafts_in(conn, [draft], acknowledge=True)
        return self._after(batch.written)[0]


class DryRunDone(Exception):
    """Raised inside a transaction to roll back a dry run after every check passed."""

    def __init__(self, entries: list[Entry]):
        self.entries = entries


def _text_problems(exchanges: Sequence[Exchange]) -> list[Problem]:
    """The one text check (``check_text``) over a batch of exchanges, as problems that name
    the exchange, so an import reports the CSV line."""
    notes = [e.note for e in exchanges]
    kinds = [e.category for e in exchanges]
    try:  # the common case, a batch of clean text, in a few C-speed passes
        clean = (
            max(map(len, notes), default=0) <= NOTE_LENGTH
            and max(map(len, kinds), default=0) <= 100
            and text_fault("".join(notes) + "".join(kinds), max_length=sys.maxsize) is None
            and not any(e.refs for e in exchanges)
        )
    except TypeError:  # something that is not text: the loop below names it
        clean = False
    if clean:
        return []
    problems = []
    for index, exchange in enumerate(exchanges):
        texts = [("note", exchange.note, NOTE_LENGTH), ("kind", exchange.category, 100)]
        texts += [("ref", f"{key}={value}", 200) for key, value in exchange.refs.items()]
        for field, value, limit in texts:
            fault = text_fault(value, limit)
            if fault is not None:
                problems.append(Problem("error", "timebank", field, fault, index))
    return problems


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


__all__ = ["Ledger", "Preview"]
