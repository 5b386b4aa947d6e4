"""Credit limits: a hard floor and ceiling on members' balances, and a soft warning.

A co-op may set each per member class. Crossing the floor or the ceiling is an
error; going below ``warn_below`` is a warning the member acknowledges (a soft
limit). Only the move that causes it is judged: a member already below their
floor may still earn. Reversals are never blocked, so a mistake can always be
corrected.
"""

from __future__ import annotations

from timebank import Problem, Setting, hookimpl
from timebank.units import format_minutes

PLUGIN = "credit_limits"


@hookimpl
def declare_settings():
    return [
        Setting("floor", "minutes", -20 * 60, "lowest balance a member may reach"),
        Setting("ceiling", "minutes", 200 * 60, "highest balance a member may reach"),
        Setting("warn_below", "minutes", -15 * 60, "balance below which a member is warned"),
        Setting("floor_by_class", "minutes_table", {}, "floor for particular member classes"),
        Setting("ceiling_by_class", "minutes_table", {}, "ceiling for particular member classes"),
        Setting("warn_below_by_class", "minutes_table", {}, "warning for particular classes"),
    ]


def limits_for(settings, member_class: str) -> tuple[int, int, int]:
    """The (floor, ceiling, warn_below) that apply to a member class."""
    return (
        settings["floor_by_class"].get(member_class, settings["floor"]),
        settings["ceiling_by_class"].get(member_class, settings["ceiling"]),
        settings["warn_below_by_class"].get(member_class, settings["warn_below"]),
    )


def _field(draft, handle):
    exchange = draft.exchange
    if exchange is None:
        return "from" if any(p.account == handle and p.amount < 0 for p in draft.postings) else "to"
    return "giver" if handle in exchange.givers else "receiver"


@hookimpl
def validate_drafts(ledger, drafts, settings):
    members = ledger.members_by_handle()
    problems = []
    for index, draft in enumerate(drafts):
        if draft.kind in ("reversal", "adjustment"):
            continue
        moves: dict[str, int] = {}
        for posting in draft.postings:
            moves[posting.account] = moves.get(posting.account, 0) + posting.amount
        for handle, move in moves.items():
            member = members.get(handle)
            if member is None or move == 0:
                continue
            after = draft.balances_after[handle]
            before = after - move
            floor, ceiling, warn = limits_for(settings, member.member_class)
            now = f"now {format_minutes(before)}"
            if move < 0 and after < floor:
                problems.append(
                    Problem(
                        "error",
                        PLUGIN,
                        _field(draft, handle),
                        f"{member.name} would go below their limit of {format_minutes(floor)} ({now})",
                        index,
                    )
                )
            elif move < 0 and after < warn:
                problems.append(
                    Problem(
                        "warning",
                        PLUGIN,
                        _field(draft, handle),
                        f"{member.name} would be {format_minutes(after)}, below the warning level of "
                        f"{format_minutes(warn)} ({now})",
                        index,
                    )
                )
            elif move > 0 and after > ceiling:
                problems.append(
                    Problem(
                        "error",
                        PLUGIN,
                        _field(draft, handle),
                        f"{member.name} would go above their limit of {format_minutes(ceiling)} ({now})",
                        index,
                    )
                )
    return problems
