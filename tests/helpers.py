"""Helpers the tests share: short exchanges, members added in one line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from timebank.cli.main import cli
from timebank.ledger import Ledger
from timebank.models import Member
from timebank.plugins.safeguarding import record_check
from timebank.testing import exchange  # noqa: F401  (one way to build exchanges in tests)

TODAY = dt.date.today()

# The core plugins with their declared defaults: the rules of the shared ``ledger`` fixture
# (a ledger made with no rules gets the time-bank template's instead).
BASIC_RULES = {"coop": {}, "plugins": {"classic": {}, "credit_limits": {}, "confirmation": {}, "reports": {}}}


def add_members(ledger: Ledger, *handles: str, member_class: str = "member") -> None:
    for handle in handles:
        ledger.add_member(Member(handle, handle.title(), member_class, dt.date(2024, 1, 1)), actor="coord")


def give_current_check(ledger: Ledger, handle: str) -> None:
    """A DBS check for ``handle`` that is current for the whole test: templates that enable
    safeguarding refuse checked care from a member without one."""
    record_check(
        ledger,
        handle,
        kind="DBS",
        done_on=dt.date(2024, 1, 1),
        valid_until=dt.date(2099, 1, 1),
        actor="coord",
    )


def cli_invoker(prog_name: str | None = None) -> Callable[..., Result]:
    """The real CLI in this process: ``invoke(*args, ok=True, env=None)`` runs one command and
    checks its exit status, 0 or (``ok=False``, a refusal) 1, showing what it said if not."""
    runner = CliRunner()

    def invoke(*args: object, ok: bool = True, env: dict[str, str] | None = None) -> Result:
        result = runner.invoke(
            cli, [str(a) for a in args], catch_exceptions=False, env=env, prog_name=prog_name
        )
        assert result.exit_code == (0 if ok else 1), result.output + result.stderr
        return result

    return invoke


def cli_on(ledger: Path, monkeypatch: Any, prog_name: str | None = None) -> Callable[..., Result]:
    """``cli_invoker`` on the ledger file ``ledger`` (``TIMEBANK_LEDGER``) with no
    ``TIMEBANK_USER``, so each command names who acts; ``invoke.path`` is the file."""
    monkeypatch.setenv("TIMEBANK_LEDGER", str(ledger))
    monkeypatch.delenv("TIMEBANK_USER", raising=False)
    invoke = cli_invoker(prog_name)
    invoke.path = ledger  # type: ignore[attr-defined]
    return invoke
