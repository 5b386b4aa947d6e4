"""A ledger for the reliability tests: generous limits so only the faults under test fail."""

import os
import sys
from pathlib import Path

import pytest

WRITER = Path(__file__).with_name("writer.py")
SOAK = bool(os.environ.get("SOAK"))


@pytest.fixture
def roomy(make_ledger):
    return make_ledger(
        "time-bank",
        members={h: "member" for h in ("alice", "bob", "carol", "dan")},
        overrides={
            "plugins": {
                "credit_limits": {"floor": "-100000h", "warn_below": "-100000h", "ceiling": "100000h"},
                "classic": {"max_per_day": "24h"},
            }
        },
    )


def writer_command(*args) -> list[str]:
    return [sys.executable, str(WRITER), *map(str, args)]


@pytest.fixture(scope="module")
def roomy_path(tmp_path_factory):
    """A closed ledger file, for tests that compare its bytes before and after."""
    from timebank.ledger import Ledger
    from timebank.models import Member
    from timebank.permissions import SYSTEM
    from timebank.templates import load_template

    path = tmp_path_factory.mktemp("hostile") / "ledger.sqlite"
    with Ledger.create(path, load_template("time-bank")) as ledger:
        import datetime as dt

        ledger.add_member(
            Member("coord", "C", "member", dt.date(2024, 1, 1), role="coordinator"), actor=SYSTEM
        )
        for handle in ("alice", "bob"):
            ledger.add_member(Member(handle, handle.title(), "member", dt.date(2024, 1, 1)), actor="coord")
    return path
