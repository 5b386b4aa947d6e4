"""Reading and checking: balances, statements, verify, period close, reports."""

from __future__ import annotations

import json

import click

from timebank.cli.formats import emit, entry_rows, format_option
from timebank.cli.main import cli
from timebank.cli.options import ID, WholeNumber, as_option, with_ledger
from timebank.errors import InputError, NotAllowed, TimebankError
from timebank.ledger import Ledger
from timebank.permissions import READ_REPORTS
from timebank.units import format_minutes, parse_day, postings_text, printable


@cli.command()
@with_ledger
@as_option
@click.argument("account", required=False)
@format_option
def balance(ledger: Ledger, actor: str | None, account: str | None, fmt: str) -> None:
    """One account's balance, or every account's (a member: their own, unless the rules say)."""
    sight = ledger.visible_to(actor)
    if account:
        sight.require_balance(account)
    pairs = [(ledger.account(account), ledger.balance(account))] if account else ledger.balances()
    pairs = [(a, value) for a, value in pairs if sight.balance(a.code)]
    rows = [
        {"account": a.code, "name": a.name, "kind": a.kind, "member": a.member, "minutes": value}
        for a, value in pairs
    ]

    def text() -> None:
        if account:
            click.echo(f"{account}: {format_minutes(pairs[0][1])}")
            return
        for acc, value in pairs:
            click.echo(f"{acc.code:<20} {printable(acc.name):<28} {format_minutes(value):>9}")

    emit(fmt, rows, text)


@cli.command()
@with_ledger
@as_option
@click.argument("account", required=False)
@click.option("--page", default=1, type=ID, show_default=True, help="1 is the newest page.")
@click.option("--size", default=50, type=WholeNumber(1, 100_000), show_default=True)
@format_option
def statement(ledger: Ledger, actor: str | None, account: str | None, page: int, size: int, fmt: str) -> None:
    """An account's entries, newest first, with the running balance (a member: their own)."""
    sight = ledger.visible_to(actor)
    if account is None:
        if sight.member is None:
            raise InputError("statement: name the account (or say who is acting with --as)")
        account = sight.member.handle
    sight.require_statement(account)
    before = None
    lines = []
    for _ in range(max(page, 1)):
        lines = ledger.statement(account, limit=size, before=before)
        if not lines:
            break
        before = lines[-1].key
    rows = [
        {
            "entry": line.entry_id,
            "seq": line.seq,
            "day": line.day.isoformat(),
            "kind": line.kind,
            "minutes": line.amount,
            "balance": line.balance,
            "category": line.category,
            "counterparties": list(line.counterparties),
            "note": line.note,
        }
        for line in lines
    ]

    def text() -> None:
        click.echo(f"{'entry':>7} {'date':<10} {'kind':<9} {'amount':>8} {'balance':>9}  details")
        for line in lines:
            who = ",".join(line.counterparties)
            click.echo(
                f"{line.entry_id:>7} {line.day} {line.kind:<9} {format_minutes(line.amount):>8} "
                f"{format_minutes(line.balance):>9}  "
                f"{printable(f'{line.category} {who} {line.note}')}".rstrip()
            )

    emit(fmt, rows, text, columns=STATEMENT_COLUMNS)


STATEMENT_COLUMNS = (
    "entry",
    "seq",
    "day",
    "kind",
    "minutes",
    "balance",
    "category",
    "counterparties",
    "note",
)


@cli.command()
@with_ledger
@as_option
@click.argument("entry_id", type=ID)
@format_option
def show(ledger: Ledger, actor: str | None, entry_id: int, fmt: str) -> None:
    """One entry with its postings: who recorded it, when, under which rules, what it reverses."""
    entry = ledger.entry(entry_id)
    if not ledger.visible_to(actor).entry(entry):
        raise NotAllowed(f"show: entry #{entry_id} does not concern {actor or ledger.proven}")
    row = entry_rows(entry)
    if fmt == "json":
        click.echo(json.dumps(row, ensure_ascii=False, indent=1))
        return
    flat = [
        {**{k: v for k, v in row.items() if k != "postings"}, **posting}
        for posting in row["postings"] or [{"seq": None, "account": None, "minutes": None}]
    ]

    def text() -> None:
        click.echo(f"entry #{entry.id}  {entry.day}  {entry.kind}")
        click.echo(
            f"recorded by {entry.recorded_by} at {entry.recorded_at}; rules version {entry.rules_version}"
        )
        if entry.kind == "service":
            click.echo(
                f"{','.join(entry.givers)} gave {format_minutes(entry.minutes)} "
                f"of {printable(entry.category)} "
                f"to {','.join(entry.receivers)}"
            )
        if entry.reverses is not None:
            click.echo(f"reverses #{entry.reverses}")
        if entry.refs:
            click.echo("refs: " + printable(", ".join(f"{k}={v}" for k, v in sorted(entry.refs.items()))))
        if entry.note:
            click.echo(f"note: {printable(entry.note)}")
        click.echo("postings: " + postings_text(entry.postings))

    emit(fmt, flat, text)


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
@as_option
@click.option("--through", required=True, help="Last day of the period (YYYY-MM-DD).")
def close_period(ledger: Ledger, actor: str | None, through: str) -> None:
    """Close a period: demurrage, contributions, expiry, as the enabled plugins say."""
    entries = ledger.close_period(parse_day(through, field="through"), actor=actor or "")
    click.echo(f"period closed through {through}: {len(entries)} entries")
    for entry in entries:
        click.echo(f"  #{entry.id} {entry.note}: " + postings_text(entry.postings))


@cli.command()
@with_ledger
@as_option
@click.argument("name", required=False)
@click.option("--since", help="First day of the period (default: 90 days before --until).")
@click.option("--until", help="Last day of the period (default: today).")
@format_option
def report(
    ledger: Ledger, actor: str | None, name: str | None, since: str | None, until: str | None, fmt: str
) -> None:
    """Reports a co-ordinator checks (inactive members, near limit, the chest, hours by kind
    and month) for a period: --since and --until take dates as the Log form does."""
    if actor:  # they name other members: a co-ordinator's (the file's owner may read them all)
        ledger.require(actor, READ_REPORTS)
    last = parse_day(until, field="until") if until else None
    first = parse_day(since, today=last, field="since") if since else None
    reports = ledger.reports(since=first, until=last)
    if name:
        reports = [r for r in reports if r.name == name]
        if not reports:
            raise InputError(
                f"report: no report {name!r} (reports: "
                f"{', '.join(r.name for r in ledger.reports()) or 'none'})"
            )
    if fmt == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "report": r.name,
                        "title": r.title,
                        "rows": [dict(zip(r.columns, row, strict=True)) for row in r.rows],
                    }
                    for r in reports
                ],
                ensure_ascii=False,
                indent=1,
                default=str,
            )
        )
        return
    if fmt == "csv":
        if len(reports) != 1:
            raise InputError(
                "report: --format csv prints one report; name it (reports: "
                f"{', '.join(r.name for r in reports) or 'none'})"
            )
        [only] = reports
        emit(
            fmt,
            [dict(zip(only.columns, row, strict=True)) for row in only.rows],
            lambda: None,
            columns=only.columns,
        )
        return
    for r in reports:
        click.echo(f"{r.title}")
        widths = [max([len(str(c)), *(len(str(row[i])) for row in r.rows)]) for i, c in enumerate(r.columns)]
        click.echo("  " + "  ".join(str(c).ljust(w) for c, w in zip(r.columns, widths, strict=True)))
        for row in r.rows:
            click.echo("  " + "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))
        click.echo("")
