"""The shared terminal (``timebank kiosk``): the TUI behind a lock screen, handle and PIN.

Each unlock opens the ledger afresh, proven to be that member (``Ledger.prove``), so
nothing done in the session can act as anyone else; locking closes it. The kiosk locks
again after ``idle_minutes`` without a key or a click, or on F8. Quitting (Ctrl+Q,
Ctrl+C) asks for a co-ordinator's handle and PIN: a member never reaches the shell of the
account the kiosk runs as. PINs are checked by ``Ledger.check_pin`` (scrypt, lockout,
every attempt recorded).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label

from timebank.errors import TimebankError
from timebank.ledger import Ledger
from timebank.models import Member
from timebank.tui.app import TimebankApp
from timebank.units import printable


class PinForm:
    """Handle, PIN, and (after a one-time code) the member's new PIN twice."""

    purpose = "unlock"

    def compose_form(self, question: str) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(question, classes="question")
            yield Input(placeholder="handle", id="lock-handle")
            yield Input(placeholder="PIN", password=True, id="lock-pin")
            yield Input(placeholder="choose your new PIN", password=True, id="lock-new", classes="hidden")
            yield Input(placeholder="the new PIN again", password=True, id="lock-again", classes="hidden")
            yield Label("", id="lock-message")

    def message(self, text: str) -> None:
        self.query_one("#lock-message", Label).update(text)  # type: ignore[attr-defined]

    def on_mount(self) -> None:
        self.query_one("#lock-handle", Input).focus()  # type: ignore[attr-defined]

    def checked_pin(self, **where: str) -> tuple[str, Any] | None:
        """The handle typed and what ``check_pin`` made of the PIN (which is cleared at once),
        or None with the reason shown under the form."""
        handle = self.query_one("#lock-handle", Input).value.strip()  # type: ignore[attr-defined]
        pin_input = self.query_one("#lock-pin", Input)  # type: ignore[attr-defined]
        pin, pin_input.value = pin_input.value, ""
        try:
            return handle, self.base.check_pin(handle, pin, **where)  # type: ignore[attr-defined]
        except TimebankError as exc:
            self.message(str(exc))
            return None


_CSS = ".hidden { display: none; }"


class LockScreen(PinForm, Screen[Member]):
    """The kiosk at rest: nothing of the ledger is shown until a member's PIN is right."""

    DEFAULT_CSS = _CSS

    def __init__(self, base: Ledger) -> None:
        super().__init__()
        self.base = base
        self.one_time: Member | None = None

    def compose(self) -> ComposeResult:
        yield from self.compose_form(f"{self.base.rules.coop['name']}: locked. Your handle and PIN, please.")

    @on(Input.Submitted, "#lock-handle")
    def to_pin(self) -> None:
        self.query_one("#lock-pin", Input).focus()

    @on(Input.Submitted, "#lock-pin")
    def unlock(self) -> None:
        checked = self.checked_pin()
        if checked is None:
            return
        _, opened = checked
        if opened.one_time:
            self.one_time = opened.member
            for field in ("#lock-new", "#lock-again"):
                self.query_one(field, Input).remove_class("hidden")
            self.query_one("#lock-new", Input).focus()
            self.message("That was a one-time code: choose your own PIN (4 to 12 digits).")
            return
        self.dismiss(opened.member)

    @on(Input.Submitted, "#lock-new")
    def to_again(self) -> None:
        self.query_one("#lock-again", Input).focus()

    @on(Input.Submitted, "#lock-again")
    def new_pin(self) -> None:
        new = self.query_one("#lock-new", Input).value
        again = self.query_one("#lock-again", Input).value
        if self.one_time is None:
            return
        if new != again:
            self.message("The two PINs differ; type them again.")
            return
        try:
            self.base.set_pin(self.one_time.handle, new, actor=self.one_time.handle)
        except TimebankError as exc:
            self.message(str(exc))
            return
        self.dismiss(self.one_time)


