"""The public file: aggregates only, rounded, the right contributors counted, small groups
folded, publications recorded and frozen, a commitment instead of the ledger's head."""

import datetime as dt
import hashlib
import hmac
import shutil
import sqlite3

import pytest
from click.testing import CliRunner
from conftest import PUBLISHED_ON, SECRETS, START

from timebank import Fact, Figure, Measure, PluginFailed, hookimpl
from timebank.cli.main import cli
from timebank.errors import InputError
from timebank.models import Member
from timebank.publishing.publish import publish, published_through
from timebank.testing import exchange


def tables(path):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    names = [r[0] for r in conn.execute("SELECT name FROM _tables")]
    return conn, names


def everything(path, through="9999-12"):
    """Every published table's rows for months up to ``through``, as the public has them."""
    conn, names = tables(path)
    return {
        name: [
            tuple(r)
            for r in conn.execute(f"SELECT * FROM [{name}] WHERE month <= ? ORDER BY rowid", (through,))
        ]
        for name in names
    }


def test_no_name_handle_note_contact_or_typed_area_appears_anywhere_in_the_file(published):
    data = published.read_bytes()
    for kind in ("names", "handles", "notes"):
        for secret in SECRETS[kind]:
            assert secret.encode() not in data, f"{kind}: {secret} leaked"
    assert SECRETS["contact"].encode() not in data
    assert b"Quixotic" not in data and b"xyzzy" not in data and b"ppqq" not in data
    assert b"Mill Lane" not in data, "areas are labels only from the declared list"


def test_only_aggregate_tables_no_per_member_rows(published):
    conn, names = tables(published)
    assert set(names) >= {
        "hours_by_month",
        "hours_by_month_kind",
        "hours_by_month_area",
        "exchanges_by_month",
        "members_active",
        "members_new",
        "members_retired",
        "growth",
        "reciprocity",
        "balance_bands",
    }
    for name in names:
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info([{name}])")]
        assert not {"handle", "name", "note", "giver", "receiver", "member"} & set(columns), name
    assert {r[0] for r in conn.execute("SELECT area FROM hours_by_month_area")} <= {"north", "south", "other"}


def test_every_figure_is_rounded_to_its_documented_base(published):
    conn, names = tables(published)
    about = dict(conn.execute("SELECT key, value FROM about"))
    assert about["counts_rounded_to"] == "5" and about["hours_rounded_to"] == "5 h"
    shown = 0
    for name in names:
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info([{name}])")]
        value = "minutes" if "minutes" in columns else columns[-2]
        for row in conn.execute(f"SELECT [{value}], suppressed FROM [{name}]"):
            if row[1]:
                assert row[0] is None
            else:
                assert row[0] % (300 if value == "minutes" else 5) == 0, (name, tuple(row))
                shown += 1
    assert shown > 50


def test_published_hours_reconcile_with_the_ledger_within_the_rounding(seeded, published):
    conn, _ = tables(published)
    ledger_minutes = dict(
        seeded.conn.execute(
            "SELECT substr(day, 1, 7), sum(minutes * (length(givers) - length(replace(givers, ' ', '')) + 1))"
            " FROM entries e WHERE kind = 'service'"
            " AND NOT EXISTS (SELECT 1 FROM entries r WHERE r.reverses = e.id) GROUP BY 1"
        )
    )
    reconciled = 0
    for row in conn.execute("SELECT month, minutes FROM hours_by_month WHERE suppressed = 0"):
        assert abs(row["minutes"] - ledger_minutes.get(row["month"], 0)) <= 150
        reconciled += 1
    assert reconciled > 10


def test_the_rare_kind_of_two_members_is_never_a_row_of_its_own(published):
    conn, _ = tables(published)
    kinds = {r[0] for r in conn.execute("SELECT kind FROM hours_by_month_kind")}
    assert "personal care" not in kinds and kinds <= {
        "shopping",
        "transport",
        "gardening",
        "admin help",
        "other",
    }


def test_only_whole_months_a_week_over_are_published(published):
    conn, _ = tables(published)
    months = [r[0] for r in conn.execute("SELECT month FROM hours_by_month ORDER BY month")]
    assert months[-1] == "2026-01", "February ended on the 28th; published on March 1st it is not shown"
    about = dict(conn.execute("SELECT key, value FROM about"))
    assert about["figures_through"] == "2026-01-31"
    assert published_through(dt.date(2026, 3, 8)) == dt.date(2026, 2, 28)


# 2. the right contributors, and dominance --------------------------------------------------


