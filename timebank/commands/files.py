"""CSV import and export."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from timebank.cli import (
    _as_option,
    cli,
    with_ledger,
)
from timebank.ledger import Ledger


@cli.command("import")
@with_ledger
@_as_option
@click.argument("kind", type=click.Choice(["members", "exchanges"]))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row; write nothing.")
@click.option("--accept-warnings", is_flag=True, help="Let rows with only warnings through.")
def import_(
    ledger: Ledger, actor: str | None, kind: str, file: Path, dry_run: bool, accept_warnings: bool
) -> None:
    """Import a CSV of members or exchanges: all rows or none."""
    from timebank import csvio

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
@click.argument("kind", type=click.Choice(["members", "exchanges"]))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Default: stdout.")
def export(ledger: Ledger, kind: str, out: Path | None) -> None:
    """Export members or exchanges as CSV (formula-safe for spreadsheets)."""
    from timebank import csvio

    write = csvio.export_members if kind == "members" else csvio.export_exchanges
    if out is None:
        write(ledger, sys.stdout)
        return
    from timebank.outputs import output_text

    with output_text(out, ledger=ledger.path, kind="csv") as stream:
        count = write(ledger, stream)
    click.echo(f"exported {count} {kind} to {out}")
