"""Fureai Kippu (Japan): elderly-care credits weighted by kind of care.

- Credits are the minutes given times the weight of the kind of care (``weights``, e.g.
  shopping or reading ×1, housework ×1.5, body care ×2), rounded to the nearest minute,
  halves away from zero (``timebank.money``). The co-op's account (``@coop``) issues them:
  the person cared for is not charged.
- With ``earmark_savings`` the credits go to the giver's savings account (``alice~savings``),
  kept for their own future care.
- Credits can be sent to a named relative: to a member here (``timebank give
  alice~savings bob 2h``), or to a relative in another scheme through the clearing house
  (``timebank fureai send alice~savings 2h --scheme "Sawayaka" --relative "Hana Sato"``),
  recorded against ``@clearing`` with the scheme and relative named.
"""

from __future__ import annotations

import datetime as dt

import click

from timebank import Account, Draft, Figure, Posting, Setting, hookimpl, sub_account
from timebank.money import scale
from timebank.units import check_text

PLUGIN = "fureai_kippu"
COOP = "@coop"
CLEARING = "@clearing"


@hookimpl
def declare_settings():
    return [
        Setting(
            "weights",
            "decimal_table",
            {"shopping": "1", "reading": "1", "companionship": "1", "housework": "1.5", "body care": "2"},
            "credits per minute for each kind of care",
            min="0.1",
            max="10",
            non_empty=True,
            max_length=50,
        ),
        Setting("earmark_savings", "bool", True, "credits go to the giver's savings for their own care"),
    ]


@hookimpl
def declare_categories(settings):
    return list(settings["weights"])


@hookimpl
def declare_system_accounts(settings):
    return [
        Account(COOP, "coop", "the co-op's issuing account"),
        Account(CLEARING, "clearing", "clearing house with other schemes"),
    ]


@hookimpl
def declare_member_accounts(member, settings):
    return [
        Account(sub_account(member.handle, "savings"), "savings", f"{member.name}'s savings for future care")
    ]


@hookimpl(tryfirst=True)
def make_postings(ledger, exchanges, settings):
    weights = settings["weights"]
    out = []
    for exchange in exchanges:
        credits = scale(exchange.minutes, weights.get(exchange.category, "1"))
        postings = []
        for giver in exchange.givers:
            account = sub_account(giver, "savings") if settings["earmark_savings"] else giver
            postings += [Posting(account, credits), Posting(COOP, -credits)]
        out.append(postings)
    return out


@hookimpl
def contribute_public_figures(ledger, settings, through):
    """Credits earned each month and so far: the core's hours given, weighted by kind of care.

    Declared as weighted views of the core's ``hours_given`` so the audit knows that
    credits are hours times the rules' weights (an attacker does: the weights are public).
    """
    weights = dict(settings["weights"])
    return [
        Figure(
            "credits_earned",
            "Care credits earned each month",
            "Care credits earned by giving care each month: hours of care times the weight of each kind.",
            "hours_given",
            "credits",
            weights=weights,
            weight_by="kind",
        ),
        Figure(
            "credits_earned_so_far",
            "Care credits earned so far",
            "All care credits earned up to the end of each month, for members' own future care.",
            "hours_given",
            "credits",
            weights=weights,
            weight_by="kind",
            running=True,
        ),
    ]


def send_to_other_scheme(ledger, source: str, minutes: int, *, scheme: str, relative: str, actor: str):
    """Send credits to a relative in another scheme: they leave through the clearing house."""
    check_text(scheme, field="scheme", max_length=100)
    check_text(relative, field="relative", max_length=100)
    if not scheme.strip() or not relative.strip():
        from timebank.errors import InputError

        raise InputError("relative: name the scheme and the relative the credits are for")
    ledger.require(actor, "transfer", source)
    draft = Draft(
        "transfer",
        dt.date.today(),
        actor,
        (Posting(source, -minutes), Posting(CLEARING, minutes)),
        note=f"to {relative.strip()} at {scheme.strip()}",
    )
    return ledger.write_drafts([draft])[0]


@hookimpl
def register_commands(cli):
    from timebank.cli.options import as_option, with_ledger
    from timebank.units import format_minutes, parse_duration

    @cli.group()
    def fureai():
        """Fureai Kippu: send credits to a relative in another scheme."""

    @fureai.command("send")
    @with_ledger
    @as_option
    @click.argument("source")
    @click.argument("duration")
    @click.option("--scheme", required=True, help="The other scheme's name.")
    @click.option("--relative", required=True, help="The relative the credits are for.")
    def send(ledger, actor, source, duration, scheme, relative):
        """Send credits from SOURCE (e.g. alice~savings) to a relative in another scheme."""
        entry = send_to_other_scheme(
            ledger, source, parse_duration(duration), scheme=scheme, relative=relative, actor=actor or ""
        )
        click.echo(f"entry #{entry.id}: {format_minutes(-entry.postings[0].amount)} {entry.note}")
