"""Fixtures for testing plugins against a real ledger, exposed as a pytest plugin.

Installed with timebank (entry point ``pytest11``), so a plugin author's tests can ask for:

- ``make_ledger(template=..., overrides=..., members=..., plugins=...)``: a ledger file in
  ``tmp_path`` made from a starter template (or explicit ``rules``), with a co-ordinator
  ``coord`` and the members asked for, each ``handle: class`` (or ``handle: (class,
  flags)``);
- ``timebank_plugins``: a fresh plugin set (built-ins only) to register a plugin on;
- ``exchange(...)``: build an ``Exchange`` from short arguments;
- ``served(public_file)``: ``timebank serve`` running on a free local port, for tests and
  benchmarks that need a real server.
"""

from __future__ import annotations

import copy
import datetime as dt
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from timebank.ledger import Ledger
from timebank.models import Exchange, Member
from timebank.permissions import SYSTEM
from timebank.plugin_manager import Plugins
from timebank.storage.reads import posted_by_account
from timebank.storage.store import rows_of, tables_in
from timebank.templates import load_template

JOINED = dt.date(2024, 1, 1)


@contextmanager
def served(public: Path) -> Iterator[str]:
    """``timebank serve FILE`` in its own process on a free port; yields the site's URL once
    it answers, and stops it afterwards."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "timebank", "serve", str(public), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/-/versions.json", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def exchange(
    givers: str = "alice",
    receivers: str = "bob",
    minutes: int = 60,
    *,
    day: dt.date | None = None,
    category: str = "shopping",
    recorded_by: str = "coord",
    note: str = "",
    refs: Mapping[str, str] | None = None,
) -> Exchange:
    """An exchange from short arguments; handles are comma-separated."""
    return Exchange(
        tuple(givers.split(",")),
        tuple(receivers.split(",")),
        minutes,
        day or dt.date.today(),
        category,
        recorded_by,
        note,
        dict(refs or {}),
    )


def merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Rules data with ``overrides`` merged in, table by table."""
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def snapshot_rows(ledger: Ledger) -> dict[str, list]:
    """Every row of every table: compare before and after to show a refusal left no trace."""
    return {table: rows_of(ledger.conn, table) for table in sorted(tables_in(ledger.conn))}


def assert_ledger_holds(ledger: Ledger) -> None:
    """The invariants: balances sum to zero, each equals its postings, and ``verify`` passes."""
    balances = ledger.balances()
    assert sum(value for _, value in balances) == 0
    posted = posted_by_account(ledger.conn)
    assert {a.code: v for a, v in balances} == posted
    report = ledger.verify()
    assert report.ok, report.problem


@pytest.fixture
def timebank_plugins() -> Plugins:
    return Plugins(entry_points=False)


def build_ledger(
    path: str | Path,
    template: str | None = "time-bank",
    *,
    rules: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
    members: Mapping[str, Any] | None = None,
    plugins: Plugins | None = None,
    coordinator: bool = True,
) -> Ledger:
    """The one way tests build a ledger: a real file at ``path`` from a starter template (or
    explicit ``rules``; ``template=None`` and no rules is the core's default, the time-bank
    template), with a co-ordinator ``coord`` and the members asked for, each ``handle:
    class`` (or ``handle: (class, flags)``). ``make_ledger`` is this as a fixture; module-scoped fixtures and
    scripts call it directly."""
    data = dict(rules) if rules is not None else load_template(template) if template else None
    if overrides:
        data = merge(data or {}, overrides)
    ledger = Ledger.create(path, data, plugins=plugins)
    if coordinator:
        first_class = ledger.member_classes()[0]
        ledger.add_member(
            Member("coord", "Cora Ordin", first_class, JOINED, role="coordinator"), actor=SYSTEM
        )
    for handle, spec in (members or {}).items():
        member_class, flags = spec if isinstance(spec, tuple) else (spec, ())
        ledger.add_member(Member(handle, handle.title(), member_class, JOINED, flags=flags), actor="coord")
    return ledger


@pytest.fixture
def make_ledger(tmp_path) -> Callable[..., Ledger]:
    """``build_ledger`` in ``tmp_path`` (file ``name``), closed after the test."""
    made: list[Ledger] = []

    def factory(template: str | None = "time-bank", *, name: str = "ledger.sqlite", **options: Any) -> Ledger:
        made.append(build_ledger(tmp_path / name, template, **options))
        return made[-1]

    yield factory
    for ledger in made:
        ledger.close()


__all__ = [
    "assert_ledger_holds",
    "build_ledger",
    "exchange",
    "make_ledger",
    "merge",
    "snapshot_rows",
    "timebank_plugins",
]
