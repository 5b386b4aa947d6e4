"""Han groups (Japan): small neighbourhood groups with a leader who records for the group.

- A co-ordinator forms a group (``timebank han form riverside --leader aiko --member ben
  --member chie``); it needs at least ``min_members`` (e.g. 3) and at most ``max_members``,
  and gets its own account ``@han:NAME``.
- A collective entry is an exchange with the reference ``han=NAME`` (``timebank log
  aiko,ben,chie dora 2h -k shopping --ref han=riverside``): the givers must be members of
  the group, only its leader (or a co-ordinator) records it, it needs no confirmation, and
  the credits go to the group's account.
"""

from __future__ import annotations

import click

from timebank import Account, Decision, Posting, Problem, Setting, hookimpl
from timebank.errors import InputError
from timebank.rules import low_not_above_high
from timebank.units import check_text, split_evenly

PLUGIN = "han_group"


def group_account(name: str) -> str:
    return f"@han:{name}"


@hookimpl
def declare_settings():
    return [
        Setting("min_members", "int", 3, "fewest members a Han group may have", min=1, max=100),
        Setting("max_members", "int", 12, "most members a Han group may have", min=1, max=100),
    ]


@hookimpl
def declare_tables(settings):
    return [
        "CREATE TABLE IF NOT EXISTS han_groups (name TEXT PRIMARY KEY, leader TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS han_members (grp TEXT NOT NULL REFERENCES han_groups(name),"
        " handle TEXT NOT NULL, PRIMARY KEY (grp, handle))",
    ]


def groups(ledger) -> dict[str, tuple[str, set[str]]]:
    """Each group's leader and members."""
    found: dict[str, tuple[str, set[str]]] = {}
    tables = ledger.plugin_tables(PLUGIN)
    for name, leader in tables.execute("SELECT name, leader FROM han_groups"):
        found[name] = (leader, set())
    for grp, handle in tables.execute("SELECT grp, handle FROM han_members"):
        found[grp][1].add(handle)
    return found


def form_group(ledger, name: str, leader: str, members: list[str], *, actor: str) -> None:
    """Form a Han group and open its account, after checking its size and its people."""
    ledger.require(actor, "manage_members", name)
    check_text(name, field="name", max_length=100)
    if not name.strip():
        raise InputError("name: a Han group needs a name")
    settings = ledger.rules.settings(PLUGIN)
    people = list(dict.fromkeys([leader, *members]))
    for handle in people:
        ledger.member(handle)
    if len(people) < settings["min_members"]:
        raise InputError(
            f"members: a Han group needs at least {settings['min_members']} members; "
            f"{name} would have {len(people)}"
        )
    if len(people) > settings["max_members"]:
        raise InputError(
            f"members: a Han group has at most {settings['max_members']} members; "
            f"{name} would have {len(people)}"
        )
    with ledger.transaction():
        if name in groups(ledger):  # asked inside the transaction: two forms at once make one group
            raise InputError(f"name: there is already a Han group called {name!r}")
        tables = ledger.plugin_tables(PLUGIN)
        tables.execute("INSERT INTO han_groups (name, leader) VALUES (?, ?)", (name, leader))
        tables.executemany("INSERT INTO han_members (grp, handle) VALUES (?, ?)", [(name, h) for h in people])
        ledger.open_account(Account(group_account(name), "group", f"Han group {name}"))


@hookimpl
def validate_exchanges(ledger, exchanges, settings):
    known = None
    problems = []
    for index, exchange in enumerate(exchanges):
        name = exchange.refs.get("han")
        if name is None:
            continue
        known = known if known is not None else groups(ledger)
        if name not in known:
            problems.append(Problem("error", PLUGIN, "han", f"there is no Han group called {name!r}", index))
            continue
        outsiders = [g for g in exchange.givers if g not in known[name][1]]
        if outsiders:
            problems.append(
                Problem(
                    "error",
                    PLUGIN,
                    "giver",
                    f"{', '.join(outsiders)} {'is' if len(outsiders) == 1 else 'are'} "
                    f"not in the Han group {name}",
                    index,
                )
            )
    return problems


@hookimpl(tryfirst=True)
def decide_recording(ledger, exchange, actor, settings):
    name = exchange.refs.get("han")
    if name is None:
        return None
    leader = groups(ledger).get(name, (None, set()))[0]
    if actor.is_coordinator or actor.handle == leader:
        return Decision()
    return Problem(
        "error",
        PLUGIN,
        "recorded_by",
        f"only the leader of {name} ({leader}) records the group's collective entries",
    )


@hookimpl(tryfirst=True)
def make_postings(ledger, exchanges, settings):
    if not any("han" in e.refs for e in exchanges):
        return None
    out = []
    for exchange in exchanges:
        if "han" not in exchange.refs:
            out.append(None)  # not a group's work: the next plugin's rules post it
            continue
        total = exchange.minutes * len(exchange.givers)
        shares = split_evenly(total, len(exchange.receivers))
        out.append(
            [Posting(group_account(exchange.refs["han"]), total)]
            + [Posting(r, -s) for r, s in zip(exchange.receivers, shares, strict=True)]
        )
    return out


@hookimpl
def register_commands(cli):
    from timebank.cli.options import as_option, with_ledger

    @cli.group()
    def han():
        """Han groups: form one, list them."""

    @han.command("form")
    @with_ledger
    @as_option
    @click.argument("name")
    @click.option("--leader", required=True)
    @click.option("--member", "members", multiple=True)
    def form(ledger, actor, name, leader, members):
        """Form a Han group with a leader and members; opens @han:NAME."""
        form_group(ledger, name, leader, list(members), actor=actor or "")
        click.echo(f"formed Han group {name} led by {leader}; account {group_account(name)}")

    @han.command("list")
    @with_ledger
    def list_groups(ledger):
        """Han groups, their leaders and members."""
        for name, (leader, members) in sorted(groups(ledger).items()):
            click.echo(f"{name}: leader {leader}; members {', '.join(sorted(members))}")


@hookimpl
def validate_settings(settings):
    return low_not_above_high(settings, PLUGIN, "min_members", "max_members")
