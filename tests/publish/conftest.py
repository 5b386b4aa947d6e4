"""A co-op with distinctive names, handles and notes, and its published file."""

import datetime as dt
import random

import pytest

from timebank.models import Member
from timebank.publishing.publish import publish
from timebank.testing import exchange

SECRETS = {
    "names": [f"Zebulon Quixotic-{i}" for i in range(24)],
    "handles": [f"zq{i:02d}xyzzy" for i in range(24)],
    "notes": [f"secret-note-{i}-ppqq" for i in range(8)],
    "contact": "zebulon@example.invalid",
}
START = dt.date(2025, 1, 6)
PUBLISHED_ON = START + dt.timedelta(days=420)  # 2026-03-01: figures through January


@pytest.fixture
def seeded(make_ledger):
    """24 members in three classes and areas, 14 months of exchanges, some reversed."""
    ledger = make_ledger(
        "time-bank",
        overrides={
            "coop": {"public_areas": ["north", "south"]},
            "plugins": {"credit_limits": {"floor": "-500h", "warn_below": "-500h", "ceiling": "500h"}},
        },
    )
    classes = ["member", "volunteer", "family"]
    for i, (handle, name) in enumerate(zip(SECRETS["handles"], SECRETS["names"], strict=True)):
        ledger.add_member(
            Member(
                handle, name, classes[i % 3], START, area=["north", "south", "Flat 4, 12 Mill Lane"][i % 3]
            ),
            actor="coord",
        )
    rng = random.Random(11)
    batch = []
    for day in range(420):
        for _ in range(rng.randrange(0, 4)):
            giver, receiver = rng.sample(SECRETS["handles"][: 20 if day < 300 else 24], 2)
            batch.append(
                exchange(
                    giver,
                    receiver,
                    rng.choice([30, 60, 90]),
                    day=START + dt.timedelta(days=day),
                    category=rng.choice(["shopping", "transport", "gardening", "admin help"]),
                    note=rng.choice(SECRETS["notes"] + [SECRETS["contact"]]),
                )
            )
    # one rare kind of care, done by only two members: a cell that must be suppressed
    batch.append(
        exchange(
            SECRETS["handles"][0],
            SECRETS["handles"][1],
            45,
            day=START + dt.timedelta(days=40),
            category="personal care",
            note=SECRETS["notes"][0],
        )
    )
    entries = ledger.record_many(batch)
    ledger.reverse(entries[5].id, reason=SECRETS["notes"][1], actor="coord")
    ledger.retire_member(SECRETS["handles"][23], actor="coord", day=START + dt.timedelta(days=400))
    return ledger


@pytest.fixture
def published(seeded, tmp_path):
    path = tmp_path / "public.sqlite"  # served as the database "public"
    publish(seeded, path, today=PUBLISHED_ON)
    return path


@pytest.fixture
def coop(tmp_path):
    """``coop(template, size, seed)``: a generated co-op (``coops.generated_coop``), closed after."""
    from coops import generated_coop

    made = []

    def factory(template: str, size: int, seed: int):
        made.append(generated_coop(tmp_path, template, size, seed))
        return made[-1]

    yield factory
    for ledger in made:
        ledger.close()