def small_coop(make_ledger, n=10, name="ledger.sqlite"):
    handles = [f"p{i}" for i in range(n)]
    ledger = make_ledger("time-bank", members=dict.fromkeys(handles, "member"), name=name)
    return ledger, handles


def test_hours_given_count_givers_one_giver_to_four_receivers_is_hidden(make_ledger, tmp_path):
    ledger, h = small_coop(make_ledger)
    day = dt.date(2026, 1, 5)
    ledger.record_many(
        [exchange(h[0], r, 120, day=day + dt.timedelta(days=i)) for i, r in enumerate(h[1:5])]
        + [exchange(g, r, 60, day=dt.date(2026, 2, 3)) for g, r in zip(h[:6], h[4:], strict=False)]
    )
    out = tmp_path / "p.sqlite"
    publish(ledger, out, today=dt.date(2026, 3, 10))
    conn, _ = tables(out)
    january = conn.execute("SELECT hours, suppressed FROM hours_by_month WHERE month = '2026-01'").fetchone()
    assert tuple(january) == (None, 1), "8 hours from one giver: five people took part, one gave"
    exchanges = conn.execute("SELECT suppressed FROM exchanges_by_month WHERE month = '2026-01'").fetchone()
    assert exchanges[0] == 0, "exchanges count both sides: five members"


def test_a_month_where_one_member_gives_nearly_all_the_hours_is_hidden(make_ledger, tmp_path):
    ledger, h = small_coop(make_ledger)
    ledger.record_many(
        [exchange(h[0], h[d], 600, day=dt.date(2026, 1, d)) for d in range(1, 10)]
        + [exchange(g, h[9], 30, day=dt.date(2026, 1, 20)) for g in h[2:8]]
    )
    out = tmp_path / "p.sqlite"
    publish(ledger, out, today=dt.date(2026, 2, 10))
    conn, _ = tables(out)
    row = conn.execute("SELECT hours, suppressed FROM hours_by_month WHERE month = '2026-01'").fetchone()
    assert tuple(row) == (None, 1), "7 givers, but one gave 90 of the 93 hours"


# 3. small classes and areas folded ---------------------------------------------------------


def test_a_class_or_area_of_one_member_is_folded_into_other(make_ledger, tmp_path):
    ledger, h = small_coop(make_ledger, 12)
    ledger.change_settings("coop", {"public_areas": ["north", "Hilltop"]}, actor="coord")
    ledger.change_settings("classic", {"member_classes": ["member", "family"]}, actor="coord")
    ledger.add_member(
        Member("solo", "Solo Person", "family", dt.date(2024, 1, 1), area="Hilltop"), actor="coord"
    )
    for handle in h:
        ledger.update_member(handle, actor="coord", area="north")
    batch = []
    for month in (1, 2, 3):
        batch += [
            exchange(g, r, 60, day=dt.date(2026, month, 4)) for g, r in zip(h, h[1:] + h[:1], strict=True)
        ]
    batch.append(exchange("solo", h[0], 60, day=dt.date(2026, 2, 9)))
    ledger.record_many(batch)
    out = tmp_path / "p.sqlite"
    publish(ledger, out, today=dt.date(2026, 4, 10))
    conn, _ = tables(out)
    classes = {r[0] for r in conn.execute("SELECT member_class FROM members_active")}
    assert "family" not in classes, (
        "one family member: months with 0 and 'small' would show when she was active"
    )
    areas = {r[0] for r in conn.execute("SELECT area FROM hours_by_month_area")}
    assert "Hilltop" not in areas, "a declared area with fewer than k members is not a label either"


# 4. publications recorded and frozen --------------------------------------------------------


