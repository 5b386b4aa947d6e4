"""The ``timebank`` command line.

Every command takes ``--ledger PATH`` (else ``TIMEBANK_LEDGER``, else
``$XDG_DATA_HOME/timebank/ledger.sqlite``) and, where someone acts,
``--as HANDLE`` (else ``TIMEBANK_USER``). Success exits 0; any error prints one
sentence naming what and where, exits 1, and leaves the ledger as it was.
"""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path
from typing import Any

import click

from timebank import __version__
from timebank.cli.options import as_option, default_ledger_path, ledger_option, open_ledger
from timebank.errors import InputError, PluginFailed, RulesRefused, TimebankError
from timebank.ledger import Ledger
from timebank.models import Member
from timebank.plugin_manager import default_plugins
from timebank.units import NAME_LENGTH, check_text, format_hours, parse_day, printable

_HELP_ERRORS = tuple(filter(None, [getattr(click.exceptions, "NoArgsIsHelpError", None)]))


class UsageProblem(click.ClickException):
    """A command typed wrongly (an unknown option, a missing argument): one sentence, exit 1.

    click's own usage errors exit 2 with a usage block; the README promises every error
    is one sentence with exit status 1, so the group turns them into this.
    """

    exit_code = 1

    @classmethod
    def from_usage(cls, exc: click.UsageError) -> click.ClickException | click.exceptions.Exit:
        if isinstance(exc, _HELP_ERRORS) and exc.ctx is not None:
            click.echo(exc.ctx.get_help())  # a bare group (``timebank member``) asks for help
            return click.exceptions.Exit(0)
        message = exc.format_message().strip().rstrip(".")
        message = message[:1].lower() + message[1:]
        path = exc.ctx.command_path if exc.ctx is not None else "timebank"
        return cls(f"{path}: {message} (see '{path} --help')")

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class TimebankGroup(click.Group):
    """Turns every ``TimebankError`` into one sentence on stderr and exit status 1.

    Commands that plugins add through ``register_commands`` join on first use.
    """

    _plugin_commands_added = False

    def _add_plugin_commands(self) -> None:
        """Each plugin adds its commands to a group of its own first; they join only if it
        finished without error and took no name already taken. So no plugin can break or
        replace ``verify``, ``backup``, ``restore``, ``rules``, ``plugins``, ``upgrade`` or
        ``--help``; a plugin that fails is named in one sentence on stderr."""
        if TimebankGroup._plugin_commands_added:
            return
        TimebankGroup._plugin_commands_added = True
        try:
            plugins = default_plugins()
            callers = list(plugins.callers("register_commands", None))
        except TimebankError as exc:
            click.echo(f"warning: {exc}; no plugin commands were added", err=True)
            return
        for reason in plugins.failed.values():
            click.echo(f"warning: {reason}; it is left out", err=True)
        for plugin, call in callers:
            own = click.Group(name=self.name)
            try:
                call(cli=own)
            except PluginFailed as exc:
                detail = str(exc).removesuffix("; nothing was written")
                click.echo(f"warning: {detail}; its commands are left out", err=True)
                continue
            taken = sorted(name for name in own.commands if name in self.commands)
            if taken:
                click.echo(
                    f"warning: plugin {plugin!r} tried to add the command {taken[0]!r}, which "
                    f"already exists; its commands are left out",
                    err=True,
                )
                continue
            for name, command in own.commands.items():
                command.timebank_plugin = plugin  # type: ignore[attr-defined]  (see plugin_of)
                self.add_command(command, name)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        self._add_plugin_commands()
        return super().get_command(ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_plugin_commands()
        return super().list_commands(ctx)

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            raise UsageProblem.from_usage(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise UsageProblem.from_usage(exc) from None
        except RulesRefused as exc:
            for problem in exc.problems:
                label = "warning" if problem.severity == "warning" else "error"
                click.echo(f"{label}: {problem.describe()}", err=True)
            if exc.only_warnings:
                click.echo("nothing was written; repeat with --yes to accept the warning", err=True)
            ctx.exit(1)
        except (BrokenPipeError, KeyboardInterrupt):
            raise
        except OSError as exc:
            # The last net for what the file system refuses (a folder we may not write, a
            # full disk): one sentence naming the file, not a traceback.
            where = f" {exc.filename}" if exc.filename else ""
            click.echo(f"error: cannot use{where}: {exc.strerror or exc}", err=True)
            ctx.exit(1)
        except TimebankError as exc:
            errors = getattr(exc, "errors", None)
            click.echo(f"error: {_shortened(str(exc))}", err=True)
            for line in (errors or [])[1:]:
                click.echo(f"  {line}", err=True)
            ctx.exit(1)


MAX_MESSAGE = 600


def _shortened(message: str) -> str:
    """An error quoting a huge value (a megabyte of rules) still fits on a screen."""
    if len(message) <= MAX_MESSAGE:
        return message
    return f"{message[: MAX_MESSAGE - 80]} … ({len(message):,} characters in all)"


def make_member(handle: str, name: str, member_class: str, joined: str | None, **extra: Any) -> Member:
    check_text(name, field="name", max_length=NAME_LENGTH)
    try:
        return Member(
            handle=handle,
            name=name,
            member_class=member_class,
            joined=parse_day(joined, field="joined"),
            **extra,
        )
    except ValueError as exc:
        raise InputError(str(exc)) from None


@click.group(cls=TimebankGroup, invoke_without_command=True)
@click.version_option(__version__, prog_name="timebank")
@ledger_option
@as_option
@click.pass_context
def cli(ctx: click.Context, ledger_path: Path | None, actor: str | None) -> None:
    """timebank: a co-operative time bank and mutual-aid ledger.

    With no command, opens the terminal UI on the ledger (or, where no UI is
    installed, shows the co-op at a glance).
    """
    if ctx.invoked_subcommand is None:
        path = ledger_path or default_ledger_path()
        with open_ledger(path) as ledger:
            summary = summary_text(ledger)
        ui = next(iter(importlib.metadata.entry_points(group="timebank.ui", name="tui")), None)
        if ui is None or not sys.stdout.isatty():
            click.echo(summary)
            return
        ui.load()(path, actor=actor)


def summary_text(ledger: Ledger) -> str:
    """The co-op at a glance: members, hours exchanged, the chain head."""
    members = ledger.members()
    active = sum(1 for m in members if m.is_active)
    entries, minutes = ledger.service_totals()
    pending = len(ledger.claims())
    lines = [
        printable(f"{ledger.rules.coop['name']}  ({ledger.path})"),
        f"members: {active} active, {len(members) - active} retired",
        f"exchanges: {entries}, {format_hours(minutes)} of care",
        f"claims awaiting confirmation: {pending}",
        f"rules version {ledger.rules.version}: {', '.join(ledger.rules.enabled)}",
        f"head of the chain: {ledger.head_hash()[:16]}",
    ]
    return "\n".join(lines)


import timebank.cli.commands  # noqa: E402,F401  (registers every command on ``cli``)


def main() -> None:
    cli(prog_name="timebank")


__all__ = ["cli", "main"]
