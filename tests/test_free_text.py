"""One text check for every piece of free text, in the core; stored text shown escaped.

A member tries to forge a line, or rewrite the line above with ANSI escapes, in what a
co-ordinator later reads, or to fill the ledger with a 100 kB note. The ledger's own
methods refuse it, so the CLI, the TUI and importers all do.
"""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import cli_invoker, exchange

from timebank.errors import InputError, RulesRefused
from timebank.ledger import Ledger
from timebank.models import Member
from timebank.testing import snapshot_rows

FORGED = "thanks\n    99 2026-01-01 service       24h      24h  forged"
REWRITE = "fine\x1b[1A\x1b[2K   7 2026-01-01 service  -24h  paid in full"
BAD_TEXTS = [
    pytest.param(FORGED, id="line break"),
    pytest.param(REWRITE, id="ANSI escape"),
    pytest.param("x" * 100_000, id="100 kB"),
    pytest.param("a\u2028b", id="unicode line separator"),
    pytest.param("evil\u202egnp.exe", id="bidi override"),
    pytest.param("\x9b2J", id="C1 CSI"),
    pytest.param("tab\there", id="tab"),
]


@pytest.mark.parametrize("text", BAD_TEXTS)
def test_the_ledger_refuses_unsafe_text_in_every_field(ledger, text):
    entry = ledger.record(exchange(recorded_by="coord"))
    ledger.record(exchange(recorded_by="alice"))
    claim = ledger.claims()[0]
    before = snapshot_rows(ledger)
    attempts = {
        "log note": lambda: ledger.record(exchange(recorded_by="coord", note=text)),
        "claim note": lambda: ledger.record(exchange(recorded_by="alice", note=text)),
        "import note": lambda: ledger.record_many([exchange(), exchange(note=text)]),
        "kind": lambda: ledger.record(exchange(recorded_by="coord", category=text)),
        "give note": lambda: ledger.transfer("alice", "bob", 10, actor="alice", note=text),
        "reverse reason": lambda: ledger.reverse(entry.id, reason=text, actor="coord"),
        "decline reason": lambda: ledger.decline(claim.id, actor="bob", reason=text),
        "member name": lambda: ledger.add_member(
            Member("dan", text, "member", dt.date(2024, 1, 1)), actor="coord"
        ),
        "changed name": lambda: ledger.update_member("alice", actor="coord", name=text),
        "area": lambda: ledger.update_member("alice", actor="coord", area=text),
        "flag": lambda: ledger.update_member("alice", actor="coord", flags={text}),
        "rules note": lambda: ledger.change_settings("coop", {}, actor="coord", note=text),
        "coop name": lambda: ledger.change_settings("coop", {"name": text}, actor="coord"),
    }
    for what, attempt in attempts.items():
        with pytest.raises((InputError, RulesRefused), match="control characters|longer than"):
            attempt()
        assert snapshot_rows(ledger) == before, f"{what} wrote although refused"


def test_the_import_path_names_the_exchange(ledger):
    with pytest.raises(RulesRefused) as refused:
        ledger.record_many([exchange(), exchange(), exchange(note=REWRITE)])
    assert [(p.index, p.field) for p in refused.value.problems] == [(2, "note")]


def test_flags_hold_no_separators(ledger):
    for flag in ("supported,admin", "a;b", " "):
        with pytest.raises(InputError, match="flag: "):
            ledger.update_member("alice", actor="coord", flags={flag})


def test_ordinary_text_still_passes(ledger):
    note = "Lifts to the surgery — 2 × return, café after (Zoë's idea) 🚗"
    entry = ledger.record(exchange(recorded_by="coord", note=note))
    assert ledger.entry(entry.id).note == note
    ledger.update_member("alice", actor="coord", name="Ålice Ñúñez-O'Brien", area="Colne Valley")


@pytest.fixture
def run(tmp_path, monkeypatch):
    path = tmp_path / "coop.sqlite"
    monkeypatch.setenv("TIMEBANK_LEDGER", str(path))
    invoke = cli_invoker()

    invoke("init", "--coordinator", "coord")
    invoke("member", "add", "alice", "Alice", "--as", "coord")
    invoke("member", "add", "bob", "Bob", "--as", "coord")
    invoke.path = path
    return invoke


def test_the_cli_refuses_forged_notes_and_reasons(run):
    run("log", "alice", "bob", "1h", "-k", "shopping", "--as", "coord")
    run("log", "alice", "bob", "1h", "-k", "shopping", "--as", "alice")
    for args in (
        ("log", "alice", "bob", "1h", "-k", "shopping", "-n", FORGED, "--as", "coord"),
        ("give", "alice", "bob", "10m", "-n", "x" * 100_000, "--as", "alice"),
        ("reverse", "1", "--reason", REWRITE, "--as", "coord"),
        ("decline", "1", "--reason", REWRITE, "--as", "bob"),
        ("member", "add", "eve", "Eve\x1b[31m", "--as", "coord"),
    ):
        result = run(*args, ok=False)
        assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1, result.stderr


def test_text_an_older_ledger_holds_is_shown_escaped(run, monkeypatch):
    with monkeypatch.context() as older, Ledger(run.path) as ledger:
        older.setattr("timebank.pipeline.text_problems", lambda exchanges: [])  # an older timebank
        ledger.record(exchange(recorded_by="coord", note=REWRITE))
        ledger.record(exchange(recorded_by="coord", note=FORGED))
        ledger.conn.execute("UPDATE members SET name = ? WHERE handle = 'bob'", ("Bob\x1b[8m",))
        ledger.conn.commit()
    for args in (("statement", "bob"), ("member", "list"), ("member", "show", "bob"), ("balance",)):
        out = run(*args).output
        assert "\x1b" not in out, args
    statement = run("statement", "bob").output
    assert len(statement.splitlines()) == 3, "a stored line break must not make a line of its own"
    assert "\\x1b[1A" in statement and "thanks\\n" in statement
