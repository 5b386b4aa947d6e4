"""Mutual credit (LETS, CES and the like): limits that grow, a levy, demurrage.

Use instead of ``credit_limits``:

- ``floor`` and ``ceiling`` bound a member's balance; with ``floor_grows_percent`` the
  floor moves down by that share of everything the member has earned, never below
  ``lowest_floor`` (trust grows with contribution);
- ``levy_percent`` of each exchange goes from the giver to the co-op's account;
- ``demurrage_percent_year`` is charged at period close on positive balances, pro rata
  for the days of the period (from the day after the last close, or the ledger's first
  entry; from joining for a member who joined within it), on members past
  ``demurrage_grace_days`` since they joined.

Rounding follows ``timebank.money``: the nearest minute, halves away from zero.
"""

from __future__ import annotations

from decimal import Decimal

from timebank import Draft, Posting, Problem, Setting, hookimpl
from timebank.limits import Limits, limit_problems
from timebank.money import percent_of, scale
from timebank.units import format_minutes

PLUGIN = "mutual_credit"
LIMIT = 100_000 * 60  # ±100,000 h: beyond any co-op, far inside what the ledger can add up
COOP = "@coop"


@hookimpl
def declare_settings():
    return [
        Setting("floor", "minutes", -10 * 60, "lowest balance for a new member", min=-LIMIT, max=0),
        Setting("ceiling", "minutes", 50 * 60, "highest balance", min=0, max=LIMIT),
        Setting("floor_grows_percent", "int", 0, "floor moves down by this % of all earned", min=0, max=100),
        Setting("lowest_floor", "minutes", -40 * 60, "the floor never grows below this", min=-LIMIT, max=0),
        Setting(
            "levy_percent", "decimal", "0", "share of each exchange the giver pays the co-op", min=0, max=50
        ),
        Setting(
            "demurrage_percent_year", "decimal", "0", "yearly charge on positive balances", min=0, max=100
        ),
        Setting(
            "demurrage_grace_days", "int", 90, "new members pay no demurrage for this long", min=0, max=3660
        ),
    ]


def earned(ledger, handles) -> dict[str, int]:
    """Everything each member has earned in services (their positive service postings)."""
    return ledger.read.credited(handles, kind="service")


def floor_for(settings, earned_minutes: int) -> int:
    grown = settings["floor"] - earned_minutes * settings["floor_grows_percent"] // 100
    return max(grown, settings["lowest_floor"])


@hookimpl
def add_postings(ledger, exchanges, postings, settings):
    percent = settings["levy_percent"]
    if Decimal(percent) == 0:
        return None
    out = []
    for exchange in exchanges:
        levy = percent_of(exchange.minutes, percent)
        out.append(
            [p for g in exchange.givers for p in (Posting(g, -levy), Posting(COOP, levy))] if levy else []
        )
    return out


@hookimpl
def validate_drafts(ledger, drafts, settings):
    members = ledger.read.members_by_handle()
    touched = {p.account for d in drafts for p in d.postings if p.account in members}
    so_far = earned(ledger, touched) if settings["floor_grows_percent"] else {}
    return limit_problems(
        PLUGIN,
        drafts,
        members,
        lambda member: Limits(
            floor=floor_for(settings, so_far.get(member.handle, 0)), ceiling=settings["ceiling"]
        ),
    )


@hookimpl
def close_period(ledger, through, settings):
    rate = Decimal(settings["demurrage_percent_year"])
    if rate == 0:
        return []
    period_start = ledger.read.period_start()
    if period_start is None:
        return []
    drafts = []
    for member in ledger.read.members(include_retired=False):
        # The days of the period (or of its part after the member joined), not the days
        # since joining: a member is never charged twice for the same days.
        start = max(period_start, member.joined)
        days = (through - start).days + 1
        grace_ends = member.joined.toordinal() + settings["demurrage_grace_days"]
        if days <= 0 or through.toordinal() < grace_ends:
            continue
        balance = ledger.read.balance(member.handle)
        charge = scale(balance, rate / 100 * days / 365) if balance > 0 else 0
        if charge > 0:
            drafts.append(
                Draft(
                    "adjustment",
                    through,
                    "system",
                    (Posting(member.handle, -charge), Posting(COOP, charge)),
                    note=f"demurrage {rate} % a year for {days} days",
                )
            )
    return drafts


@hookimpl
def validate_settings(settings):
    """The floor sits between the lowest floor it may grow to and the ceiling."""
    if settings["lowest_floor"] > settings["floor"]:
        return [
            Problem(
                "error",
                PLUGIN,
                "lowest_floor",
                f"{format_minutes(settings['lowest_floor'])} is above the floor "
                f"({format_minutes(settings['floor'])}); the floor only grows downwards",
            )
        ]
    if settings["floor"] >= settings["ceiling"]:
        return [
            Problem(
                "error",
                PLUGIN,
                "floor",
                f"{format_minutes(settings['floor'])} must be below the ceiling "
                f"({format_minutes(settings['ceiling'])})",
            )
        ]
    return []


@hookimpl
def member_limits(ledger, members, settings):
    """Each member's floor as it stands today: lower by what they have earned, if it grows."""
    handles = [m.handle for m in members]
    so_far = earned(ledger, handles) if settings["floor_grows_percent"] else {}
    return {
        h: Limits(floor=floor_for(settings, so_far.get(h, 0)), ceiling=settings["ceiling"]) for h in handles
    }
