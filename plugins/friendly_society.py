"""UK friendly societies: contributions into a mutual fund, benefits after a wait.

- At each period close every active member contributes ``contribution`` into ``@fund``.
- A benefit claim (``timebank benefit claim alice --start 2026-03-02 --days 5``) is paid
  from the fund only if the member has paid in for ``waiting_weeks`` (their first
  contribution at least that long before the claim starts), is for at least
  ``min_claim_days``, and keeps them within ``max_weeks_in_year`` of benefit in any 12
  months. Days beyond ``reduced_after_weeks`` in 12 months are paid at
  ``reduced_percent``. While the fund is below ``fund_threshold`` every claim is scaled
  to ``low_fund_percent``. The fund never goes below zero.
"""

from __future__ import annotations

import datetime as dt

import click

from timebank import Account, Draft, Fact, Figure, Measure, Posting, Problem, Report, Setting, hookimpl
from timebank.errors import InputError
from timebank.money import percent_of
from timebank.units import format_minutes

PLUGIN = "friendly_society"
FUND = "@fund"


@hookimpl
def declare_settings():
    return [
        Setting(
            "contribution",
            "minutes",
            60,
            "each member's contribution at every period close",
            min=0,
            max=100 * 60,
        ),
        Setting("waiting_weeks", "int", 6, "weeks of paid membership before benefit", min=0, max=520),
        Setting("min_claim_days", "int", 3, "shortest claim, in days", min=1, max=366),
        Setting("max_weeks_in_year", "int", 39, "most weeks of benefit in any 12 months", min=1, max=52),
        Setting("daily_benefit", "minutes", 60, "benefit for one day at the full rate", min=1, max=24 * 60),
        Setting("reduced_after_weeks", "int", 26, "weeks in 12 months at the full rate", min=0, max=52),
        Setting("reduced_percent", "int", 50, "the reduced rate, as % of the full rate", min=1, max=100),
        Setting(
            "fund_threshold",
            "minutes",
            50 * 60,
            "below this the fund pays reduced claims",
            min=0,
            max=1_000_000 * 60,
        ),
        Setting("low_fund_percent", "int", 50, "share of a claim paid while the fund is low", min=1, max=100),
    ]


@hookimpl
def declare_system_accounts(settings):
    return [Account(FUND, "fund", "mutual fund")]


@hookimpl
def declare_tables(settings):
    return [
        "CREATE TABLE IF NOT EXISTS friendly_claims (id INTEGER PRIMARY KEY, member TEXT NOT NULL,"
        " start TEXT NOT NULL, days INTEGER NOT NULL, reduced_days INTEGER NOT NULL,"
        " amount INTEGER NOT NULL, entry_id INTEGER NOT NULL REFERENCES entries(id),"
        " created_at TEXT NOT NULL)"
    ]


@hookimpl
def close_period(ledger, through, settings):
    amount = settings["contribution"]
    return [
        Draft(
            "adjustment",
            through,
            "system",
            (Posting(m.handle, -amount), Posting(FUND, amount)),
            note=f"contribution to the mutual fund for the period through {through}",
        )
        for m in ledger.read.members(include_retired=False)
        if amount > 0
    ]


def first_contribution(ledger, handle: str) -> dt.date | None:
    return ledger.read.first_payment(handle, FUND, kind="adjustment")


def days_paid(ledger, handle: str, since: dt.date, until: dt.date) -> int:
    row = (
        ledger.plugin_tables(PLUGIN)
        .execute(
            "SELECT coalesce(sum(days), 0) FROM friendly_claims"
            " WHERE member = ? AND start > ? AND start <= ?",
            (handle, since.isoformat(), until.isoformat()),
        )
        .fetchone()
    )
    return row[0]


def assess_claim(ledger, handle: str, start: dt.date, days: int, settings) -> Problem | tuple[int, int, str]:
    """What a claim would pay, as (amount, reduced days, note), or the rule it breaks as a Problem."""
    s = settings
    member = ledger.member(handle)

    def refuse(field: str, message: str) -> Problem:
        return Problem("error", PLUGIN, field, message)

    if days < s["min_claim_days"]:
        return refuse("days", f"a claim must be for at least {s['min_claim_days']} days; this one is {days}")
    first = first_contribution(ledger, handle)
    weeks = (start - first).days // 7 if first else 0
    if first is None or weeks < s["waiting_weeks"]:
        return refuse(
            "member",
            f"{member.name} has paid in for {weeks} weeks; benefit starts after {s['waiting_weeks']}",
        )
    used = days_paid(ledger, handle, start - dt.timedelta(days=365), start)
    cap = s["max_weeks_in_year"] * 7
    if used + days > cap:
        return refuse(
            "days",
            f"{member.name} has had {used} days of benefit in the last 12 months; "
            f"{days} more would pass the cap of {cap} days ({s['max_weeks_in_year']} weeks)",
        )
    full_days = min(days, max(0, s["reduced_after_weeks"] * 7 - used))
    reduced_days = days - full_days
    amount = full_days * s["daily_benefit"] + percent_of(
        reduced_days * s["daily_benefit"], s["reduced_percent"]
    )
    fund = ledger.read.balance(FUND)
    note = f"benefit: {days} days from {start}"
    if reduced_days:
        note += f", {reduced_days} at {s['reduced_percent']} %"
    if fund < s["fund_threshold"]:
        amount = percent_of(amount, s["low_fund_percent"])
        low = format_minutes(s["fund_threshold"])
        note += f", scaled to {s['low_fund_percent']} % while the fund is below {low}"
    if amount > fund:
        return refuse(
            "days", f"the fund has only {format_minutes(fund)}; this claim needs {format_minutes(amount)}"
        )
    return amount, reduced_days, note