def test_later_publications_repeat_earlier_months_whatever_changed_since(seeded, tmp_path):
    seeded.change_settings("coop", {"publish_round_counts": 1, "publish_round_hours": "1h"}, actor="coord")
    out = tmp_path / "public.sqlite"
    first = publish(seeded, out, today=PUBLISHED_ON)
    before = everything(out)
    h = SECRETS["handles"]
    seeded.update_member(h[3], actor="coord", area="south", member_class="volunteer")  # moved
    seeded.retire_member(h[6], actor="coord", day=START + dt.timedelta(days=100))  # back-dated
    seeded.record(exchange(h[7], h[8], 90, category="transport", day=START + dt.timedelta(days=200)))  # late
    seeded.record(exchange(h[9], h[10], 60, category="shopping", day=PUBLISHED_ON))  # a new month's
    second = publish(seeded, out, today=PUBLISHED_ON + dt.timedelta(days=40))
    after = everything(out, through=published_through(PUBLISHED_ON).isoformat()[:7])
    assert second.new_months == ("2026-02", "2026-03") and first.number == 1 and second.number == 2
    for name, rows in before.items():
        assert after[name] == rows, name
    # the same ledger with its publications forgotten would have shown the changes
    seeded.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    forgetful = tmp_path / "forgetful.sqlite"
    shutil.copy(seeded.path, forgetful)
    raw = sqlite3.connect(forgetful)
    raw.executescript("DROP TRIGGER publications_no_delete; DELETE FROM publications;")
    raw.close()
    from timebank.ledger import Ledger

    copy = Ledger(forgetful)
    try:
        publish(copy, tmp_path / "unfrozen.sqlite", today=PUBLISHED_ON + dt.timedelta(days=40))
    finally:
        copy.close()
    unfrozen = everything(tmp_path / "unfrozen.sqlite", through="2026-01")
    changed = {name for name in before if unfrozen[name] != before[name]}
    assert {"members_retired", "members_active", "hours_by_month", "hours_by_month_area"} <= changed, changed
    conn, _ = tables(out)
    record = conn.execute("SELECT number, through, digest FROM _publications ORDER BY number").fetchall()
    assert [tuple(r)[:2] for r in record] == [(1, "2026-01"), (2, "2026-03")]
    ledger_record = seeded.conn.execute("SELECT id, through, digest FROM publications ORDER BY id").fetchall()
    assert [tuple(r) for r in record] == [tuple(r) for r in ledger_record]


