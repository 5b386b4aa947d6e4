"""Balance limits, judged the same way whichever plugin sets them.

``credit_limits`` (a fixed floor, ceiling and warning per class) and ``mutual_credit``
(a floor that grows with what a member has earned) decide *where* the limits are; this
module decides *what crossing them means*: only the move that crosses a limit is judged
(a member already below their floor may still earn), reversals and adjustments are never
blocked, and the member reads the same sentence either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import attrs

from timebank.models import Draft, Member, Problem
from timebank.units import format_minutes

JUDGED = ("service", "transfer")

NEAR_LIMIT_WITHIN = 120
"""Minutes from a limit that count as near it when no plugin says (``near_limit_within``)."""


@attrs.frozen
class Limits:
    """Where one member's balance must stay; ``warn_below`` asks for acknowledgement."""

    floor: int
    ceiling: int
    warn_below: int | None = None


def _field(draft: Draft, handle: str, move: int) -> str:
    if draft.exchange is None:
        return "from" if move < 0 else "to"
    return "giver" if handle in draft.exchange.givers else "receiver"


def limit_problems(
    plugin: str,
    drafts: Sequence[Draft],
    members: Mapping[str, Member],
    limits_of: Callable[[Member], Limits],
) -> list[Problem]:
    """Problems for every member a draft would take past their limits."""
    problems = []
    for index, draft in enumerate(drafts):
        if draft.kind not in JUDGED:
            continue
        moves: dict[str, int] = {}
        for posting in draft.postings:
            moves[posting.account] = moves.get(posting.account, 0) + posting.amount
        balances_after = draft.balances_after
        for handle, move in moves.items():
            member = members.get(handle)
            if member is None or move == 0:
                continue
            after = balances_after[handle]
            limits = limits_of(member)
            if move > 0:
                if after <= limits.ceiling:
                    continue  # the common case: nothing to say, and no sentence built
            elif after >= limits.floor and (limits.warn_below is None or after >= limits.warn_below):
                continue
            now = f"now {format_minutes(after - move)}"
            field = _field(draft, handle, move)
            if move > 0:
                message = (
                    f"{member.name} would go above their limit of {format_minutes(limits.ceiling)} ({now})"
                )
                problems.append(Problem("error", plugin, field, message, index))
            elif after < limits.floor:
                message = (
                    f"{member.name} would go below their limit of {format_minutes(limits.floor)} ({now})"
                )
                problems.append(Problem("error", plugin, field, message, index))
            else:
                message = (
                    f"{member.name} would be {format_minutes(after)}, below the warning level of "
                    f"{format_minutes(limits.warn_below)} ({now})"
                )
                problems.append(Problem("warning", plugin, field, message, index))
    return problems
