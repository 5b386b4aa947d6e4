"""Community care co-ops (Co-operative Care Colne Valley, Cartrefi Cymru).

- Member classes: ``person supported``, ``family``, ``care worker``, ``community volunteer``.
- Paid, regulated care (the categories in ``paid_categories``) is recorded for reporting
  but kept apart from voluntary time credits: its entry holds the facts (who, whom, how
  long, what) and no credits move. Only care workers give paid care.
- Every member is expected to give time: the ``inactive`` report lists members who have
  given nothing in ``inactive_months`` months (isolation and inactivity, which time banks
  ask for), and ``paid-and-voluntary`` shows the two kinds of hours side by side.
"""

from __future__ import annotations

import datetime as dt

from timebank import Problem, Report, Setting, hookimpl
from timebank.units import format_hours

PLUGIN = "care_coop"
CLASSES = ["person supported", "family", "care worker", "community volunteer"]


@hookimpl
def declare_settings():
    return [
        Setting("paid_categories", "str_list", ["regulated care"], "paid care, recorded without credits"),
        Setting("inactive_months", "int", 3, "report members who gave nothing for this long", min=1, max=120),
    ]


@hookimpl
def declare_member_classes(settings):
    return CLASSES


@hookimpl
def declare_categories(settings):
    return settings["paid_categories"]


@hookimpl
def validate_exchanges(ledger, exchanges, settings):
    paid = set(settings["paid_categories"])
    members = ledger.read.members_by_handle()
    problems = []
    for index, exchange in enumerate(exchanges):
        if exchange.category not in paid:
            continue
        for giver in exchange.givers:
            member = members.get(giver)
            if member is not None and member.member_class != "care worker":
                problems.append(
                    Problem(
                        "error",
                        PLUGIN,
                        "giver",
                        f"{member.name} is a {member.member_class}; only care workers "
                        f"give {exchange.category}",
                        index,
                    )
                )
    return problems


@hookimpl(tryfirst=True)
def make_postings(ledger, exchanges, settings):
    paid = set(settings["paid_categories"])
    if not any(e.category in paid for e in exchanges):
        return None
    # Paid work earns no credits; the rest is left to the next plugin's rules.
    return [[] if e.category in paid else None for e in exchanges]


def inactive_members(ledger, months: int, today: dt.date | None = None):
    today = today or dt.date.today()
    since = today - dt.timedelta(days=months * 30)
    given = ledger.read.minutes_given_since(since)
    last = ledger.read.last_day_gave()
    return [
        (m.handle, m.name, m.member_class, _day_or_never(last.get(m.handle)))
        for m in ledger.read.members(include_retired=False)
        if not given.get(m.handle) and m.joined <= since
    ]


def _day_or_never(day: dt.date | None) -> str:
    return day.isoformat() if day else "never"


@hookimpl
def make_reports(ledger, settings):
    paid = set(settings["paid_categories"])
    totals = {"paid": 0, "voluntary": 0}
    for given in ledger.read.minutes_given_by_category():
        totals["paid" if given.key in paid else "voluntary"] += given.minutes
    months = settings["inactive_months"]
    return [
        Report(
            "inactive",
            f"Members who have given nothing in {months} months",
            ("handle", "name", "class", "last gave"),
            inactive_members(ledger, months),
        ),
        Report(
            "paid-and-voluntary",
            "Paid care and voluntary time",
            ("kind", "hours"),
            [
                ("paid regulated care", format_hours(totals["paid"])),
                ("voluntary time credits", format_hours(totals["voluntary"])),
            ],
        ),
    ]
