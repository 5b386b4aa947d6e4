"""Whole-ledger exports, checked by the real tools a treasurer trusts, and the bundle round trip.

The journals are read by Debian's ``hledger`` (``check --strict`` and ``bal``) and by
beancount (``bean-check`` and its loader); every account's balance must equal timebank's.
``make test`` installs hledger (the ``tools`` target); the test fails, not skips, without it.
"""

import csv
import datetime as dt
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from timebank.cli.main import cli
from timebank.interchange.journal import account_name
from timebank.ledger import Ledger
from timebank.models import Member
from timebank.permissions import SYSTEM
from timebank.testing import build_ledger, exchange

JOINED = dt.date(2024, 1, 1)
DAY = dt.date(2025, 3, 3)
BIN = Path(sys.executable).parent


def build(path: Path, template: str) -> Ledger:
    """A small co-op with every kind of entry: group sessions, gifts, reversals, leavers."""
    ledger = build_ledger(path, template, coordinator=False)
    classes = ledger.member_classes()
    ledger.add_member(Member("cora", "Cora", classes[0], JOINED, role="coordinator"), actor=SYSTEM)
    handles = ["ann.lee", "bob_k", "cat", "dan-o"]
    for i, handle in enumerate(handles):
        ledger.add_member(Member(handle, handle.title(), classes[i % len(classes)], JOINED), actor="cora")
    kinds = ledger.categories()
    if "safeguarding" in ledger.rules.enabled:  # checked care needs a current check
        from timebank.plugins.safeguarding import record_check

        for handle in handles:
            record_check(
                ledger, handle, kind="DBS", done_on=JOINED, valid_until=dt.date(2099, 1, 1), actor="cora"
            )
    if template == "care-coop":
        ledger.update_member("cat", actor="cora", member_class="care worker")
    if template == "han-group":
        from timebank.plugins.han_group import form_group

        form_group(ledger, "riverside", "ann.lee", ["bob_k", "cat"], actor="cora")
        ledger.record(
            exchange(
                "ann.lee,bob_k,cat",
                "dan-o",
                60,
                day=DAY,
                category=kinds[0],
                recorded_by="cora",
                refs={"han": "riverside"},
            )
        )
    ledger.record(
        exchange(
            "ann.lee",
            "bob_k,cat",
            45,
            day=DAY,
            category=kinds[0],
            recorded_by="cora",
            note='=HYPERLINK("x"); "quoted"',
        )
    )
    wrong = ledger.record(exchange("cat", "ann.lee", 30, day=DAY, category=kinds[-1], recorded_by="cora"))
    ledger.reverse(wrong.id, reason="logged twice", actor="cora")
    ledger.record(
        exchange(
            "dan-o", "ann.lee", 90, day=DAY + dt.timedelta(days=1), category=kinds[0], recorded_by="cora"
        )
    )
    ledger.transfer("@coop", "dan-o", 15, actor="cora", note="a gift")
    if template == "care-coop":  # paid care: an entry with no postings
        ledger.record(exchange("cat", "dan-o", 60, day=DAY, category="regulated care", recorded_by="cora"))
    if "@chest" in ledger.account_ids():
        ledger.transfer("@coop", "@chest", 120, actor="cora")
        ledger.update_member("cat", actor="cora", flags={"supported", "oriented"})
        ledger.record(exchange("bob_k", "cat", 60, day=DAY, category=kinds[0], recorded_by="cora"))
    ledger.retire_member("bob_k", actor="cora")
    return ledger


TEMPLATES = ["time-bank", "fureai-kippu", "han-group", "care-coop"]


@pytest.fixture(params=TEMPLATES)
def coop(request, tmp_path, monkeypatch):
    path = tmp_path / "coop.sqlite"
    build(path, request.param).close()
    monkeypatch.setenv("TIMEBANK_LEDGER", str(path))
    monkeypatch.setenv("TIMEBANK_USER", "cora")
    return path


def run(*args, ok=True):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False, prog_name="timebank")
    assert (result.exit_code == 0) == ok, result.output
    return result


def balances(path: Path) -> dict[str, int]:
    """Every account's balance, by journal name, as ``timebank balance --format json`` gives it."""
    rows = json.loads(run("balance", "--format", "json", "--ledger", path).output)
    return {account_name(row["account"]): row["minutes"] for row in rows}


def tool(name: str) -> str:
    found = shutil.which(name) or (str(BIN / name) if (BIN / name).exists() else None)
    assert found, f"{name} is not installed: run 'make tools' (Debian's hledger) or 'make install'"
    return found


