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
from timebank.storage.store import STANDING
from timebank.units import format_minutes

PLUGIN = "reports"

# Minutes of service given by an entry: its length for each giver (a group session given by
# two is two people's time).
GIVEN = "e.minutes * (length(e.givers) - length(replace(e.givers, ' ', '')) + 1)"


@hookimpl
def declare_settings():
    return [
        Setting(
            "near_limit_within", "minutes", 2 * 60, "list members this close to a limit", min=0, max=1000 * 60
        ),
    ]


@hookimpl
def near_limit_within(settings):
    """The TUI's Balances screen marks members as near a limit by this plugin's measure."""
    return settings["near_limit_within"]


def period_text(since: dt.date, until: dt.date) -> str:
    return f"{since.isoformat()} to {until.isoformat()}"


def inactive_members(ledger, since: dt.date, until: dt.date) -> list[tuple]:
    """Active members, joined before ``since``, with no service given or received in the period."""
    took_part: set[str] = set()
    for givers, receivers in ledger.conn.execute(
        f"SELECT e.givers, e.receivers FROM entries e WHERE e.kind = 'service' AND e.day BETWEEN ? AND ?"
        f" AND {STANDING}",
        (since.isoformat(), until.isoformat()),
    ):
        took_part.update(givers.split())
        took_part.update(receivers.split())
    members = [
        m for m in ledger.members(include_retired=False) if m.handle not in took_part and m.joined < since
    ]
    # The day each of them last took part: newest days first, stopping once all are found.
    wanted = {m.handle for m in members}
    last: dict[str, str] = {}
    rows = ledger.conn.execute(
        f"SELECT e.givers, e.receivers, e.day FROM entries e WHERE e.kind = 'service' AND e.day < ?"
        f" AND {STANDING} ORDER BY e.day DESC",
        (since.isoformat(),),
    )
    for givers, receivers, day in rows:
        for handle in (*givers.split(), *receivers.split()):
            if handle in wanted and handle not in last:
                last[handle] = day
        if len(last) == len(wanted):
            break
    return [
        (m.handle, m.name, m.member_class, last.get(m.handle, "never"))
        for m in sorted(members, key=lambda m: m.name.lower())
    ]


def near_limit(ledger, within: int) -> list[tuple]:
    members = ledger.members(include_retired=False)
    limits = ledger.member_limits(members)
    balances = {account.code: balance for account, balance in ledger.balances()}
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
    flows = {
        code: (came_in, went_out)
        for code, came_in, went_out in ledger.conn.execute(
            "SELECT a.code, coalesce(sum(CASE WHEN p.amount > 0 THEN p.amount END), 0),"
            " coalesce(sum(CASE WHEN p.amount < 0 THEN -p.amount END), 0)"
            " FROM postings p JOIN accounts a ON a.id = p.account_id JOIN entries e ON e.id = p.entry_id"
            " WHERE a.code LIKE '@%' AND e.day BETWEEN ? AND ? GROUP BY a.code",
            (since.isoformat(), until.isoformat()),
        )
    }
    return [
        (
            account.code,
            account.name,
            format_minutes(balance),
            format_minutes(flows.get(account.code, (0, 0))[0]),
            format_minutes(flows.get(account.code, (0, 0))[1]),
        )
        for account, balance in ledger.balances()
        if account.code.startswith("@")
    ]


def hours_by(ledger, group: str, since: dt.date, until: dt.date) -> list[tuple]:
    return [
        (key or "(none)", format_minutes(minutes), count)
        for key, minutes, count in ledger.conn.execute(
            f"SELECT {group}, sum({GIVEN}), count(*) FROM entries e WHERE e.kind = 'service'"
            f" AND e.day BETWEEN ? AND ? AND {STANDING} GROUP BY 1 ORDER BY 1",
            (since.isoformat(), until.isoformat()),
        )
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
            hours_by(ledger, "e.category", since, until),
        ),
        Report(
            "hours-by-month",
            f"Hours given by month, {period}",
            ("month", "hours", "exchanges"),
            hours_by(ledger, "substr(e.day, 1, 7)", since, until),
        ),
    ]
