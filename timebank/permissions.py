"""Who may do what: the core's permission rule, which fails closed.

Permission is the core's, not a plugin's: whichever plugins the rules enable (or
drop), only a co-ordinator changes the rules, admits or changes members and their
roles, reverses entries, closes periods, imports, and moves credits out of an
account that is not their own; a member confirms or declines only the claims that
wait for them. Plugins may narrow this through ``check_permission`` (refuse what the
core allows), never widen it: the core asks them only after it has said yes.

Every caller (the CLI, the TUI, importers, plugins' own commands) goes through one
method, ``Ledger.require(actor, action, subject)``. The next steps build here: one
write path that checks inside its transaction, and members whose identity is proven
(SSH key, PIN) rather than declared with ``--as``.

The ledger's own actions (storing a template's first rules, admitting the first
co-ordinator, auto-accepting an overdue claim) are done by an ``Internal`` actor: an
enum value, not text, so nothing typed on a command line, chosen in the TUI or read
from a file can ever be one. A text actor is always a member's handle, and that
member must exist and be active.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

import attrs

from timebank import pipeline
from timebank.errors import NotAllowed, NotFound
from timebank.models import Member, sub_account

if TYPE_CHECKING:
    from timebank.ledger import Ledger


class Internal(enum.Enum):
    """An actor that is the ledger itself, never a person; stored under its value."""

    SYSTEM = "system"
    AUTO_ACCEPT = "auto"

    def __str__(self) -> str:
        return self.value


SYSTEM = Internal.SYSTEM
AUTO_ACCEPT = Internal.AUTO_ACCEPT

Actor = str | Internal
"""Who acts: a member's handle (text), or the ledger's own ``Internal`` actor."""

RESERVED_HANDLES = frozenset(actor.value for actor in Internal)
"""No member may take these handles: they name the ledger's own actions in its records."""

# The actions the core knows. Plugins may ask about their own (``pay_benefit``);
# an action the core does not know is a co-ordinator's, so a new action fails closed.
CHANGE_RULES = "change_rules"
MANAGE_MEMBERS = "manage_members"
REVERSE = "reverse"
CLOSE_PERIOD = "close_period"
IMPORT = "import"
TRANSFER = "transfer"
CONFIRM = "confirm"
DECLINE = "decline"
READ_REPORTS = "read_reports"
WITHDRAW = "withdraw"
SEE_ALL = "see_all"  # read every account, statement and claim (a co-ordinator's)

_INTERNAL_MAY: dict[Internal, frozenset[str] | None] = {
    SYSTEM: None,  # the file's owner acting through Python: trusted with everything
    AUTO_ACCEPT: frozenset({CONFIRM}),
}


def actor_label(actor: Actor) -> str:
    """How an actor is written in the ledger's records (``created_by``, ``changed_by``)."""
    return actor.value if isinstance(actor, Internal) else actor


def core_refusal(member: Member, action: str, subject: Any) -> str | None:
    """Why the core refuses ``member`` doing ``action`` on ``subject``, or None if it allows it.

    Co-ordinators may do everything. A member may confirm or decline a claim that waits
    for them, and move credits out of their own accounts; everything else is a
    co-ordinator's, including any action the core has never heard of.
    """
    if member.is_coordinator:
        return None
    if action in (CONFIRM, DECLINE):
        awaiting = tuple(getattr(subject, "awaiting", ()))
        confirmed = tuple(getattr(subject, "confirmed", ()))
        claim_id = getattr(subject, "id", subject)
        if member.handle in confirmed:
            return f"claim #{claim_id}: {member.handle} has already confirmed it"
        if member.handle in awaiting:
            return None
        return f"claim #{claim_id} waits for {', '.join(awaiting) or 'nobody'}, not {member.handle}"
    if action == WITHDRAW:
        recorder = getattr(getattr(subject, "exchange", None), "recorded_by", None)
        if recorder == member.handle:
            return None
        return (
            f"claim #{getattr(subject, 'id', subject)} was recorded by {recorder}; only they may withdraw it"
        )
    if action == TRANSFER:
        if isinstance(subject, str) and (
            subject == member.handle or subject.startswith(sub_account(member.handle, ""))
        ):
            return None
        return f"{member.name} can only give from their own account"
    return f"only a co-ordinator may {action.replace('_', ' ')}"


def owns_account(handle: str, code: str) -> bool:
    """A member's own accounts: their handle, and their sub-accounts (``alice~savings``)."""
    return code == handle or code.startswith(sub_account(handle, ""))


