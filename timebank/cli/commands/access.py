"""``timebank access`` (members' SSH keys) and ``timebank shell`` (what a member's key runs).

``shell`` is the forced command in each key's ``authorized_keys`` line: sshd has proven
the member, and ``--member`` (written by ``access add-key``, not by the member) names
them. With no command it opens the TUI as that member; with one (``ssh coop@host
balance``, from ``SSH_ORIGINAL_COMMAND``) it splits it with ``shlex`` (never a shell),
runs it only if it is on the allow-list and names no file or other actor, on the ledger
opened for that member alone.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import click

from timebank.access import added_on, default_authorized_keys, default_program
from timebank.cli import options
from timebank.cli.main import cli
from timebank.cli.options import as_option, open_ledger, with_ledger
from timebank.errors import InputError, NotAllowed

# What a member's key may run: reading their own, recording, deciding claims, listings.
# None of these takes a file path; ``offer``/``request`` only with the listed subcommands.
MEMBER_COMMANDS: dict[str, frozenset[str] | None] = {
    "balance": None,
    "statement": None,
    "claims": None,
    "show": None,
    "log": None,
    "confirm": None,
    "decline": None,
    "withdraw": None,
    "pin": None,
    "match": None,
    "offer": frozenset({"list", "add"}),
    "request": frozenset({"list", "add"}),
}
# Options that pick the ledger, the actor, a file, or (for listings) someone else.
REFUSED_OPTIONS = ("--as", "--ledger", "--out", "--output", "--file", "--for", "--smtp-config")
# Environment that would pick another ledger or actor: never read under a proven member.
REFUSED_ENVIRONMENT = ("TIMEBANK_USER", "TIMEBANK_LEDGER")


def authorized_keys_option(f):  # type: ignore[no-untyped-def]
    return click.option(
        "--authorized-keys",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="The service account's authorized_keys (default: TIMEBANK_AUTHORIZED_KEYS, "
        "else ~/.ssh/authorized_keys).",
    )(f)


@cli.group()
def access() -> None:
    """Members' SSH keys: each key may only run 'timebank shell' as its member."""


