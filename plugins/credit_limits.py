"""Credit limits: a hard floor and ceiling on members' balances, and a soft warning.

A co-op may set each per member class. Crossing the floor or the ceiling is an
error; going below ``warn_below`` is a warning the member acknowledges (a soft
limit). Only the move that causes it is judged: a member already below their
floor may still earn. Reversals are never blocked, so a mistake can always be
corrected.
"""

from __future__ import annotations

from timebank import Setting, hookimpl
from timebank.limits import Limits, limit_problems

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


def limits_for(settings, member_class: str) -> Limits:
    """The limits that apply to a member class."""
    return Limits(
        floor=settings["floor_by_class"].get(member_class, settings["floor"]),
        ceiling=settings["ceiling_by_class"].get(member_class, settings["ceiling"]),
        warn_below=settings["warn_below_by_class"].get(member_class, settings["warn_below"]),
    )


@hookimpl
def validate_drafts(ledger, drafts, settings):
    by_class: dict[str, Limits] = {}  # a batch holds thousands of members and a few classes

    def limits_of(member) -> Limits:
        limits = by_class.get(member.member_class)
        if limits is None:
            limits = by_class[member.member_class] = limits_for(settings, member.member_class)
        return limits

    return limit_problems(PLUGIN, drafts, ledger.members_by_handle(), limits_of)


@hookimpl
def member_limits(ledger, members, settings):
    return {m.handle: limits_for(settings, m.member_class) for m in members}
