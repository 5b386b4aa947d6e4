"""The timebank terminal UI: an app factory, one mode per screen, plugins' screens too.

``timebank`` with no arguments opens it on the default ledger (the CLI finds ``run``
through the ``timebank.ui`` entry point, so the core never imports the TUI).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from timebank.tui.screens.balances import BalancesScreen
from timebank.tui.screens.help import HelpScreen
from timebank.tui.screens.listings import ListingsScreen
from timebank.tui.screens.log import LogScreen
from timebank.tui.screens.members import MembersScreen
from timebank.tui.screens.pending import PendingScreen
from timebank.tui.screens.recent import RecentScreen
from timebank.tui.screens.statement import StatementScreen
from timebank.tui.screens.who import WhoScreen
from timebank.tui.widgets.screen_bar import ScreenKey

from timebank.ledger import Ledger
from timebank.models import Member
from timebank.plugin_manager import Plugins
from timebank.units import printable

SCREENS = {
    "log": ("Log hours", LogScreen),
    "recent": ("Recent entries", RecentScreen),
    "balances": ("Balances", BalancesScreen),
    "statement": ("Statement", StatementScreen),
    "pending": ("Pending confirmations", PendingScreen),
    "members": ("Members", MembersScreen),
    "listings": ("Offers and requests", ListingsScreen),
}

# The screens' keys, shown on the line under the header (ScreenBar) rather than the footer.
SCREEN_KEYS: tuple[ScreenKey, ...] = (
    ("f2", "log", "Log"),
    ("f3", "recent", "Recent"),
    ("f4", "balances", "Balances"),
    ("f5", "statement", "Statement"),
    ("f6", "pending", "Pending"),
    ("f7", "members", "Members"),
    ("f8", None, "Who"),
)


class TimebankApp(App):
    """The app: the ledger, who is recording, and the screens."""

    CSS_PATH = "timebank.tcss"
    ENABLE_COMMAND_PALETTE = True
    SCREEN_KEYS = SCREEN_KEYS
    BINDINGS = [
        Binding("f1", "help", "Help"),
        *(
            Binding(key, f"switch_mode('{mode}')" if mode else "who", name, show=False)
            for key, mode, name in SCREEN_KEYS
        ),
        Binding("f9", "switch_mode('listings')", "Offers and requests", show=False),
        Binding("ctrl+q", "quit", "Quit", show=False),
    ]

    def __init__(
        self,
        ledger: Ledger,
        *,
        actor: str | None = None,
        today: dt.date | None = None,
        display_path: str | None = None,
    ) -> None:
        self.ledger = ledger
        self.today = today or dt.date.today()
        self.display_path = display_path or str(ledger.path)
        self.actor: Member | None = ledger.actor(actor) if actor else None
        self.session_start = ledger.last_entry_id()
        self.plugin_screens = self._plugin_screens()
        self.MODES = {name: screen for name, (_, screen) in {**SCREENS, **self.plugin_screens}.items()}
        super().__init__()

    def _plugin_screens(self) -> dict[str, tuple[str, type[Screen]]]:
        found = {}
        for _, screens in self.ledger.plugins.call("add_tui_screens", self.ledger.rules):
            for name, title, screen in screens:
                found[name] = (title, screen)
        return found

    def on_mount(self) -> None:
        self.title = printable(self.ledger.rules.coop["name"])
        self.show_who()
        self.switch_mode("log")
        if self.actor is None:
            self.action_who()

    def show_who(self) -> None:
        who = f"recording as {self.actor.name}" if self.actor else "choose who is recording (F8)"
        if self.ledger.proven is not None and self.actor is not None:
            who = f"signed in as {self.actor.name} ({self.actor.handle})"
        if self.actor is not None and self.actor.is_coordinator:
            who += " (co-ordinator)"
        self.sub_title = printable(f"{self.display_path} · {who}")
        if self.is_running:
            self.screen.refresh_bindings()  # a member is not shown a co-ordinator's keys

    def mode_of(self, screen: Screen) -> str | None:
        """The mode a screen is the base of (None for a dialog or a plugin's own screen)."""
        return next((name for name, kind in self.MODES.items() if type(screen) is kind), None)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A proven member (SSH key, kiosk PIN) cannot choose someone else: no F8."""
        return not (action == "who" and self.ledger.proven is not None)

    def action_who(self) -> None:
        if self.ledger.proven is not None:
            return  # the member was proven when the ledger was opened

        def chosen(member: Member | None) -> None:
            if member is not None:
                self.actor = member
                self.show_who()
                screen = self.screen
                if isinstance(screen, LogScreen) and not member.is_coordinator:
                    screen.query_one("#giver").value = member.handle
                if hasattr(screen, "refresh_data"):
                    screen.refresh_data()

        self.push_screen(WhoScreen(self.ledger), chosen)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for name, (title, _) in {**SCREENS, **self.plugin_screens}.items():
            yield SystemCommand(title, f"Open {title.lower()}", lambda name=name: self.switch_mode(name))
        if self.ledger.proven is None:
            yield SystemCommand("Who is recording", "Choose who is recording", self.action_who)
        yield SystemCommand("Help", "Keys and screens", self.action_help)


def make_app(
    path: str | Path,
    *,
    actor: str | None = None,
    today: dt.date | None = None,
    plugins: Plugins | None = None,
) -> TimebankApp:
    """Open the ledger at ``path`` and build the app around it."""
    return TimebankApp(Ledger(path, plugins), actor=actor, today=today, display_path=str(path))


def run_member(path: str | Path, *, member: str) -> None:
    """``timebank shell`` with no command: the TUI as a member proven by their SSH key."""
    ledger = Ledger(path)
    try:
        ledger.prove(member)
        app = TimebankApp(ledger, actor=member, display_path=str(path))
        app.run()
    finally:
        ledger.close()


def run(path: str | Path, actor: str | None = None) -> None:
    """Entry point the CLI calls for ``timebank`` with no command."""
    app = make_app(path, actor=actor)
    try:
        app.run()
    finally:
        app.ledger.close()
