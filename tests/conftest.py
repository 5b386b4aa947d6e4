"""Shared fixtures: real ledger files in tmp_path, with chosen rules and members."""

from __future__ import annotations

import datetime as dt

import pytest

from timebank.ledger import Ledger
from timebank.models import Exchange, Member

TODAY = dt.date.today()


def exchange(
    givers="alice",
    receivers="bob",
    minutes=60,
    day=None,
    category="shopping",
    recorded_by="coord",
    note="",
):
    """An exchange from short arguments: handles comma-separated."""
    return Exchange(
        tuple(givers.split(",")),
        tuple(receivers.split(",")),
        minutes,
        day or TODAY,
        category,
        recorded_by,
        note,
    )


def add_members(ledger: Ledger, *handles: str, member_class: str = "member") -> None:
    for handle in handles:
        ledger.add_member(Member(handle, handle.title(), member_class, dt.date(2024, 1, 1)), actor="coord")


@pytest.fixture
def ledger_path(tmp_path):
    return tmp_path / "ledger.sqlite"


@pytest.fixture
def ledger(ledger_path):
    """Default rules, a co-ordinator and three members."""
    led = Ledger.create(ledger_path)
    led.add_member(
        Member("coord", "Cora Ordin", "member", dt.date(2024, 1, 1), role="coordinator"),
        actor="system",
    )
    add_members(led, "alice", "bob", "carol")
    yield led
    led.close()