def test_a_referral_declined_later_does_not_change_a_published_month(make_ledger, tmp_path):
    from timebank.plugins.social_prescribing import answer, refer

    people = {f"p{i}": "participant" for i in range(8)}
    ledger = make_ledger("social-prescribing", members=people | {"lin": "link worker"})
    referrals = [refer(ledger, person, actor="lin", activity="walking group") for person in people]
    out = tmp_path / "sp.sqlite"
    next_month = (dt.date.today().replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    publish(ledger, out, today=next_month + dt.timedelta(days=7))
    before = everything(out)
    assert any(r[1] == "all" and r[2] == 10 for r in before["referrals_by_month"]), before[
        "referrals_by_month"
    ]
    answer(ledger, referrals[0], "declined", actor="lin")
    publish(ledger, out, today=next_month + dt.timedelta(days=45))
    assert everything(out, through=dt.date.today().isoformat()[:7]) == before


def test_restoring_an_older_ledger_backup_cannot_unfreeze_what_the_public_has(seeded, tmp_path):
    backup = tmp_path / "backup.sqlite"
    seeded.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(seeded.path, backup)  # taken before the first publication
    out = tmp_path / "public.sqlite"
    publish(seeded, out, today=PUBLISHED_ON)
    before = everything(out)
    seeded.close()
    shutil.copy(backup, seeded.path)
    for suffix in ("-wal", "-shm"):
        seeded.path.with_name(seeded.path.name + suffix).unlink(missing_ok=True)
    from timebank.ledger import Ledger

    restored = Ledger(seeded.path)
    try:
        assert restored.conn.execute("SELECT count(*) FROM publications").fetchone()[0] == 0
        restored.retire_member(SECRETS["handles"][6], actor="coord", day=START + dt.timedelta(days=100))
        publish(restored, out, today=PUBLISHED_ON + dt.timedelta(days=40))
        after = everything(out, through="2026-01")
        assert after == before
    finally:
        restored.close()


def test_publication_records_are_append_only(seeded, published):
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        seeded.conn.execute("UPDATE publications SET through = '2099-01'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        seeded.conn.execute("DELETE FROM publications")


# 5. the about table -------------------------------------------------------------------------


def test_about_has_a_keyed_commitment_and_no_counts_outside_the_period(seeded, published):
    conn, _ = tables(published)
    about = dict(conn.execute("SELECT key, value FROM about"))
    assert "ledger_entries" not in about and "ledger_head_hash" not in about
    assert seeded.head_hash() not in published.read_bytes().decode("latin-1")
    key, head = seeded.conn.execute("SELECT commitment_key, head_hash FROM publications").fetchone()
    assert head == seeded.head_hash()
    expected = hmac.new(bytes.fromhex(key), head.encode(), hashlib.sha256).hexdigest()
    assert about["ledger_commitment"] == expected, "an auditor with the key checks the commitment"
    assert about["k"] == "5" and about["p_percent"] == "20" and about["rules_version"] == "1"
    assert about["audit"].startswith("audited ") and "HiGHS" in about["audit"]


# k, p and rounding as rules settings with floors ---------------------------------------------


def test_k_below_its_floor_is_refused_on_the_command_line_and_in_the_rules(seeded, tmp_path):
    out = tmp_path / "p.sqlite"
    result = CliRunner().invoke(cli, ["publish", "--ledger", str(seeded.path), "--out", str(out), "--k", "2"])
    assert result.exit_code == 1 and "k: 2 is below the floor of 5" in result.stderr
    assert not out.exists()
    with pytest.raises(InputError, match="coop.publish_round_hours: 30m is out of range; it must be from 1h"):
        seeded.change_settings("coop", {"publish_round_hours": "30m"}, actor="coord")
    result = CliRunner().invoke(
        cli, ["rules", "set", "coop.publish_k", "3", "--ledger", str(seeded.path), "--as", "coord"]
    )
    assert result.exit_code == 1 and "coop.publish_k: 3 is out of range; it must be from 5" in result.stderr
    assert seeded.conn.execute("SELECT count(*) FROM publications").fetchone()[0] == 0


def test_the_publish_message_states_the_audit(seeded, tmp_path):
    out = tmp_path / "p.sqlite"
    result = CliRunner().invoke(cli, ["publish", "--ledger", str(seeded.path), "--out", str(out), "--k", "6"])
    assert result.exit_code == 0, result.output
    assert "k=6; audited " in result.output and "covers its protection range" in result.output


# 6. plugins declare figures; they cannot write rows ------------------------------------------


def test_a_plugin_cannot_hand_over_published_rows(make_ledger, tmp_path):
    from timebank.plugin_manager import Plugins

    class Rows:
        @hookimpl
        def contribute_public_figures(self, ledger, settings):
            return [("cups_of_tea", [("spring fair", 1)])]

    plugins = Plugins(entry_points=False)
    plugins.register(Rows(), "rows")
    ledger = make_ledger("time-bank", plugins=plugins, overrides={"plugins": {"rows": {}}})
    with pytest.raises(
        PluginFailed, match="contribute_public_figures: returned tuple .* not a Measure or a Figure"
    ):
        publish(ledger, tmp_path / "p.sqlite")


def test_plugin_figures_are_suppressed_audited_and_frozen_like_the_cores(make_ledger, tmp_path):
    from timebank.plugin_manager import Plugins

    class Tea:
        @hookimpl
        def contribute_public_figures(self, ledger, settings, through):
            facts = [Fact("2026-01", ("fair",), (f"p{i}",), 3) for i in range(8)]
            facts += [Fact("2026-01", ("quiet",), ("p1",), 2)]
            return [
                Measure("tea", "count", ("event",), facts),
                Figure("cups_of_tea", "Cups of tea", "Tea made at events.", "tea", "cups", by="event"),
            ]

    plugins = Plugins(entry_points=False)
    plugins.register(Tea(), "tea")
    ledger = make_ledger("time-bank", plugins=plugins, overrides={"plugins": {"tea": {}}})
    out = tmp_path / "p.sqlite"
    publish(ledger, out, today=dt.date(2026, 2, 10))
    rows = sqlite3.connect(out).execute("SELECT * FROM cups_of_tea WHERE month = '2026-01'").fetchall()
    assert rows == [("2026-01", "all", 25, 0)], "one person's event is folded away, the total rounded"


def test_another_ledgers_file_is_not_taken_over(seeded, published, make_ledger):
    other, _ = small_coop(make_ledger, name="other.sqlite")
    before = published.read_bytes()
    with pytest.raises(InputError, match="holds figures published from another ledger"):
        publish(other, published, today=PUBLISHED_ON)
    assert published.read_bytes() == before
    assert other.conn.execute("SELECT count(*) FROM publications").fetchone()[0] == 0


def test_two_publications_racing_never_record_two_different_versions_of_a_month(seeded, tmp_path):
    import subprocess
    import sys

    seeded.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    outs = [tmp_path / "a.sqlite", tmp_path / "b.sqlite"]
    racing = [
        subprocess.Popen(
            [sys.executable, "-m", "timebank", "publish", "--ledger", str(seeded.path), "--out", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for out in outs
    ]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in racing]
    assert all(code == 0 or "another publication was recorded meanwhile" in err for code, err in results), (
        results
    )
    written = [out for out, (code, _) in zip(outs, results, strict=True) if code == 0]
    assert written and all(not out.exists() for out, (c, _) in zip(outs, results, strict=True) if c)
    ids = [r[0] for r in seeded.conn.execute("SELECT id FROM publications ORDER BY id")]
    assert ids == list(range(1, len(written) + 1))
    if len(written) == 2:  # one after the other: the second repeats the first
        assert everything(written[0]) == everything(written[1])