class QuitScreen(PinForm, ModalScreen[bool]):
    """Quitting the kiosk: only with a co-ordinator's handle and PIN."""

    BINDINGS = [("escape", "cancel", "Cancel")]
    DEFAULT_CSS = _CSS

    def __init__(self, base: Ledger) -> None:
        super().__init__()
        self.base = base

    def compose(self) -> ComposeResult:
        yield from self.compose_form("Quit the kiosk: a co-ordinator's handle and PIN (Esc to go back).")

    @on(Input.Submitted, "#lock-handle")
    def to_pin(self) -> None:
        self.query_one("#lock-pin", Input).focus()

    @on(Input.Submitted, "#lock-pin")
    def check(self) -> None:
        checked = self.checked_pin(place="kiosk quit")
        if checked is None:
            return
        handle, opened = checked
        if not opened.member.is_coordinator or opened.one_time:
            self.message(f"{handle} is not a co-ordinator: the kiosk stays open.")
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class KioskApp(TimebankApp):
    """The TUI on a shared terminal: locked until a PIN, locked again when idle or on F8."""

    CSS_PATH = str(Path(__file__).parent.parent / "timebank.tcss")  # the app's own style

    def __init__(
        self,
        path: str | Path,
        *,
        idle_minutes: int = 5,
        clock: Callable[[], float] = time.monotonic,
        plugins=None,  # type: ignore[no-untyped-def]
    ) -> None:
        self.path = Path(path)
        self.base = Ledger(path, plugins)  # never proven: it checks PINs, shows nothing
        self.plugins_for_sessions = plugins
        self.idle_seconds = idle_minutes * 60
        self.clock = clock
        self.last_input = clock()
        self.locked = True
        super().__init__(self.base, actor=None, display_path=str(path))

    def on_mount(self) -> None:
        self.title = self.base.rules.coop["name"]
        self.switch_mode("log")
        self.set_interval(10, self.check_idle)
        self.lock()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Locked, only quitting is possible (and it asks for a co-ordinator's PIN)."""
        if self.locked:
            return action in ("quit", "help_quit")
        return True

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self.last_input = self.clock()
        await super().on_event(event)

    def check_idle(self) -> None:
        if not self.locked and self.clock() - self.last_input >= self.idle_seconds:
            self.lock()

    def lock(self) -> None:
        """Close the member's session and show the lock screen."""
        if self.ledger is not self.base:
            self.ledger.close()
        self.ledger = self.base
        self.actor = None
        self.locked = True
        self.show_who()
        self.push_screen(LockScreen(self.base), self.unlocked)

    def unlocked(self, member: Member | None) -> None:
        if member is None:
            return
        session = Ledger(self.path, self.plugins_for_sessions)
        session.prove(member.handle)
        self.ledger = session
        self.actor = session.actor(member.handle)
        self.locked = False
        self.last_input = self.clock()
        self.show_who()
        if hasattr(self.screen, "refresh_data"):
            self.screen.refresh_data()

    def show_who(self) -> None:
        """Who is signed in; a shared screen does not show the ledger's path."""
        if self.locked or self.actor is None:
            self.sub_title = "locked"
        else:
            self.sub_title = printable(f"signed in as {self.actor.name} ({self.actor.handle})")
        if self.is_running:
            self.screen.refresh_bindings()

    def action_who(self) -> None:  # F8 locks the kiosk
        if not self.locked:
            self.lock()

    async def action_quit(self) -> None:
        def answered(ok: bool | None) -> None:
            if ok:
                self.exit()

        self.push_screen(QuitScreen(self.base), answered)

    async def action_help_quit(self) -> None:
        await self.action_quit()

    def action_suspend_process(self) -> None:
        """Never suspend to the shell of the account the kiosk runs as."""

    def get_system_commands(self, screen: Screen):  # type: ignore[no-untyped-def]
        if not self.locked:
            yield from (c for c in super().get_system_commands(screen) if c.title != "Quit")


def run_kiosk(path: str | Path, *, idle_minutes: int = 5) -> None:
    """``timebank kiosk``: run until a co-ordinator quits it."""
    app = KioskApp(path, idle_minutes=idle_minutes)
    try:
        app.run()
    finally:
        if app.ledger is not app.base:
            app.ledger.close()
        app.base.close()
