"""The ledger: members, accounts, recording, claims, reversals, balances, statements.

``Ledger`` is the API the CLI, the TUI and the importer all use. Every write runs
in one transaction through ``timebank.pipeline``; after-hooks run only once it
has committed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from timebank import pipeline
from timebank.anchors import append_anchor, set_aside_orphans
from timebank.claims import ClaimsMixin
from timebank.errors import InputError, NotAllowed, NotFound, PluginFailed, RulesRefused
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
from timebank.plugin_manager import Plugins, default_plugins
from timebank.reading import ReadingMixin
from timebank.rules import Rules, build_rules
from timebank.store import Store, now_utc

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


class Ledger(MembersMixin, ClaimsMixin, ReadingMixin):
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
        if create and self.conn.execute("SELECT count(*) FROM rules").fetchone()[0] == 0:
            self.set_rules(DEFAULT_RULES, actor="system", note="initial rules")

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
        if Path(path).exists():
            raise InputError(f"ledger: {path} already exists; choose another path")
        if rules is not None:  # a bad rule set must not leave a half-made ledger behind
            build_rules(rules, (plugins or default_plugins()).declared_settings())
        set_aside_orphans(Path(path))
        ledger = cls(path, plugins, create=True, group=group)
        if rules is not None:
            ledger.set_rules(rules, actor="system", note="initial rules")
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
    def transaction(self) -> Iterator[Any]:
        """A write transaction; if it rolls back, cached rows are dropped with it.

        Nested calls join the outer transaction; after-hooks wait for the outer commit.
        """
        outermost = not self.conn.in_transaction
        try:
            with self.store.write() as conn:
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
            append_anchor(self.path, *row)
        if outermost and self._deferred:
            entries, self._deferred = self._deferred, []
            self._after(entries)

    def _forget(self) -> None:
        self._rules = None
        self._members = None
        self._accounts = None

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

    def set_rules(self, data: Mapping[str, Any], *, actor: str, note: str = "") -> Rules:
        """Check and store a new version of the rules; system accounts are created."""
        if actor != "system":
            self._require(actor, "change_rules", None)
        declared = self.plugins.declared_settings()
        checked = build_rules(data, declared)
        with self.transaction() as conn:
            version = (conn.execute("SELECT max(version) FROM rules").fetchone()[0] or 0) + 1
            rules = attrs.evolve(checked, version=version)
            conn.execute(
                "INSERT INTO rules (version, created_at, created_by, data, note) VALUES (?, ?, ?, ?, ?)",
                (version, now_utc(), actor, rules.to_json(), note),
            )
            for _, statements in self.plugins.call("declare_tables", rules):
                for statement in statements:
                    conn.execute(statement)
            for _, accounts in self.plugins.call("declare_system_accounts", rules):
                for account in accounts:
                    self._ensure_account(conn, account)
            self._rules = rules
            for member_id, handle in conn.execute("SELECT id, handle FROM members").fetchall():
                self._open_member_accounts(conn, self.members_by_handle()[handle], member_id)
        self._forget()
        return self.rules

    def change_settings(
        self, section: str, values: Mapping[str, Any], *, actor: str, note: str = ""
    ) -> Rules:
        """A new rules version with some settings of ``section`` (``coop`` or a plugin) changed.

        A plugin not yet enabled is enabled, its other settings at their defaults.
        """
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

    # permissions ------------------------------------------------------------

    def actor(self, handle: str | None) -> Member:
        """The member acting, who must be active; ``--as`` or ``TIMEBANK_USER`` names them."""
        if not handle:
            raise NotAllowed("actor: say who is acting with --as HANDLE or TIMEBANK_USER")
        member = self.member(handle)
        if not member.is_active:
            raise NotAllowed(f"actor: {handle!r} is retired and cannot act")
        return member

    def _require(self, actor: str, action: str, subject: Any) -> Member:
        member = self.actor(actor)
        problems = pipeline.gather_problems(
            self, self.rules, "check_permission", actor=member, action=action, subject=subject
        )
        if problems:
            raise NotAllowed(problems[0].message)
        return member

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
            return Decision()
        plugin, result = answer
        if isinstance(result, Problem):
            raise NotAllowed(result.message)
        if not isinstance(result, Decision):
            raise PluginFailed(plugin, "decide_recording", f"returned {result!r}, not a Decision")
        return result

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
            with self.transaction() as conn:
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
        """Run after-hooks for committed entries (deferred while a transaction is open)."""
        if entries and self.conn.in_transaction:
            self._deferred.extend(entries)
        elif entries:
            self.plugins.call("after_entries_recorded", self.rules, ledger=self, entries=entries)
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

    def close_period(self, through: dt.date, *, actor: str) -> list[Entry]:
        """Close the period ending on ``through``: plugins' adjustments, written together.

        A period can be closed once; closing an earlier date than the last close is refused.
        """
        self._require(actor, "close_period", through)
        if through > dt.date.today():
            raise InputError(f"through: {through} is in the future; close a period once it has ended")
        last = self.last_close()
        if last and through <= last:
            raise InputError(f"through: the ledger is already closed through {last}")
        with self.transaction() as conn:
            drafts = []
            for plugin, found in self.plugins.call("close_period", self.rules, ledger=self, through=through):
                for draft in found:
                    if not isinstance(draft, Draft):
                        raise PluginFailed(plugin, "close_period", f"returned {draft!r}, not a Draft")
                    drafts.append(draft)
            batch = self._write_drafts_in(conn, drafts, acknowledge=True)
            conn.execute(
                "INSERT INTO period_closes (through, closed_at, closed_by) VALUES (?, ?, ?)",
                (through.isoformat(), now_utc(), actor),
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
        for plugin, found in self.plugins.call(
            "make_reports", self.rules, ledger=self, since=since, until=until
        ):
            for report in found:
                if not isinstance(report, Report):
                    raise PluginFailed(plugin, "make_reports", f"returned {report!r}, not a Report")
                out.append(report)
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
        actor: str,
        note: str = "",
        day: dt.date | None = None,
        acknowledge: bool = False,
    ) -> Entry:
        """Move credits between accounts: a gift, a donation to the chest."""
        self._require(actor, "transfer", source)
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
            recorded_by=actor,
            postings=(Posting(source, -minutes), Posting(target, minutes)),
            note=note,
        )
        return self.write_drafts([draft], acknowledge=acknowledge)[0]

    def reverse(self, entry_id: int, *, reason: str, actor: str) -> Entry:
        """Undo an entry by a new entry with the opposite postings; the original stays."""
        self._require(actor, "reverse", entry_id)
        if not reason.strip():
            raise InputError("reason: say why the entry is reversed")
        original = self.entry(entry_id)
        if original.kind == "reversal":
            raise InputError(f"entry: #{entry_id} is itself a reversal; record the entry again")
        reversed_by = self.conn.execute("SELECT id FROM entries WHERE reverses = ?", (entry_id,)).fetchone()
        if reversed_by:
            raise InputError(f"entry: #{entry_id} was already reversed by #{reversed_by[0]}")
        draft = Draft(
            kind="reversal",
            day=dt.date.today(),
            recorded_by=actor,
            postings=tuple(Posting(p.account, -p.amount) for p in original.postings),
            note=reason.strip(),
            reverses=entry_id,
        )
        return self.write_drafts([draft], acknowledge=True)[0]


class DryRunDone(Exception):
    """Raised inside a transaction to roll back a dry run after every check passed."""

    def __init__(self, entries: list[Entry]):
        self.entries = entries


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
