"""The ``timebank`` command line.

Every command takes ``--ledger PATH`` (else ``TIMEBANK_LEDGER``, else
``$XDG_DATA_HOME/timebank/ledger.sqlite``) and, where someone acts,
``--as HANDLE`` (else ``TIMEBANK_USER``). Success exits 0; any error prints one
sentence naming what and where, exits 1, and leaves the ledger as it was.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from timebank import __version__
from timebank.errors import InputError, RulesRefused, TimebankError
from timebank.ledger import Ledger
from timebank.models import Claim, Exchange, Member
from timebank.plugin_manager import default_plugins
from timebank.rules import parse_toml, render_toml
from timebank.units import check_text, format_hours, format_minutes, parse_day, parse_duration


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
        type=click.Path(dir_okay=False, path_type=Path),
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
    """Open the ledger named by ``--ledger`` and pass it to the command as ``ledger``."""

    @_ledger_option
    @functools.wraps(f)
    def wrapper(ledger_path: Path | None, **kwargs: Any) -> Any:
        path = ledger_path or default_ledger_path()
        with Ledger(path) as ledger:
            return f(ledger=ledger, **kwargs)

    return wrapper


class TimebankGroup(click.Group):
    """Turns every ``TimebankError`` into one sentence on stderr and exit status 1.

    Commands that plugins add through ``register_commands`` join on first use.
    """

    _plugin_commands_added = False

    def _add_plugin_commands(self) -> None:
        if not TimebankGroup._plugin_commands_added:
            TimebankGroup._plugin_commands_added = True
            default_plugins().call("register_commands", None, cli=self)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        self._add_plugin_commands()
        return super().get_command(ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_plugin_commands()
        return super().list_commands(ctx)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RulesRefused as exc:
            for problem in exc.problems:
                label = "warning" if problem.severity == "warning" else "error"
                click.echo(f"{label}: {problem.describe()}", err=True)
            if exc.only_warnings:
                click.echo("nothing was written; repeat with --yes to accept the warning", err=True)
            ctx.exit(1)
        except TimebankError as exc:
            errors = getattr(exc, "errors", None)
            click.echo(f"error: {exc}", err=True)
            for line in (errors or [])[1:]:
                click.echo(f"  {line}", err=True)
            ctx.exit(1)


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
        with Ledger(path) as ledger:
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
    entries, minutes = ledger.conn.execute(
        "SELECT count(*), coalesce(sum(minutes), 0) FROM entries WHERE kind = 'service'"
    ).fetchone()
    pending = len(ledger.claims())
    lines = [
        f"{ledger.rules.coop['name']}  ({ledger.path})",
        f"members: {active} active, {len(members) - active} retired",
        f"exchanges: {entries}, {format_hours(minutes)} of care",
        f"claims awaiting confirmation: {pending}",
        f"rules version {ledger.rules.version}: {', '.join(ledger.rules.enabled)}",
        f"head of the chain: {ledger.head_hash()[:16]}",
    ]
    return "\n".join(lines)


# set-up ---------------------------------------------------------------------


@cli.command()
@_ledger_option
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
    with Ledger.create(path, rules, group=group) as ledger:
        classes = ledger.member_classes()
        ledger.add_member(
            _member(coordinator, coordinator_name, classes[0], None, role="coordinator"),
            actor="system",
        )
        click.echo(f"created {path} from template {template!r}; co-ordinator: {coordinator}")


@cli.command()
@_ledger_option
@click.option("--seed", default=7, show_default=True)
@click.option("--members", default=50, show_default=True)
@click.option("--force", is_flag=True, help="Replace an existing file at the path.")
def demo(ledger_path: Path | None, seed: int, members: int, force: bool) -> None:
    """Create a realistic demo co-op: members in several classes, two years of exchanges."""
    from timebank.demo import build_demo

    path = ledger_path or default_ledger_path()
    if path.exists():
        if not force:
            raise InputError(f"ledger: {path} already exists; use --force to replace it")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    with build_demo(path, seed=seed, members=members) as ledger:
        click.echo(summary_text(ledger))


@cli.command()
@with_ledger
def summary(ledger: Ledger) -> None:
    """The co-op at a glance."""
    click.echo(summary_text(ledger))


# members --------------------------------------------------------------------


def _member(handle: str, name: str, member_class: str, joined: str | None, **extra: Any) -> Member:
    check_text(name, field="name", max_length=200, one_line=True)
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


@cli.group()
def member() -> None:
    """Add, list, show, change and retire members."""


@member.command("add")
@with_ledger
@_as_option
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
    new = _member(
        handle,
        name,
        member_class or ledger.member_classes()[0],
        joined,
        role="coordinator" if coordinator else "member",
        area=area,
        flags=flags,
    )
    ledger.add_member(new, actor=actor or "")
    click.echo(f"added {new.name} ({new.handle}), {new.member_class}")


@member.command("list")
@with_ledger
@click.option("--all", "show_all", is_flag=True, help="Include retired members.")
def member_list(ledger: Ledger, show_all: bool) -> None:
    """List members with their class and balance."""
    for m in ledger.members(include_retired=show_all):
        role = " co-ordinator" if m.is_coordinator else ""
        status = "" if m.is_active else " (retired)"
        click.echo(
            f"{m.handle:<16} {m.name:<24} {m.member_class:<12} "
            f"{format_minutes(ledger.balance(m.handle)):>8}{role}{status}"
        )


@member.command("show")
@with_ledger
@click.argument("handle")
def member_show(ledger: Ledger, handle: str) -> None:
    """Show one member's details and balance."""
    m = ledger.member(handle)
    click.echo(f"{m.name} ({m.handle})")
    click.echo(f"class: {m.member_class}; role: {m.role}; status: {m.status}")
    click.echo(f"joined: {m.joined}" + (f"; left: {m.left}" if m.left else ""))
    if m.area:
        click.echo(f"area: {m.area}")
    if m.flags:
        click.echo(f"flags: {', '.join(sorted(m.flags))}")
    click.echo(f"balance: {format_minutes(ledger.balance(m.handle))}")


