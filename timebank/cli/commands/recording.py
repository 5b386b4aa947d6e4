"""Recording: log an exchange, claims and confirmation, gifts, reversals."""

from __future__ import annotations

import datetime as dt

import click

from timebank.cli.formats import emit, format_option
from timebank.cli.main import cli
from timebank.cli.options import ID, as_option, with_ledger
from timebank.errors import InputError
from timebank.ledger import Ledger
from timebank.models import Claim, Exchange
from timebank.units import (
    check_text,
    format_minutes,
    parse_day,
    parse_duration,
    postings_text,
    printable,
    split_handles,
)


@cli.command()
@with_ledger
@as_option
@click.argument("givers")
@click.argument("receivers")
@click.argument("duration")
@click.option("-k", "--kind", "category", help="Kind of care (default: the first kind the rules list).")
@click.option(
    "-d", "--date", "day", help="today, yesterday, -N, saturday, 21/11, 21 Nov or YYYY-MM-DD (default today)."
)
@click.option("-n", "--note", default="")
@click.option("--ref", "refs", multiple=True, help="A reference KEY=VALUE (han=riverside, episode=3).")
@click.option("--yes", is_flag=True, help="Accept warnings (soft limits).")
def log(
    ledger: Ledger,
    actor: str | None,
    givers: str,
    receivers: str,
    duration: str,
    category: str | None,
    day: str | None,
    note: str,
    refs: tuple[str, ...],
    yes: bool,
) -> None:
    """Log hours: GIVERS gave DURATION of care to RECEIVERS (comma-separated for groups).

    Example: timebank log alice bob 1h30 --kind shopping
    """
    actor_member = ledger.actor(actor)
    if category is None:
        kinds = ledger.categories()
        if not kinds:
            raise InputError("kind: the rules list no kinds of care; name one with --kind")
        category = kinds[0]
    exchange = Exchange(
        givers=split_handles(givers, "giver"),
        receivers=split_handles(receivers, "receiver"),
        minutes=parse_duration(duration),
        day=parse_day(day),
        category=category,
        recorded_by=actor_member.handle,
        note=check_text(note, field="note"),
        refs=parse_refs(refs),
    )
    result = ledger.record(exchange, acknowledge=yes)
    if isinstance(result, Claim):
        click.echo(f"claim #{result.id} saved; waiting for {', '.join(result.awaiting)} to confirm")
    else:
        click.echo(f"entry #{result.id} saved: " + postings_text(result.postings))


def parse_refs(pairs: tuple[str, ...]) -> dict[str, str]:
    """``--ref key=value`` options as a dict; keys and values may not hold ';' or '='."""
    refs = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip() or ";" in pair or "=" in value:
            raise InputError(f"ref: {pair!r} should be KEY=VALUE, e.g. han=riverside")
        refs[key.strip()] = value.strip()
    return refs


@cli.command()
@with_ledger
@as_option
@click.option("--all", "show_all", is_flag=True, help="Show confirmed and declined claims too.")
@format_option
def claims(ledger: Ledger, actor: str | None, show_all: bool, fmt: str) -> None:
    """Claims awaiting confirmation; listing them changes nothing.

    A claim whose auto-accept day has come is accepted by the next change to the ledger.
    """
    shown = claims_shown(ledger, actor, show_all)
    rows = [
        {
            "claim": c.id,
            "status": c.status,
            "day": c.exchange.day.isoformat(),
            "givers": list(c.exchange.givers),
            "receivers": list(c.exchange.receivers),
            "minutes": c.exchange.minutes,
            "category": c.exchange.category,
            "note": c.exchange.note,
            "awaiting": list(c.waiting_for) if c.status == "pending" else [],
            "confirmed": list(c.confirmed),
            "withdrawn": c.withdrawn,
            "decided_by": c.decided_by,
            "entry": c.entry_id,
            "reason": c.reason,
        }
        for c in shown
    ]

    def text() -> None:
        for c in shown:
            e = c.exchange
            click.echo(
                f"#{c.id} {c.status:<9} {e.day} {','.join(e.givers)} -> "
                f"{','.join(e.receivers)} {format_minutes(e.minutes)} {printable(e.category)} "
                f"({claim_state(c)})"
            )

    emit(fmt, rows, text, columns=CLAIM_COLUMNS)