@access.command("add-key")
@with_ledger
@as_option
@authorized_keys_option
@click.option(
    "--program",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Absolute path of the timebank program the key runs (default: this one).",
)
@click.argument("handle")
@click.argument("keyfile", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def add_key(ledger, actor, authorized_keys, program, handle, keyfile) -> None:  # type: ignore[no-untyped-def]
    """Let HANDLE in over SSH with the public key in KEYFILE (a co-ordinator's action)."""
    key = ledger.add_key(
        handle,
        keyfile.read_text(errors="replace"),
        actor=actor or "",
        authorized_keys=authorized_keys or default_authorized_keys(),
        program=program,
        where=str(keyfile),
    )
    click.echo(f"key #{key.id} {key.fingerprint} added for {handle}")


@access.command("list")
@with_ledger
@as_option
@click.option("--all", "show_all", is_flag=True, help="Include revoked keys.")
def list_keys(ledger, actor, show_all) -> None:  # type: ignore[no-untyped-def]
    """Keys in use: number, member, fingerprint, added when and by whom."""
    ledger.require(actor or "", "manage_members")
    for key in ledger.member_keys(include_revoked=show_all):
        revoked = f"  revoked {key.revoked_at} by {key.revoked_by}" if key.revoked_at else ""
        click.echo(
            f"#{key.id} {key.member:<16} {key.fingerprint}  added {added_on(key)} by {key.added_by}{revoked}"
        )


@access.command("revoke")
@with_ledger
@as_option
@authorized_keys_option
@click.option("--program", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.argument("key")
def revoke(ledger, actor, authorized_keys, program, key) -> None:  # type: ignore[no-untyped-def]
    """Revoke a key (its number or fingerprint): its line leaves authorized_keys at once."""
    done = ledger.revoke_key(
        key,
        actor=actor or "",
        authorized_keys=authorized_keys or default_authorized_keys(),
        program=program,
    )
    click.echo(f"key #{done.id} of {done.member} revoked")


@cli.command()
@with_ledger
@as_option
@click.option("--issue", "issue_for", default=None, help="Issue HANDLE a one-time code (co-ordinators).")
def pin(ledger, actor, issue_for) -> None:  # type: ignore[no-untyped-def]
    """Set your own kiosk PIN (asked twice, never shown), or issue a member a one-time code."""
    if issue_for:
        code = ledger.issue_code(issue_for, actor=actor or "")
        click.echo(f"one-time code for {issue_for}: {code} (they choose their own PIN with it at the kiosk)")
        return
    me = ledger.actor(actor or "")
    new = click.prompt("new PIN (4 to 12 digits)", hide_input=True, confirmation_prompt=True, err=True)
    ledger.set_pin(me.handle, new, actor=me.handle)
    click.echo(f"PIN set for {me.handle}")


@cli.command()
@click.option(
    "--ledger",
    "ledger_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Ledger file (default: TIMEBANK_LEDGER, else ~/.local/share/timebank/ledger.sqlite).",
)
@click.option(
    "--idle", type=click.IntRange(1, 240), default=5, show_default=True, help="Minutes idle before it locks."
)
def kiosk(ledger_path: Path | None, idle: int) -> None:
    """The TUI for a shared terminal: it opens locked; a member unlocks it with handle and PIN."""
    from timebank.cli.options import default_ledger_path

    run_kiosk = _ui("kiosk")
    if run_kiosk is None:
        raise InputError("kiosk: the terminal UI is not installed")
    if not sys.stdout.isatty():
        raise InputError("kiosk: it needs a terminal")
    run_kiosk(ledger_path or default_ledger_path(), idle_minutes=idle)


def member_command(text: str) -> list[str]:
    """The member's command as words, checked against the allow-list; refused in one sentence."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise NotAllowed(f"shell: the command cannot be read ({exc})") from None
    if not words:
        return []
    allowed = ", ".join(sorted(MEMBER_COMMANDS))
    if words[0] not in MEMBER_COMMANDS:
        raise NotAllowed(f"shell: {words[0][:40]!r} is not a command a member may run here ({allowed})")
    subcommands = MEMBER_COMMANDS[words[0]]
    if subcommands is not None and (len(words) < 2 or words[1] not in subcommands):
        raise NotAllowed(f"shell: '{words[0]}' takes only {', '.join(sorted(subcommands))} here")
    for word in words[1:]:
        name = word.split("=", 1)[0]
        if name in REFUSED_OPTIONS or (
            name.startswith("--") and any(o.startswith(name) for o in REFUSED_OPTIONS)
        ):
            raise NotAllowed(f"shell: {name} is refused: a key acts only as its own member, on this ledger")
    return words


@cli.command()
@click.option("--member", "member", required=True, help="The member the key proves (from authorized_keys).")
@click.option(
    "--ledger",
    "ledger_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The ledger (from authorized_keys).",
)
def shell(member: str, ledger_path: Path) -> None:
    """What a member's SSH key runs: the TUI as them, or one allowed command."""
    for name in REFUSED_ENVIRONMENT:
        if os.environ.get(name):
            raise NotAllowed(f"shell: {name} is set; a key acts only as its own member, on its ledger")
    words = member_command(os.environ.get("SSH_ORIGINAL_COMMAND", ""))
    with open_ledger(ledger_path) as ledger:
        ledger.prove(member)  # refuses a retired or unknown member
    if not words:
        ui = _ui("member")
        if ui is None or not sys.stdout.isatty():
            raise InputError("shell: the terminal UI needs a terminal (ssh -t), or give a command")
        ui(ledger_path, member=member)
        return
    options.PROVEN = (ledger_path, member)
    try:
        cli.main(args=words, prog_name="timebank", standalone_mode=True)
    finally:
        options.PROVEN = None


def _ui(name: str):  # type: ignore[no-untyped-def]
    """The TUI's ``member`` or ``kiosk`` entry point (the core never imports the TUI)."""
    import importlib.metadata

    found = next(iter(importlib.metadata.entry_points(group="timebank.ui", name=name)), None)
    return found.load() if found is not None else None


__all__ = ["MEMBER_COMMANDS", "access", "default_program", "member_command", "shell"]
