"""Credit limits: a hard floor and ceiling on members' balances, and a soft warning.

A co-op may set each per member class. Crossing the floor or the ceiling is an
error; going below ``warn_below`` is a warning the member acknowledges (a soft
limit). Only the move that causes it is judged: a member already below their
floor may still earn. Reversals are never blocked, so a mistake can always be
corrected.
"""

from __future__ import annotations

from timebank import Problem, Setting, hookimpl
from timebank.limits import Limits, limit_problems
from timebank.units import format_minutes

PLUGIN = "credit_limits"
LIMIT = 100_000 * 60  # ±100,000 h: beyond any co-op, far inside what the ledger can add up


@hookimpl
def declare_settings():
    return [
        Setting("floor", "minutes", -20 * 60, "lowest balance a member may reach", min=-LIMIT, max=0),
        Setting("ceiling", "minutes", 200 * 60, "highest balance a member may reach", min=0, max=LIMIT),
        Setting(
            "warn_below", "minutes", -15 * 60, "balance below which a member is warned", min=-LIMIT, max=LIMIT
        ),
        Setting(
            "floor_by_class", "minutes_table", {}, "floor for particular member classes", min=-LIMIT, max=0
        ),
        Setting(
            "ceiling_by_class", "minutes_table", {}, "ceiling for particular member classes", min=0, max=LIMIT
        ),
        Setting(
            "warn_below_by_class",
            "minutes_table",
            {},
            "warning for particular classes",
            min=-LIMIT,
            max=LIMIT,
        ),
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

    return limit_problems(PLUGIN, drafts, ledger.read.members_by_handle(), limits_of)


@hookimpl
def validate_settings(settings):
    """The floor below the ceiling, and the warning level below the ceiling, for every member
    class too. (A warning below the floor is harmless: it never fires.)"""
    classes = {*settings["floor_by_class"], *settings["ceiling_by_class"], *settings["warn_below_by_class"]}
    for member_class in [None, *sorted(classes)]:
        limits = limits_for(settings, member_class or "")
        suffix = f" for the class {member_class!r}" if member_class else ""
        field = "floor_by_class" if member_class else "floor"
        if limits.floor >= limits.ceiling:
            return [
                Problem(
                    "error",
                    PLUGIN,
                    field,
                    f"the floor ({format_minutes(limits.floor)}) must be below the ceiling "
                    f"({format_minutes(limits.ceiling)}){suffix}",
                )
            ]
        if limits.warn_below is not None and limits.warn_below >= limits.ceiling:
            # every balance would be "below the warning level": every exchange would ask
            return [
                Problem(
                    "error",
                    PLUGIN,
                    "warn_below_by_class" if member_class else "warn_below",
                    f"the warning level ({format_minutes(limits.warn_below)}) must be below the "
                    f"ceiling ({format_minutes(limits.ceiling)}){suffix}",
                )
            ]
    return []


@hookimpl
def member_limits(ledger, members, settings):
    return {m.handle: limits_for(settings, m.member_class) for m in members}
