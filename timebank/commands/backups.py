"""Backups: online backup that verifies, restore only what verifies."""

from __future__ import annotations

from pathlib import Path

import click

from timebank.cli import (
    _ledger_option,
    cli,
    default_ledger_path,
    with_ledger,
)
from timebank.ledger import Ledger


@cli.command("backup")
@with_ledger
@click.argument("dest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--group", help="Let this group read and write the backup (default: owner only).")
def backup_command(ledger: Ledger, dest: Path, group: str | None) -> None:
    """Copy the ledger to DEST with SQLite's online backup (others may keep writing); verify it."""
    from timebank.backup import backup

    report = backup(ledger, dest, group=group)
    click.echo(f"backed up to {dest}: {report.sentence()}")


@cli.command("restore")
@_ledger_option
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
def restore_command(ledger_path: Path | None, source: Path) -> None:
    """Replace the ledger with the backup SOURCE, only if SOURCE verifies."""
    from timebank.backup import restore

    path = ledger_path or default_ledger_path()
    report = restore(source, path)
    click.echo(f"restored {path} from {source}: {report.sentence()}")
