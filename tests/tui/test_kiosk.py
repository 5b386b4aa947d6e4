"""The shared terminal under Pilot: PIN, one-time code, lockout, idle lock, F8, quitting."""

from __future__ import annotations

import datetime as dt

import pytest
from tui_helpers import type_into

from timebank.errors import NotAllowed
from timebank.ledger import Ledger
from timebank.pins import LOCK_AFTER, hash_pin, pin_matches
from timebank.tui.screens.lock import KioskApp, LockScreen, QuitScreen


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def kiosk(coop):
    coop.set_pin("alice", "2468", actor="alice")
    coop.set_pin("bob", "1357", actor="bob")
    coop.set_pin("coord", "9999", actor="coord")
    clock = Clock()
    app = KioskApp(coop.path, idle_minutes=5, clock=clock)
    app.test_clock = clock
    return app


async def sign_in(pilot, handle, pin, typed=False):
    """Fill in handle and PIN (typed key by key when ``typed``) and press Enter in the PIN."""
    if typed:
        await type_into(pilot, "#lock-handle", handle)
        await type_into(pilot, "#lock-pin", pin)
    else:
        pilot.app.screen.query_one("#lock-handle").value = handle
        pilot.app.screen.query_one("#lock-pin").value = pin
        pilot.app.screen.query_one("#lock-pin").focus()
    await pilot.press("enter")
    await pilot.pause()


async def test_the_kiosk_opens_locked_and_a_pin_unlocks_it_as_that_member(kiosk, coop):
    async with kiosk.run_test(size=(120, 40)) as pilot:
        assert isinstance(kiosk.screen, LockScreen) and kiosk.sub_title == "locked"
        await pilot.press("f4")  # the screens' keys do nothing while locked
        assert isinstance(kiosk.screen, LockScreen)
        await sign_in(pilot, "alice", "1357")  # bob's PIN
        assert isinstance(kiosk.screen, LockScreen)
        assert "do not match" in str(kiosk.screen.query_one("#lock-message").render())
        await sign_in(pilot, "alice", "2468", typed=True)
        assert not isinstance(kiosk.screen, LockScreen)
        assert "signed in as Alice Ames (alice)" in kiosk.sub_title
        assert kiosk.ledger.proven == "alice"
        with pytest.raises(NotAllowed, match="opened for alice"):
            kiosk.ledger.actor("bob")
        await pilot.press("f8")  # F8 locks again; the next member is someone else
        await pilot.pause()
        assert isinstance(kiosk.screen, LockScreen) and kiosk.actor is None
        await sign_in(pilot, "bob", "1357")
        assert kiosk.ledger.proven == "bob" and "(bob)" in kiosk.sub_title
    assert [ok for _, ok, _ in coop.pin_attempts("alice")] == [0, 1]


async def test_idle_minutes_lock_the_kiosk(kiosk):
    async with kiosk.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "alice", "2468")
        kiosk.test_clock.now += 4 * 60
        kiosk.check_idle()
        assert not kiosk.locked
        await pilot.press("f3")  # a key counts as activity
        kiosk.test_clock.now += 4 * 60
        kiosk.check_idle()
        assert not kiosk.locked
        kiosk.test_clock.now += 60
        kiosk.check_idle()
        await pilot.pause()
        assert kiosk.locked and isinstance(kiosk.screen, LockScreen)


async def test_repeated_wrong_pins_lock_that_member_and_each_is_recorded(kiosk, coop):
    async with kiosk.run_test(size=(120, 40)) as pilot:
        for _ in range(LOCK_AFTER):
            await sign_in(pilot, "alice", "0000")
        message = str(kiosk.screen.query_one("#lock-message").render())
        assert "alice is now locked for 15 minutes" in message
        await sign_in(pilot, "alice", "2468")  # the right PIN, but locked
        assert isinstance(kiosk.screen, LockScreen)
        assert "is locked after 5 wrong PINs" in str(kiosk.screen.query_one("#lock-message").render())
        await sign_in(pilot, "bob", "1357")  # others are not locked
        assert kiosk.ledger.proven == "bob"
    assert [ok for _, ok, _ in coop.pin_attempts("alice")] == [0] * LOCK_AFTER + [-1]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=16)
    assert coop.check_pin("alice", "2468", now=later).member.handle == "alice"


