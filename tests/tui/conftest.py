"""Fixtures: a small co-op and the real app over it, for Pilot."""

import pytest

from timebank.tui.app import make_app

MEMBERS = {"alice": "member", "bob": "member", "carol": "member", "dora": ("member", {"supported"})}


@pytest.fixture
def coop(make_ledger):
    ledger = make_ledger("time-bank", members=MEMBERS)
    ledger.update_member("alice", actor="coord", name="Alice Ames")
    return ledger


@pytest.fixture
def app_for(coop):
    def make(actor="coord", **kwargs):
        return make_app(coop.path, actor=actor, **kwargs)

    return make
