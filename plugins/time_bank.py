"""The classic time bank (TimeBanks UK style), on top of ``classic``'s hour-for-an-hour.

- A joining bonus (``joining_bonus``, e.g. 2 h) is paid from the co-op's account once a
  member's ``oriented`` flag is first set: orientation done, first credits in hand.
- A community chest (``@chest``) that members donate to (``timebank give alice @chest 1h``)
  pays the receivers' side for members flagged ``supported``, while it has credits.
- Group sessions: ``classic`` already lets one giver serve many; for the categories in
  ``coop_pays_categories`` (a community event) the co-op pays each attendee's time instead
  of the person receiving it.
- Leaving returns the balance to zero: a leaver's credits are donated to the chest, a
  leaver's debt is written off by the co-op (``@coop``). The chest never goes below zero:
  it refuses to pay, give or have a donation reversed beyond what it holds.
"""

from __future__ import annotations

import datetime as dt

from timebank import Account, Draft, Posting, Problem, Setting, hookimpl
from timebank.units import format_minutes, split_evenly

PLUGIN = "time_bank"
CHEST = "@chest"
COOP = "@coop"


@hookimpl
def declare_settings():
    return [
        Setting(
            "joining_bonus",
            "minutes",
            120,
            "credits paid once orientation is done (0: none)",
            min=0,
            max=100 * 60,
        ),
        Setting("chest_pays_for_supported", "bool", True, "the chest pays for members flagged 'supported'"),
        Setting(
            "coop_pays_categories",
            "str_list",
            ["community event"],
            "the co-op pays attendees' time",
            max_length=50,
        ),
        Setting("leaver_balance_to_chest", "bool", True, "a leaver's balance goes to zero via the chest"),
    ]


@hookimpl
def declare_flags(settings):
    return ["oriented", "supported"]


@hookimpl
def declare_system_accounts(settings):
    return [Account(CHEST, "chest", "community chest")]


@hookimpl
def declare_categories(settings):
    return settings["coop_pays_categories"]


@hookimpl
def add_postings(ledger, exchanges, postings, settings):
    members = ledger.read.members_by_handle()
    coop_paid = set(settings["coop_pays_categories"])
    out = []
    for exchange, base in zip(exchanges, postings, strict=True):
        extra = []
        if not base:  # the rules move no credits for it (paid care): nobody's side to pay
            out.append(extra)
            continue
        shares = split_evenly(exchange.minutes * len(exchange.givers), len(exchange.receivers))
        for receiver, share in zip(exchange.receivers, shares, strict=True):
            if exchange.category in coop_paid:
                payer = COOP
            elif settings["chest_pays_for_supported"] and "supported" in members[receiver].flags:
                payer = CHEST
            else:
                continue
            extra += [Posting(receiver, share), Posting(payer, -share)]
        out.append(extra)
    return out


@hookimpl
def validate_drafts(ledger, drafts, settings):
    problems = []
    for index, draft in enumerate(drafts):
        after = draft.balances_after.get(CHEST)
        paid = -sum(p.amount for p in draft.postings if p.account == CHEST)
        if after is not None and after < 0 and paid > 0:
            # Whatever the kind (a payment, a gift from it, a reversal of a donation it has
            # already spent), the chest never pays more than it holds.
            what = f"reversing entry #{draft.reverses} would take" if draft.reverses else "it cannot pay"
            problems.append(
                Problem(
                    "error",
                    PLUGIN,
                    "entry" if draft.reverses else "receiver",
                    f"the community chest has only {format_minutes(after + paid)}; "
                    f"{what} {format_minutes(paid)}",
                    index,
                )
            )
    return problems


@hookimpl
def entries_for_member_change(ledger, member, previous, settings):
    drafts = []
    bonus = settings["joining_bonus"]
    was_oriented = previous is not None and "oriented" in previous.flags
    if bonus and "oriented" in member.flags and not was_oriented:
        drafts.append(
            Draft(
                "adjustment",
                dt.date.today(),
                "system",
                (Posting(COOP, -bonus), Posting(member.handle, bonus)),
                note="joining bonus after orientation",
            )
        )
    leaving = previous is not None and previous.is_active and not member.is_active
    if leaving and settings["leaver_balance_to_chest"]:
        balance = ledger.read.balance(member.handle)
        if balance:
            # Credits go to the chest, for members who need them; a debt is the co-op's to
            # absorb (@coop issues credits and may go below zero), never the chest's, which
            # holds only what members gave it.
            absorber = CHEST if balance > 0 else COOP
            note = (
                "leaver's credits donated to the chest"
                if balance > 0
                else "leaver's debt written off by the co-op"
            )
            drafts.append(
                Draft(
                    "adjustment",
                    member.left or dt.date.today(),
                    "system",
                    (Posting(member.handle, -balance), Posting(absorber, balance)),
                    note=note,
                )
            )
    return drafts