def claim_benefit(ledger, handle: str, start: dt.date, days: int, *, actor: str):
    """Pay a benefit claim from the fund, or refuse it with the rule it breaks.

    Who may pay is the permission check (``pay_benefit``, a co-ordinator's); what the
    society's rules say is ``assess_claim``'s Problem, raised here at the command's edge.
    """
    ledger.require(actor, "pay_benefit", handle)
    # Read inside the write transaction: two claims at once cannot both pass the cap or
    # both draw on the same part of the fund.
    with ledger.transaction():
        assessed = assess_claim(ledger, handle, start, days, ledger.rules.settings(PLUGIN))
        if isinstance(assessed, Problem):
            raise InputError(f"{assessed.field}: {assessed.message}")
        amount, reduced_days, note = assessed
        [entry] = ledger.write_drafts(
            [Draft("adjustment", start, actor, (Posting(FUND, -amount), Posting(handle, amount)), note=note)]
        )
        ledger.plugin_tables(PLUGIN).execute(
            "INSERT INTO friendly_claims (member, start, days, reduced_days, amount, entry_id,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (handle, start.isoformat(), days, reduced_days, amount, entry.id, entry.recorded_at),
        )
    return entry


@hookimpl
def make_reports(ledger, settings):
    year_ago = (dt.date.today() - dt.timedelta(days=365)).isoformat()
    paid = (
        ledger.plugin_tables(PLUGIN)
        .execute(
            "SELECT count(*), coalesce(sum(amount), 0), coalesce(sum(days), 0) FROM friendly_claims"
            " WHERE start > ?",
            (year_ago,),
        )
        .fetchone()
    )
    fund = ledger.read.balance(FUND)
    status = "healthy" if fund >= settings["fund_threshold"] else "low: claims are scaled down"
    return [
        Report(
            "fund-health",
            "Mutual fund health",
            ("measure", "value"),
            [
                ("fund balance", format_minutes(fund)),
                ("status", status),
                ("claims paid in 12 months", paid[0]),
                ("benefit paid in 12 months", format_minutes(paid[1])),
                ("benefit days in 12 months", paid[2]),
            ],
        )
    ]


@hookimpl
def contribute_public_figures(ledger, settings, through):
    """The mutual fund each month: contributions in, benefit out, and the fund built from them.

    Contributions count the members who paid in; benefit counts the claimants, so a month
    with one or two claims is suppressed (and audited: the fund's running total is linked).
    """
    paid_in, paid_out = [], []
    for posting in ledger.read.counterparts(FUND, through=through):
        fact = Fact(posting.day.isoformat()[:7], (), (posting.other,), abs(posting.amount))
        (paid_in if posting.amount > 0 else paid_out).append(fact)
    return [
        Measure("fund_contributions", "minutes", (), paid_in),
        Measure("fund_benefit", "minutes", (), paid_out),
        Figure(
            "mutual_fund_contributions",
            "Contributions to the mutual fund",
            "Hours paid into the mutual fund each month.",
            "fund_contributions",
            "hours",
        ),
        Figure(
            "mutual_fund_benefit",
            "Benefit paid from the mutual fund",
            "Hours paid out of the mutual fund as benefit each month.",
            "fund_benefit",
            "hours",
        ),
        Figure(
            "mutual_fund",
            "The mutual fund",
            "The fund at the end of each month: every contribution less every benefit paid so far.",
            {"fund_contributions": 1, "fund_benefit": -1},
            "hours",
            running=True,
        ),
    ]


@hookimpl
def register_commands(cli):
    from timebank.cli.options import as_option, with_ledger
    from timebank.units import parse_day

    @cli.group()
    def benefit():
        """Friendly society: benefit claims paid from the mutual fund."""

    @benefit.command("claim")
    @with_ledger
    @as_option
    @click.argument("handle")
    @click.option("--start", required=True, help="First day of the claim.")
    @click.option("--days", type=click.IntRange(1, 36_500), required=True)
    def claim(ledger, actor, handle, start, days):
        """Pay HANDLE's claim from the fund if the society's rules allow it."""
        entry = claim_benefit(ledger, handle, parse_day(start, field="start"), days, actor=actor or "")
        click.echo(f"entry #{entry.id}: {format_minutes(entry.postings[1].amount)} paid; {entry.note}")
