"""The click helpers every command shares, core and plugin alike: ``--ledger`` and
``--as``, ``with_ledger`` that opens the ledger a command works on, and whole-number
arguments.

They live here, apart from ``timebank.cli.main`` (the group and its error handling),
so that commands and plugins import them without importing the command line itself:
``main`` imports every command module, and a plugin's ``register_commands`` runs while
``main`` builds the group.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from timebank.errors import InputError
from timebank.ledger import Ledger
from timebank.storage.store import LedgerReadOnly, NeedsUpgrade


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


def ledger_option(f: Callable) -> Callable:
    """``--ledger PATH``, on the group or the command."""
    return click.option(
        "--ledger",
        "ledger_path",
        # readable=False: a ledger we may not read gets timebank's own sentence saying why
        type=click.Path(dir_okay=False, readable=False, path_type=Path),
        callback=_from_group,
        help="Ledger file (default: TIMEBANK_LEDGER, else ~/.local/share/timebank/ledger.sqlite).",
    )(f)


def as_option(f: Callable) -> Callable:
    """``--as HANDLE`` (else ``TIMEBANK_USER``), on the group or the command."""
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

    @ledger_option
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


__all__ = [
    "ID",
    "PROVEN",
    "WholeNumber",
    "as_option",
    "default_ledger_path",
    "ledger_option",
    "open_ledger",
    "opened_ledger",
    "plugin_of",
    "with_ledger",
]
