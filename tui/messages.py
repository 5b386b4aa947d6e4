"""Typed messages the screens send each other through the app."""

from __future__ import annotations

from textual.message import Message

from timebank.models import Member


class LedgerChanged(Message):
    """Something was written: screens showing ledger rows refresh."""


class ActorChosen(Message):
    """Who is recording has changed."""

    def __init__(self, member: Member) -> None:
        self.member = member
        super().__init__()
