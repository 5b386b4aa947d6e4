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


LISTING_HEADER = (
    "id,kind,member,posted_by,category,title,description,area,availability,posted_at,posted_on,"
    "expires_on,taken_by,entry_id,state"
)
LISTING_FIELDS = LISTING_HEADER.split(",")


def _post_listings(run, tmp_path):
    """An offer (alice), a request (bob) and a request posted ten days ago (alice), unanswered."""
    import datetime as dt

    from timebank.ledger import Ledger
    from timebank.listings import Listings

    offer = json.loads(
        run("offer", "add", "Lifts", "-k", "transport", "-d", "=SUM(A1)", "--as", "alice", "--format", "json")
    )
    run("request", "add", "Lift to the surgery", "-k", "transport", "--as", "bob")
    with Ledger(tmp_path / "coop.sqlite") as ledger:
        today = dt.date.today() - dt.timedelta(days=10)
        Listings(ledger).post("request", actor="alice", category="shopping", title="Weekly shop", today=today)
    return offer


def test_listings_as_json_keep_their_shape(run, tmp_path):
    """``--format json`` of offers and requests: the same objects as before listings took
    the shared ``--format`` option (a list for lists, one object for add and show)."""
    import datetime as dt

    today = dt.date.today().isoformat()
    offer = _post_listings(run, tmp_path)
    assert list(offer) == LISTING_FIELDS
    assert offer["id"] == 1 and offer["kind"] == "offer" and offer["state"] == "open"
    assert offer["posted_on"] == today and offer["description"] == "=SUM(A1)" and offer["entry_id"] is None
    assert json.loads(run("offer", "list", "--format", "json")) == [offer]
    requests = json.loads(run("request", "list", "--format", "json"))
    assert [(r["id"], r["member"]) for r in requests] == [(3, "alice"), (2, "bob")]
    matches = json.loads(run("match", "2", "--format", "json"))
    assert matches == [
        {
            "listing_id": 2,
            "member": "alice",
            "other": 1,
            "tier": 0,
            "reason": "same kind, same area",
            "title": "Lifts",
            "area": "",
            "category": "transport",
        }
    ]
    run("request", "answer", "2", "--as", "alice", "-n", "Tuesday?")
    shown = json.loads(run("request", "show", "2", "--format", "json"))
    assert list(shown) == [*LISTING_FIELDS, "answers", "history"]
    assert [(a["member"], a["note"]) for a in shown["answers"]] == [("alice", "Tuesday?")]
    assert [(e["by"], e["action"]) for e in shown["history"]] == [("bob", "posted"), ("alice", "answered")]
    [waiting] = json.loads(run("request", "unanswered", "--days", "5", "--format", "json"))
    assert (
        waiting["id"] == 3
        and waiting["days_waiting"] == 10
        and list(waiting) == [*LISTING_FIELDS, "days_waiting"]
    )
    assert json.loads(run("request", "unanswered", "--days", "30", "--format", "json")) == []


def test_listings_as_csv_like_every_other_list(run, tmp_path):
    """Offers, requests, matches and the unanswered report take ``--format csv`` too: a
    header of the JSON's field names, a line a row, text made formula-safe."""
    _post_listings(run, tmp_path)
    [offer] = list(csv.DictReader(io.StringIO(run("offer", "list", "--format", "csv"))))
    assert list(offer) == LISTING_FIELDS
    assert offer["id"] == "1" and offer["description"] == "'=SUM(A1)" and offer["entry_id"] == ""
    header = run("request", "list", "--format", "csv").splitlines()[0]
    assert header == LISTING_HEADER
    assert run("offer", "list", "--state", "done", "--format", "csv") == LISTING_HEADER + "\n"
    [match] = list(csv.DictReader(io.StringIO(run("match", "2", "--format", "csv"))))
    assert match == {
        "listing_id": "2",
        "member": "alice",
        "other": "1",
        "tier": "0",
        "reason": "same kind, same area",
        "title": "Lifts",
        "area": "",
        "category": "transport",
    }
    [waiting] = list(
        csv.DictReader(io.StringIO(run("request", "unanswered", "--days", "5", "--format", "csv")))
    )
    assert waiting["id"] == "3" and waiting["days_waiting"] == "10"
    run("request", "answer", "2", "--as", "alice")
    [shown] = list(csv.DictReader(io.StringIO(run("request", "show", "2", "--format", "csv"))))
    assert list(shown) == [*LISTING_FIELDS, "answers"] and shown["answers"] == "alice"
    [added] = list(
        csv.DictReader(
            io.StringIO(run("offer", "add", "Tea", "-k", "shopping", "--as", "bob", "--format", "csv"))
        )
    )
    assert added["id"] == "4" and added["member"] == "bob" and added["state"] == "open"
    assert run("request", "show", "2").startswith("#2 ")
