"""Numbers from the command line: ids and page numbers beyond SQLite's 64 bits, or not numbers
at all, are one sentence and exit 1, never a traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from timebank.cli.main import cli

HUGE = str(2**63)


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("TIMEBANK_LEDGER", str(tmp_path / "coop.sqlite"))
    monkeypatch.delenv("TIMEBANK_USER", raising=False)

    def invoke(*args: str):
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    for args in (
        ("init",),
        ("member", "add", "alice", "Alice", "--as", "coordinator"),
        ("member", "add", "bob", "Bob", "--as", "coordinator"),
        ("log", "alice", "bob", "1h", "-k", "shopping", "--as", "coordinator"),
        ("log", "alice", "bob", "1h", "-k", "shopping", "--as", "bob"),
    ):
        assert invoke(*args).exit_code == 0
    return invoke


@pytest.mark.parametrize(
    "args, sentence",
    [
        (("reverse", HUGE, "--reason", "x"), f"entry id: {HUGE} is out of range (from 1 to {2**63 - 1})"),
        (("reverse", "0", "--reason", "x"), f"entry id: 0 is out of range (from 1 to {2**63 - 1})"),
        (("reverse", "1e5", "--reason", "x"), "entry id: '1e5' is not a whole number"),
        (("confirm", "99999999999999999999"), "claim id: 99999999999999999999 is out of range"),
        (("decline", HUGE), f"claim id: {HUGE} is out of range"),
        (("statement", "alice", "--page", "9" * 30), "page: 999999999999999999999999999999 is out of range"),
        (("statement", "alice", "--size", HUGE), f"size: {HUGE} is out of range (from 1 to 100000)"),
        (("statement", "alice", "--page", "x" * 10_000), "page: 'xxxxxxxxxx"),
        (("demo", "--members", HUGE), f"members: {HUGE} is out of range (from 1 to 10000)"),
        (("show", HUGE), f"entry id: {HUGE} is out of range"),
        (("offer", "show", HUGE), f"listing id: {HUGE} is out of range"),
        (("request", "answer", HUGE), f"listing id: {HUGE} is out of range"),
        (("offer", "withdraw", HUGE), f"listing id: {HUGE} is out of range"),
    ],
)
def test_numbers_out_of_range_are_one_sentence(run, args, sentence):
    reading = args[0] in ("statement", "demo", "show") or args[:2] == ("offer", "show")
    result = run(*args) if reading else run(*args, "--as", "coordinator")
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"error: {sentence}")
    assert result.stderr.count("\n") == 1 and len(result.stderr) < 200


def test_the_largest_id_is_looked_up_and_not_found(run):
    for args in (("reverse", str(2**63 - 1), "--reason", "x"), ("confirm", str(2**63 - 1))):
        result = run(*args, "--as", "coordinator")
        assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.output
        assert "Traceback" not in result.output


def test_a_page_past_the_end_is_empty_and_in_range_numbers_work(run):
    assert run("statement", "alice", "--page", str(2**63 - 1)).exit_code == 0
    assert run("statement", "alice", "--page", "1", "--size", "1").output.count("\n") == 2
