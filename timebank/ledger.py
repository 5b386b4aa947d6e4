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
from timebank.anchors import append_anchor
from timebank.chain import SELECT_ENTRIES
from timebank.errors import InputError, NotAllowed, NotFound, PluginFailed, RulesRefused
from timebank.models import (
    SYSTEM_PREFIX,
    Account,
    Claim,
    Decision,
    Draft,
    Entry,
    Exchange,
    Member,
    Posting,
    Problem,
    Report,
    StatementLine,
    decode_refs,
    encode_refs,
)
from timebank.plugin_manager import Plugins, default_plugins
from timebank.rules import Rules, build_rules
from timebank.store import Store, now_utc
from timebank.units import check_text

DEFAULT_RULES: dict[str, Any] = {
    "coop": {},
    "plugins": {"classic": {}, "credit_limits": {}, "confirmation": {}},
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


class Ledger:
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

    def _declared(self, hook: str) -> list[str]:
        rules = self.rules
        order = {name: i for i, name in enumerate(rules.enabled)}
        answers = sorted(self.plugins.call(hook, rules), key=lambda pair: order[pair[0]])
        return _union(result for _, result in answers)

    # members and accounts ---------------------------------------------------

    def members_by_handle(self) -> dict[str, Member]:
        self._fresh()
        if self._members is None:
            self._members = {
                row["handle"]: Member.from_row(row)
                for row in self.store.db.query("SELECT * FROM members ORDER BY handle")
            }
        return self._members

    def member(self, handle: str) -> Member:
        member = self.members_by_handle().get(handle)
        if member is None:
            raise NotFound(f"member: no member with handle {handle!r}")
        return member

    def members(self, *, include_retired: bool = True) -> list[Member]:
        members = self.members_by_handle().values()
        return [m for m in members if include_retired or m.is_active]

    def find_members(self, text: str, limit: int = 20) -> list[Member]:
        """Members whose handle or name contains ``text`` (case-insensitive), handles first."""
        needle = text.strip().lower()
        members = self.members(include_retired=False)
        starts = [m for m in members if m.handle.startswith(needle)]
        rest = [
            m
            for m in members
            if not m.handle.startswith(needle) and (needle in m.handle or needle in m.name.lower())
        ]
        return (starts + rest)[:limit]

    def add_member(self, member: Member, *, actor: str) -> Member:
        """Admit a member after the rules' ``validate_member`` checks; opens their account."""
        if actor != "system":
            self._require(actor, "manage_members", member.handle)
        if member.handle in self.members_by_handle():
            raise InputError(f"handle: {member.handle!r} is already a member's handle")
        self._check_member(member, None)
        with self.transaction() as conn:
            member_id = conn.execute(
                "INSERT INTO members (handle, name, member_class, joined, left, status, role,"
                " area, flags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _member_row(member),
            ).lastrowid
            self._ensure_account(
                conn, Account(member.handle, "member", member.name, member.handle), member_id
            )
            self._open_member_accounts(conn, member, member_id)
            self._log_member_change(conn, member_id, actor, {"added": _member_dict(member)})
            if self._members is not None:  # our own write: keep the directory, add one member
                self._members[member.handle] = member
            batch = self._member_entries(conn, member, None)
        return self._after_member(member, batch)

    def update_member(self, handle: str, *, actor: str, **changes: Any) -> Member:
        """Change a member's details; the handle, which the ledger refers to, cannot change."""
        if actor != "system":
            self._require(actor, "manage_members", handle)
        previous = self.member(handle)
        if "handle" in changes:
            raise InputError("handle: a member's handle cannot change; it names their history")
        try:
            updated = attrs.evolve(previous, **changes)
        except (TypeError, ValueError) as exc:
            raise InputError(f"member: {exc}") from None
        self._check_member(updated, previous)
        with self.transaction() as conn:
            row = _member_row(updated)
            conn.execute(
                "UPDATE members SET name = ?, member_class = ?, joined = ?, left = ?, status = ?,"
                " role = ?, area = ?, flags = ? WHERE handle = ?",
                (*row[1:], handle),
            )
            member_id = conn.execute("SELECT id FROM members WHERE handle = ?", (handle,)).fetchone()
            diff = {
                k: [str(v), str(_member_dict(updated)[k])]
                for k, v in _member_dict(previous).items()
                if _member_dict(updated)[k] != v
            }
            self._log_member_change(conn, member_id[0], actor, {"changed": diff})
            if self._members is not None:
                self._members[handle] = updated
            batch = self._member_entries(conn, updated, previous)
        return self._after_member(updated, batch)

    def _open_member_accounts(self, conn: Any, member: Member, member_id: int) -> None:
        for _, accounts in self.plugins.call("declare_member_accounts", self.rules, member=member):
            for account in accounts:
                self._ensure_account(conn, account, member_id)

    def _member_entries(self, conn: Any, member: Member, previous: Member | None) -> Any:
        drafts = [
            draft
            for _, found in self.plugins.call(
                "entries_for_member_change", self.rules, ledger=self, member=member, previous=previous
            )
            for draft in found
        ]
        return self._write_drafts_in(conn, drafts, acknowledge=True) if drafts else None

    def _after_member(self, member: Member, batch: Any) -> Member:
        if batch is not None:
            self._after(batch.written)
        return member

    def retire_member(self, handle: str, *, actor: str, day: dt.date | None = None) -> Member:
        """Retire a member: they keep their history and balance but can no longer exchange."""
        member = self.member(handle)
        if not member.is_active:
            raise InputError(f"member: {handle!r} is already retired")
        return self.update_member(handle, actor=actor, status="retired", left=day or dt.date.today())

    def _check_member(self, member: Member, previous: Member | None) -> None:
        check_text(member.name, field="name", max_length=200, one_line=True)
        if not member.name.strip():
            raise InputError("name: a member needs a name")
        if member.area is not None:
            check_text(member.area, field="area", max_length=100, one_line=True)
        problems = pipeline._gather_problems(
            self, self.rules, "validate_member", member=member, previous=previous
        )
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            raise RulesRefused(errors)

    def _log_member_change(self, conn: Any, member_id: int, actor: str, change: dict) -> None:
        conn.execute(
            "INSERT INTO member_changes (member_id, changed_at, changed_by, change) VALUES (?, ?, ?, ?)",
            (member_id, now_utc(), actor, json.dumps(change, default=str)),
        )

    def account_ids(self) -> dict[str, int]:
        """Every account's code mapped to its row id (cached until another writer commits)."""
        self._fresh()
        if self._accounts is None:
            self._accounts = dict(self.conn.execute("SELECT code, id FROM accounts"))
        return self._accounts

    def account(self, code: str) -> Account:
        row = self.conn.execute(
            "SELECT a.code, a.kind, a.name, m.handle FROM accounts a"
            " LEFT JOIN members m ON m.id = a.member_id WHERE a.code = ?",
            (code,),
        ).fetchone()
        if row is None:
            raise NotFound(f"account: no account {code!r}")
        return Account(*row)

    def accounts(self) -> list[Account]:
        return [
            Account(*row)
            for row in self.conn.execute(
                "SELECT a.code, a.kind, a.name, m.handle FROM accounts a"
                " LEFT JOIN members m ON m.id = a.member_id ORDER BY a.code"
            )
        ]

    def open_account(self, account: Account) -> Account:
        """Open a system account a plugin needs at run time (a new Han group's account)."""
        if not account.is_system:
            raise InputError(f"account: {account.code!r} must start with '@'")
        with self.transaction() as conn:
            self._ensure_account(conn, account)
        return self.account(account.code)

    def given_since(self, since: dt.date) -> dict[str, int]:
        """Minutes each member gave in service entries on or after ``since`` (not reversed)."""
        given: dict[str, int] = {}
        rows = self.conn.execute(
            "SELECT e.givers, e.minutes FROM entries e WHERE e.kind = 'service' AND e.day >= ?"
            " AND NOT EXISTS (SELECT 1 FROM entries r WHERE r.reverses = e.id)",
            (since.isoformat(),),
        )
        for givers, minutes in rows:
            for giver in givers.split():
                given[giver] = given.get(giver, 0) + minutes
        return given

    def _ensure_account(self, conn: Any, account: Account, member_id: int | None = None) -> None:
        row = conn.execute(
            "INSERT INTO accounts (code, kind, name, member_id) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (code) DO NOTHING RETURNING id",
            (account.code, account.kind, account.name, member_id),
        ).fetchone()
        if row and self._accounts is not None:
            self._accounts[account.code] = row[0]

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
        problems = pipeline._gather_problems(
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
                    raise _DryRun(batch.written)
        except _DryRun as done:
            return done.entries
        return self._after(batch.written)

    def record_batches_in(
        self, conn: Any, batches: Iterable[Sequence[Exchange]], *, acknowledge: bool
    ) -> tuple[pipeline.Batch, list[Problem]]:
        """The bulk path inside the caller's transaction.

        Returns the batch state and every problem (indexes count across batches);
        the caller must roll back if there are any.
        """
        problems: list[Problem] = []
        batch = pipeline.Batch(self, conn, self.rules)
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

    def reports(self) -> list[Report]:
        """Every report the enabled plugins offer a co-ordinator."""
        out = []
        for plugin, found in self.plugins.call("make_reports", self.rules, ledger=self):
            for report in found:
                if not isinstance(report, Report):
                    raise PluginFailed(plugin, "make_reports", f"returned {report!r}, not a Report")
                out.append(report)
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
            self.account(code)
        draft = Draft(
            kind="transfer",
            day=day or dt.date.today(),
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

    # claims -----------------------------------------------------------------

    def claim(self, claim_id: int) -> Claim:
        rows = list(self.store.db.query("SELECT * FROM claims WHERE id = ?", (claim_id,)))
        if not rows:
            raise NotFound(f"claim: no claim #{claim_id}")
        return _claim_from_row(rows[0])

    def claims(self, *, status: str = "pending", awaiting: str | None = None) -> list[Claim]:
        rows = self.store.db.query("SELECT * FROM claims WHERE status = ? ORDER BY id", (status,))
        claims = [_claim_from_row(row) for row in rows]
        if awaiting:
            claims = [c for c in claims if awaiting in c.awaiting]
        return claims

    def accept_overdue_claims(self, today: dt.date | None = None) -> list[Entry]:
        """Confirm claims whose auto-accept day has come (the rules set the delay).

        A claim a rule now refuses (a limit reached since) stays pending.
        """
        today = today or dt.date.today()
        entries = []
        for claim in self.claims():
            if claim.auto_accept_on and claim.auto_accept_on <= today:
                try:
                    entries.append(self._confirm(claim, "auto", acknowledge=True))
                except RulesRefused:
                    continue
        return entries

    def confirm(self, claim_id: int, *, actor: str, acknowledge: bool = False) -> Entry:
        """The other side (or a co-ordinator) confirms: the exchange enters the ledger."""
        claim = self._decidable(claim_id, actor, "confirm")
        return self._confirm(claim, actor, acknowledge=acknowledge)

    def _confirm(self, claim: Claim, actor: str, *, acknowledge: bool) -> Entry:
        claim_id = claim.id
        with self.transaction() as conn:
            batch, problems = self.record_batches_in(conn, [[claim.exchange]], acknowledge=acknowledge)
            if problems:
                raise RulesRefused(problems)
            entry = batch.written[0]
            conn.execute(
                "UPDATE claims SET status = 'confirmed', decided_by = ?, decided_at = ?,"
                " entry_id = ? WHERE id = ?",
                (actor, now_utc(), entry.id, claim_id),
            )
        self._after(batch.written)
        return entry

    def decline(self, claim_id: int, *, actor: str, reason: str = "") -> Claim:
        """The other side declines: the claim stays in the claims, never in the ledger."""
        self._decidable(claim_id, actor, "decline")
        with self.transaction() as conn:
            conn.execute(
                "UPDATE claims SET status = 'declined', decided_by = ?, decided_at = ?,"
                " reason = ? WHERE id = ?",
                (actor, now_utc(), reason, claim_id),
            )
        return self.claim(claim_id)

    def _decidable(self, claim_id: int, actor: str, action: str) -> Claim:
        claim = self.claim(claim_id)
        if claim.status != "pending":
            raise InputError(f"claim: #{claim_id} is already {claim.status}")
        self._require(actor, action, claim)
        return claim

    # reading ----------------------------------------------------------------

    def _stored_balance(self, code: str, conn: Any = None) -> int:
        row = (
            (conn or self.conn)
            .execute(
                "SELECT b.balance FROM accounts a JOIN balances b ON b.account_id = a.id WHERE a.code = ?",
                (code,),
            )
            .fetchone()
        )
        return row[0] if row else 0

    def balance(self, code: str) -> int:
        """An account's balance in credit-minutes: one row, however long the ledger."""
        row = self.conn.execute(
            "SELECT a.id, b.balance FROM accounts a LEFT JOIN balances b ON b.account_id = a.id"
            " WHERE a.code = ?",
            (code,),
        ).fetchone()
        if row is None:
            raise NotFound(f"account: no account {code!r}")
        return row[1] or 0

    def balances(self) -> list[tuple[Account, int]]:
        rows = self.conn.execute(
            "SELECT a.code, a.kind, a.name, m.handle, coalesce(b.balance, 0) FROM accounts a"
            " LEFT JOIN members m ON m.id = a.member_id"
            " LEFT JOIN balances b ON b.account_id = a.id ORDER BY a.code"
        )
        return [(Account(*row[:4]), row[4]) for row in rows]

    def statement(self, code: str, *, limit: int = 50, before: int | None = None) -> list[StatementLine]:
        """An account's postings, newest first, with the balance after each.

        Page back with ``before`` = the oldest entry id of the page shown.
        """
        account_id = self.account_ids().get(code)
        if account_id is None:
            raise NotFound(f"account: no account {code!r}")
        rows = self.conn.execute(
            "SELECT p.entry_id, e.day, e.kind, p.amount, p.balance_after, e.category, e.note,"
            " e.givers, e.receivers FROM postings p JOIN entries e ON e.id = p.entry_id"
            " WHERE p.account_id = ? AND p.entry_id < ? ORDER BY p.entry_id DESC LIMIT ?",
            (account_id, before if before is not None else 2**62, limit),
        )
        return [
            StatementLine(
                entry_id=r[0],
                day=dt.date.fromisoformat(r[1]),
                kind=r[2],
                amount=r[3],
                balance=r[4],
                category=r[5],
                note=r[6],
                counterparties=_other_side(code, r[7].split(), r[8].split()),
            )
            for r in rows
        ]

    def entry(self, entry_id: int) -> Entry:
        entries = self.entries(ids=[entry_id])
        if not entries:
            raise NotFound(f"entry: no entry #{entry_id}")
        return entries[0]

    def entries(
        self, *, limit: int = 50, before: int | None = None, ids: Sequence[int] | None = None
    ) -> list[Entry]:
        """Entries newest first (or those with ``ids``), each with its postings."""
        if ids is not None:
            marks = ",".join("?" * len(ids))
            rows = self.conn.execute(
                f"{SELECT_ENTRIES} WHERE id IN ({marks}) ORDER BY id DESC", tuple(ids)
            ).fetchall()
        else:
            rows = self.conn.execute(
                f"{SELECT_ENTRIES} WHERE id < ? ORDER BY id DESC LIMIT ?",
                (before if before is not None else 2**62, limit),
            ).fetchall()
        if not rows:
            return []
        codes = {v: k for k, v in self.account_ids().items()}
        marks = ",".join("?" * len(rows))
        postings: dict[int, list[Posting]] = {}
        for entry_id, account_id, amount in self.conn.execute(
            f"SELECT entry_id, account_id, amount FROM postings WHERE entry_id IN ({marks})"
            " ORDER BY entry_id, seq",
            tuple(r[0] for r in rows),
        ):
            postings.setdefault(entry_id, []).append(Posting(codes[account_id], amount))
        return [_entry_from_row(r, tuple(postings.get(r[0], ()))) for r in rows]

    def entries_of_day(self, day: dt.date, *, or_after: int | None = None, limit: int = 200) -> list[Entry]:
        """Entries for service on ``day``, and any written after entry ``or_after``, newest first."""
        rows = self.conn.execute(
            "SELECT id FROM entries WHERE day = ? OR id > ? ORDER BY id DESC LIMIT ?",
            (day.isoformat(), or_after if or_after is not None else 2**62, limit),
        ).fetchall()
        return self.entries(ids=[r[0] for r in rows]) if rows else []

    def last_entry_id(self) -> int:
        return self.conn.execute("SELECT coalesce(max(id), 0) FROM entries").fetchone()[0]

    def head_hash(self) -> str:
        row = self.conn.execute("SELECT hash FROM entries ORDER BY id DESC LIMIT 1").fetchone()
        return row[0] if row else pipeline.GENESIS

    def verify(self, extra_anchors: dict[int, str] | None = None) -> Any:
        from timebank.verify import verify

        return verify(self, extra_anchors)


class _DryRun(Exception):
    """Raised inside a transaction to roll back a dry run after every check passed."""

    def __init__(self, entries: list[Entry]):
        self.entries = entries


def _union(lists: Iterable[Iterable[str]]) -> list[str]:
    seen: dict[str, None] = {}
    for items in lists:
        for item in items:
            seen.setdefault(item, None)
    return list(seen)


def _other_side(code: str, givers: list[str], receivers: list[str]) -> tuple[str, ...]:
    if code in givers:
        return tuple(receivers)
    if code in receivers:
        return tuple(givers)
    return tuple(givers + receivers)


def _member_row(member: Member) -> tuple:
    return (
        member.handle,
        member.name,
        member.member_class,
        member.joined.isoformat(),
        member.left.isoformat() if member.left else None,
        member.status,
        member.role,
        member.area,
        ",".join(sorted(member.flags)),
    )


def _member_dict(member: Member) -> dict[str, Any]:
    return dict(
        zip(
            ("handle", "name", "member_class", "joined", "left", "status", "role", "area", "flags"),
            _member_row(member),
            strict=True,
        )
    )


def _claim_from_row(row: Mapping[str, Any]) -> Claim:
    exchange = Exchange(
        givers=tuple(row["givers"].split()),
        receivers=tuple(row["receivers"].split()),
        minutes=row["minutes"],
        day=dt.date.fromisoformat(row["day"]),
        category=row["category"],
        recorded_by=row["recorded_by"],
        note=row["note"],
        refs=decode_refs(row["refs"]),
    )
    return Claim(
        id=row["id"],
        exchange=exchange,
        awaiting=tuple(row["awaiting"].split()),
        status=row["status"],
        created_at=row["created_at"],
        decided_by=row["decided_by"],
        entry_id=row["entry_id"],
        reason=row["reason"],
        auto_accept_on=dt.date.fromisoformat(row["auto_accept_on"]) if row["auto_accept_on"] else None,
    )


def _entry_from_row(row: Sequence[Any], postings: tuple[Posting, ...]) -> Entry:
    return Entry(
        id=row[0],
        kind=row[1],
        day=dt.date.fromisoformat(row[2]),
        recorded_at=row[3],
        recorded_by=row[4],
        givers=tuple(row[5].split()),
        receivers=tuple(row[6].split()),
        minutes=row[7],
        category=row[8],
        note=row[9],
        rules_version=row[10],
        reverses=row[11],
        refs=decode_refs(row[12]),
        prev_hash=row[13],
        hash=row[14],
        postings=postings,
    )


__all__ = ["Ledger", "Preview", "SYSTEM_PREFIX"]