CLAIM_COLUMNS = (
    "claim",
    "status",
    "day",
    "givers",
    "receivers",
    "minutes",
    "category",
    "note",
    "awaiting",
    "confirmed",
    "withdrawn",
    "decided_by",
    "entry",
    "reason",
)


def claims_shown(ledger: Ledger, actor: str | None, show_all: bool) -> list[Claim]:
    """The claims ``claims`` lists, as the core's read rule (``Ledger.visible_to``) allows.

    A member sees the claims they take part in: those waiting for them and their own
    waiting for others (which they may withdraw); ``--all`` adds decided ones. A
    co-ordinator (or the owner with no ``--as``) sees every claim.
    """
    sight = ledger.visible_to(actor)
    statuses = ("pending", "confirmed", "declined") if show_all else ("pending",)
    return [c for status in statuses for c in ledger.claims(status=status) if sight.claim(c)]


def claim_state(claim: Claim) -> str:
    """Where a claim stands, in words: who it waits for, or who decided it."""
    if claim.status == "pending":
        due = "; accepted automatically at the next change" if claim.due(dt.date.today()) else ""
        done = f"; confirmed by {', '.join(claim.confirmed)}" if claim.confirmed else ""
        return f"waiting for {', '.join(claim.waiting_for)}{done}{due}"
    if claim.status == "confirmed":
        return f"confirmed by {claim.decided_by} as entry #{claim.entry_id}"
    verb = "withdrawn" if claim.withdrawn else "declined"
    return f"{verb} by {claim.decided_by}" + (f": {claim.reason}" if claim.reason else "")


@cli.command()
@with_ledger
@as_option
@click.argument("claim_id", type=ID)
@click.option("--yes", is_flag=True, help="Accept warnings (soft limits).")
def confirm(ledger: Ledger, actor: str | None, claim_id: int, yes: bool) -> None:
    """Confirm a claim: the exchange enters the ledger."""
    result = ledger.confirm(claim_id, actor=actor or "", acknowledge=yes)
    if isinstance(result, Claim):
        click.echo(f"claim #{claim_id}: your confirmation is recorded; {claim_state(result)}")
    else:
        click.echo(f"claim #{claim_id} confirmed as entry #{result.id}")


@cli.command()
@with_ledger
@as_option
@click.argument("claim_id", type=ID)
@click.option("--reason", default="")
def withdraw(ledger: Ledger, actor: str | None, claim_id: int, reason: str) -> None:
    """Withdraw a claim you recorded that is still waiting: it never enters the ledger."""
    ledger.withdraw(claim_id, actor=actor or "", reason=reason)
    click.echo(f"claim #{claim_id} withdrawn")


@cli.command()
@with_ledger
@as_option
@click.argument("claim_id", type=ID)
@click.option("--reason", default="")
def decline(ledger: Ledger, actor: str | None, claim_id: int, reason: str) -> None:
    """Decline a claim: it never enters the ledger."""
    ledger.decline(claim_id, actor=actor or "", reason=reason)
    click.echo(f"claim #{claim_id} declined")


@cli.command()
@with_ledger
@as_option
@click.argument("source")
@click.argument("target")
@click.argument("duration")
@click.option("-n", "--note", default="")
@click.option("--yes", is_flag=True, help="Accept warnings (soft limits).")
def give(
    ledger: Ledger, actor: str | None, source: str, target: str, duration: str, note: str, yes: bool
) -> None:
    """Give credits from SOURCE to TARGET (a gift, a donation to @chest)."""
    entry = ledger.transfer(
        source, target, parse_duration(duration), actor=actor or "", note=note, acknowledge=yes
    )
    click.echo(f"entry #{entry.id} saved: " + postings_text(entry.postings))


@cli.command()
@with_ledger
@as_option
@click.argument("entry_id", type=ID)
@click.option("--reason", required=True, help="Why the entry is reversed.")
def reverse(ledger: Ledger, actor: str | None, entry_id: int, reason: str) -> None:
    """Reverse an entry with a new, opposite entry; the original stays."""
    entry = ledger.reverse(entry_id, reason=reason, actor=actor or "")
    click.echo(f"entry #{entry.id} reverses #{entry_id}: " + postings_text(entry.postings))
