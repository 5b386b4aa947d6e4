"""Shared fixtures: real ledger files in tmp_path, with chosen rules and members."""

import os

import pytest
from hypothesis import settings

from timebank.testing import build_ledger

# CI runs the same property examples every time, so a landing is never decided by chance;
# locally (and in `make soak`) hypothesis keeps searching with new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def ledger_path(tmp_path):
    return tmp_path / "ledger.sqlite"


@pytest.fixture
def ledger(ledger_path):
    """Default rules, a co-ordinator and three members."""
    led = build_ledger(ledger_path, None, members={h: "member" for h in ("alice", "bob", "carol")})
    yield led
    led.close()
