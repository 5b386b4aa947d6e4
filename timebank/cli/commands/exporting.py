"""The whole-ledger exports (entries, postings, journal, ledger bundle) and ``import ledger``.

Wired into ``export`` and ``import`` in ``timebank.cli.commands.files``; kept here so those
commands stay small. They are for co-ordinators: each names the whole co-op's history.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

import click

from timebank.errors import InputError
from timebank.ledger import Ledger
from timebank.storage.outputs import output_text

MORE_EXPORTS = ("entries", "postings", "journal", "ledger")


def write_output(out: Path | None, write: Callable[[IO[str]], int], *, ledger_path: Path) -> int:
    """Run ``write`` on stdout, or on the file ``out``, private to its owner (members' data),
    written whole or not at all, and never over the ledger, its files or anyone's history."""
    if out is None:
        return write(sys.stdout)
    with output_text(out, ledger=ledger_path, kind="csv") as stream:
        return write(stream)


def export_more(ledger: Ledger, kind: str, out: Path | None, *, fmt: str | None, actor: str | None) -> None:
    """``export entries|postings|journal|ledger``, for a co-ordinator."""
    ledger.require(actor or "", "export", kind)
    if kind == "journal":
        from timebank.interchange.journal import write_journal

        if fmt is None:
            raise InputError("format: say --format hledger or --format beancount for a journal")
        count = write_output(out, lambda s: write_journal(ledger, s, fmt), ledger_path=ledger.path)
        noun = "entries"
    elif kind == "ledger":
        from timebank.interchange.bundle import write_bundle

        count = write_output(out, lambda s: write_bundle(ledger, s), ledger_path=ledger.path)
        noun = "entries"
    else:
        from timebank.interchange import exports

        write = exports.export_entries if kind == "entries" else exports.export_postings
        count = write_output(out, lambda s: write(ledger, s), ledger_path=ledger.path)
        noun = kind
    if out is not None:
        click.echo(f"exported {count} {noun} to {out}")


def import_ledger(path: Path, file: Path, *, actor: str | None, dry_run: bool) -> None:
    """``import ledger BUNDLE``: restore a bundle verbatim into a new ledger file."""
    from timebank.interchange.bundle import restore_bundle

    report = restore_bundle(file, path, actor=actor or "", dry_run=dry_run)
    verb = "would restore" if dry_run else "restored"
    click.echo(f"{verb} {report} into {path}")


__all__ = ["MORE_EXPORTS", "export_more", "import_ledger", "write_output"]
