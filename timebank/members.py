"""Members and accounts: admitting, changing and retiring members; the accounts they hold.

A mixin of ``Ledger``: member changes are logged in ``member_changes`` and may bring
entries with them (a joining bonus), written in the same transaction. Reads go through
``timebank.storage.reads``; the directory of members and the account ids are cached here
until another connection commits.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import attrs

from timebank import pipeline
from timebank.errors import InputError, NotAllowed, NotFound, RulesRefused
from timebank.models import Account, Member
from timebank.permissions import MANAGE_MEMBERS, RESERVED_HANDLES, Actor, actor_label
from timebank.storage import reads
from timebank.storage.store import now_utc
from timebank.units import NAME_LENGTH, check_flag, check_text


class MembersMixin:
    """The ledger's members and accounts."""

    def members_by_handle(self) -> dict[str, Member]:
        self._fresh()
        if self._members is None:
            self._members = reads.members(self.conn)
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

    def add_member(self, member: Member, *, actor: Actor) -> Member:
        """Admit a member after the rules' ``validate_member`` checks; opens their account."""
        self.require(actor, MANAGE_MEMBERS, member.handle)
        if member.handle in RESERVED_HANDLES:
            raise InputError(f"handle: {member.handle!r} names the ledger's own actions; choose another")
        self._check_member(member, None)
        with self.transaction() as conn:
            # read under the write lock: two processes adding one handle cannot both pass
            if member.handle in self.members_by_handle():
                raise InputError(f"handle: {member.handle!r} is already a member's handle")
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

    def update_member(self, handle: str, *, actor: Actor, reason: str = "", **changes: Any) -> Member:
        """Change a member's details; the handle, which the ledger refers to, cannot change.
        ``reason`` (why they retired, say) is kept with the change.

        The last active co-ordinator cannot retire or step down: nobody could then
        admit members, change the rules or correct an entry.
        """
        self.require(actor, MANAGE_MEMBERS, handle)
        check_text(reason, field="reason")
        if "handle" in changes:
            raise InputError("handle: a member's handle cannot change; it names their history")
        with self.transaction() as conn:
            # The member as they are under the write lock: two changes at once are decided
            # one after the other (a second retirement is refused, a bonus paid once).
            previous = self.member(handle)
            if changes.get("status") == "retired" and not previous.is_active:
                raise InputError(f"member: {handle!r} is already retired")
            try:
                updated = attrs.evolve(previous, **changes)
            except (TypeError, ValueError) as exc:
                raise InputError(f"member: {exc}") from None
            self._check_member(updated, previous)
            row = _member_row(updated)
            conn.execute(
                "UPDATE members SET name = ?, member_class = ?, joined = ?, left = ?, status = ?,"
                " role = ?, area = ?, flags = ? WHERE handle = ?",
                (*row[1:], handle),
            )
            if previous.is_active and previous.is_coordinator and not _acts(updated):
                _keep_a_coordinator(conn, previous)
            member_id = conn.execute("SELECT id FROM members WHERE handle = ?", (handle,)).fetchone()
            before, after = _member_dict(previous), _member_dict(updated)
            diff = {k: [str(v), str(after[k])] for k, v in before.items() if after[k] != v}
            self._log_member_change(
                conn, member_id[0], actor, {"changed": diff, **({"reason": reason} if reason else {})}
            )
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

    def retire_member(
        self, handle: str, *, actor: Actor, day: dt.date | None = None, reason: str = ""
    ) -> Member:
        """Retire a member: they keep their history but can no longer exchange; what happens to
        their balance is the plugins' rule (``entries_for_member_change``)."""
        return self.update_member(
            handle, actor=actor, reason=reason, status="retired", left=day or dt.date.today()
        )

    def _check_member(self, member: Member, previous: Member | None) -> None:
        check_text(member.name, field="name", max_length=NAME_LENGTH)
        if not member.name.strip():
            raise InputError("name: a member needs a name")
        check_text(member.member_class, field="class", max_length=100)
        if member.role not in ("member", "coordinator"):
            raise InputError(f"role: {member.role!r} is not member or coordinator")
        if member.status not in ("active", "retired"):
            raise InputError(f"status: {member.status!r} is not active or retired")
        if member.area is not None:
            check_text(member.area, field="area", max_length=100)
        for flag in sorted(member.flags):
            check_text(flag, field="flag", max_length=64)
            check_flag(flag, field="flag")
        new_flags = member.flags - (previous.flags if previous is not None else frozenset())
        if new_flags:  # a flag a plugin no longer reads may stay; a new one must be known
            known = self.flags()
            unknown = sorted(new_flags - set(known))
            if unknown:
                raise InputError(
                    f"flag: {unknown[0]!r} is not a flag here "
                    f"(flags: {', '.join(known) if known else 'none; no enabled plugin reads one'})"
                )
        problems = pipeline.gather_problems(
            self, self.rules, "validate_member", member=member, previous=previous
        )
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            raise RulesRefused(errors)

    def _log_member_change(self, conn: Any, member_id: int, actor: Actor, change: dict) -> None:
        conn.execute(
            "INSERT INTO member_changes (member_id, changed_at, changed_by, change) VALUES (?, ?, ?, ?)",
            (member_id, now_utc(), actor_label(actor), json.dumps(change, default=str)),
        )

    def account_ids(self) -> dict[str, int]:
        """Every account's code mapped to its row id (cached until another writer commits)."""
        self._fresh()
        if self._accounts is None:
            self._accounts = reads.account_ids(self.conn)
        return self._accounts

    def account(self, code: str) -> Account:
        found = reads.account(self.conn, code)
        if found is None:
            raise NotFound(f"account: no account {code!r}")
        return found

    def accounts(self) -> list[Account]:
        return reads.accounts(self.conn)

    def open_account(self, account: Account) -> Account:
        """Open a system account a plugin needs at run time (a new Han group's account)."""
        if not account.is_system:
            raise InputError(f"account: {account.code!r} must start with '@'")
        with self.transaction() as conn:
            self._ensure_account(conn, account)
        return self.account(account.code)

    def given_since(self, since: dt.date) -> dict[str, int]:
        """Minutes each member gave in service entries on or after ``since`` (not reversed)."""
        return reads.given_since(self.conn, since)

    def _ensure_account(self, conn: Any, account: Account, member_id: int | None = None) -> None:
        row = conn.execute(
            "INSERT INTO accounts (code, kind, name, member_id) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (code) DO NOTHING RETURNING id",
            (account.code, account.kind, account.name, member_id),
        ).fetchone()
        if row and self._accounts is not None:
            self._accounts[account.code] = row[0]


def _acts(member: Member) -> bool:
    return member.is_active and member.is_coordinator


def _keep_a_coordinator(conn: Any, previous: Member) -> None:
    """Refuse (inside the write transaction, so two co-ordinators stepping down at once
    cannot both succeed) a change that leaves no active co-ordinator."""
    left = conn.execute(
        "SELECT count(*) FROM members WHERE role = 'coordinator' AND status = 'active'"
    ).fetchone()[0]
    if left == 0:
        raise NotAllowed(
            f"member: {previous.name} ({previous.handle}) is the last active co-ordinator;"
            " make another member a co-ordinator first"
        )


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
