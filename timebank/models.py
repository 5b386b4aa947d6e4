"""The ledger's records: small, immutable values that plugins take and return.

An *exchange* is a fact (who gave how many minutes of what care to whom); an
*entry* is what the rules made of it: balanced *postings* on *accounts*. Records
are frozen so a plugin cannot alter what another plugin or the core sees.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, Literal

import attrs

Severity = Literal["error", "warning"]
EntryKind = Literal["service", "transfer", "adjustment", "reversal"]
MemberStatus = Literal["active", "retired"]
Role = Literal["member", "coordinator"]

HANDLE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
SYSTEM_PREFIX = "@"
SUB_ACCOUNT = "~"


def sub_account(handle: str, name: str) -> str:
    """The code of a member's second account, such as savings: ``alice~savings``."""
    return f"{handle}{SUB_ACCOUNT}{name}"


def _is_handle(_instance: object, attribute: attrs.Attribute, value: str) -> None:
    if not HANDLE_PATTERN.match(value):
        raise ValueError(
            f"{attribute.name}: {value!r} is not a handle "
            "(lower-case letters, digits, '.', '_' or '-', at most 32)"
        )


@attrs.frozen
class Member:
    """A person in the co-op. A retired member keeps their history and balance."""

    handle: str = attrs.field(validator=_is_handle)
    name: str
    member_class: str
    joined: dt.date
    left: dt.date | None = None
    status: MemberStatus = "active"
    role: Role = "member"
    area: str | None = None
    flags: frozenset[str] = attrs.field(default=frozenset(), converter=frozenset)

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @property
    def is_coordinator(self) -> bool:
        return self.role == "coordinator"

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Member:
        """A member from a row read by column name (``timebank.storage.rows`` maps it)."""
        from timebank.storage.rows import MEMBER_COLUMNS, member_from_row

        return member_from_row(**{name: row[name] for name in MEMBER_COLUMNS})


@attrs.frozen
class Account:
    """Anything that holds credits: a member's account or a system account.

    System accounts (the co-op's issuing account, a community chest, a mutual
    fund, a clearing house, a group) have codes starting with ``@`` so they never
    collide with a member's handle.
    """

    code: str
    kind: str
    name: str
    member: str | None = None

    @property
    def is_system(self) -> bool:
        return self.code.startswith(SYSTEM_PREFIX)


@attrs.frozen
class Exchange:
    """A fact: givers gave ``minutes`` each of ``category`` care to receivers.

    One giver and several receivers, or several givers and one receiver, is a
    group session and becomes one entry. ``refs`` link it to what a model's plugin
    keeps (an episode of care, a Han group, another scheme): short ``key=value`` text.
    """

    givers: tuple[str, ...] = attrs.field(converter=tuple)
    receivers: tuple[str, ...] = attrs.field(converter=tuple)
    minutes: int
    day: dt.date
    category: str
    recorded_by: str
    note: str = ""
    refs: Mapping[str, str] = attrs.field(factory=dict, converter=dict, hash=False)


def encode_refs(refs: Mapping[str, str]) -> str:
    """References as stored and hashed: ``key=value`` pairs, sorted, joined by ``;``."""
    return ";".join(f"{k}={refs[k]}" for k in sorted(refs))


def decode_refs(text: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in text.split(";") if pair)


@attrs.frozen
class Posting:
    """Credit-minutes added to (positive) or taken from (negative) one account.

    Not validated here, to keep the per-exchange path lean: the pipeline checks
    every posting a plugin returns (type, account, balance) before writing.
    """

    account: str
    amount: int


@attrs.frozen
class Draft:
    """An entry before it is written: its kind, the exchange if any, and postings.

    The core fills ``balances_after`` (each touched account after this entry,
    in order within a batch) so rules such as credit limits need not; it is the
    one field that changes, and only the core writes it.
    """

    kind: EntryKind
    day: dt.date
    recorded_by: str
    postings: tuple[Posting, ...]
    exchange: Exchange | None = None
    note: str = ""
    reverses: int | None = None
    balances_after: dict[str, int] = attrs.field(factory=dict, eq=False)


@attrs.frozen
class Entry:
    """A written entry: balanced postings, the rules version that made them, the chain."""

    id: int
    kind: EntryKind
    day: dt.date
    recorded_at: str
    recorded_by: str
    givers: tuple[str, ...]
    receivers: tuple[str, ...]
    minutes: int
    category: str
    note: str
    rules_version: int
    reverses: int | None
    prev_hash: str
    hash: str
    postings: tuple[Posting, ...] = ()
    refs: Mapping[str, str] = attrs.field(factory=dict, hash=False)


@attrs.frozen
class Problem:
    """What a rule says about a proposed change: an error blocks it, a warning asks.

    ``index`` is the position in the batch the problem concerns (a CSV line is
    worked out from it); ``field`` names the input the person should look at.
    """

    severity: Severity = attrs.field(validator=attrs.validators.in_(("error", "warning")))
    plugin: str
    field: str
    message: str
    index: int = 0

    def describe(self) -> str:
        return f"{self.field}: {self.message}"


@attrs.frozen
class Claim:
    """An exchange recorded by one side and awaiting the other side's confirmation."""

    id: int
    exchange: Exchange
    awaiting: tuple[str, ...]
    status: Literal["pending", "confirmed", "declined"]
    created_at: str
    decided_by: str | None = None
    entry_id: int | None = None
    reason: str = ""
    auto_accept_on: dt.date | None = None
    confirmed: tuple[str, ...] = ()
    """Who of ``awaiting`` has confirmed so far: it enters the ledger when all have."""
    withdrawn: bool = False
    """Declined by its own recorder before anyone decided it."""

    @property
    def waiting_for(self) -> tuple[str, ...]:
        """Who still has to confirm (every member charged confirms for themselves)."""
        return tuple(h for h in self.awaiting if h not in self.confirmed)

    def due(self, today: dt.date) -> bool:
        """Pending and past its auto-accept day: the next write to the ledger accepts it."""
        return self.status == "pending" and self.auto_accept_on is not None and self.auto_accept_on <= today


@attrs.frozen
class Decision:
    """How an exchange may be recorded: straight into the ledger, or as a claim."""

    needs_confirmation_from: tuple[str, ...] = ()
    auto_accept_days: int | None = None

    @property
    def direct(self) -> bool:
        return not self.needs_confirmation_from


@attrs.frozen
class StatementLine:
    """One posting on an account, with the balance after it."""

    entry_id: int
    day: dt.date
    kind: EntryKind
    amount: int
    balance: int
    category: str
    note: str
    counterparties: tuple[str, ...]
    seq: int = 0

    @property
    def key(self) -> tuple[int, int]:
        """Where this line sits in the account's history: (entry id, posting seq)."""
        return (self.entry_id, self.seq)


@attrs.frozen
class Report:
    """A table a plugin offers a co-ordinator: a name, a title, columns and rows."""

    name: str
    title: str
    columns: tuple[str, ...] = attrs.field(converter=tuple)
    rows: tuple[tuple, ...] = attrs.field(converter=tuple)


@attrs.frozen
class MemberKey:
    """A member's public key as the ledger keeps it: who added it, when, and its revocation."""

    id: int
    member: str
    key: str
    fingerprint: str
    added_at: str
    added_by: str
    revoked_at: str | None = None
    revoked_by: str | None = None
