"""Social prescribing (England): link workers refer people to activities and members.

- A link worker (member class ``link worker``) or a co-ordinator refers a person to an
  activity or to a member (``timebank referral add dora --to ben --activity "walking group"``).
  The referral is recorded with SNOMED CT 871731000000106 (referral to social prescribing
  service).
- The person accepts or declines it (declined: SNOMED CT 871711000000103); an accepted
  referral opens an episode, completed once it has had at least ``min_contacts`` contacts.
- Hours given and received link to the episode (``--ref episode=3``): the episode must be
  accepted and open, the person referred must take part, and an episode has at most
  ``max_contacts`` contacts.
"""

from __future__ import annotations

import click

from timebank import Fact, Figure, Measure, Problem, Report, Setting, hookimpl
from timebank.errors import InputError, NotAllowed, NotFound
from timebank.rules import low_not_above_high
from timebank.units import check_text

PLUGIN = "social_prescribing"
SNOMED_REFERRAL = "871731000000106"
SNOMED_DECLINED = "871711000000103"
STATUSES = ("referred", "accepted", "declined", "completed")


@hookimpl
def declare_settings():
    return [
        Setting("min_contacts", "int", 6, "contacts before an episode may be completed", min=0, max=100),
        Setting("max_contacts", "int", 12, "most contacts in one episode", min=1, max=100),
    ]


@hookimpl
def declare_member_classes(settings):
    return ["link worker", "participant", "volunteer", "provider"]


@hookimpl
def declare_tables(settings):
    return [
        "CREATE TABLE IF NOT EXISTS sp_referrals (id INTEGER PRIMARY KEY, person TEXT NOT NULL,"
        " referred_by TEXT NOT NULL, to_member TEXT, activity TEXT NOT NULL DEFAULT '',"
        " status TEXT NOT NULL, snomed TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS sp_referral_events (id INTEGER PRIMARY KEY,"
        " referral_id INTEGER NOT NULL REFERENCES sp_referrals(id), status TEXT NOT NULL,"
        " snomed TEXT NOT NULL, by_member TEXT NOT NULL, at TEXT NOT NULL)",
    ]


def referral(ledger, referral_id: int) -> dict:
    rows = ledger.plugin_tables(PLUGIN).query("SELECT * FROM sp_referrals WHERE id = ?", (referral_id,))
    if not rows:
        raise NotFound(f"referral: no referral #{referral_id}")
    return rows[0]


def contacts(ledger, referral_id: int) -> int:
    return ledger.read.count_services_with_ref("episode", str(referral_id))


def _set_status(ledger, referral_id: int, status: str, snomed: str, actor: str) -> None:
    with ledger.transaction():
        tables = ledger.plugin_tables(PLUGIN)
        now = ledger.read.now()
        tables.execute(
            "UPDATE sp_referrals SET status = ?, snomed = ?, updated_at = ? WHERE id = ?",
            (status, snomed, now, referral_id),
        )
        tables.execute(
            "INSERT INTO sp_referral_events (referral_id, status, snomed, by_member, at)"
            " VALUES (?, ?, ?, ?, ?)",
            (referral_id, status, snomed, actor, now),
        )


def refusal(member, action: str, ref: dict | None = None) -> Problem | None:
    """Why ``member`` may not ``refer`` someone, or ``accepted``/``declined``/``completed`` a
    referral, as a Problem on the field ``actor`` (None: they may).

    Not ``ledger.require``: the core lets only co-ordinators do an action it does not know,
    and here link workers refer people and the person referred answers."""
    if action == "refer":
        may = member.member_class == "link worker" or member.is_coordinator
        why = f"only a link worker refers people; {member.name} is a {member.member_class}"
    else:
        may = member.member_class == "link worker" or member.is_coordinator
        if action != "completed":
            may = may or member.handle == ref["person"]
        why = f"referral #{ref['id']} is {ref['person']}'s to answer, not {member.handle}'s"
    return None if may else Problem("error", PLUGIN, "actor", why)


def _refuse(problem: Problem | None) -> None:
    """Raise a rule's Problem at the command's edge: who acts is NotAllowed, the rest InputError."""
    if problem is None:
        return
    if problem.field == "actor":
        raise NotAllowed(problem.message)
    raise InputError(f"{problem.field}: {problem.message}")


def refer(ledger, person: str, *, actor: str, to_member: str | None = None, activity: str = "") -> int:
    """A link worker refers ``person`` to a member or an activity; returns the referral id."""
    referrer = ledger.actor(actor)
    check_text(activity, field="activity", max_length=200)
    _refuse(refusal(referrer, "refer"))
    ledger.member(person)
    if to_member:
        ledger.member(to_member)
    if not to_member and not activity.strip():
        _refuse(
            Problem("error", PLUGIN, "to", "refer the person to a member (--to) or an activity (--activity)")
        )
    with ledger.transaction():
        tables = ledger.plugin_tables(PLUGIN)
        now = ledger.read.now()
        referral_id = tables.execute(
            "INSERT INTO sp_referrals (person, referred_by, to_member, activity, status, snomed, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, 'referred', ?, ?, ?)",
            (person, actor, to_member, activity.strip(), SNOMED_REFERRAL, now, now),
        ).lastrowid
        tables.execute(
            "INSERT INTO sp_referral_events (referral_id, status, snomed, by_member, at)"
            " VALUES (?, 'referred', ?, ?, ?)",
            (referral_id, SNOMED_REFERRAL, actor, now),
        )
    return referral_id


