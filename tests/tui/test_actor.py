"""The TUI acts only as a real, active member: the ledger's own actor cannot be chosen."""

import pytest

from timebank.errors import NotAllowed
from timebank.tui.app import make_app


@pytest.mark.parametrize("actor", ["system", "auto", "nobody"])
def test_the_tui_refuses_an_actor_who_is_not_a_member(coop, actor):
    with pytest.raises(NotAllowed, match=f"no member has the handle '{actor}'"):
        make_app(coop.path, actor=actor)