@member.command("change")
@with_ledger
@_as_option
@click.argument("handle")
@click.option("--name")
@click.option("--class", "member_class")
@click.option("--area")
@click.option("--role", type=click.Choice(["member", "coordinator"]))
def member_change(ledger: Ledger, actor: str | None, handle: str, **changes: Any) -> None:
    """Change a member's name, class, area or role."""
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        raise InputError("member change: say what to change (--name, --class, --area, --role)")
    updated = ledger.update_member(handle, actor=actor or "", **changes)
    click.echo(f"changed {updated.name} ({updated.handle})")


@member.command("retire")
@with_ledger
@_as_option
@click.argument("handle")
@click.option("--date", "day", help="Day they left (default today).")
def member_retire(ledger: Ledger, actor: str | None, handle: str, day: str | None) -> None:
    """Retire a member: history and balance are kept; no new exchanges."""
    m = ledger.retire_member(handle, actor=actor or "", day=parse_day(day))
    click.echo(f"retired {m.name} ({m.handle}); balance kept: {format_minutes(ledger.balance(m.handle))}")


# recording ------------------------------------------------------------------


def _handles(text: str, field: str) -> tuple[str, ...]:
    handles = tuple(h for h in text.replace(";", ",").split(",") if h.strip())
    if not handles:
        raise InputError(f"{field}: name at least one member")
    return tuple(h.strip() for h in handles)


