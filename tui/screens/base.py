"""What every screen shares: the header, the footer, access to the ledger, refreshing."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header

from timebank.ledger import Ledger
from timebank.models import Member
from timebank.permissions import Sight
from timebank.tui.widgets.screen_bar import ScreenBar

if TYPE_CHECKING:
    from timebank.tui.app import TimebankApp


class LedgerScreen(Screen):
    """A screen over the app's ledger; ``refresh_data`` reloads what it shows."""

    @property
    def tb(self) -> TimebankApp:
        return self.app  # type: ignore[return-value]

    @property
    def ledger(self) -> Ledger:
        return self.tb.ledger

    @property
    def actor(self) -> Member | None:
        return self.tb.actor

    COORDINATOR_ACTIONS: frozenset[str] = frozenset()
    """This screen's actions only a co-ordinator may take: a member is never shown their keys."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.COORDINATOR_ACTIONS:
            return self.actor is None or self.actor.is_coordinator
        return True

    @property
    def sight(self) -> Sight:
        """What the acting member may read (the core's rule, ``Ledger.visible_to``)."""
        return self.ledger.visible_to(self.actor.handle if self.actor else None)

    @property
    def today(self) -> dt.date:
        return self.tb.today

    def compose(self) -> ComposeResult:
        yield Header()
        yield ScreenBar(self.tb.SCREEN_KEYS, self.tb.mode_of(self))
        yield from self.compose_body()
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_screen_resume(self) -> None:
        self.refresh_data()

    def refresh_data(self) -> None:
        """Reload rows from the ledger (another writer may have written)."""