@attrs.frozen
class Sight:
    """What one actor may read: the core's read rule, asked by every read path.

    ``member`` None is the file's owner reading without ``--as`` (or the ledger's own
    actor): everything. A co-ordinator reads everything. A member reads their own
    accounts and statements, the claims they take part in (recorded, give, receive or
    are asked to confirm), and others' balances only when the rules' setting
    ``coop.members_see_balances`` says so; never others' statements.
    """

    member: Member | None
    others_balances: bool = False

    @property
    def everything(self) -> bool:
        return self.member is None or self.member.is_coordinator

    def balance(self, code: str) -> bool:
        """May this actor read the balance of ``code``?"""
        if self.everything or self.others_balances:
            return True
        assert self.member is not None
        return owns_account(self.member.handle, code)

    def statement(self, code: str) -> bool:
        """May this actor read the entries of ``code``, one by one?"""
        if self.everything:
            return True
        assert self.member is not None
        return owns_account(self.member.handle, code)

    def claim(self, claim: Any) -> bool:
        """A claim is shown to those it concerns (and to co-ordinators)."""
        if self.everything:
            return True
        assert self.member is not None
        e = claim.exchange
        return self.member.handle in {e.recorded_by, *e.givers, *e.receivers, *claim.awaiting}

    def entry(self, entry: Any) -> bool:
        """An entry is shown to whoever it moves credits for, or who is named in it."""
        if self.everything:
            return True
        assert self.member is not None
        handle = self.member.handle
        named = {entry.recorded_by, *getattr(entry, "givers", ()), *getattr(entry, "receivers", ())}
        return handle in named or any(owns_account(handle, p.account) for p in entry.postings)

    def require_balance(self, code: str) -> None:
        if not self.balance(code):
            raise NotAllowed(f"balance: {self.member.handle if self.member else ''} may not read {code!r}")

    def require_statement(self, code: str) -> None:
        if not self.statement(code):
            raise NotAllowed(
                f"statement: {self.member.handle if self.member else ''} may read only "
                f"their own statement, not {code!r}"
            )


class PermissionsMixin:
    """``Ledger.actor`` and ``Ledger.require``: who is acting, and may they."""

    proven: str | None = None
    """The member whose identity was proven (SSH key, kiosk PIN) when the ledger was opened.

    Set once by ``prove``; from then on every actor this ledger is asked about must be
    that member (an empty actor means them), so no option, setting or plugin acts as
    anyone else through it.
    """

    def prove(self: Ledger, handle: str) -> Member:
        """Fix who is acting for the rest of this ledger's life: once, and only to a member."""
        if self.proven is not None and self.proven != handle:
            raise NotAllowed(f"actor: this ledger is already opened for {self.proven}")
        member = self.actor(handle)
        self.proven = member.handle
        return member

    def actor(self: Ledger, handle: Actor | None) -> Member:
        """The member acting, who must exist and be active (``--as`` or ``TIMEBANK_USER``)."""
        if isinstance(handle, Internal):
            raise NotAllowed(f"actor: the ledger's own {handle.value!r} actor is not a member")
        proven = getattr(self, "proven", None)
        if proven is not None and handle and handle != proven:
            raise NotAllowed(
                f"actor: this ledger was opened for {proven}, who is proven; it cannot act as {handle!r}"
            )
        if proven is not None and not handle:
            handle = proven
        if not handle:
            raise NotAllowed("actor: say who is acting with --as HANDLE or TIMEBANK_USER")
        try:
            member = self.member(handle)
        except NotFound:
            raise NotAllowed(
                f"actor: no member has the handle {handle!r}; --as names an active member"
            ) from None
        if not member.is_active:
            raise NotAllowed(f"actor: {handle!r} is retired and cannot act")
        return member

    def visible_to(self: Ledger, actor: Actor | None) -> Sight:
        """What ``actor`` may read (see ``Sight``); a proven member reads as themselves.

        ``actor`` None is the file's owner with no ``--as``: everything, unless the
        ledger was opened for a proven member, who then reads as that member.
        """
        proven = getattr(self, "proven", None)
        if actor is None and proven is None:
            return Sight(None)
        if isinstance(actor, Internal):
            return Sight(None)
        member = self.actor(actor if actor is not None else proven)
        return Sight(member, others_balances=bool(self.rules.coop.get("members_see_balances", False)))

    def require(self: Ledger, actor: Actor | None, action: str, subject: Any = None) -> Member | None:
        """Refuse with ``NotAllowed`` unless ``actor`` may do ``action`` on ``subject``.

        The core decides first and fails closed; then each enabled plugin's
        ``check_permission`` may refuse too. Returns the acting member (None for the
        ledger's own actor).
        """
        if isinstance(actor, Internal):
            allowed = _INTERNAL_MAY[actor]
            if allowed is not None and action not in allowed:
                raise NotAllowed(f"actor: the ledger's own {actor.value!r} actor may not {action}")
            return None
        member = self.actor(actor)
        refusal = core_refusal(member, action, subject)
        if refusal is not None:
            raise NotAllowed(refusal)
        problems = pipeline.gather_problems(
            self, self.rules, "check_permission", actor=member, action=action, subject=subject
        )
        if problems:  # a warning from a permission check refuses too: it fails closed
            raise NotAllowed(problems[0].message)
        return member


__all__ = [
    "AUTO_ACCEPT",
    "Actor",
    "Internal",
    "PermissionsMixin",
    "RESERVED_HANDLES",
    "SYSTEM",
    "Sight",
    "owns_account",
    "actor_label",
    "core_refusal",
]
