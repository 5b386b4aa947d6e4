"""Safeguarding: some kinds of care may only be given by members whose checks are current.

- A co-ordinator records each member's checks (``timebank check add ben --kind DBS
  --reference 001234 --done 2025-03-01 --valid-until 2028-03-01``): kind, reference, date
  done, valid until, recorded by. Checks live in this plugin's own table.
- ``checked_categories`` are the kinds of care that need every check in ``required_checks``
  current. An exchange of such care is refused unless each giver's check is current **on the
  exchange's day**: it is checked in ``validate_exchanges``, the one write path, so an
  import, a confirmed claim and an auto-accepted one are refused like a typed exchange.
  An offer of such care by a member without a current check is refused, and such members are
  never offered as matches for a request of it.
- The ``checks-expiring`` report lists checks that run out in the next ``warn_days`` days.
- Check details are private: never in ``export members``, never published; a co-ordinator
  sees them with ``timebank check list`` (a member their own), as CSV only when asked.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import sys
from collections.abc import Iterable, Mapping

import click

from timebank import Problem, Report, Setting, hookimpl
from timebank.errors import InputError, NotAllowed
from timebank.permissions import actor_label
from timebank.units import check_text

PLUGIN = "safeguarding"


@hookimpl
def declare_settings():
    return [
        Setting("checked_categories", "str_list", [], "kinds of care that need a current check"),
        Setting("required_checks", "str_list", ["DBS"], "kinds of check that must be current"),
        Setting("warn_days", "int", 30, "report checks that expire within this many days", min=1, max=366),
    ]


@hookimpl
def declare_tables(settings):
    return [
        "CREATE TABLE IF NOT EXISTS safeguarding_checks (id INTEGER PRIMARY KEY,"
        " member TEXT NOT NULL, kind TEXT NOT NULL, reference TEXT NOT NULL DEFAULT '',"
        " done_on TEXT NOT NULL, valid_until TEXT NOT NULL, recorded_by TEXT NOT NULL,"
        " recorded_at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS safeguarding_checks_by_member ON safeguarding_checks(member, kind)",
    ]


def record_check(
    ledger,
    member: str,
    *,
    kind: str,
    done_on: dt.date,
    valid_until: dt.date,
    actor: str,
    reference: str = "",
) -> int:
    """A co-ordinator records a check a member has had; returns its id."""
    ledger.require(actor, "record_check", member)  # an action the core leaves to co-ordinators
    ledger.member(member)
    check_text(kind, field="kind", max_length=100)
    check_text(reference, field="reference", max_length=200)
    if not kind.strip():
        raise InputError("kind: say which check (DBS, references)")
    checks(ledger, [])  # the plugin is enabled: its table exists
    if valid_until < done_on:
        raise InputError(f"valid-until: {valid_until} is before the check was done ({done_on})")
    with ledger.transaction():
        return (
            ledger.plugin_tables(PLUGIN)
            .execute(
                "INSERT INTO safeguarding_checks (member, kind, reference, done_on, valid_until, recorded_by,"
                " recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    member,
                    kind.strip(),
                    reference.strip(),
                    done_on.isoformat(),
                    valid_until.isoformat(),
                    actor_label(actor),
                    ledger.read.now(),
                ),
            )
            .lastrowid
        )


def checks(ledger, members: Iterable[str] | None = None) -> list[dict]:
    """Checks as rows (all, or of ``members``), oldest first."""
    tables = ledger.plugin_tables(PLUGIN)
    if not tables.exist():
        raise InputError("check: the safeguarding plugin is not enabled in this ledger's rules")
    if members is None:
        return tables.query("SELECT * FROM safeguarding_checks ORDER BY done_on, id")
    wanted = sorted(set(members))
    rows: list[dict] = []
    for start in range(0, len(wanted), 500):  # by the member index, a few hundred at a time
        chunk = wanted[start : start + 500]
        rows += tables.query(
            f"SELECT * FROM safeguarding_checks WHERE member IN ({', '.join('?' * len(chunk))})", chunk
        )
    return sorted(rows, key=lambda row: (row["done_on"], row["id"]))


class _Checks:
    """Each member's checks by kind, read once for a batch."""

    def __init__(self, ledger, members: Iterable[str]):
        self.by: dict[tuple[str, str], list[dict]] = {}
        for row in checks(ledger, members):
            self.by.setdefault((row["member"], row["kind"]), []).append(row)

    def missing(self, member: str, kinds: Iterable[str], day: dt.date) -> tuple[str, str] | None:
        """The first required check ``member`` lacks on ``day``, with what the ledger knows of it."""
        iso = day.isoformat()
        for kind in kinds:
            rows = self.by.get((member, kind), [])
            if any(r["done_on"] <= iso <= r["valid_until"] for r in rows):
                continue
            past = [r["valid_until"] for r in rows if r["valid_until"] < iso]
            later = [r["done_on"] for r in rows if r["done_on"] > iso]
            if past:
                return kind, f"their {kind} check expired on {max(past)}"
            if later:
                return kind, f"their {kind} check was not done until {min(later)}"
            return kind, f"no {kind} check is recorded for them"
        return None