@cli.command()
@with_ledger
@_as_option
@click.argument("givers")
@click.argument("receivers")
@click.argument("duration")
@click.option("-k", "--kind", "category", required=True, help="Kind of care.")
@click.option("-d", "--date", "day", help="today, yesterday, -N or YYYY-MM-DD (default today).")
@click.option("-n", "--note", default="")
@click.option("--ref", "refs", multiple=True, help="A reference KEY=VALUE (han=riverside, episode=3).")
@click.option("--yes", is_flag=True, help="Accept warnings (soft limits).")
def log(
    ledger: Ledger,
    actor: str | None,
    givers: str,
    receivers: str,
    duration: str,
    category: str,
    day: str | None,
    note: str,
    refs: tuple[str, ...],
    yes: bool,
) -> None:
    """Log hours: GIVERS gave DURATION of care to RECEIVERS (comma-separated for groups).

    Example: timebank log alice bob 1h30 --kind shopping
    """
    actor_member = ledger.actor(actor)
    exchange = Exchange(
        givers=_handles(givers, "giver"),
        receivers=_handles(receivers, "receiver"),
        minutes=parse_duration(duration),
        day=parse_day(day),
        category=category,
        recorded_by=actor_member.handle,
        note=check_text(note, field="note"),
        refs=parse_refs(refs),
    )
    result = ledger.record(exchange, acknowledge=yes)
    if isinstance(result, Claim):
        click.echo(f"claim #{result.id} saved; waiting for {', '.join(result.awaiting)} to confirm")
    else:
        click.echo(f"entry #{result.id} saved: " + _postings_text(result.postings))


def parse_refs(pairs: tuple[str, ...]) -> dict[str, str]:
    """``--ref key=value`` options as a dict; keys and values may not hold ';' or '='."""
    refs = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip() or ";" in pair or "=" in value:
            raise InputError(f"ref: {pair!r} should be KEY=VALUE, e.g. han=riverside")
        refs[key.strip()] = value.strip()
    return refs


def _postings_text(postings: Any) -> str:
    return ", ".join(f"{p.account} {'+' if p.amount > 0 else ''}{format_minutes(p.amount)}" for p in postings)


@cli.command()
@with_ledger
@_as_option
@click.option("--all", "show_all", is_flag=True, help="Show confirmed and declined claims too.")
def claims(ledger: Ledger, actor: str | None, show_all: bool) -> None:
    """Claims awaiting confirmation (overdue ones are accepted first, if the rules say so)."""
    for entry in ledger.accept_overdue_claims():
        click.echo(f"auto-accepted into entry #{entry.id}")
    statuses = ("pending", "confirmed", "declined") if show_all else ("pending",)
    for status in statuses:
        for c in ledger.claims(status=status, awaiting=None if show_all else actor):
            e = c.exchange
            click.echo(
                f"#{c.id} {status:<9} {e.day} {','.join(e.givers)} -> "
                f"{','.join(e.receivers)} {format_minutes(e.minutes)} {e.category}"
                f" (waiting for {', '.join(c.awaiting)})"
            )


@cli.command()
@with_ledger
@_as_option
@click.argument("claim_id", type=int)
@click.option("--yes", is_flag=True, help="Accept warnings (soft limits).")
def confirm(ledger: Ledger, actor: str | None, claim_id: int, yes: bool) -> None:
    """Confirm a claim: the exchange enters the ledger."""
    entry = ledger.confirm(claim_id, actor=actor or "", acknowledge=yes)
    click.echo(f"claim #{claim_id} confirmed as entry #{entry.id}")


@cli.command()
@with_ledger
@_as_option
@click.argument("claim_id", type=int)
@click.option("--reason", default="")
def decline(ledger: Ledger, actor: str | None, claim_id: int, reason: str) -> None:
    """Decline a claim: it never enters the ledger."""
    ledger.decline(claim_id, actor=actor or "", reason=reason)
    click.echo(f"claim #{claim_id} declined")


