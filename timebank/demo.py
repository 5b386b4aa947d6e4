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

from timebank.anchors import set_aside_orphans
from timebank.errors import InputError
from timebank.ledger import Ledger
from timebank.models import Exchange, Member
from timebank.outputs import install_ledger, ledger_replacement, output_file, temporary_beside
from timebank.permissions import SYSTEM
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
        set_aside_orphans(Path(path))  # anchors left by a deleted ledger are not the demo's
        with output_file(
            path,
            ledger=None,
            kind="ledger",
            replace=False,
            companions=(".anchors",),
            precreate=False,
            field="ledger",
        ) as temp:
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
) -> Ledger:
    """Create the demo ledger at ``path`` (which must not exist yet)."""
    rng = random.Random(seed)
    today = today or dt.date.today()
    start = today - dt.timedelta(days=days)
    rules = load_template("time-bank")
    rules["coop"]["name"] = "Riverside Care Co-op"
    rules["coop"]["description"] = (
        "Neighbours in Riverside giving and receiving hours of care: lifts, shopping, "
        "company and help at home."
    )
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
    floor = ledger.rules.settings("credit_limits").get("floor", -1200)
    warn = ledger.rules.settings("credit_limits").get("warn_below", floor)
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
            can_pay = [h for h in active if h != giver and balance[h] - minutes > max(floor, warn)]
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
    return ledger
