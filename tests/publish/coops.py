"""Small generated co-ops (6-20 members) for every template, from fixed seeds.

Activity runs over the six months ending this month (referrals are dated by the clock), and
``publish_day`` publishes through this month. Exchanges the template's rules refuse are
skipped, as a co-ordinator would; the friendly society closes each month (contributions)
and pays a claim; social prescribing refers people and some decline.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from timebank.errors import TimebankError
from timebank.ledger import Ledger
from timebank.models import Member
from timebank.permissions import SYSTEM
from timebank.templates import load_template, template_names
from timebank.testing import exchange, merge

TEMPLATES = template_names()
AREAS = ["north", "south", "Flat 4, 12 Mill Lane"]  # the last one typed by a co-ordinator
PUBLIC_AREAS = ["north", "south"]


def months_back(n: int) -> dt.date:
    today = dt.date.today().replace(day=1)
    for _ in range(n):
        today = (today - dt.timedelta(days=1)).replace(day=1)
    return today


def publish_day() -> dt.date:
    """Publishing on this day covers every month through the current one."""
    return (dt.date.today().replace(day=28) + dt.timedelta(days=4)).replace(day=1) + dt.timedelta(days=8)


def generated_coop(folder: Path, template: str, size: int, seed: int) -> Ledger:
    """A co-op of ``size`` members (the co-ordinator included) with six months of care.

    The co-op starts with its co-ordinator six months ago; the caller closes the ledger.
    """
    rng = random.Random(seed)
    start = months_back(5)
    data = merge(load_template(template), {"coop": {"public_areas": PUBLIC_AREAS}})
    ledger = Ledger.create(folder / f"{template}-{size}-{seed}.sqlite", data)
    classes = ledger.member_classes()
    ledger.add_member(Member("coord", "Cora Ordin", classes[0], start, role="coordinator"), actor=SYSTEM)
    handles = []
    for i in range(size - 1):
        handle = f"m{seed}x{i:02d}"
        joined = start + dt.timedelta(days=rng.randrange(0, 20) if i < size - 3 else rng.randrange(60, 100))
        first = classes[0] if rng.random() < 0.6 else rng.choice(classes)
        added = None
        for member_class in [first, *classes]:  # a class the co-op's rules refuse: try another
            added = _try(
                ledger.add_member,
                Member(handle, f"Member {i}", member_class, joined, area=rng.choice(AREAS)),
                actor="coord",
            )
            if added is not None:
                break
        if added is not None:
            handles.append((handle, joined))
    categories = ledger.categories()
    today = dt.date.today()
    day, batch = start, []
    while day <= today:
        active = [h for h, joined in handles if joined <= day]
        for _ in range(rng.randrange(0, 3)):
            if len(active) < 2:
                break
            giver, receiver = rng.sample(active, 2)
            refs = {"sector": rng.choice("AB")} if "social_coop_it" in ledger.rules.enabled else {}
            batch.append(
                exchange(
                    giver,
                    receiver,
                    rng.choice([30, 60, 90, 120]),
                    day=day,
                    category=rng.choice(categories),
                    refs=refs,
                )
            )
        if day.month != (day + dt.timedelta(days=1)).month or day == today:
            _record(ledger, batch)
            batch = []
            if "friendly_society" in ledger.rules.enabled:
                _try(ledger.close_period, day, actor="coord")
        day += dt.timedelta(days=1)
    if len(handles) > 3:
        ledger.retire_member(handles[1][0], actor="coord", day=start + dt.timedelta(days=70))
    if "social_prescribing" in ledger.rules.enabled:
        from timebank.plugins.social_prescribing import answer, refer

        for handle, _ in handles[: size // 2]:
            referral = refer(ledger, handle, actor="coord", activity="walking group")
            if rng.random() < 0.3:
                answer(ledger, referral, "declined", actor="coord")
    if "friendly_society" in ledger.rules.enabled:
        from timebank.plugins.friendly_society import claim_benefit

        _try(claim_benefit, ledger, handles[0][0], today - dt.timedelta(days=3), 2, actor="coord")
    return ledger


def _record(ledger, batch) -> None:
    if not batch:
        return
    try:
        ledger.record_many(batch, acknowledge=True)
    except TimebankError:
        for one in batch:
            _try(ledger.record_many, [one], acknowledge=True)


def _try(function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except TimebankError:
        return None