@cli.command()
@with_ledger
@_as_option
@click.argument("source")
@click.argument("target")
@click.argument("duration")
@click.option("-n", "--note", default="")
@click.option("--yes", is_flag=True, help="Accept warnings (soft limits).")
def give(
    ledger: Ledger, actor: str | None, source: str, target: str, duration: str, note: str, yes: bool
) -> None:
    """Give credits from SOURCE to TARGET (a gift, a donation to @chest)."""
    entry = ledger.transfer(
        source, target, parse_duration(duration), actor=actor or "", note=note, acknowledge=yes
    )
    click.echo(f"entry #{entry.id} saved: " + _postings_text(entry.postings))


@cli.command()
@with_ledger
@_as_option
@click.argument("entry_id", type=int)
@click.option("--reason", required=True, help="Why the entry is reversed.")
def reverse(ledger: Ledger, actor: str | None, entry_id: int, reason: str) -> None:
    """Reverse an entry with a new, opposite entry; the original stays."""
    entry = ledger.reverse(entry_id, reason=reason, actor=actor or "")
    click.echo(f"entry #{entry.id} reverses #{entry_id}: " + _postings_text(entry.postings))


# reading --------------------------------------------------------------------


@cli.command()
@with_ledger
@click.argument("account", required=False)
def balance(ledger: Ledger, account: str | None) -> None:
    """One account's balance, or every account's."""
    if account:
        click.echo(f"{account}: {format_minutes(ledger.balance(account))}")
        return
    for acc, value in ledger.balances():
        click.echo(f"{acc.code:<20} {acc.name:<28} {format_minutes(value):>9}")


@cli.command()
@with_ledger
@click.argument("account")
@click.option("--page", default=1, show_default=True, help="1 is the newest page.")
@click.option("--size", default=50, show_default=True)
def statement(ledger: Ledger, account: str, page: int, size: int) -> None:
    """An account's entries, newest first, with the running balance."""
    before = None
    lines = []
    for _ in range(max(page, 1)):
        lines = ledger.statement(account, limit=size, before=before)
        if not lines:
            break
        before = lines[-1].entry_id
    click.echo(f"{'entry':>7} {'date':<10} {'kind':<9} {'amount':>8} {'balance':>9}  details")
    for line in lines:
        who = ",".join(line.counterparties)
        click.echo(
            f"{line.entry_id:>7} {line.day} {line.kind:<9} {format_minutes(line.amount):>8} "
            f"{format_minutes(line.balance):>9}  {line.category} {who} {line.note}".rstrip()
        )


@cli.command()
@with_ledger
def verify(ledger: Ledger) -> None:
    """Recompute the hash chain, every entry's sum and every balance."""
    report = ledger.verify()
    if not report.ok:
        raise TimebankError(report.sentence())
    click.echo(report.sentence())


@cli.command("close-period")
@with_ledger
@_as_option
@click.option("--through", required=True, help="Last day of the period (YYYY-MM-DD).")
def close_period(ledger: Ledger, actor: str | None, through: str) -> None:
    """Close a period: demurrage, contributions, expiry, as the enabled plugins say."""
    entries = ledger.close_period(parse_day(through, field="through"), actor=actor or "")
    click.echo(f"period closed through {through}: {len(entries)} entries")
    for entry in entries:
        click.echo(f"  #{entry.id} {entry.note}: " + _postings_text(entry.postings))


