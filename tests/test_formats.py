"""``--format text|json|csv``: integer minutes and stable field names for programs."""

import csv
import io
import json

import pytest
from click.testing import CliRunner

from timebank.cli.main import cli


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("TIMEBANK_LEDGER", str(tmp_path / "coop.sqlite"))
    monkeypatch.setenv("TIMEBANK_USER", "cora")
    runner = CliRunner()

    def invoke(*args):
        result = runner.invoke(cli, [str(a) for a in args], catch_exceptions=False, prog_name="timebank")
        assert result.exit_code == 0, result.output
        return result.output

    invoke("init", "--coordinator", "cora")
    for handle in ("alice", "bob"):
        invoke("member", "add", handle, handle.title(), "--joined", "2024-01-01")
    invoke("log", "alice", "bob", "1h01", "-k", "shopping", "-d", "2025-02-03", "-n", "=SUM(A1)")
    invoke("log", "bob", "alice", "30m", "-k", "transport", "--as", "bob")
    return invoke


def test_balance_as_json_and_csv(run):
    rows = json.loads(run("balance", "--format", "json"))
    alice = next(r for r in rows if r["account"] == "alice")
    assert alice == {"account": "alice", "name": "Alice", "kind": "member", "member": "alice", "minutes": 61}
    assert json.loads(run("balance", "bob", "--format", "json")) == [
        {"account": "bob", "name": "Bob", "kind": "member", "member": "bob", "minutes": -61}
    ]
    table = list(csv.DictReader(io.StringIO(run("balance", "--format", "csv"))))
    assert {r["account"]: int(r["minutes"]) for r in table}["alice"] == 61
    assert run("balance", "alice") == "alice: 1h01\n"


def test_statement_as_json_and_csv(run):
    [line] = json.loads(run("statement", "alice", "--format", "json"))
    assert line == {
        "entry": 1,
        "seq": 0,
        "day": "2025-02-03",
        "kind": "service",
        "minutes": 61,
        "balance": 61,
        "category": "shopping",
        "counterparties": ["bob"],
        "note": "=SUM(A1)",
    }
    [row] = list(csv.DictReader(io.StringIO(run("statement", "alice", "--format", "csv"))))
    assert row["note"] == "'=SUM(A1)" and row["minutes"] == "61" and row["counterparties"] == "bob"


def test_claims_member_list_rules_history_as_json(run):
    [claim] = json.loads(run("claims", "--format", "json"))
    assert claim["claim"] == 1 and claim["status"] == "pending" and claim["minutes"] == 30
    assert claim["awaiting"] == ["alice"] and claim["givers"] == ["bob"]
    header = run("claims", "--format", "csv").splitlines()[0]
    assert (
        header == "claim,status,day,givers,receivers,minutes,category,note,awaiting,confirmed,withdrawn,"
        "decided_by,entry,reason"
    )
    members = json.loads(run("member", "list", "--format", "json"))
    assert {m["handle"]: m["minutes"] for m in members} == {"alice": 61, "bob": -61, "cora": 0}
    assert set(members[0]) == {
        "handle",
        "name",
        "class",
        "role",
        "status",
        "joined",
        "left",
        "area",
        "flags",
        "minutes",
    }
    history = json.loads(run("rules", "history", "--format", "json"))
    assert [h["version"] for h in history] == [1]  # one initial version
    assert set(history[0]) == {"version", "created_at", "created_by", "note"}


def test_report_as_json_and_csv(run):
    run("rules", "enable", "care_coop")
    reports = json.loads(run("report", "--format", "json"))
    assert [r["report"] for r in reports][-2:] == ["inactive", "paid-and-voluntary"]
    assert reports[-1]["rows"][1] == {"kind": "voluntary time credits", "hours": "1.02 h"}
    table = list(csv.DictReader(io.StringIO(run("report", "paid-and-voluntary", "--format", "csv"))))
    assert table[1] == {"kind": "voluntary time credits", "hours": "1.02 h"}


def test_show_one_entry_with_its_postings(run):
    text = run("show", "1")
    assert text.startswith("entry #1  2025-02-03  service\nrecorded by cora at ")
    assert "alice gave 1h01 of shopping to bob" in text and "postings: alice +1h01, bob -1h01" in text
    entry = json.loads(run("show", "1", "--format", "json"))
    assert entry["postings"] == [
        {"seq": 0, "account": "alice", "minutes": 61},
        {"seq": 1, "account": "bob", "minutes": -61},
    ]
    assert entry["rules_version"] == 1 and entry["reverses"] is None and entry["hash"]
    rows = list(csv.DictReader(io.StringIO(run("show", "1", "--format", "csv"))))
    assert [(r["account"], int(r["minutes"])) for r in rows] == [("alice", 61), ("bob", -61)]
