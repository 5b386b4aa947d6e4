"""Member commands: add, list, show, change, retire."""

from __future__ import annotations

from typing import Any

import click

from timebank.cli.formats import emit, format_option
from timebank.cli.main import cli, make_member
from timebank.cli.options import as_option, with_ledger
from timebank.errors import InputError
from timebank.ledger import Ledger
from timebank.units import format_minutes, parse_day, postings_text, printable


@cli.group()
def member() -> None:
    """Add, list, show, change and retire members."""


@member.command("add")
@with_ledger
@as_option
@click.argument("handle")
@click.argument("name")
@click.option("--class", "member_class", help="Member class (default: the co-op's first).")
@click.option("--joined", help="Date joined (default today).")
@click.option("--coordinator", is_flag=True, help="Make them a co-ordinator.")
@click.option("--area", help="Coarse area, if the co-op records one.")
@click.option("--flag", "flags", multiple=True, help="A flag such as 'supported'.")
def member_add(
    ledger: Ledger,
    actor: str | None,
    handle: str,
    name: str,
    member_class: str | None,
    joined: str | None,
    coordinator: bool,
    area: str | None,
    flags: tuple[str],
) -> None:
    """Add a member; their account opens at zero."""
    new = make_member(
        handle,
        name,
        member_class or ledger.member_classes()[0],
        joined,
        role="coordinator" if coordinator else "member",
        area=area,
        flags=flags,
    )
    last = ledger.last_entry_id()
    ledger.add_member(new, actor=actor or "")
    click.echo(f"added {new.name} ({new.handle}), {new.member_class}")
    _echo_entries_since(ledger, last)


def _echo_entries_since(ledger: Ledger, last: int) -> None:
    """Say what a member change wrote with it (a joining bonus, a leaver's balance settled)."""
    written = ledger.entries(ids=list(range(last + 1, ledger.last_entry_id() + 1)))
    for entry in sorted(written, key=lambda e: e.id):
        click.echo(f"entry #{entry.id} {entry.note}: " + postings_text(entry.postings))


@member.command("list")
@with_ledger
@as_option
@click.option("--all", "show_all", is_flag=True, help="Include retired members.")
@format_option
def member_list(ledger: Ledger, actor: str | None, show_all: bool, fmt: str) -> None:
    """List members with their class and balance (a member: only those the rules let them see)."""
    sight = ledger.visible_to(actor)
    members = [m for m in ledger.members(include_retired=show_all) if sight.balance(m.handle)]
    rows = [
        {
            "handle": m.handle,
            "name": m.name,
            "class": m.member_class,
            "role": m.role,
            "status": m.status,
            "joined": m.joined.isoformat(),
            "left": m.left.isoformat() if m.left else None,
            "area": m.area,
            "flags": sorted(m.flags),
            "minutes": ledger.balance(m.handle),
        }
        for m in members
    ]

    def text() -> None:
        for m, row in zip(members, rows, strict=True):
            role = " co-ordinator" if m.is_coordinator else ""
            status = "" if m.is_active else " (retired)"
            click.echo(
                f"{m.handle:<16} {printable(m.name):<24} {printable(m.member_class):<12} "
                f"{format_minutes(row['minutes']):>8}{role}{status}"
            )

    emit(fmt, rows, text, columns=MEMBER_COLUMNS)


MEMBER_COLUMNS = ("handle", "name", "class", "role", "status", "joined", "left", "area", "flags", "minutes")


@member.command("show")
@with_ledger
@click.argument("handle")
def member_show(ledger: Ledger, handle: str) -> None:
    """Show one member's details and balance."""
    m = ledger.member(handle)
    click.echo(f"{printable(m.name)} ({m.handle})")
    click.echo(f"class: {printable(m.member_class)}; role: {m.role}; status: {m.status}")
    click.echo(f"joined: {m.joined}" + (f"; left: {m.left}" if m.left else ""))
    if m.area:
        click.echo(f"area: {printable(m.area)}")
    if m.flags:
        click.echo(f"flags: {printable(', '.join(sorted(m.flags)))}")
    click.echo(f"balance: {format_minutes(ledger.balance(m.handle))}")


@member.command("change")
@with_ledger
@as_option
@click.argument("handle")
@click.option("--name")
@click.option("--class", "member_class")
@click.option("--area")
@click.option("--role", type=click.Choice(["member", "coordinator"]))
@click.option("--flag", "add_flags", multiple=True, help="Set a flag (such as 'oriented').")
@click.option("--no-flag", "drop_flags", multiple=True, help="Clear a flag.")
def member_change(
    ledger: Ledger,
    actor: str | None,
    handle: str,
    add_flags: tuple[str, ...],
    drop_flags: tuple[str, ...],
    **changes: Any,
) -> None:
    """Change a member's name, class, area, role or flags."""
    changes = {k: v for k, v in changes.items() if v is not None}
    if add_flags or drop_flags:
        both = sorted(set(add_flags) & set(drop_flags))
        if both:
            raise InputError(f"flag: {both[0]!r} is both set and cleared")
        changes["flags"] = (ledger.member(handle).flags | set(add_flags)) - set(drop_flags)
    if not changes:
        raise InputError(
            "member change: say what to change (--name, --class, --area, --role, --flag, --no-flag)"
        )
    last = ledger.last_entry_id()
    updated = ledger.update_member(handle, actor=actor or "", **changes)
    click.echo(f"changed {updated.name} ({updated.handle})")
    _echo_entries_since(ledger, last)


@member.command("retire")
@with_ledger
@as_option
@click.argument("handle")
@click.option("--date", "day", help="Day they left (default today).")
def member_retire(ledger: Ledger, actor: str | None, handle: str, day: str | None) -> None:
    """Retire a member: history and balance are kept; no new exchanges."""
    last = ledger.last_entry_id()
    m = ledger.retire_member(handle, actor=actor or "", day=parse_day(day))
    click.echo(f"retired {m.name} ({m.handle}); balance now: {format_minutes(ledger.balance(m.handle))}")
    _echo_entries_since(ledger, last)