@cli.command()
@with_ledger
@click.argument("name", required=False)
def report(ledger: Ledger, name: str | None) -> None:
    """Reports a co-ordinator checks (activity by class, inactive members, fund health)."""
    reports = ledger.reports()
    if name:
        reports = [r for r in reports if r.name == name]
        if not reports:
            raise InputError(
                f"report: no report {name!r} (reports: "
                f"{', '.join(r.name for r in ledger.reports()) or 'none'})"
            )
    for r in reports:
        click.echo(f"{r.title}")
        widths = [max([len(str(c)), *(len(str(row[i])) for row in r.rows)]) for i, c in enumerate(r.columns)]
        click.echo("  " + "  ".join(str(c).ljust(w) for c, w in zip(r.columns, widths, strict=True)))
        for row in r.rows:
            click.echo("  " + "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))
        click.echo("")


@cli.command("backup")
@with_ledger
@click.argument("dest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--group", help="Let this group read and write the backup (default: owner only).")
def backup_command(ledger: Ledger, dest: Path, group: str | None) -> None:
    """Copy the ledger to DEST with SQLite's online backup (others may keep writing); verify it."""
    from timebank.backup import backup

    report = backup(ledger, dest, group=group)
    click.echo(f"backed up to {dest}: {report.sentence()}")


@cli.command("restore")
@_ledger_option
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
def restore_command(ledger_path: Path | None, source: Path) -> None:
    """Replace the ledger with the backup SOURCE, only if SOURCE verifies."""
    from timebank.backup import restore

    path = ledger_path or default_ledger_path()
    report = restore(source, path)
    click.echo(f"restored {path} from {source}: {report.sentence()}")


# rules and plugins ----------------------------------------------------------


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
def rules_history(ledger: Ledger) -> None:
    """Every version of the rules: when, by whom, why."""
    for row in ledger.rules_history():
        click.echo(f"{row['version']:>4} {row['created_at']} {row['created_by']:<14} {row['note']}")


@rules.command("load")
@with_ledger
@_as_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--note", default="", help="Why the rules change.")
def rules_load(ledger: Ledger, actor: str | None, file: str, note: str) -> None:
    """Replace the rules with FILE.toml (checked first: a bad file changes nothing)."""
    data = parse_toml(Path(file).read_text("utf-8"), file)
    new = ledger.set_rules(data, actor=actor or "", note=note or f"loaded {Path(file).name}")
    click.echo(f"rules version {new.version} in force: {', '.join(new.enabled)}")


def _toml_value(text: str) -> Any:
    try:
        return parse_toml(f"v = {text}")["v"]
    except InputError:
        return text


@rules.command("set", context_settings={"ignore_unknown_options": True})
@with_ledger
@_as_option
@click.argument("key")
@click.argument("value")
def rules_set(ledger: Ledger, actor: str | None, key: str, value: str) -> None:
    """Set one value: KEY is coop.SETTING or PLUGIN.SETTING; VALUE is TOML or text.

    Example: timebank rules set credit_limits.floor -10h
    """
    section, _, name = key.partition(".")
    if not name:
        raise InputError(f"key: {key!r} should be coop.SETTING or PLUGIN.SETTING")
    data = ledger.rules.to_data()
    target = data["coop"] if section == "coop" else data["plugins"].get(section)
    if target is None:
        raise InputError(f"key: plugin {section!r} is not enabled; enable it with 'rules enable'")
    target[name] = _toml_value(value)
    new = ledger.set_rules(data, actor=actor or "", note=f"set {key} = {value}")
    click.echo(f"rules version {new.version}: {key} = {value}")


@rules.command("enable")
@with_ledger
@_as_option
@click.argument("plugin")
def rules_enable(ledger: Ledger, actor: str | None, plugin: str) -> None:
    """Enable a plugin with its default settings."""
    data = ledger.rules.to_data()
    data["plugins"].setdefault(plugin, {})
    new = ledger.set_rules(data, actor=actor or "", note=f"enabled {plugin}")
    click.echo(f"rules version {new.version}: enabled {plugin}")


@rules.command("disable")
@with_ledger
@_as_option
@click.argument("plugin")
def rules_disable(ledger: Ledger, actor: str | None, plugin: str) -> None:
    """Disable a plugin; its settings go with it."""
    data = ledger.rules.to_data()
    if data["plugins"].pop(plugin, None) is None:
        raise InputError(f"plugin: {plugin!r} is not enabled")
    new = ledger.set_rules(data, actor=actor or "", note=f"disabled {plugin}")
    click.echo(f"rules version {new.version}: disabled {plugin}")


@cli.command()
def plugins() -> None:
    """Plugins loaded: built-ins, entry points and the plugins folder, with their hooks."""
    for info in default_plugins().describe():
        click.echo(f"{info['name']:<16} {info['version']:<10} {', '.join(info['hooks'])}")


# files ----------------------------------------------------------------------


@cli.command("import")
@with_ledger
@_as_option
@click.argument("kind", type=click.Choice(["members", "exchanges"]))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row; write nothing.")
@click.option("--accept-warnings", is_flag=True, help="Let rows with only warnings through.")
def import_(
    ledger: Ledger, actor: str | None, kind: str, file: Path, dry_run: bool, accept_warnings: bool
) -> None:
    """Import a CSV of members or exchanges: all rows or none."""
    from timebank import csvio

    if kind == "members":
        count = csvio.import_members(ledger, file, actor=actor or "", dry_run=dry_run)
    else:
        count = csvio.import_exchanges(
            ledger, file, actor=actor or "", dry_run=dry_run, acknowledge=accept_warnings
        )
    verb = "would import" if dry_run else "imported"
    click.echo(f"{verb} {count} {kind} from {file}")


@cli.command()
@with_ledger
@click.argument("kind", type=click.Choice(["members", "exchanges"]))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Default: stdout.")
def export(ledger: Ledger, kind: str, out: Path | None) -> None:
    """Export members or exchanges as CSV (formula-safe for spreadsheets)."""
    from timebank import csvio

    write = csvio.export_members if kind == "members" else csvio.export_exchanges
    if out is None:
        write(ledger, sys.stdout)
        return
    with open(out, "w", newline="", encoding="utf-8") as stream:
        count = write(ledger, stream)
    click.echo(f"exported {count} {kind} to {out}")


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
    default=5,
    show_default=True,
    type=click.IntRange(min=2),
    help="Suppress figures drawn from fewer than k members.",
)
@click.option(
    "--metadata",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write Datasette metadata JSON, for 'datasette publish' elsewhere.",
)
def publish(ledger: Ledger, out: Path | None, k: int, metadata: Path | None) -> None:
    """Write the anonymised, aggregates-only file that `timebank serve` shows the public."""
    import json

    from timebank.publish import publish as write_public
    from timebank.serve import SITE, metadata_for

    out = out or default_public_path(ledger.path)
    if out.resolve() == ledger.path.resolve():
        raise InputError("out: the public file cannot be the ledger itself")
    done = write_public(ledger, out, k=k)
    click.echo(
        f"published {len(done.tables)} tables to {out} (k={k}; {done.primary} rows suppressed as "
        f"small, {done.complementary} more to protect them)"
    )
    if metadata:
        metadata.write_text(json.dumps(metadata_for(out), indent=2), "utf-8")
        click.echo(
            f"Datasette metadata in {metadata}; templates in {SITE / 'templates'}, "
            f"plugins in {SITE / 'plugins'}"
        )


@cli.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@_ledger_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True)
def serve(file: Path | None, ledger_path: Path | None, host: str, port: int) -> None:
    """Serve the published FILE with Datasette (immutable, no downloads, no arbitrary SQL)."""
    from timebank.serve import serve as run_site

    file = file or default_public_path(ledger_path or default_ledger_path())
    if not file.exists():
        raise InputError(f"file: {file} does not exist; run 'timebank publish' first")
    _refuse_ledger(file)
    click.echo(f"serving {file} on http://{host}:{port}/")
    run_site(file, host=host, port=port)


def _refuse_ledger(file: Path) -> None:
    """The ledger is never served: refuse any file that has a ledger's tables."""
    import sqlite3

    conn = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError:
        raise InputError(f"file: {file} is not a published timebank file") from None
    finally:
        conn.close()
    if "entries" in names or "members" in names:
        raise InputError(f"file: {file} is a ledger; only the file 'timebank publish' writes may be served")
    if "about" not in names:
        raise InputError(f"file: {file} is not a published timebank file")


def main() -> None:
    cli(prog_name="timebank")


__all__ = ["cli", "main"]
