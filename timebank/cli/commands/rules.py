"""Rules and plugins: show, set, load, enable, disable, history; what is installed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from timebank.cli.formats import emit, format_option
from timebank.cli.main import cli
from timebank.cli.options import as_option, with_ledger
from timebank.errors import InputError
from timebank.ledger import Ledger
from timebank.plugin_manager import default_plugins
from timebank.rules import parse_toml, read_rules_file, render_toml
from timebank.units import printable


@cli.group()
def rules() -> None:
    """Show and change the rules in force (stored in the ledger, versioned)."""


@rules.command("show")
@with_ledger
def rules_show(ledger: Ledger) -> None:
    """The rules in force, as TOML."""
    click.echo(render_toml(ledger.rules, ledger.plugins.declared_settings()), nl=False)


@rules.command("history")
@with_ledger
@format_option
def rules_history(ledger: Ledger, fmt: str) -> None:
    """Every version of the rules: when, by whom, why."""
    rows = ledger.rules_history()

    def text() -> None:
        for row in rows:
            click.echo(
                f"{row['version']:>4} {row['created_at']} {row['created_by']:<14} {printable(row['note'])}"
            )

    emit(fmt, rows, text, columns=("version", "created_at", "created_by", "note"))


@rules.command("load")
@with_ledger
@as_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--note", default="", help="Why the rules change.")
def rules_load(ledger: Ledger, actor: str | None, file: str, note: str) -> None:
    """Replace the rules with FILE.toml (checked first: a bad file changes nothing)."""
    data = read_rules_file(file)
    new = ledger.set_rules(data, actor=actor or "", note=note or f"loaded {Path(file).name}")
    click.echo(f"rules version {new.version} in force: {', '.join(new.enabled)}")


def _toml_value(text: str) -> Any:
    try:
        return parse_toml(f"v = {text}")["v"]
    except InputError:
        return text


@rules.command("set", context_settings={"ignore_unknown_options": True})
@with_ledger
@as_option
@click.argument("key")
@click.argument("value")
def rules_set(ledger: Ledger, actor: str | None, key: str, value: str) -> None:
    """Set one value: KEY is coop.SETTING or PLUGIN.SETTING; VALUE is TOML or text.

    Example: timebank rules set credit_limits.floor -10h
    """
    section, _, name = key.partition(".")
    if not name:
        raise InputError(f"key: {key!r} should be coop.SETTING or PLUGIN.SETTING")
    if section != "coop" and section not in ledger.rules.enabled:
        raise InputError(f"key: plugin {section!r} is not enabled; enable it with 'rules enable'")
    new = ledger.change_settings(
        section, {name: _toml_value(value)}, actor=actor or "", note=f"set {key} = {value}"
    )
    click.echo(f"rules version {new.version}: {key} = {value}")


@rules.command("enable")
@with_ledger
@as_option
@click.argument("plugin")
def rules_enable(ledger: Ledger, actor: str | None, plugin: str) -> None:
    """Enable a plugin with its default settings."""
    new = ledger.change_settings(plugin, {}, actor=actor or "", note=f"enabled {plugin}")
    click.echo(f"rules version {new.version}: enabled {plugin}")


@rules.command("disable")
@with_ledger
@as_option
@click.argument("plugins", nargs=-1, required=True)
def rules_disable(ledger: Ledger, actor: str | None, plugins: tuple[str, ...]) -> None:
    """Disable plugins; their settings go with them. Works for a plugin since uninstalled."""
    new = ledger.disable_plugins(plugins, actor=actor or "")
    click.echo(f"rules version {new.version}: disabled {', '.join(plugins)}")


@cli.command()
def plugins() -> None:
    """Plugins loaded: built-ins, entry points and the plugins folder, with their hooks."""
    for info in default_plugins().describe():
        click.echo(f"{info['name']:<16} {info['version']:<10} {', '.join(info['hooks'])}")
