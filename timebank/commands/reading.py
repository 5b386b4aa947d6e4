"""Reading and checking: balances, statements, verify, period close, reports."""

from __future__ import annotations

import click

from timebank.cli import (
    ID,
    WholeNumber,
    _as_option,
    cli,
    postings_text,
    with_ledger,
)
from timebank.errors import InputError, TimebankError
from timebank.ledger import Ledger
from timebank.units import format_minutes, parse_day


@cli.command()
@with_ledger
@click.argument("account", required=False)
def balance(ledger: Ledger, account: str | None) -> None:
    """One account's balance, or every account's."""
    if account:
        click.echo(f"{account}: {format_minutes(ledger.balance(account))}")
        return
    for acc, value in ledger.balances():
        click.echo(f"{acc.code:<20} {acc.name:<28} {format_minutes(value):>9}")


@cli.command()
@with_ledger
@click.argument("account")
@click.option("--page", default=1, type=ID, show_default=True, help="1 is the newest page.")
@click.option("--size", default=50, type=WholeNumber(1, 100_000), show_default=True)
def statement(ledger: Ledger, account: str, page: int, size: int) -> None:
    """An account's entries, newest first, with the running balance."""
    before = None
    lines = []
    for _ in range(max(page, 1)):
        lines = ledger.statement(account, limit=size, before=before)
        if not lines:
            break
        before = lines[-1].entry_id
    click.echo(f"{'entry':>7} {'date':<10} {'kind':<9} {'amount':>8} {'balance':>9}  details")
    for line in lines:
        who = ",".join(line.counterparties)
        click.echo(
            f"{line.entry_id:>7} {line.day} {line.kind:<9} {format_minutes(line.amount):>8} "
            f"{format_minutes(line.balance):>9}  {line.category} {who} {line.note}".rstrip()
        )


@cli.command()
@with_ledger
def verify(ledger: Ledger) -> None:
    """Recompute the hash chain, every entry's sum and every balance."""
    report = ledger.verify()
    if not report.ok:
        raise TimebankError(report.sentence())
    click.echo(report.sentence())


@cli.command("close-period")
@with_ledger
@_as_option
@click.option("--through", required=True, help="Last day of the period (YYYY-MM-DD).")
def close_period(ledger: Ledger, actor: str | None, through: str) -> None:
    """Close a period: demurrage, contributions, expiry, as the enabled plugins say."""
    entries = ledger.close_period(parse_day(through, field="through"), actor=actor or "")
    click.echo(f"period closed through {through}: {len(entries)} entries")
    for entry in entries:
        click.echo(f"  #{entry.id} {entry.note}: " + postings_text(entry.postings))


@cli.command()
@with_ledger
@click.argument("name", required=False)
def report(ledger: Ledger, name: str | None) -> None:
    """Reports a co-ordinator checks (activity by class, inactive members, fund health)."""
    reports = ledger.reports()
    if name:
        reports = [r for r in reports if r.name == name]
        if not reports:
            raise InputError(
                f"report: no report {name!r} (reports: "
                f"{', '.join(r.name for r in ledger.reports()) or 'none'})"
            )
    for r in reports:
        click.echo(f"{r.title}")
        widths = [max([len(str(c)), *(len(str(row[i])) for row in r.rows)]) for i, c in enumerate(r.columns)]
        click.echo("  " + "  ".join(str(c).ljust(w) for c, w in zip(r.columns, widths, strict=True)))
        for row in r.rows:
            click.echo("  " + "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))
        click.echo("")
