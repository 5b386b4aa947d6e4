"""TUI figures on the benchmark ledger: start-up, finding a member, Enter to saved."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

from timebank.tui.app import make_app
from timebank.tui.widgets.member_input import matches_text

HERE = Path(__file__).parent


def startup(ledger_path: Path, actor: str, repeat: int = 5) -> float:
    """Median seconds from starting a process to the first screen ready for input."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        subprocess.run(
            [sys.executable, str(HERE / "tui_start.py"), str(ledger_path), actor],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        times.append(time.perf_counter() - began)
    return statistics.median(times)


async def _until(check, limit: float = 5.0) -> None:
    deadline = time.perf_counter() + limit
    while not check() and time.perf_counter() < deadline:
        await asyncio.sleep(0.0005)


async def interactive(ledger_path: Path, actor: str, giver: str, receiver: str) -> tuple[float, float, float]:
    """Median ms: matching members from three letters (the lookup, then the app showing them);
    Enter to the saved entry showing in today's list.

    Input goes through the widgets' own paths (a changed value, the input's submit action)
    rather than Pilot's key presses, which wait for the app to idle and would time Pilot.
    """
    app = make_app(ledger_path, actor=actor)
    find, shown, save = [], [], []
    async with app.run_test(size=(100, 34)) as pilot:
        screen = app.screen
        matches = screen.query_one("#matches")
        for i in range(20):
            prefix = (giver if i % 2 else receiver)[:3] + str(i % 10)
            began = time.perf_counter()
            expected = matches_text(app.ledger, prefix)
            find.append(time.perf_counter() - began)
            field = screen.query_one("#giver")
            began = time.perf_counter()
            field.value = prefix
            await _until(lambda expected=expected: str(matches.render()) == expected)
            shown.append(time.perf_counter() - began)
            field.value = ""
            await pilot.pause()
        saved = screen.query_one("#saved")
        for i in range(10):
            screen.query_one("#giver").value = giver
            screen.query_one("#receiver").value = receiver
            screen.query_one("#note").value = f"bench {i}"
            duration = screen.query_one("#duration")
            duration.value = "30m"
            await pilot.pause()
            saved.update("")
            began = time.perf_counter()
            await duration.action_submit()  # the entry is written and today's list reloaded together
            await _until(lambda: str(saved.render()).startswith("Entry #"))
            save.append(time.perf_counter() - began)
    app.ledger.close()
    return statistics.median(find) * 1e3, statistics.median(shown) * 1e3, statistics.median(save) * 1e3
