"""Reports every co-op needs, for a period a co-ordinator chooses.

- ``inactive-members``: members who neither gave nor received any service in the period.
  Someone receiving weekly care is taking part; only members absent on both sides are
  listed (they may be isolated, or have left without saying).
- ``near-limit``: members within ``near_limit_within`` of the floor or ceiling the plugins
  set (``member_limits``: credit limits, mutual credit's growing floor), or past a warning.
- ``chest-and-funds``: each shared account (``@chest``, ``@coop``, funds): its balance now
  and what came in and went out in the period.
- ``hours-by-kind`` and ``hours-by-month``: hours of service given in the period.

Every template enables this plugin; the rows a report lists name members by handle first,
so the terminal UI opens a member's statement from a row.
"""

from __future__ import annotations

import datetime as dt

from timebank import Report, Setting, hookimpl
from timebank.read_api import Flow
from timebank.units import format_minutes

PLUGIN = "reports"


@hookimpl
def declare_settings():
    return [
        Setting(
            "near_limit_within", "minutes", 2 * 60, "list members this close to a limit", min=0, max=1000 * 60
        ),
    ]


def period_text(since: dt.date, until: dt.date) -> str:
    return f"{since.isoformat()} to {until.isoformat()}"


def inactive_members(ledger, since: dt.date, until: dt.date) -> list[tuple]:
    """Active members, joined before ``since``, with no service given or received in the period."""
    took_part: set[str] = set()
    for service in ledger.read.services(since, until):
        took_part.update(service.givers)
        took_part.update(service.receivers)
    members = [
        m
        for m in ledger.read.members(include_retired=False)
        if m.handle not in took_part and m.joined < since
    ]
    # The day each of them last took part: newest days first, stopping once all are found.
    wanted = {m.handle for m in members}
    last: dict[str, str] = {}
    for service in ledger.read.services(before=since, newest_first=True):
        for handle in (*service.givers, *service.receivers):
            if handle in wanted and handle not in last:
                last[handle] = service.day.isoformat()
        if len(last) == len(wanted):
            break
    return [
        (m.handle, m.name, m.member_class, last.get(m.handle, "never"))
        for m in sorted(members, key=lambda m: m.name.lower())
    ]


def near_limit(ledger, within: int) -> list[tuple]:
    members = ledger.read.members(include_retired=False)
    limits = ledger.read.member_limits(members)
    balances = {account.code: balance for account, balance in ledger.read.balances()}
    rows = []
    for m in sorted(members, key=lambda m: m.name.lower()):
        lim = limits.get(m.handle)
        if lim is None:
            continue
        balance = balances.get(m.handle, 0)
        warned = lim.warn_below is not None and balance < lim.warn_below
        if balance - lim.floor <= within:
            why = "past the floor" if balance < lim.floor else "near the floor"
        elif lim.ceiling - balance <= within:
            why = "past the ceiling" if balance > lim.ceiling else "near the ceiling"
        elif warned:
            why = "past the warning"
        else:
            continue
        rows.append(
            (
                m.handle,
                m.name,
                format_minutes(balance),
                format_minutes(lim.floor),
                format_minutes(lim.ceiling),
                why,
            )
        )
    return rows


def chest_and_funds(ledger, since: dt.date, until: dt.date) -> list[tuple]:
    flows = ledger.read.shared_flows(since, until)
    none = Flow(0, 0)
    return [
        (
            account.code,
            account.name,
            format_minutes(balance),
            format_minutes(flows.get(account.code, none).came_in),
            format_minutes(flows.get(account.code, none).went_out),
        )
        for account, balance in ledger.read.balances()
        if account.code.startswith("@")
    ]


def hours_by(ledger, group: str, since: dt.date, until: dt.date) -> list[tuple]:
    """Hours of standing service given in the period by kind of care (``category``) or ``month``."""
    read = (
        ledger.read.minutes_given_by_category if group == "category" else ledger.read.minutes_given_by_month
    )
    return [
        (given.key or "(none)", format_minutes(given.minutes), given.exchanges)
        for given in read(since, until)
    ]


@hookimpl
def make_reports(ledger, since, until, settings):
    period = period_text(since, until)
    within = settings["near_limit_within"]
    return [
        Report(
            "inactive-members",
            f"Members who neither gave nor received, {period}",
            ("handle", "name", "class", "last active"),
            inactive_members(ledger, since, until),
        ),
        Report(
            "near-limit",
            f"Members within {format_minutes(within)} of a limit, now",
            ("handle", "name", "balance", "floor", "ceiling", "why"),
            near_limit(ledger, within),
        ),
        Report(
            "chest-and-funds",
            f"The chest and shared funds: balance now, in and out {period}",
            ("account", "name", "balance", "in", "out"),
            chest_and_funds(ledger, since, until),
        ),
        Report(
            "hours-by-kind",
            f"Hours given by kind of service, {period}",
            ("kind", "hours", "exchanges"),
            hours_by(ledger, "category", since, until),
        ),
        Report(
            "hours-by-month",
            f"Hours given by month, {period}",
            ("month", "hours", "exchanges"),
            hours_by(ledger, "month", since, until),
        ),
    ]
