"""Backups: online backup that verifies, restore only what verifies."""

from __future__ import annotations

from pathlib import Path

import click

from timebank.cli.main import cli
from timebank.cli.options import as_option, default_ledger_path, ledger_option, with_ledger
from timebank.ledger import Ledger


@cli.command("backup")
@with_ledger
@click.argument("dest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--group", help="Let this group read and write the backup (default: owner only).")
def backup_command(ledger: Ledger, dest: Path, group: str | None) -> None:
    """Copy the ledger to DEST with SQLite's online backup (others may keep writing); verify it."""
    from timebank.storage.backup import backup

    report = backup(ledger, dest, group=group)
    click.echo(f"backed up to {dest}: {report.sentence()}")


@cli.command("restore")
@ledger_option
@as_option
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--allow-fewer",
    is_flag=True,
    help="Restore even though SOURCE has fewer entries than the ledger (the later ones are lost).",
)
@click.option(
    "--override-history",
    "override",
    metavar="REASON",
    help="A co-ordinator's override: restore SOURCE although its history is not the one the "
    "ledger's anchors vouch for. The reason is recorded in the anchors.",
)
def restore_command(
    ledger_path: Path | None,
    actor: str | None,
    source: Path,
    allow_fewer: bool,
    override: str | None,
) -> None:
    """Replace the ledger with the backup SOURCE, only if SOURCE verifies and extends its history.

    The replaced ledger is moved aside (LEDGER.before-restore-TIME), never deleted.
    """
    from timebank.errors import InputError
    from timebank.storage.backup import restore

    if override is not None and not override.strip():
        raise InputError("--override-history: give the reason, in words, for the record")
    path = ledger_path or default_ledger_path()
    done = restore(source, path, allow_fewer=allow_fewer, override=override, actor=actor or "")
    kept = f"; the replaced ledger is kept at {done.aside}" if done.aside else ""
    forced = "; history override recorded in the anchors" if done.overridden else ""
    click.echo(f"restored {path} from {source}: {done.report.sentence()}{kept}{forced}")