async def test_quitting_needs_a_coordinators_pin(kiosk):
    async with kiosk.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "alice", "2468")
        for key in ("ctrl+q", "ctrl+c"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(kiosk.screen, QuitScreen)
            await sign_in(pilot, "alice", "2468")
            assert "not a co-ordinator" in str(kiosk.screen.query_one("#lock-message").render())
            await pilot.press("escape")
            await pilot.pause()
            assert kiosk.is_running and not isinstance(kiosk.screen, QuitScreen)
        await pilot.press("ctrl+q")
        await pilot.pause()
        await sign_in(pilot, "coord", "9999")
    assert kiosk.return_code in (0, None) and not kiosk.is_running


async def test_a_one_time_code_is_used_once_to_choose_a_pin(coop):
    code = coop.issue_code("carol", actor="coord")
    with pytest.raises(NotAllowed, match="only a co-ordinator"):
        coop.issue_code("carol", actor="alice")
    app = KioskApp(coop.path, clock=Clock())
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "carol", code)
        assert isinstance(app.screen, LockScreen) and app.screen.one_time is not None
        await type_into(pilot, "#lock-new", "8642")
        await type_into(pilot, "#lock-again", "8642")
        await pilot.press("enter")
        await pilot.pause()
        assert app.ledger.proven == "carol"
    with pytest.raises(NotAllowed):
        coop.check_pin("carol", code)
    assert not coop.check_pin("carol", "8642").one_time


def test_pins_are_stored_only_as_scrypt_hashes_and_only_by_their_member(coop):
    coop.set_pin("alice", "2468", actor="alice")
    [(stored,)] = coop.conn.execute("SELECT hash FROM member_pins WHERE member = 'alice'").fetchall()
    assert stored.startswith("scrypt$16384$8$1$") and "2468" not in stored
    assert pin_matches("2468", stored) and not pin_matches("2469", stored)
    assert hash_pin("2468") != hash_pin("2468")  # salted
    with pytest.raises(NotAllowed, match="only their own PIN"):
        coop.set_pin("alice", "1111", actor="bob")
    with Ledger(coop.path) as proven:
        proven.prove("bob")
        with pytest.raises(NotAllowed):
            proven.set_pin("alice", "1111", actor="")


@pytest.mark.skipif(__import__("shutil").which("tmux") is None, reason="needs tmux to drive a terminal")
def test_timebank_kiosk_in_a_real_terminal_opens_locked_and_unlocks_with_a_pin(coop):
    import secrets
    import subprocess
    import sys
    import time

    coop.set_pin("alice", "2468", actor="alice")
    tmux = ["tmux", "-L", f"tbk{secrets.token_hex(3)}"]
    command = f"TERM=xterm-256color {sys.executable} -m timebank kiosk --ledger {coop.path}"
    subprocess.run([*tmux, "new-session", "-d", "-s", "k", "-x", "300", "-y", "40", command], check=True)

    def wait_for(text):
        for _ in range(150):
            shown = subprocess.run(
                [*tmux, "capture-pane", "-p", "-t", "k"], capture_output=True, text=True
            ).stdout
            if text in shown:
                return shown
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared:\n{shown}")

    try:
        wait_for("locked. Your handle and PIN")
        subprocess.run([*tmux, "send-keys", "-t", "k", "alice", "Enter"], check=True)
        time.sleep(0.5)  # Enter moves to the PIN field once the app has handled it
        subprocess.run([*tmux, "send-keys", "-t", "k", "2468", "Enter"], check=True)
        shown = wait_for("signed in as Alice Ames (alice)")
        assert "2468" not in shown  # the PIN is never shown
        subprocess.run([*tmux, "send-keys", "-t", "k", "C-q"], check=True)
        wait_for("Quit the kiosk: a co-ordinator's handle and PIN")
    finally:
        subprocess.run([*tmux, "kill-server"], check=False)
