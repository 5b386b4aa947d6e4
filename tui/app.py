"""The timebank terminal UI: an app factory, one mode per screen, plugins' screens too.

``timebank`` with no arguments opens it on the default ledger (the CLI finds ``run``
through the ``timebank.ui`` entry point, so the core never imports the TUI).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from textual.actions import SkipAction
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen

from timebank.errors import TimebankError
from timebank.ledger import Ledger
from timebank.models import Member
from timebank.plugin_manager import Plugins
from timebank.tui.screens.balances import BalancesScreen
from timebank.tui.screens.give import CHEST, GiveModal, export_csv
from timebank.tui.screens.help import HelpScreen
from timebank.tui.screens.listings import ListingsScreen
from timebank.tui.screens.log import LogScreen
from timebank.tui.screens.members import MembersScreen
from timebank.tui.screens.pending import PendingScreen
from timebank.tui.screens.recent import RecentScreen
from timebank.tui.screens.reports import ReportsScreen
from timebank.tui.screens.statement import StatementScreen
from timebank.tui.screens.who import WhoScreen
from timebank.tui.widgets.screen_bar import ScreenKey
from timebank.units import format_minutes, printable

SCREENS = {
    "log": ("Log hours", LogScreen),
    "recent": ("Recent entries", RecentScreen),
    "balances": ("Balances", BalancesScreen),
    "statement": ("Statement", StatementScreen),
    "pending": ("Pending confirmations", PendingScreen),
    "members": ("Members", MembersScreen),
    "listings": ("Offers and requests", ListingsScreen),
    "reports": ("Reports", ReportsScreen),
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
    ("f9", "reports", "Reports"),
    ("f10", "listings", "Board"),
)

# The themes offered (Ctrl+P, Colours): their contrast meets WCAG AA, as with NO_COLOR=1.
THEMES = ("textual-dark", "textual-light")

# How often the app asks SQLite whether another process or TUI wrote: one PRAGMA, no rows read.
POLL_SECONDS = 1.0

# Textual's own palette commands, in plain words (None: not offered).
PLAIN_COMMANDS = {
    "Theme": ("Colours", "Choose the colours"),
    "Quit": ("Quit", "Close timebank (everything saved stays saved)"),
    "Keys": ("Keys", "Show or hide the keys of this screen (Escape hides them)"),
    "Maximize": None,
    "Minimize": None,
    "Screenshot": None,
}


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
        Binding("ctrl+r", "refresh_screen", "Refresh"),
        Binding("escape", "hide_keys", "Hide keys", show=False, priority=True),
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
        self.data_version = ledger.data_version()
        self.plugin_screens = self._plugin_screens()
        self.MODES = {name: screen for name, (_, screen) in {**SCREENS, **self.plugin_screens}.items()}
        super().__init__()
        for name in list(self.available_themes):  # the themes whose contrast is checked
            if name not in THEMES:
                self.unregister_theme(name)

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
        self.set_interval(POLL_SECONDS, self.poll_ledger)

    def poll_ledger(self) -> None:
        """Refresh the screen shown when another process or TUI has committed to the ledger."""
        version = self.ledger.data_version()
        if version != self.data_version:
            self.data_version = version
            self.refresh_screen(auto=True)

    def refresh_screen(self, auto: bool = False) -> None:
        """Reload the screen under any dialog (a dialog keeps what it was asked about); on
        its own only a screen cheap to reload (Reports waits for Ctrl+R)."""
        for screen in reversed(self.screen_stack):
            if hasattr(screen, "refresh_data") and screen.is_mounted:
                if not auto or getattr(screen, "AUTO_REFRESH", True):
                    screen.refresh_data()
                return

    def action_refresh_screen(self) -> None:
        self.data_version = self.ledger.data_version()
        self.refresh_screen()

    def action_hide_keys(self) -> None:
        """Escape closes the Keys panel the palette opens; otherwise Escape does as before."""
        if not self.screen.query("HelpPanel"):
            raise SkipAction()
        self.action_hide_help_panel()

    def action_give(self, source: str | None = None) -> None:
        """Give credits to the chest: from ``source`` (a co-ordinator's choice) or oneself."""
        if self.actor is None:
            self.notify("choose who is recording first (F8)", severity="warning")
            return
        actor = self.actor.handle
        giver = self.ledger.member(source) if source else self.actor

        def give(minutes: int, note: str):
            return self.ledger.transfer(giver.handle, CHEST, minutes, actor=actor, note=note, day=self.today)

        def done(entry) -> None:
            if entry is not None:
                given = format_minutes(entry.postings[-1].amount)
                self.notify(f"Entry #{entry.id}: {giver.name} gave the chest {given}", markup=False)
                self.refresh_screen()

        self.push_screen(GiveModal(giver.name, give), done)

    def action_export(self) -> None:
        """Co-ordinators: entries and postings as CSV into the exports folder by the ledger."""
        if self.actor is None or not self.actor.is_coordinator:
            self.notify("only a co-ordinator may export", severity="error")
            return
        try:
            written = export_csv(self.ledger, self.actor.handle, self.today)
        except (TimebankError, OSError) as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.notify(
            f"exported to {written[0].parent}: " + ", ".join(p.name for p in written), timeout=8, markup=False
        )

    def open_statement(self, code: str) -> None:
        """Show the statement of ``code`` (a member's handle or an account such as @chest)."""
        self.switch_mode("statement")
        screen = self.screen
        if isinstance(screen, StatementScreen):
            screen.show_account(code)

    def show_who(self) -> None:
        who = f"recording as {self.actor.name}" if self.actor else "choose who is recording (F8)"
        if self.ledger.proven is not None and self.actor is not None:
            who = f"signed in as {self.actor.name} ({self.actor.handle})"
        actor = self.actor
        if actor is not None and actor.is_coordinator and "ordinator" not in actor.name.lower():
            who += " (co-ordinator)"
        self.sub_title = printable(f"{who} · {self.display_path}")  # who first: a long path is cut
        if self.is_running:
            self.screen.refresh_bindings()  # a member is not shown a co-ordinator's keys

    def format_title(self, title: str, sub_title: str) -> Content:
        """Title and who is recording at full contrast (Textual dims the sub-title: 4.4:1); in a
        narrow terminal who is recording comes first and the co-op's name goes."""
        if not sub_title:
            return Content(title)
        if len(title) + len(sub_title) + 16 > self.size.width:
            who = sub_title.partition(" · ")[0]
            if len(title) + len(who) + 16 > self.size.width:
                return Content(sub_title)
        return Content.assemble(Content(title), " — ", Content(sub_title))

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
        for command in super().get_system_commands(screen):
            plain = PLAIN_COMMANDS.get(command.title, (command.title, command.help))
            if plain is not None:
                yield command._replace(title=plain[0], help=plain[1])
        for name, (title, _) in {**SCREENS, **self.plugin_screens}.items():
            yield SystemCommand(title, f"Open {title.lower()}", lambda name=name: self.switch_mode(name))
        if self.ledger.proven is None:
            yield SystemCommand("Who is recording", "Choose who is recording", self.action_who)
        yield SystemCommand("Give to the chest", "Give time credits to the community chest", self.action_give)
        if self.actor is not None and self.actor.is_coordinator:
            yield SystemCommand(
                "Export", "Write entries and postings as CSV into the exports folder", self.action_export
            )
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
