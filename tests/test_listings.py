"""Offers and requests: storage beside the chain, history, FTS5 search, expiry derived on
read, matching, the listing reference in the one write path, and the CLI."""

import datetime as dt
import json
import sqlite3

import pytest
from helpers import cli_on, exchange

from timebank.errors import InputError, NotAllowed, RulesRefused
from timebank.ledger import Ledger
from timebank.listings import Listings, fts_query
from timebank.testing import assert_ledger_holds, snapshot_rows

TODAY = dt.date.today()
MEMBERS = {"ann": "north", "ben": "north", "cat": "south", "dan": "east", "eve": "north"}


@pytest.fixture
def coop(make_ledger):
    ledger = make_ledger("time-bank", members={h: "member" for h in MEMBERS})
    for handle, area in MEMBERS.items():
        ledger.update_member(handle, actor="coord", area=area)
    return ledger


@pytest.fixture
def board(coop):
    return Listings(coop)


def test_listings_live_beside_the_chain_and_keep_their_history(coop, board):
    request = board.post("request", actor="ann", category="gardening", title="Hedge needs trimming")
    offer = board.post("offer", actor="ben", category="gardening", title="Garden jobs at weekends")
    assert request.state(TODAY) == "open" and request.area == "north"
    assert request.expires_on == TODAY + dt.timedelta(days=56)
    board.answer(request.id, actor="ben", note="Saturday?")
    assert board.accept(request.id, "ben", actor="ann").state(TODAY) == "taken up"
    entry = coop.record(board.exchange_for(request.id, 90, TODAY, actor="coord"), acknowledge=True)
    assert entry.refs == {"listing": str(request.id)}
    done = board.get(request.id)
    assert done.state(TODAY) == "done" and done.entry_id == entry.id
    coop.reverse(entry.id, reason="logged twice", actor="coord")
    assert board.get(request.id).state(TODAY) == "taken up"
    actions = [(e.by, e.action) for e in board.history(request.id)]
    assert actions == [
        ("ann", "posted"),
        ("ben", "answered"),
        ("ann", "accepted"),
        ("coord", "done"),
        ("coord", "reopened"),
    ]
    assert board.get(offer.id).state(TODAY) == "open"
    assert_ledger_holds(coop)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        coop.conn.execute("UPDATE listing_events SET action = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="withdraw"):
        coop.conn.execute("DELETE FROM listings")


def test_full_text_search_is_fts5_and_takes_what_people_type(coop, board):
    board.post(
        "offer", actor="ben", category="gardening", title="Hedges and lawns", description="I trim hedges"
    )
    board.post(
        "request", actor="cat", category="transport", title="Lift to the surgery", description="Tuesdays"
    )
    board.post("offer", actor="dan", category="household", title="Shelves put up")
    assert coop.store.db["listings"].detect_fts() == "listings_fts"
    assert [x.title for x in board.search("hedge")] == ["Hedges and lawns"]  # a prefix finds it
    assert [x.title for x in board.search("tuesdays")] == ["Lift to the surgery"]  # the description too
    assert [x.title for x in board.search("lift surgery")] == ["Lift to the surgery"]
    assert board.search("lift shelves") == []  # every word must be there
    for typed in ('NEAR("a"', 'hedge" OR *', "AND", '"', "   "):
        board.search(typed)  # FTS5 syntax typed by a member is searched as words, never raises
    assert fts_query('he said "hi" OR x*') == '"he"* "said"* "hi"* "OR"* "x"*'
    assert [x.title for x in board.search("hedge", kind="request")] == []


def test_expired_is_derived_when_read_and_reading_never_writes(coop, board):
    item = board.post("offer", actor="ben", category="gardening", title="Lawns", expires_on=TODAY)
    other = Ledger(coop.path)
    before = other.conn.execute("PRAGMA data_version").fetchone()[0]
    later = TODAY + dt.timedelta(days=1)
    assert board.get(item.id).state(later) == "expired"
    assert board.board(state="expired", today=later) == [board.get(item.id)]
    assert board.board(state="open", today=later) == []
    assert board.search("lawns", today=later) == []
    assert board.match(item.id, today=later) == []
    assert other.conn.execute("PRAGMA data_version").fetchone()[0] == before
    assert coop.conn.execute("SELECT status FROM listings").fetchone()[0] == "open"
    other.close()
    with pytest.raises(InputError, match="not open"):
        board.answer(item.id, actor="ann", today=later)


def test_expiry_comes_from_the_rules(coop, board):
    coop.change_settings("coop", {"listing_expiry_days": 14}, actor="coord")
    assert board.post(
        "offer", actor="ben", category="gardening", title="x"
    ).expires_on == TODAY + dt.timedelta(14)


def test_matching_same_kind_and_area_first_then_neighbours_then_past_givers(coop, board):
    coop.change_settings(
        "coop",
        {"neighbouring_kinds": {"gardening": ["household"]}, "neighbouring_areas": {"north": ["south"]}},
        actor="coord",
    )
    request = board.post("request", actor="ann", category="gardening", title="Hedge")
    board.post("offer", actor="cat", category="gardening", title="Garden help south")  # neighbouring area
    board.post("offer", actor="ben", category="gardening", title="Garden help north")  # exact
    board.post("offer", actor="eve", category="household", title="Odd jobs")  # neighbouring kind
    board.post("offer", actor="dan", category="gardening", title="Garden help east")  # not a neighbour
    board.post("offer", actor="ann", category="gardening", title="My own offer")  # never oneself
    board.post("request", actor="ben", category="gardening", title="A request is no match for a request")
    coop.record(exchange("dan", "cat", 60, category="gardening"), acknowledge=True)
    coop.record(exchange("eve", "cat", 60, category="gardening"), acknowledge=True)
    found = [(m.member, m.tier) for m in board.match(request.id)]
    assert found == [("ben", 0), ("cat", 1), ("eve", 2), ("dan", 4)]
    # an offer finds the requests it fits
    offer = board.post("offer", actor="dan", category="household", title="Shelves", area="north")
    assert [(m.member, m.tier) for m in board.match(offer.id)] == [("ben", 2), ("ann", 2)]  # newest first


def test_without_declared_neighbours_only_exact_kind_and_area(coop, board):
    request = board.post("request", actor="ann", category="gardening", title="Hedge")
    board.post("offer", actor="cat", category="gardening", title="South")
    board.post("offer", actor="eve", category="household", title="Odd jobs")
    board.post("offer", actor="ben", category="gardening", title="North")
    coop.retire_member("ben", actor="coord")
    assert board.match(request.id) == []  # ben retired; cat and eve are not exact


def test_an_exchange_naming_a_listing_is_checked_in_the_one_write_path(coop, board):
    request = board.post("request", actor="ann", category="gardening", title="Hedge")
    board.answer(request.id, actor="ben")
    board.accept(request.id, "ben", actor="ann")
    before = snapshot_rows(coop)
    wrong = [
        (exchange("cat", "ann", refs={"listing": str(request.id)}), "taken up by ben"),
        (exchange("ben", "cat", refs={"listing": str(request.id)}), "ann's, who must receive"),
        (exchange("ben", "ann", refs={"listing": "999"}), "no offer or request #999"),
        (exchange("ben", "ann", refs={"listing": "x"}), "not a listing number"),
    ]
    for bad, message in wrong:
        with pytest.raises(RulesRefused, match=message):
            coop.record_many([bad])  # the bulk path an import takes
    good = exchange("ben", "ann", category="gardening", refs={"listing": str(request.id)})
    with pytest.raises(RulesRefused, match="already done"):
        coop.record_many([good, good])  # the same listing twice in one batch
    assert snapshot_rows(coop) == before
    # a claim made now is checked again when confirmed: withdrawn meanwhile, it is refused
    claim = coop.record(attrs_evolve(good, recorded_by="ben"))
    board.withdraw(request.id, actor="ann", reason="sorted")
    with pytest.raises(RulesRefused, match="already withdrawn"):
        coop.confirm(claim.id, actor="ann")
    assert coop.claim(claim.id).status == "pending"


def attrs_evolve(record, **changes):
    import attrs

    return attrs.evolve(record, **changes)


def test_who_may_post_change_withdraw_and_accept(coop, board):
    with pytest.raises(NotAllowed, match="only a co-ordinator posts for someone else"):
        board.post("request", actor="ben", member="ann", category="gardening", title="x")
    item = board.post("request", actor="coord", member="ann", category="gardening", title="Hedge")
    assert (item.member, item.posted_by) == ("ann", "coord")
    with pytest.raises(NotAllowed, match="ann's"):
        board.withdraw(item.id, actor="ben")
    with pytest.raises(InputError, match="your own"):
        board.answer(item.id, actor="ann")
    with pytest.raises(InputError, match="has not answered"):
        board.accept(item.id, "ben", actor="ann")
    with pytest.raises(InputError, match="not a kind of care"):
        board.post("offer", actor="ben", category="astrology", title="x")
    changed = board.change(item.id, actor="ann", title="Hedge and lawn")
    assert changed.title == "Hedge and lawn" and board.search("lawn")[0].id == item.id
    assert board.search("trimming") == [] and board.history(item.id)[-1].action == "changed"
    assert board.withdraw(item.id, actor="ann").state(TODAY) == "withdrawn"
    with pytest.raises(InputError, match="already withdrawn"):
        board.withdraw(item.id, actor="coord")


def test_a_withdrawal_racing_an_accept_is_rechecked_inside_the_transaction(coop, board):
    item = board.post("request", actor="ann", category="gardening", title="Hedge")
    board.answer(item.id, actor="ben")
    other = Ledger(coop.path)
    stale = Listings(other)
    stale.get = lambda listing_id, _real=stale.get: attrs_evolve(_real(listing_id), status="open")
    board.withdraw(item.id, actor="ann")
    with pytest.raises(InputError, match="meanwhile"):
        stale.accept(item.id, "ben", actor="coord")
    other.close()
    assert board.get(item.id).state(TODAY) == "withdrawn"


def test_unanswered_requests_report(coop, board):
    old = board.post(
        "request", actor="ann", category="gardening", title="Old", today=TODAY - dt.timedelta(10)
    )
    answered = board.post(
        "request", actor="cat", category="gardening", title="x", today=TODAY - dt.timedelta(10)
    )
    board.post("request", actor="dan", category="gardening", title="New")
    board.answer(answered.id, actor="ben")
    assert [(x.id, days) for x, days in board.unanswered(7)] == [(old.id, 10)]


@pytest.fixture
def run(coop, monkeypatch):
    return cli_on(coop.path, monkeypatch)


def test_cli_offers_requests_and_match(run, coop):
    assert run("request", "add", "Hedge trimming", "-k", "gardening", "--as", "ann").output.startswith(
        "request #1 posted for ann"
    )
    run("offer", "add", "Garden jobs", "-k", "gardening", "--when", "Sat mornings", "--as", "ben")
    listed = json.loads(run("offer", "list", "--format", "json").output)
    assert [(x["id"], x["member"], x["availability"], x["state"]) for x in listed] == [
        (2, "ben", "Sat mornings", "open")
    ]
    assert "Hedge trimming" in run("request", "list", "-s", "hedge").output
    matches = json.loads(run("match", "1", "--format", "json").output)
    assert [(m["member"], m["other"]) for m in matches] == [("ben", 2)]
    assert "ben" in run("match", "1").output
    run("request", "answer", "1", "--as", "ben")
    run("request", "accept", "1", "ben", "--as", "ann")
    run("log", "ben", "ann", "1h", "-k", "gardening", "--ref", "listing=1", "--as", "coord")
    assert json.loads(run("request", "list", "--state", "done", "--format", "json").output)[0]["id"] == 1
    assert "done entry #" in run("request", "show", "1").output
    later = (TODAY + dt.timedelta(days=90)).isoformat()
    assert (
        f"until {later}"
        in run(
            "offer", "change", "2", "--title", "Garden and lawn jobs", "--expires", later, "--as", "ben"
        ).output
    )
    assert (
        "changed" in run("offer", "show", "2").output
        and "Garden and lawn jobs" in run("offer", "list", "-s", "lawn").output
    )
    run("offer", "withdraw", "2", "--as", "ben")
    assert run("offer", "list").output == "nothing found\n"
    run("request", "add", "Lift", "-k", "transport", "--as", "cat")
    assert "withdrawn" in run("request", "close", "3", "--as", "cat").output


def test_cli_errors_are_one_sentence_and_leave_the_ledger_as_it_was(run, coop):
    run("offer", "add", "Garden jobs", "-k", "gardening", "--as", "ben")
    before = snapshot_rows(coop)
    cases = [
        (("offer", "withdraw", "1", "--as", "ann"), "only they or a co-ordinator"),
        (("request", "close", "1", "--as", "ben"), "#1 is an offer"),
        (("offer", "add", "x", "-k", "nope", "--as", "ben"), "not a kind of care"),
        (("offer", "add", "", "-k", "gardening", "--as", "ben"), "title:"),
        (("offer", "add", "x", "-k", "gardening", "--expires", "2001-01-01", "--as", "ben"), "already past"),
        (("match", "99"), "no offer or request #99"),
        (("offer", "add", "x", "-k", "gardening"), "say who is acting"),
    ]
    for args, message in cases:
        result = run(*args, ok=False)
        assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert snapshot_rows(coop) == before


def test_listings_are_never_published(run, coop, tmp_path):
    board = Listings(coop)
    board.post(
        "request", actor="ann", category="gardening", title="Zanzibarish hedge", description="Quokkaword"
    )
    board.post("offer", actor="ben", category="gardening", title="Quokkaword lawns")
    out = tmp_path / "public.sqlite"
    run("publish", "--out", out)
    data = out.read_bytes()
    assert b"Zanzibarish" not in data and b"Quokkaword" not in data
    public = sqlite3.connect(out)
    names = [r[0] for r in public.execute("SELECT name FROM sqlite_master")]
    assert not [n for n in names if "listing" in n or "digest" in n]


def test_the_demo_coop_has_a_realistic_board_and_safeguarding_checks(tmp_path):
    from timebank.demo import build_demo
    from timebank.plugins.safeguarding import expiring

    ledger = build_demo(tmp_path / "demo.sqlite", members=20, days=240, today=TODAY)
    board = Listings(ledger)
    every = board.board(state="all")
    states = {item.state(TODAY) for item in every}
    assert states == {"open", "taken up", "done", "withdrawn", "expired"}, states
    assert {item.kind for item in every} == {"offer", "request"}
    assert len(board.unanswered(7)) >= 2
    done = [item for item in every if item.state(TODAY) == "done"]
    assert all(ledger.entry(item.entry_id).refs == {"listing": str(item.id)} for item in done)
    assert "safeguarding" in ledger.rules.enabled and expiring(ledger, 30)
    assert_ledger_holds(ledger)
    ledger.close()


def test_processes_racing_to_accept_one_request_leave_exactly_one_taker(coop, board):
    import os
    import subprocess
    import sys

    item = board.post("request", actor="ann", category="gardening", title="Hedge")
    takers = ("ben", "cat", "dan")
    for handle in takers:
        board.answer(item.id, actor=handle)
    env = {**os.environ, "TIMEBANK_LEDGER": str(coop.path)}
    env.pop("TIMEBANK_USER", None)
    racers = [
        subprocess.Popen(
            [sys.executable, "-m", "timebank", "request", "accept", str(item.id), handle, "--as", "coord"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for handle in takers
    ]
    results = [(racer.wait(timeout=60), racer.stderr.read()) for racer in racers]
    assert sorted(code for code, _ in results) == [0, 1, 1], results
    losers = [err for code, err in results if code]
    assert all("not open" in err or "meanwhile" in err for err in losers), losers
    winner = takers[[code for code, _ in results].index(0)]
    assert board.get(item.id).taken_by == winner
    assert [e.detail for e in board.history(item.id) if e.action == "accepted"] == [winner]
