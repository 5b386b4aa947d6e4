"""Members and accounts: admitting, changing and retiring members; the accounts they hold.

A mixin of ``Ledger``: member changes are logged in ``member_changes`` and may bring
entries with them (a joining bonus), written in the same transaction. Reads go through
``timebank.storage.reads``; the directory of members and the account ids are cached here
until another connection commits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from timebank import pipeline
from timebank.errors import InputError, NotAllowed, NotFound, RulesRefused
from timebank.models import Account, Member
from timebank.permissions import MANAGE_MEMBERS, RESERVED_HANDLES, Actor, actor_label
from timebank.storage import reads, rows, writes
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
            raise InputError(
                f"{member.handle!r} names the ledger's own actions; choose another", field="handle"
            )
        self._check_member(member, None)
        with self.transaction() as conn:
            # read under the write lock: two processes adding one handle cannot both pass
            if member.handle in self.members_by_handle():
                raise InputError(f"{member.handle!r} is already a member's handle", field="handle")
            member_id = writes.insert_member(conn, member)
            self._ensure_account(
                conn, Account(member.handle, "member", member.name, member.handle), member_id
            )
            self._open_member_accounts(conn, member, member_id)
            self._log_member_change(conn, member_id, actor, {"added": rows.member_to_row(member)})
            if self._members is not None:  # our own write: keep the directory, add one member
                self._members[member.handle] = member
            self._member_entries(member, None)
        return member

    def update_member(self, handle: str, *, actor: Actor, reason: str = "", **changes: Any) -> Member:
        """Change a member's details; the handle, which the ledger refers to, cannot change.
        ``reason`` (why they retired, say) is kept with the change.

        The last active co-ordinator cannot retire or step down: nobody could then
        admit members, change the rules or correct an entry.
        """
        self.require(actor, MANAGE_MEMBERS, handle)
        check_text(reason, field="reason")
        if "handle" in changes:
            raise InputError("a member's handle cannot change; it names their history", field="handle")
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
            member_id = writes.update_member(conn, updated)
            if previous.is_active and previous.is_coordinator and not _acts(updated):
                _keep_a_coordinator(conn, previous)
            before, after = rows.member_to_row(previous), rows.member_to_row(updated)
            diff = {k: [str(v), str(after[k])] for k, v in before.items() if after[k] != v}
            self._log_member_change(
                conn, member_id, actor, {"changed": diff, **({"reason": reason} if reason else {})}
            )
            if self._members is not None:
                self._members[handle] = updated
            self._member_entries(updated, previous)
        return updated

    def _open_member_accounts(self, conn: Any, member: Member, member_id: int) -> None:
        for _, accounts in self.plugins.call("declare_member_accounts", self.rules, member=member):
            for account in accounts:
                self._ensure_account(conn, account, member_id)

    def _member_entries(self, member: Member, previous: Member | None) -> None:
        """The entries a member change brings (a joining bonus, a leaver's settlement), written
        through the one write path inside the change's transaction."""
        drafts = [
            draft
            for _, found in self.plugins.call(
                "entries_for_member_change", self.rules, ledger=self, member=member, previous=previous
            )
            for draft in found
        ]
        if drafts:
            self.write([drafts], acknowledge=True).refuse()

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
            raise InputError("a member needs a name", field="name")
        check_text(member.member_class, field="class", max_length=100)
        if member.role not in ("member", "coordinator"):
            raise InputError(f"{member.role!r} is not member or coordinator", field="role")
        if member.status not in ("active", "retired"):
            raise InputError(f"{member.status!r} is not active or retired", field="status")
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
                    f"{unknown[0]!r} is not a flag here "
                    f"(flags: {', '.join(known) if known else 'none; no enabled plugin reads one'})",
                    field="flag",
                )
        problems = pipeline.gather_problems(
            self, self.rules, "validate_member", member=member, previous=previous
        )
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            raise RulesRefused(errors)

    def _log_member_change(self, conn: Any, member_id: int, actor: Actor, change: dict) -> None:
        writes.log_member_change(conn, member_id, actor_label(actor), change)

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
        new_id = writes.ensure_account(conn, account, member_id)
        if new_id is not None and self._accounts is not None:
            self._accounts[account.code] = new_id


def _acts(member: Member) -> bool:
    return member.is_active and member.is_coordinator


def _keep_a_coordinator(conn: Any, previous: Member) -> None:
    """Refuse (inside the write transaction, so two co-ordinators stepping down at once
    cannot both succeed) a change that leaves no active co-ordinator."""
    if writes.active_coordinators(conn) == 0:
        raise NotAllowed(
            f"member: {previous.name} ({previous.handle}) is the last active co-ordinator;"
            " make another member a co-ordinator first"
        )
