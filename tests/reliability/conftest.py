"""A ledger for the reliability tests: generous limits so only the faults under test fail."""

import os
import sys
from pathlib import Path

import pytest

from timebank.testing import build_ledger

WRITER = Path(__file__).with_name("writer.py")
SOAK = bool(os.environ.get("SOAK"))

# Limits no test's writes reach, so only the fault under test can refuse one.
ROOMY_LIMITS = {"floor": "-100000h", "warn_below": "-100000h", "ceiling": "100000h"}
ROOMY = {"plugins": {"credit_limits": ROOMY_LIMITS, "classic": {"max_per_day": "24h"}}}


@pytest.fixture
def roomy(make_ledger):
    return make_ledger(
        "time-bank",
        members={h: "member" for h in ("alice", "bob", "carol", "dan")},
        overrides=ROOMY,
    )


def writer_command(*args) -> list[str]:
    return [sys.executable, str(WRITER), *map(str, args)]


@pytest.fixture(scope="module")
def roomy_path(tmp_path_factory):
    """A closed ledger file, for tests that compare its bytes before and after."""
    path = tmp_path_factory.mktemp("hostile") / "ledger.sqlite"
    build_ledger(path, "time-bank", members={"alice": "member", "bob": "member"}).close()
    return path
