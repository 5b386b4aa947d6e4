"""Setting up: a new ledger from a template, the demo co-op, the summary."""

from __future__ import annotations

from pathlib import Path

import click

from timebank.cli.main import cli, make_member, summary_text
from timebank.cli.options import WholeNumber, default_ledger_path, ledger_option, with_ledger
from timebank.ledger import Ledger
from timebank.permissions import SYSTEM


@cli.command()
@ledger_option
@click.option("--template", default="time-bank", show_default=True, help="Starter rules.")
@click.option("--name", "coop_name", help="The co-op's name.")
@click.option(
    "--coordinator",
    default="coordinator",
    show_default=True,
    help="Handle of the first co-ordinator.",
)
@click.option("--coordinator-name", default="Co-ordinator", show_default=True)
@click.option("--group", help="Let this group read and write the ledger (default: owner only).")
def init(
    ledger_path: Path | None,
    template: str,
    coop_name: str | None,
    coordinator: str,
    coordinator_name: str,
    group: str | None,
) -> None:
    """Create a new ledger from a starter template, with its first co-ordinator."""
    from timebank.templates import load_template

    path = ledger_path or default_ledger_path()
    rules = load_template(template)
    if coop_name:
        rules.setdefault("coop", {})["name"] = coop_name
    from timebank.storage.outputs import new_ledger_file

    with (
        new_ledger_file(path) as temp,
        Ledger.create(temp, rules, group=group) as ledger,
    ):
        classes = ledger.member_classes()
        ledger.add_member(
            make_member(coordinator, coordinator_name, classes[0], None, role="coordinator"),
            actor=SYSTEM,
        )
    click.echo(f"created {path} from template {template!r}; co-ordinator: {coordinator}")


@cli.command()
@ledger_option
@click.option("--seed", default=7, type=WholeNumber(0), show_default=True)
@click.option("--members", default=50, type=WholeNumber(1, 10_000), show_default=True)
@click.option("--force", is_flag=True, help="Replace an existing file at the path.")
def demo(ledger_path: Path | None, seed: int, members: int, force: bool) -> None:
    """Create a realistic demo co-op: members in several classes, two years of exchanges."""
    from timebank.demo import write_demo

    path = ledger_path or default_ledger_path()
    aside = write_demo(path, force=force, seed=seed, members=members)
    with Ledger(path) as ledger:
        click.echo(summary_text(ledger))
    if aside:
        click.echo(f"the file it replaced is kept at {aside}")


@cli.command()
@with_ledger
def summary(ledger: Ledger) -> None:
    """The co-op at a glance."""
    click.echo(summary_text(ledger))


@cli.command()
@ledger_option
@click.option(
    "--backup",
    "backup_to",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to keep the verified copy taken first (default: LEDGER.before-upgrade-SCHEMA-TIME).",
)
def upgrade(ledger_path: Path | None, backup_to: Path | None) -> None:
    """Bring the ledger to this timebank's schema, after a verified backup; the only
    command that migrates an existing ledger."""
    from timebank.storage.upgrade import upgrade as upgrade_ledger

    result = upgrade_ledger(ledger_path or default_ledger_path(), backup_to=backup_to)
    click.echo(result.sentence())
