"""A realistic demo co-op from a fixed seed: members in several classes, two years of care.

Used by ``make run`` and ``timebank demo`` so a newcomer opens a ledger that
looks like a real co-op's, and by tests that need one. Exchanges are generated
with each member's balance in mind so credit limits are respected, the way a
co-ordinator would steer who asks whom.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from pathlib import Path
from typing import Any

from timebank.errors import InputError, TimebankError
from timebank.ledger import Ledger
from timebank.models import Exchange, Member
from timebank.permissions import SYSTEM
from timebank.storage.outputs import install_ledger, ledger_replacement, new_ledger_file, temporary_beside
from timebank.templates import load_template
from timebank.units import split_evenly

FIRST = [
    "Amara",
    "Ben",
    "Chloe",
    "Dev",
    "Elif",
    "Femi",
    "Grace",
    "Hamza",
    "Iris",
    "Jonah",
    "Kasia",
    "Liam",
    "Maya",
    "Nadia",
    "Owen",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tomasz",
    "Uma",
    "Victor",
    "Wen",
    "Xavier",
    "Yara",
    "Zoe",
    "Aled",
    "Bronwen",
    "Ceri",
    "Dafydd",
]
LAST = [
    "Okafor",
    "Hughes",
    "Patel",
    "Nowak",
    "Jones",
    "Evans",
    "Khan",
    "Murphy",
    "Lewis",
    "Silva",
    "Price",
    "Ahmed",
    "Davies",
    "Brown",
    "Rees",
    "Ali",
    "Morgan",
    "Wright",
]
NOTES = [
    "weekly shop",
    "lift to the surgery",
    "cup of tea and a chat",
    "hedge trimming",
    "helped with a form",
    "walk in the park",
    "fixed a shelf",
    "read the post together",
    "",
    "",
    "",
]
COORDINATOR = "coordinator"


def write_demo(path: str | Path, *, force: bool = False, **options: Any) -> Path | None:
    """Build the demo co-op under a temporary name, then give it ``path``.

    An existing file at ``path`` is kept unless ``force``; even then it is moved aside (with
    its side files and anchors) to ``PATH.replaced-TIME``, never deleted, and not at all
    while another process has it open. Returns where the old file went.
    """
    exists = os.path.lexists(path)
    if exists and not force:
        raise InputError(f"ledger: {path} already exists; use --force to replace it (it is kept aside)")
    if not exists:
        with new_ledger_file(path) as temp:
            build_demo(temp, **options).close()
        return None
    real = Path(os.path.realpath(path))
    with temporary_beside(real, companions=(".anchors",), precreate=False, field="ledger") as temp:
        build_demo(temp, **options).close()
        with ledger_replacement(real, what="demo --force") as live:
            return install_ledger(temp, live, label="replaced")


def build_demo(
    path: str | Path,
    *,
    seed: int = 7,
    members: int = 50,
    days: int = 730,
    today: dt.date | None = None,
    board: bool = True,
) -> Ledger:
    """Create the demo ledger at ``path`` (which must not exist yet).

    ``board=False`` leaves out the offers and requests and the exchanges that answered them,
    so the ledger's entries and balances are those the TUI's screenshots were taken from.
    """
    rng = random.Random(seed)
    today = today or dt.date.today()
    start = today - dt.timedelta(days=days)
    rules = load_template("time-bank")
    rules["coop"]["name"] = "Riverside Care Co-op"
    rules["coop"]["description"] = (
        "Neighbours in Riverside giving and receiving hours of care: lifts, shopping, "
        "company and help at home."
    )
    rules["plugins"]["safeguarding"] = {"checked_categories": [CHECKED], "required_checks": ["DBS"]}
    ledger = Ledger.create(path, rules)
    classes = ledger.member_classes()
    ledger.add_member(
        Member(COORDINATOR, "Co-ordinator", classes[0], start, role="coordinator"), actor=SYSTEM
    )
    handles: list[tuple[str, dt.date]] = []
    used = set()
    for i in range(members):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        while name in used:
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        used.add(name)
        handle = name.split()[0].lower() + name.split()[1][0].lower()
        handle = handle if all(handle != h for h, _ in handles) else f"{handle}{i}"
        joined = start + dt.timedelta(days=rng.randrange(0, days // 2))
        member_class = rng.choices(classes, weights=[6, 2, 2, 1][: len(classes)])[0]
        ledger.add_member(
            Member(handle, name, member_class, joined, area=rng.choice(["north", "south", "east"])),
            actor=COORDINATOR,
        )
        handles.append((handle, joined))
    lowest = lowest_balances(ledger)
    categories = ledger.categories()
    balance = {h: 0 for h, _ in handles}
    exchanges = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        active = [h for h, joined in handles if joined <= day]
        if len(active) < 2:
            continue
        for _ in range(rng.randrange(0, 6)):
            minutes = rng.choice([30, 45, 60, 60, 90, 120, 180])
            giver = rng.choice(active)
            can_pay = [
                h for h in active if h != giver and (h not in lowest or balance[h] - minutes > lowest[h])
            ]
            if not can_pay:
                continue
            if rng.random() < 0.08 and len(can_pay) > 3:
                receivers = rng.sample(can_pay, 3)
                minutes = 60
            else:
                receivers = [min(rng.sample(can_pay, min(3, len(can_pay))), key=balance.get)]
            exchanges.append(
                Exchange(
                    (giver,),
                    tuple(receivers),
                    minutes,
                    day,
                    rng.choice(categories),
                    COORDINATOR,
                    rng.choice(NOTES),
                )
            )
            balance[giver] += minutes
            for receiver, share in zip(receivers, split_evenly(minutes, len(receivers)), strict=True):
                balance[receiver] -= share
    ledger.plugins.call(  # a plugin's own records, such as the checks checked care needs
        "add_demo_records",
        ledger.rules,
        ledger=ledger,
        members=[ledger.member(handle) for handle, _ in handles],
        exchanges=exchanges,
        today=today,
        seed=seed + 1,
        actor=COORDINATOR,
    )
    ledger.record_many(exchanges, acknowledge=True)
    retiree = handles[-1][0]
    ledger.retire_member(retiree, actor=COORDINATOR, day=today - dt.timedelta(days=30))
    richest = sorted((h for h, _ in handles if h != retiree), key=balance.get, reverse=True)
    for giver, receiver in zip(richest[-3:], richest[:3], strict=True):
        if giver == receiver:  # a co-op of fewer than six members
            continue
        ledger.record(
            Exchange(
                (giver,),
                (receiver,),
                60,
                today - dt.timedelta(days=1),
                categories[0],
                giver,
                "awaiting confirmation",
            ),
            acknowledge=True,
        )
    if board:
        build_demo_board(ledger, [h for h, _ in handles if h != retiree], today, random.Random(seed + 2))
    return ledger


def lowest_balances(ledger: Ledger) -> dict[str, int]:
    """How low each member's balance may go before the rules warn or refuse, as the enabled
    plugins set it (``Ledger.member_limits``); a member no plugin bounds is absent. Asked
    before any exchange: a floor that grows with what a member earns (mutual credit) is
    then at its tightest, so the demo stays inside it."""
    return {
        handle: limits.floor if limits.warn_below is None else max(limits.floor, limits.warn_below)
        for handle, limits in ledger.member_limits().items()
    }


CHECKED = "personal care"
BOARD = {
    "companionship": ["Cup of tea and a chat", "Company on a walk", "Someone to play cards with"],
    "shopping": ["Weekly shop from the big Tesco", "Picking up prescriptions", "Help carrying shopping"],
    "transport": ["Lift to the surgery", "Lift to the hospital, Tuesdays", "Drive to the garden centre"],
    "gardening": ["Hedge trimming", "Mowing the lawn", "Weeding the front beds", "Planting bulbs"],
    "household": ["Putting up shelves", "Changing light bulbs", "Fixing a dripping tap"],
    "personal care": ["Help with bathing", "Help getting dressed in the morning"],
    "admin help": ["Filling in a benefits form", "Setting up a tablet", "Reading the post together"],
    "other": ["Walking the dog", "Sewing repairs"],
}
WHEN = ["flexible", "weekday mornings", "Tuesdays 10-12", "weekends", "evenings after 6", "flexible"]


def build_demo_board(ledger: Ledger, handles: list[str], today: dt.date, rng: random.Random) -> None:
    """A board as a co-op's looks after a couple of months: open offers and requests, some
    answered and taken up, some done through a logged exchange, a few withdrawn or expired,
    and two requests nobody has answered for over a week."""
    from timebank.listings import Listings

    board = Listings(ledger)
    categories = [c for c in ledger.categories() if c in BOARD]
    for n in range(36):
        kind = "offer" if n % 2 else "request"
        category = rng.choice(categories)
        member = rng.choice(handles)
        if kind == "offer" and category == CHECKED:
            category = "companionship"
        days_ago = rng.choice([1, 2, 3, 5, 6, 9, 12, 16, 20, 30, 45, 70])
        try:
            listing = board.post(
                kind,
                actor=COORDINATOR,
                member=member,
                category=category,
                title=rng.choice(BOARD[category]),
                description=rng.choice(
                    ["", "", "I can bring my own tools.", "Ring first please.", "Happy to chat."]
                ),
                availability=rng.choice(WHEN),
                today=today - dt.timedelta(days=days_ago),
            )
        except TimebankError:
            continue
        roll = rng.random()
        if days_ago > 56 or roll < 0.4:
            continue  # expired, or still open
        helper = rng.choice([h for h in handles if h != member])
        try:
            board.answer(listing.id, actor=helper, today=today)
        except TimebankError:
            continue
        if roll < 0.55:
            continue  # answered, not yet accepted
        if roll < 0.62:
            board.withdraw(listing.id, actor=COORDINATOR, reason="sorted out by family", today=today)
            continue
        board.accept(listing.id, helper, actor=COORDINATOR, today=today)
        if roll < 0.8:
            continue  # taken up, help not yet given
        exchange = board.exchange_for(
            listing.id, rng.choice([60, 90, 120]), today - dt.timedelta(days=1), actor=COORDINATOR
        )
        try:
            ledger.record_many([exchange], acknowledge=True)
        except TimebankError:
            continue
    for days_ago, (category, title) in (
        (9, ("transport", "Lift to the eye clinic")),
        (12, ("gardening", "Clearing leaves")),
    ):
        board.post(
            "request",
            actor=COORDINATOR,
            member=rng.choice(handles),
            category=category,
            title=title,
            description="Nobody has answered yet.",
            today=today - dt.timedelta(days=days_ago),
        )