def answer_problem(ledger, ref: dict, status: str) -> Problem | None:
    """Why a referral cannot become ``status`` now (its state, its contacts), or None."""
    expected = {"accepted": "referred", "declined": "referred", "completed": "accepted"}[status]
    if ref["status"] != expected:
        return Problem(
            "error",
            PLUGIN,
            "referral",
            f"#{ref['id']} is {ref['status']}; only a {expected} referral can be {status}",
        )
    if status == "completed":
        minimum = ledger.rules.settings(PLUGIN)["min_contacts"]
        had = contacts(ledger, ref["id"])
        if had < minimum:
            return Problem(
                "error",
                PLUGIN,
                "referral",
                f"episode #{ref['id']} has had {had} contacts; at least {minimum} before completing",
            )
    return None


def answer(ledger, referral_id: int, status: str, *, actor: str) -> None:
    """The person (or a link worker) accepts or declines; a link worker completes."""
    # Asked inside the write transaction: an accept and a decline at once decide it once.
    with ledger.transaction():
        ref = referral(ledger, referral_id)
        member = ledger.actor(actor)
        _refuse(refusal(member, status, ref))
        _refuse(answer_problem(ledger, ref, status))
        snomed = SNOMED_DECLINED if status == "declined" else ref["snomed"]
        _set_status(ledger, referral_id, status, snomed, actor)


@hookimpl
def validate_exchanges(ledger, exchanges, settings):
    problems = []
    seen: dict[int, int] = {}
    for index, exchange in enumerate(exchanges):
        episode = exchange.refs.get("episode")
        if episode is None:
            continue

        def refuse(message, index=index):
            problems.append(Problem("error", PLUGIN, "episode", message, index))

        if not episode.isdigit():
            refuse(f"{episode!r} is not an episode number")
            continue
        rows = ledger.plugin_tables(PLUGIN).query("SELECT * FROM sp_referrals WHERE id = ?", (int(episode),))
        if not rows:
            refuse(f"there is no episode #{episode}")
            continue
        ref = rows[0]
        if ref["status"] != "accepted":
            refuse(f"episode #{episode} is {ref['status']}, not open")
            continue
        if ref["person"] not in (*exchange.givers, *exchange.receivers):
            refuse(f"{ref['person']}, who was referred, must take part in episode #{episode}'s contacts")
            continue
        count = seen.get(int(episode), contacts(ledger, int(episode))) + 1
        seen[int(episode)] = count
        if count > settings["max_contacts"]:
            refuse(f"episode #{episode} has had its {settings['max_contacts']} contacts")
    return problems


@hookimpl
def make_reports(ledger, settings):
    rows = (
        ledger.plugin_tables(PLUGIN)
        .execute("SELECT status, snomed, count(*) FROM sp_referrals GROUP BY status, snomed ORDER BY status")
        .fetchall()
    )
    return [Report("referrals", "Social prescribing referrals", ("status", "SNOMED CT", "referrals"), rows)]


@hookimpl
def contribute_public_figures(ledger, settings, through):
    """Referrals made each month by what became of them, counted by the people referred."""
    facts = [
        Fact(ref["created_at"][:7], (ref["status"],), (ref["person"],))
        for ref in ledger.plugin_tables(PLUGIN).query(
            "SELECT person, status, created_at FROM sp_referrals WHERE substr(created_at, 1, 10) <= ?",
            (through.isoformat(),),
        )
    ]
    return [
        Measure("referrals", "count", ("status",), facts),
        Figure(
            "referrals_by_month",
            "Social prescribing referrals",
            "Referrals made each month, by what became of them as it stood when the month was first"
            " published (referral: SNOMED CT 871731000000106; declined: 871711000000103); 'all' is"
            " every referral that month; statuses of fewer than k people are 'other'.",
            "referrals",
            "referrals",
            by="status",
        ),
    ]


@hookimpl
def add_tui_screens(settings):
    from timebank.plugins.social_prescribing_screen import ReferralsScreen

    return [("referrals", "Referrals", ReferralsScreen)]


@hookimpl
def register_commands(cli):
    from timebank.cli.options import as_option, with_ledger

    @cli.group("referral")
    def referral_group():
        """Social prescribing: refer, accept, decline, complete, list."""

    @referral_group.command("add")
    @with_ledger
    @as_option
    @click.argument("person")
    @click.option("--to", "to_member", help="A member the person is referred to.")
    @click.option("--activity", default="", help="An activity the person is referred to.")
    def add(ledger, actor, person, to_member, activity):
        """Refer PERSON to a member or an activity (SNOMED CT 871731000000106)."""
        referral_id = refer(ledger, person, actor=actor or "", to_member=to_member, activity=activity)
        click.echo(f"referral #{referral_id} recorded for {person}")

    for status, verb in (("accepted", "accept"), ("declined", "decline"), ("completed", "complete")):

        def make(status=status, verb=verb):
            @referral_group.command(verb)
            @with_ledger
            @as_option
            @click.argument("referral_id", type=click.IntRange(1, 2**63 - 1))
            def command(ledger, actor, referral_id):
                answer(ledger, referral_id, status, actor=actor or "")
                click.echo(f"referral #{referral_id} {status}")

            command.__doc__ = f"Mark a referral {status}."

        make()

    @referral_group.command("list")
    @with_ledger
    def list_referrals(ledger):
        """Referrals with their status and contacts."""
        for ref in ledger.plugin_tables(PLUGIN).query("SELECT * FROM sp_referrals ORDER BY id"):
            to = ref["to_member"] or ref["activity"]
            click.echo(
                f"#{ref['id']} {ref['person']} -> {to}: {ref['status']} (SNOMED CT {ref['snomed']}),"
                f" {contacts(ledger, ref['id'])} contacts"
            )


@hookimpl
def validate_settings(settings):
    return low_not_above_high(settings, PLUGIN, "min_contacts", "max_contacts")
