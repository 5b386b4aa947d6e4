"""The ``timebank`` command line.

Every command takes ``--ledger PATH`` (else ``TIMEBANK_LEDGER``, else
``$XDG_DATA_HOME/timebank/ledger.sqlite``) and, where someone acts,
``--as HANDLE`` (else ``TIMEBANK_USER``). Success exits 0; any error prints one
sentence naming what and where, exits 1, and leaves the ledger as it was.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from timebank import __version__
from timebank.errors import InputError, PluginFailed, RulesRefused, TimebankError
from timebank.ledger import Ledger
from timebank.models import Member
from timebank.plugin_manager import default_plugins
from timebank.storage import figures
from timebank.storage.store import LedgerReadOnly, NeedsUpgrade
from timebank.units import NAME_LENGTH, check_text, format_hours, format_minutes, parse_day, printable


def default_ledger_path() -> Path:
    """``TIMEBANK_LEDGER``, else the per-user data folder (XDG), as documented in the README."""
    if os.environ.get("TIMEBANK_LEDGER"):
        return Path(os.environ["TIMEBANK_LEDGER"])
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "timebank" / "ledger.sqlite"


def _from_group(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Let ``timebank --ledger X --as Y COMMAND`` mean the same as ``COMMAND --ledger X --as Y``."""
    root = ctx.find_root()
    if value is None and root is not ctx and isinstance(root.obj, dict):
        return root.obj.get(param.name)
    if ctx.parent is None:
        ctx.ensure_object(dict)[param.name] = value
    return value


def _ledger_option(f: Callable) -> Callable:
    return click.option(
        "--ledger",
        "ledger_path",
        # readable=False: a ledger we may not read gets timebank's own sentence saying why
        type=click.Path(dir_okay=False, readable=False, path_type=Path),
        callback=_from_group,
        help="Ledger file (default: TIMEBANK_LEDGER, else ~/.local/share/timebank/ledger.sqlite).",
    )(f)


def _as_option(f: Callable) -> Callable:
    return click.option(
        "--as",
        "actor",
        envvar="TIMEBANK_USER",
        callback=_from_group,
        help="Handle of the member acting (TIMEBANK_USER).",
    )(f)


def with_ledger(f: Callable) -> Callable:
    """Open the ledger named by ``--ledger`` and pass it to the command as ``ledger``.

    A command that takes ``--as`` (or ``TIMEBANK_USER``) and is given one is refused
    unless it names an existing, active member: text is always a handle, never the
    ledger's own internal actor.

    Follow-ups that failed after a commit (an after-hook, the anchor) are printed as
    warnings once the command has said what it saved; the change stands, the exit is 0.
    """

    @_ledger_option
    @functools.wraps(f)
    def wrapper(ledger_path: Path | None, **kwargs: Any) -> Any:
        with opened_ledger(ledger_path, kwargs.get("actor")) as ledger:
            return f(ledger=ledger, **kwargs)

    return wrapper


PROVEN: tuple[Path, str] | None = None
"""Set by ``timebank shell`` while it runs a member's command: (ledger, member).

Every ledger a command opens is then that ledger, proven to be that member
(``Ledger.prove``): no option or environment variable picks another file or actor.
"""


@contextmanager
def opened_ledger(ledger_path: Path | None, actor: str | None = None) -> Iterator[Ledger]:
    """The ledger a command works on, its actor checked; warnings printed when it is done."""
    if PROVEN is not None:
        ledger_path = PROVEN[0]
    with open_ledger(ledger_path or default_ledger_path()) as ledger:
        if PROVEN is not None:
            ledger.prove(PROVEN[1])
        plugin = plugin_of(click.get_current_context(silent=True))
        if plugin is not None and plugin not in ledger.rules.enabled:
            raise InputError(
                f"command: it comes from the plugin {plugin!r}, which this ledger's rules do not "
                f"enable; a co-ordinator can enable it with 'timebank rules enable {plugin}'"
            )
        if actor:
            ledger.actor(actor)
        try:
            yield ledger
        finally:
            for warning in ledger.warnings:
                click.echo(f"warning: {warning}", err=True)


def plugin_of(ctx: click.Context | None) -> str | None:
    """The plugin whose command is running (its tables and settings exist only where the
    ledger's rules enable it), or None for the core's own commands."""
    while ctx is not None:
        plugin = getattr(ctx.command, "timebank_plugin", None)
        if plugin is not None:
            return plugin
        ctx = ctx.parent
    return None


@contextlib.contextmanager
def open_ledger(path: Path) -> Iterator[Ledger]:
    """Open the ledger; an SQLite error that comes from an old schema or a read-only file
    (a column this timebank reads that an older ledger lacks) becomes one sentence."""
    with Ledger(path) as ledger:
        try:
            yield ledger
        except sqlite3.OperationalError as exc:
            if ledger.store.outdated:
                raise NeedsUpgrade(f"{ledger.store.needs_upgrade_message()} ({exc})") from None
            if "readonly" in str(exc):
                raise LedgerReadOnly(f"the ledger {path} is read-only ({exc})") from None
            raise


SQLITE_MAX_INT = 2**63 - 1


class WholeNumber(click.ParamType):
    """A whole number from the command line within a range: an id or a page number.

    SQLite keeps integers in 64 bits; ``reverse 9223372036854775808`` must be one sentence,
    not an ``OverflowError``. Out of range is an ``InputError`` (exit 1, like every error).
    """

    name = "number"

    def __init__(self, low: int = 1, high: int = SQLITE_MAX_INT) -> None:
        self.low, self.high = low, high

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        label = (param.human_readable_name if param else "value").lower().replace("_", " ")
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            text = str(value).strip()
            if not text.lstrip("-").isdigit() or len(text) > 40:
                raise InputError(f"{label}: {str(value)[:40]!r} is not a whole number")
            number = int(text)
        if not self.low <= number <= self.high:
            raise InputError(f"{label}: {number} is out of range (from {self.low} to {self.high})")
        return number


ID = WholeNumber()


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


def postings_text(postings: Any) -> str:
    """Postings as people read them; an entry that moves no credits (paid care) says so."""
    if not postings:
        return "no credits move (recorded for reporting)"
    return ", ".join(f"{p.account} {'+' if p.amount > 0 else ''}{format_minutes(p.amount)}" for p in postings)


@click.group(cls=TimebankGroup, invoke_without_command=True)
@click.version_option(__version__, prog_name="timebank")
@_ledger_option
@_as_option
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
    entries, minutes = figures.service_totals(ledger.conn)
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
