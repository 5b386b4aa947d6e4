"""Public figures: publish the aggregates-only file and serve it."""

from __future__ import annotations

from pathlib import Path

import click

from timebank.cli.main import cli
from timebank.cli.options import default_ledger_path, ledger_option, with_ledger
from timebank.errors import InputError
from timebank.ledger import Ledger


def default_public_path(ledger_path: Path) -> Path:
    """Where ``publish`` writes and ``serve`` reads by default: beside the ledger, ``-public``."""
    return ledger_path.with_name(f"{ledger_path.stem}-public.sqlite")


@cli.command()
@with_ledger
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The public file (default: LEDGER-public.sqlite beside the ledger).",
)
@click.option(
    "--k",
    "k",
    type=int,
    help="Suppress figures drawn from fewer than k members (default: the rules' coop.publish_k;"
    " never below 5).",
)
@click.option(
    "--metadata",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write Datasette metadata JSON, for 'datasette publish' elsewhere.",
)
def publish(ledger: Ledger, out: Path | None, k: int | None, metadata: Path | None) -> None:
    """Write the anonymised, aggregates-only file that `timebank serve` shows the public."""
    import json

    from timebank.publishing.publish import publish as write_public
    from timebank.publishing.serve import SITE, metadata_for
    from timebank.storage.outputs import check_target, output_file

    out = out or default_public_path(ledger.path)
    if metadata:  # refused before anything is written, not after the public file
        check_target(metadata, ledger=ledger.path, kind="json", field="metadata")
    with output_file(out, ledger=ledger.path, kind="public", private=False) as temp:
        # the file the public has now is read for the months it froze: an older ledger
        # backup cannot unfreeze them
        done = write_public(ledger, temp, k=k, previous_file=out)
    added = f"{len(done.new_months)} new months" if done.new_months else "no new months"
    click.echo(
        f"published {len(done.tables)} tables to {out}: figures through {done.through} (whole months,"
        f" a week after they end; earlier months repeated as first published, {added});"
        f" k={done.protection.k}; {done.audit.sentence()}"
    )
    if metadata:
        with output_file(metadata, ledger=ledger.path, kind="json", private=False, field="metadata") as temp:
            temp.write_text(json.dumps(metadata_for(out), indent=2), "utf-8")
        click.echo(
            f"Datasette metadata in {metadata}; templates in {SITE / 'templates'}, "
            f"plugins in {SITE / 'plugins'}"
        )


@cli.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@ledger_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True)
def serve(file: Path | None, ledger_path: Path | None, host: str, port: int) -> None:
    """Serve the published FILE with Datasette (immutable, no downloads, no arbitrary SQL)."""
    from timebank.publishing.serve import serve as run_site

    file = file or default_public_path(ledger_path or default_ledger_path())
    if not file.exists():
        raise InputError(f"file: {file} does not exist; run 'timebank publish' first")
    _refuse_ledger(file)
    click.echo(f"serving {file} on http://{host}:{port}/")
    run_site(file, host=host, port=port)


def _refuse_ledger(file: Path) -> None:
    """The ledger is never served: refuse any file that has a ledger's tables."""
    from timebank.storage.publications import table_names

    names = table_names(file)
    if names is None:
        raise InputError(f"file: {file} is not a published timebank file")
    if "entries" in names or "members" in names:
        raise InputError(f"file: {file} is a ledger; only the file 'timebank publish' writes may be served")
    if "about" not in names:
        raise InputError(f"file: {file} is not a published timebank file")