def _sentence(name: str, category: str, kind: str, why: str, day: dt.date) -> str:
    return f"{name} may not give {category} on {day}: {why}, and {category} needs a current {kind} check"


@hookimpl
def validate_exchanges(ledger, exchanges, settings):
    checked = set(settings["checked_categories"])
    concerned = [(i, e) for i, e in enumerate(exchanges) if e.category in checked]
    if not concerned:
        return []
    known = _Checks(ledger, {g for _, e in concerned for g in e.givers})
    names = ledger.read.members_by_handle()
    problems = []
    for index, exchange in concerned:
        for giver in exchange.givers:
            lack = known.missing(giver, settings["required_checks"], exchange.day)
            if lack:
                name = names[giver].name if giver in names else giver
                problems.append(
                    Problem(
                        "error",
                        PLUGIN,
                        "giver",
                        _sentence(name, exchange.category, lack[0], lack[1], exchange.day),
                        index,
                    )
                )
    return problems


@hookimpl
def validate_listing(ledger, listing, settings):
    if listing.kind != "offer" or listing.category not in settings["checked_categories"]:
        return []
    today = dt.date.today()
    lack = _Checks(ledger, [listing.member]).missing(listing.member, settings["required_checks"], today)
    if not lack:
        return []
    name = ledger.member(listing.member).name
    return [Problem("error", PLUGIN, "kind", _sentence(name, listing.category, lack[0], lack[1], today))]


@hookimpl
def refuse_matches(ledger, listing, matches, settings):
    if listing.category not in settings["checked_categories"]:
        return []
    today = dt.date.today()
    givers = [listing.member if listing.kind == "offer" else m.member for m in matches]
    known = _Checks(ledger, set(givers))
    names = ledger.read.members_by_handle()
    problems = []
    for index, (match, giver) in enumerate(zip(matches, givers, strict=True)):
        category = match.category or listing.category
        if category not in settings["checked_categories"]:
            continue
        lack = known.missing(giver, settings["required_checks"], today)
        if lack:
            name = names[giver].name if giver in names else giver
            problems.append(
                Problem("error", PLUGIN, "member", _sentence(name, category, *lack, today), index)
            )
    return problems


def expiring(ledger, days: int, today: dt.date | None = None) -> list[tuple]:
    """Checks that run out within ``days`` days and that no later check of the kind replaces."""
    today = today or dt.date.today()
    until = (today + dt.timedelta(days=days)).isoformat()
    latest: dict[tuple[str, str], Mapping] = {}
    for row in checks(ledger):
        key = (row["member"], row["kind"])
        if key not in latest or row["valid_until"] > latest[key]["valid_until"]:
            latest[key] = row
    names = {m.handle: m.name for m in ledger.read.members()}
    rows = [
        (
            row["member"],
            names.get(row["member"], row["member"]),
            row["kind"],
            row["valid_until"],
            (dt.date.fromisoformat(row["valid_until"]) - today).days,
        )
        for row in latest.values()
        if today.isoformat() <= row["valid_until"] <= until
    ]
    return sorted(rows, key=lambda r: (r[3], r[0]))


@hookimpl
def make_reports(ledger, settings):
    days = settings["warn_days"]
    return [
        Report(
            "checks-expiring",
            f"Safeguarding checks that expire in the next {days} days",
            ("handle", "name", "check", "valid until", "days left"),
            expiring(ledger, days),
        )
    ]


