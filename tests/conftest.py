"""Shared fixtures: real ledger files in tmp_path, with chosen rules and members."""

import datetime as dt
import os

import pytest
from helpers import BASIC_RULES, add_members
from hypothesis import settings

from timebank.ledger import Ledger
from timebank.models import Member
from timebank.permissions import SYSTEM

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
    """The core plugins' default rules, a co-ordinator and three members."""
    led = Ledger.create(ledger_path, BASIC_RULES)
    led.add_member(
        Member("coord", "Cora Ordin", "member", dt.date(2024, 1, 1), role="coordinator"),
        actor=SYSTEM,
    )
    add_members(led, "alice", "bob", "carol")
    yield led
    led.close()
