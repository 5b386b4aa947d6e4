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
        if member.handle in awaiting:
            return None
        claim_id = getattr(subject, "id", subject)
        return f"claim #{claim_id} waits for {', '.join(awaiting) or 'nobody'}, not {member.handle}"
    if action == TRANSFER:
        if isinstance(subject, str) and (
            subject == member.handle or subject.startswith(sub_account(member.handle, ""))
        ):
            return None
        return f"{member.name} can only give from their own account"
    return f"only a co-ordinator may {action.replace('_', ' ')}"


class PermissionsMixin:
    """``Ledger.actor`` and ``Ledger.require``: who is acting, and may they."""

    def actor(self: Ledger, handle: Actor | None) -> Member:
        """The member acting, who must exist and be active (``--as`` or ``TIMEBANK_USER``)."""
        if isinstance(handle, Internal):
            raise NotAllowed(f"actor: the ledger's own {handle.value!r} actor is not a member")
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
    "actor_label",
    "core_refusal",
]