def _day(text: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{field}: {text!r} is not a date (YYYY-MM-DD)") from None


@hookimpl
def add_demo_records(ledger, members, exchanges, today, seed, actor, settings):
    """Checks as a care co-op keeps them: everyone who gives checked care has each required
    check from before their first such visit; a few run out within the month (the report
    shows them); some members, who never give checked care, have none."""
    rng = random.Random(seed)
    checked = set(settings["checked_categories"])
    first: dict[str, dt.date] = {}
    for exchange in exchanges:
        if exchange.category in checked:
            for giver in exchange.givers:
                first[giver] = min(first.get(giver, exchange.day), exchange.day)
    soon = set(rng.sample(sorted(first), min(3, len(first))))
    for member in members:
        handle, joined = member.handle, member.joined
        if handle not in first and rng.random() < 0.3:
            continue
        done = min(joined, first.get(handle, joined))
        until = (
            today + dt.timedelta(days=rng.randrange(5, 28))
            if handle in soon
            else done + dt.timedelta(days=3 * 365)
        )
        until = max(until, today + dt.timedelta(days=5)) if handle in first else until
        for kind in settings["required_checks"]:
            record_check(
                ledger,
                handle,
                kind=kind,
                reference=f"{rng.randrange(10**11, 10**12)}",
                done_on=done,
                valid_until=until,
                actor=actor,
            )


@hookimpl
def register_commands(cli):
    from timebank.cli.options import as_option, with_ledger

    @cli.group("check")
    def check_group():
        """Safeguarding checks (DBS, references): record, list, see what expires."""

    @check_group.command("add")
    @with_ledger
    @as_option
    @click.argument("member")
    @click.option("--kind", default="DBS", show_default=True, help="Which check.")
    @click.option("--reference", default="", help="The certificate or reference number.")
    @click.option("--done", "done_on", required=True, help="Day the check was done (YYYY-MM-DD).")
    @click.option("--valid-until", required=True, help="Last day it counts (YYYY-MM-DD).")
    def add(ledger, actor, member, kind, reference, done_on, valid_until):
        """Record a check MEMBER has had (co-ordinators)."""
        check_id = record_check(
            ledger,
            member,
            kind=kind,
            reference=reference,
            done_on=_day(done_on, "done"),
            valid_until=_day(valid_until, "valid-until"),
            actor=actor or "",
        )
        click.echo(f"check #{check_id} recorded for {member}: {kind} valid until {valid_until}")

    @check_group.command("list")
    @with_ledger
    @as_option
    @click.argument("member", required=False)
    @click.option("--csv", "as_csv", is_flag=True, help="As CSV, with references (asked for explicitly).")
    def list_checks(ledger, actor, member, as_csv):
        """Checks recorded (co-ordinators see all; a member sees their own)."""
        acting = ledger.actor(actor)
        if not acting.is_coordinator and member != acting.handle:
            raise NotAllowed(f"check: {acting.handle} may see only their own checks")
        rows = checks(ledger, [member] if member else None)
        columns = ("member", "kind", "reference", "done_on", "valid_until", "recorded_by")
        if as_csv:
            writer = csv.writer(sys.stdout)
            writer.writerow(columns)
            for row in rows:
                writer.writerow([row[c] for c in columns])
            return
        for row in rows:
            click.echo(
                f"{row['member']:<12} {row['kind']:<10} {row['reference']:<14} done {row['done_on']},"
                f" valid until {row['valid_until']} (recorded by {row['recorded_by']})"
            )

    @check_group.command("expiring")
    @with_ledger
    @as_option
    @click.option(
        "--days", type=click.IntRange(1, 36_500), default=None, help="Default: the rules' warn_days."
    )
    def list_expiring(ledger, actor, days):
        """Checks that expire in the next DAYS days (other members' checks: a co-ordinator's)."""
        if actor:
            ledger.require(actor, "read_checks")
        days = days if days is not None else ledger.rules.settings(PLUGIN).get("warn_days", 30)
        found = expiring(ledger, days)
        for handle, name, kind, until, left in found:
            click.echo(f"{handle:<12} {name:<24} {kind:<10} valid until {until} ({left} days left)")
        if not found:
            click.echo(f"no check expires in the next {days} days")