def test_hledger_checks_the_journal_and_agrees_on_every_balance(coop, tmp_path):
    journal = tmp_path / "coop.journal"
    run("export", "journal", "--format", "hledger", "--out", journal)
    hledger = tool("hledger")
    check = subprocess.run([hledger, "-f", journal, "check", "--strict"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    bal = subprocess.run(
        [hledger, "-f", journal, "bal", "--flat", "--no-total", "-E", "-O", "csv"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    theirs = {row["account"]: row["balance"] for row in csv.DictReader(io.StringIO(bal))}
    ours = balances(coop)
    assert {a: f"{m} MIN" for a, m in ours.items() if m} == {a: b for a, b in theirs.items() if b != "0"}
    # entry ids are the transactions' codes; a reversal names what it reverses
    text = journal.read_text()
    assert " * (1) " in text and "reverses:" in text


def test_beancount_checks_the_file_and_agrees_on_every_balance(coop, tmp_path):
    from beancount import loader
    from beancount.core import data

    book = tmp_path / "coop.beancount"
    run("export", "journal", "--format", "beancount", "--out", book)
    check = subprocess.run([tool("bean-check"), book], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    entries, errors, _ = loader.load_file(str(book))
    assert errors == []
    theirs: dict[str, int] = {}
    links = []
    for entry in entries:
        if isinstance(entry, data.Transaction):
            links.append(entry)
            for posting in entry.postings:
                assert posting.units.currency == "MIN"
                theirs[posting.account] = theirs.get(posting.account, 0) + int(posting.units.number)
    ours = balances(coop)
    assert {a: m for a, m in ours.items() if m} == {a: m for a, m in theirs.items() if m}
    reversal = next(t for t in links if "reverses" in t.meta)
    assert f"entry-{reversal.meta['reverses']}" in reversal.links
    assert all(isinstance(t.meta["entry"], int | object) for t in links)


def test_account_names_fit_both_tools():
    assert account_name("alice") == "Members:Alice"
    assert account_name("ann.lee~savings") == "Members:Ann-Dot-lee:Savings"
    assert account_name("bob_k") == "Members:Bob-Us-k"
    assert account_name("@han:riverside") == "System:Han:Riverside"
    assert account_name("@chest") == "System:Chest"
    assert account_name("9lives") == "Members:9lives"


def test_entries_and_postings_csv_hold_everything_and_are_spreadsheet_safe(coop, tmp_path):
    entries = list(csv.DictReader(io.StringIO(run("export", "entries").output)))
    postings = list(csv.DictReader(io.StringIO(run("export", "postings").output)))
    with Ledger(coop) as ledger:
        assert [int(e["entry"]) for e in entries] == list(range(1, ledger.last_entry_id() + 1))
        kinds = {e["kind"] for e in entries}
        assert {"service", "transfer", "reversal"} <= kinds
        reversal = next(e for e in entries if e["kind"] == "reversal")
        assert reversal["reverses"] and reversal["note"] == "logged twice"
        noted = next(e for e in entries if "HYPERLINK" in e["note"])
        assert noted["note"].startswith("'=")
        final: dict[str, int] = {}
        total = 0
        for p in postings:
            code = p["account"].removeprefix("'")  # '@chest: a leading @ is formula-safe quoted
            assert int(p["balance"]) == final.get(code, 0) + int(p["minutes"])
            final[code] = int(p["balance"])
            total += int(p["minutes"])
        assert total == 0
        assert {a.code: b for a, b in ledger.balances() if b} == {a: b for a, b in final.items() if b}


def test_whole_ledger_exports_are_for_coordinators(coop, tmp_path):
    out = tmp_path / "x.journal"
    result = run("export", "journal", "--format", "hledger", "--out", out, "--as", "cat", ok=False)
    assert result.exit_code == 1 and "only a co-ordinator may export" in result.output
    assert not out.exists()
    result = run("export", "journal", "--out", out, ok=False)
    assert "format: say --format hledger or --format beancount" in result.output
    result = run("export", "entries", "--out", coop, ok=False)
    assert "is the ledger itself" in result.output and "nothing was written" in result.output


def test_the_bundle_restores_every_entry_and_statement_verbatim(coop, tmp_path):
    bundle = tmp_path / "coop.json"
    run("export", "ledger", "--out", bundle)
    fresh = tmp_path / "fresh.sqlite"
    assert run("import", "ledger", bundle, "--ledger", fresh, "--dry-run").output.startswith("would restore ")
    assert not fresh.exists()
    out = run("import", "ledger", bundle, "--ledger", fresh).output
    assert out.startswith("restored ") and str(fresh) in out
    with Ledger(coop) as old, Ledger(fresh) as new:
        assert new.verify().ok
        last = old.last_entry_id()
        assert new.entries(limit=last + 1) == old.entries(limit=last + 1)
        assert new.members() == old.members()
        assert new.rules_history() == old.rules_history() and new.rules == old.rules
        assert new.last_close() == old.last_close()
        assert new.balances() == old.balances()
        for account in old.accounts():
            assert new.statement(account.code, limit=10_000) == old.statement(account.code, limit=10_000)
    run("verify", "--ledger", fresh)


def test_a_changed_or_unbalanced_bundle_is_refused_and_leaves_no_file(coop, tmp_path):
    bundle = tmp_path / "coop.json"
    run("export", "ledger", "--out", bundle)
    data = json.loads(bundle.read_text())
    fresh = tmp_path / "fresh.sqlite"

    i = next(i for i, e in enumerate(data["entries"]) if e["postings"])
    data["entries"][i]["postings"][0][1] += 1
    bundle.write_text(json.dumps(data))
    result = run("import", "ledger", bundle, "--ledger", fresh, ok=False)
    assert f"entries: entry #{i + 1}: its postings sum to 1, not zero" in result.output
    data["entries"][i]["postings"][0][1] -= 1

    data["entries"][i]["note"] = "edited"
    bundle.write_text(json.dumps(data))
    result = run("import", "ledger", bundle, "--ledger", fresh, ok=False)
    assert f"entry #{i + 1}: its hash does not match its content" in result.output
    assert not fresh.exists()

    result = run("import", "ledger", bundle, "--ledger", fresh, "--as", "cat", ok=False)
    assert "only an active co-ordinator of the bundled co-op may restore it" in result.output
    result = run("import", "ledger", bundle, "--ledger", coop, ok=False)
    assert "already exists" in result.output
    assert not fresh.exists()


def test_import_exchanges_names_the_rows_it_cannot_reproduce(tmp_path, monkeypatch):
    from timebank.interchange.csvio import (
        ImportRefused,
        export_exchanges,
        export_members,
        import_exchanges,
        import_members,
    )

    source = build_ledger(tmp_path / "a.sqlite", "time-bank", coordinator=False)
    source.add_member(Member("cora", "Cora", "member", JOINED, role="coordinator"), actor=SYSTEM)
    for handle in ("ann", "bob"):
        source.add_member(Member(handle, handle, "member", JOINED), actor="cora")
    source.add_member(Member("dora", "Dora", "member", JOINED, flags={"supported"}), actor="cora")
    source.transfer("@coop", "@chest", 120, actor="cora")  # a donation: not an exchange
    source.record(exchange("ann", "dora", 60, day=DAY, recorded_by="cora"))  # the chest pays
    source.record(exchange("ann", "bob", 30, day=DAY, recorded_by="cora", refs={"episode": "7"}))
    exchanges, members = tmp_path / "x.csv", tmp_path / "m.csv"
    with open(exchanges, "w", newline="") as out:
        export_exchanges(source, out)
    with open(members, "w", newline="") as out:
        export_members(source, out)
    text = exchanges.read_text()
    assert "ann=60;dora=-60;dora=60;@chest=-60" in text.replace("'", "") and "episode=7" in text

    target = build_ledger(tmp_path / "b.sqlite", "time-bank", coordinator=False)
    target.add_member(Member("cora", "Cora", "member", JOINED, role="coordinator"), actor=SYSTEM)
    lines = [line for line in members.read_text().splitlines() if not line.startswith("cora,")]
    members.write_text("\n".join(lines) + "\n")
    import_members(target, members, actor="cora")
    before = target.last_entry_id()
    target.update_member("dora", actor="cora", flags=set())  # not supported here
    with pytest.raises(ImportRefused) as refused:
        import_exchanges(target, exchanges, actor="cora")
    assert refused.value.errors == [
        "line 2, postings: the rules here would post ann +1h, dora -1h, the file says "
        "ann +1h, dora -1h, dora +1h, @chest -1h (@chest paid there; what funded it is not in this file)"
    ]
    assert target.last_entry_id() == before, "nothing was imported"
    # the refs are reproduced: the second row's entry carries episode=7
    lines = exchanges.read_text().splitlines()
    exchanges.write_text("\n".join([lines[0], lines[2]]) + "\n")
    import_exchanges(target, exchanges, actor="cora")
    assert target.entry(target.last_entry_id()).refs == {"episode": "7"}


EDITS = {
    "a member's name with escapes": (lambda d: d["members"][1].update(name="Ann\x1b[2KFORGED"), "control"),
    "the handle 'system'": (lambda d: d["members"][2].update(handle="system"), "ledger's own actions"),
    "a flag with separators": (lambda d: d["members"][1].update(flags="a;b c"), "is not a flag"),
    "an unknown status": (lambda d: d["members"][1].update(status="bogus"), "is not known"),
    "a newer schema": (lambda d: d.update(schema_version=99), "schema_version: 99"),
    "settings out of range": (
        lambda d: d["rules"][-1]["data"]["plugins"]["classic"].update(max_per_day=10**9),
        "plugins.classic.max_per_day",
    ),
    "a co-op name with escapes": (
        lambda d: d["rules"][-1]["data"]["coop"].update(name="X\x1b[2J"),
        "control",
    ),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_a_bundle_is_checked_as_the_ledger_checks_what_is_typed(coop, tmp_path, edit):
    """An edited bundle brought in a member called ``system``, names with terminal escapes,
    a status SQLite refused with a traceback, out-of-range settings and a newer schema."""
    bundle = tmp_path / "coop.json"
    run("export", "ledger", "--out", bundle)
    data = json.loads(bundle.read_text())
    change, says = EDITS[edit]
    change(data)
    bundle.write_text(json.dumps(data))
    fresh = tmp_path / "fresh.sqlite"
    result = run("import", "ledger", bundle, "--ledger", fresh, ok=False)
    assert says in result.output and "Traceback" not in result.output, result.output
    assert result.output.count("\n") == 1
    assert not fresh.exists()
