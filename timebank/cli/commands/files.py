"""CSV import and export."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from timebank.cli.commands.exporting import MORE_EXPORTS, export_more, import_ledger
from timebank.cli.main import cli
from timebank.cli.options import as_option, default_ledger_path, ledger_option, opened_ledger, with_ledger
from timebank.ledger import Ledger


@cli.command("import")
@ledger_option
@as_option
@click.argument("kind", type=click.Choice(["members", "exchanges", "ledger"]))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row; write nothing.")
@click.option("--accept-warnings", is_flag=True, help="Let rows with only warnings through.")
def import_(
    ledger_path: Path | None, actor: str | None, kind: str, file: Path, dry_run: bool, accept_warnings: bool
) -> None:
    """Import a CSV of members or exchanges (all rows or none), or a ledger bundle into a new file."""
    path = ledger_path or default_ledger_path()
    if kind == "ledger":
        import_ledger(path, file, actor=actor, dry_run=dry_run)
        return
    with opened_ledger(path, actor) as ledger:
        _import_csv(ledger, actor, kind, file, dry_run, accept_warnings)


def _import_csv(
    ledger: Ledger, actor: str | None, kind: str, file: Path, dry_run: bool, accept_warnings: bool
) -> None:
    from timebank.interchange import csvio

    if kind == "members":
        count = csvio.import_members(ledger, file, actor=actor or "", dry_run=dry_run)
    else:
        count = csvio.import_exchanges(
            ledger, file, actor=actor or "", dry_run=dry_run, acknowledge=accept_warnings
        )
    verb = "would import" if dry_run else "imported"
    click.echo(f"{verb} {count} {kind} from {file}")


@cli.command()
@with_ledger
@as_option
@click.argument("kind", type=click.Choice(["members", "exchanges", *MORE_EXPORTS]))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Default: stdout.")
@click.option("--format", "fmt", type=click.Choice(["hledger", "beancount"]), help="The journal's format.")
def export(ledger: Ledger, actor: str | None, kind: str, out: Path | None, fmt: str | None) -> None:
    """Export members or exchanges as CSV (formula-safe for spreadsheets); for a co-ordinator,
    every entry or posting as CSV, a journal for hledger or beancount, or the whole ledger."""
    if kind in MORE_EXPORTS:
        export_more(ledger, kind, out, fmt=fmt, actor=actor)
        return
    from timebank.interchange import csvio

    write = csvio.export_members if kind == "members" else csvio.export_exchanges
    if out is None:
        write(ledger, sys.stdout)
        return
    from timebank.storage.outputs import output_text

    with output_text(out, ledger=ledger.path, kind="csv") as stream:
        count = write(ledger, stream)
    click.echo(f"exported {count} {kind} to {out}")
