"""The time-bank base: one hour of anyone's time is one credit.

Rules: givers and receivers are active members who had joined (and not left) by the
day of the exchange, the day is not in a closed period, nobody gives time to
themselves, the kind of care is one the co-op lists, and nobody gives more than
a day's worth (``max_per_day``, 24 h at most) on one day, so no one exchange is longer
either (this plugin owns that cap; the parser reads any length). Each giver earns the minutes given;
the receivers share the cost equally (a remainder minute goes to the first
receivers named), so every entry sums to zero.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from timebank import Account, Posting, Problem, Setting, hookimpl
from timebank.units import format_minutes, split_evenly

PLUGIN = "classic"


@hookimpl
def declare_settings():
    return [
        Setting(
            "member_classes",
            "str_list",
            ["member"],
            "the classes a member may belong to",
            non_empty=True,
            max_length=50,
        ),
        Setting(
            "categories",
            "str_list",
            [
                "companionship",
                "shopping",
                "transport",
                "gardening",
                "household",
                "personal care",
                "admin help",
                "other",
            ],
            "the kinds of care members record",
            max_length=50,
        ),
        Setting(
            "max_per_day", "minutes", 24 * 60, "most time one member may give on one day", min=1, max=24 * 60
        ),
        Setting(
            "max_days_ahead",
            "int",
            0,
            "how many days ahead an exchange may be dated (0: not after today)",
            min=0,
            max=366,
        ),
    ]


@hookimpl
def declare_member_classes(settings):
    return settings["member_classes"]


@hookimpl
def declare_categories(settings):
    return settings["categories"]


@hookimpl
def declare_system_accounts(settings):
    return [Account("@coop", "coop", "the co-op's own account")]


@hookimpl
def validate_member(ledger, member, previous, settings):
    classes = ledger.read.member_classes()
    if member.member_class not in classes:
        return [
            Problem(
                "error",
                PLUGIN,
                "member_class",
                f"{member.member_class!r} is not a member class here (classes: {', '.join(classes)})",
            )
        ]
    return []


def _exchange_problems(members, categories: list[str], index, exchange):
    def error(field, message):
        return Problem("error", PLUGIN, field, message, index)

    if not exchange.givers:
        yield error("giver", "an exchange needs someone who gave the time")
    if not exchange.receivers:
        yield error("receiver", "an exchange needs someone who received the time")
    if len(exchange.givers) > 1 and len(exchange.receivers) > 1:
        yield error("receiver", "a group session has one giver or one receiver, not several of each")
    for field, handles in (("giver", exchange.givers), ("receiver", exchange.receivers)):
        for handle in handles:
            member = members.get(handle)
            if member is None:
                yield error(field, f"no member has the handle {handle!r}")
            elif not member.is_active:
                yield error(field, f"{member.name} ({handle}) has retired and cannot exchange")
            elif exchange.day < member.joined:
                yield error(
                    "date", f"{exchange.day} is before {member.name} ({handle}) joined on {member.joined}"
                )
            elif member.left is not None and exchange.day > member.left:
                yield error("date", f"{exchange.day} is after {member.name} ({handle}) left on {member.left}")
        if len(set(handles)) != len(handles):
            yield error(field, f"a {field} is named twice")
    both = set(exchange.givers) & set(exchange.receivers)
    if both:
        yield error("receiver", f"{', '.join(sorted(both))} cannot give time to themselves")
    if exchange.category not in categories:
        yield error(
            "category",
            f"{exchange.category!r} is not a kind of care here (kinds: {', '.join(categories)})",
        )
    if type(exchange.minutes) is not int or exchange.minutes <= 0:
        yield error("duration", f"{exchange.minutes!r} minutes is not a positive whole number")


def _plainly_fine(exchange, members: dict, kinds: set[str]) -> bool:
    """The common case, one active giver and one other active receiver, checked quickly.

    ``_exchange_problems`` is the judge; this only spares it the exchanges it would pass.
    """
    givers, receivers, minutes = exchange.givers, exchange.receivers, exchange.minutes
    if len(givers) != 1 or len(receivers) != 1 or givers[0] == receivers[0]:
        return False
    giver, receiver = members.get(givers[0]), members.get(receivers[0])
    return (
        giver is not None
        and receiver is not None
        and giver.status == "active"
        and receiver.status == "active"
        and giver.joined <= exchange.day
        and receiver.joined <= exchange.day
        and giver.left is None
        and receiver.left is None
        and exchange.category in kinds
        and type(minutes) is int
        and minutes > 0
    )


@hookimpl
def validate_exchanges(ledger, exchanges, settings):
    members = ledger.read.members_by_handle()
    categories = ledger.read.categories()
    problems = []
    latest = dt.date.today() + dt.timedelta(days=settings["max_days_ahead"])
    kinds = set(categories)
    closed = ledger.read.last_close()
    for index, exchange in enumerate(exchanges):
        if not _plainly_fine(exchange, members, kinds):
            problems.extend(_exchange_problems(members, categories, index, exchange))
        if closed is not None and exchange.day <= closed:
            problems.append(
                Problem(
                    "error",
                    PLUGIN,
                    "date",
                    f"{exchange.day} is in a closed period (the ledger is closed through {closed})",
                    index,
                )
            )
        if exchange.day > latest:
            problems.append(
                Problem(
                    "error",
                    PLUGIN,
                    "date",
                    f"{exchange.day} is in the future; care is recorded once it has been given",
                    index,
                )
            )
    problems.extend(_daily_limit_problems(ledger, exchanges, settings["max_per_day"]))
    return problems


def _daily_limit_problems(ledger, exchanges, limit):
    """Nobody gives more than ``limit`` minutes on one day, counting what is already recorded."""
    days = sorted({e.day for e in exchanges})
    if len(exchanges) < 100:
        # A busy day holds thousands of entries; one exchange typed in needs only its giver's.
        concerned = {g for e in exchanges for g in e.givers}
        given = ledger.read.minutes_given_by_day(days, concerned if len(concerned) <= 500 else None)
    else:
        # A batch of an import: each day is read once for the whole import, not once a batch.
        given = ledger.read.minutes_given_by_day(days, across_batches=True)
    added: dict[tuple[str, str], int] = defaultdict(int)  # this batch's own, before it is written
    problems = []
    for index, exchange in enumerate(exchanges):
        day = exchange.day.isoformat()
        on_day = given.get(day, {})
        for giver in exchange.givers:
            total = on_day.get(giver, 0) + added[giver, day] + exchange.minutes
            if total > limit:
                problems.append(
                    Problem(
                        "error",
                        PLUGIN,
                        "duration",
                        f"{giver} would give {format_minutes(total)} on {day}, more than "
                        f"{format_minutes(limit)} in one day",
                        index,
                    )
                )
            else:
                added[giver, day] += exchange.minutes
    return problems


@hookimpl
def make_postings(ledger, exchanges, settings):
    out = []
    for exchange in exchanges:
        givers, receivers, minutes = exchange.givers, exchange.receivers, exchange.minutes
        if len(givers) == 1 and len(receivers) == 1:  # the common case, without the sharing
            out.append([Posting(givers[0], minutes), Posting(receivers[0], -minutes)])
            continue
        postings = [Posting(giver, exchange.minutes) for giver in exchange.givers]
        total = exchange.minutes * len(exchange.givers)
        shares = split_evenly(total, len(exchange.receivers))
        postings.extend(
            Posting(receiver, -share) for receiver, share in zip(exchange.receivers, shares, strict=True)
        )
        out.append(postings)
    return out
