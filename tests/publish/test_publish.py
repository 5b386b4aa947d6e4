"""The public file: aggregates only, small cells suppressed, totals that reconcile."""

import datetime as dt
import sqlite3

from conftest import PUBLISHED_ON, SECRETS

from timebank.publish import BANDS, publish, published_through
from timebank.testing import exchange


def tables(path):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return conn, names


def test_no_name_handle_note_or_contact_appears_anywhere_in_the_file(published):
    data = published.read_bytes()
    for kind in ("names", "handles", "notes"):
        for secret in SECRETS[kind]:
            assert secret.encode() not in data, f"{kind}: {secret} leaked"
    assert SECRETS["contact"].encode() not in data
    assert b"Quixotic" not in data and b"xyzzy" not in data and b"ppqq" not in data


def test_only_aggregate_tables_no_per_member_rows(published):
    conn, names = tables(published)
    assert set(names) >= {
        "hours_by_month",
        "hours_by_month_kind",
        "hours_by_month_area",
        "members_by_month_class",
        "growth",
        "reciprocity",
        "balance_bands",
        "about",
        "charts",
    }
    for name in set(names) - {"_tables", "about", "charts"}:  # the site's own description of itself
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info([{name}])")]
        assert not {"handle", "name", "note", "giver", "receiver", "member"} & set(columns), name


def test_every_cell_below_k_is_suppressed(published):
    conn, names = tables(published)
    checked = 0
    for name in names:
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info([{name}])")]
        if "members" not in columns:
            continue
        for row in conn.execute(f"SELECT * FROM [{name}]"):
            checked += 1
            if row["members"] is not None:
                assert row["members"] == 0 or row["members"] >= 5, (name, dict(row))
                assert row["suppressed"] == 0
            else:
                assert row["suppressed"] in (1, 2)
    assert checked > 100
    rare = conn.execute("SELECT * FROM hours_by_month_kind WHERE kind = 'personal care'").fetchone()
    assert rare["hours"] is None and rare["suppressed"] == 1, "two members' rare kind of care is hidden"


def _groups(conn, table, group, label):
    out = {}
    for row in conn.execute(f"SELECT * FROM [{table}]"):
        out.setdefault(
            row[group] if not isinstance(group, tuple) else tuple(row[g] for g in group), []
        ).append(row)
    return out


def test_a_suppressed_cell_cannot_be_recovered_from_the_totals(published):
    """Try it: for every group, total minus the published parts must never isolate one cell."""
    conn, _ = tables(published)
    attempts = 0
    for table, group, label, value in (
        ("hours_by_month_kind", "month", "kind", "minutes"),
        ("hours_by_month_area", "month", "area", "minutes"),
        ("members_by_month_class", ("month", "measure"), "member_class", "members"),
        ("balance_bands", None, "band", "member_count"),
    ):
        rows = list(conn.execute(f"SELECT * FROM [{table}]"))
        groups = {}
        for row in rows:
            key = (
                tuple(row[g] for g in group) if isinstance(group, tuple) else (row[group] if group else None)
            )
            groups.setdefault(key, []).append(row)
        for members in groups.values():
            total = [r for r in members if r[label] == "all"]
            parts = [r for r in members if r[label] != "all"]
            hidden = [r for r in parts if r[value] is None]
            if not total or total[0][value] is None or not hidden:
                continue
            attempts += 1
            recovered = total[0][value] - sum(r[value] for r in parts if r[value] is not None)
            assert len(hidden) >= 2, f"{table}: {recovered} would be {hidden[0][label]}'s figure"
    assert attempts >= 2, "the data must exercise complementary suppression"


def test_published_totals_reconcile_with_the_ledger(seeded, published):
    conn, _ = tables(published)
    ledger_minutes = dict(
        seeded.conn.execute(
            "SELECT substr(day, 1, 7), sum(minutes * (length(givers) - length(replace(givers, ' ', '')) + 1))"
            " FROM entries e WHERE kind = 'service'"
            " AND NOT EXISTS (SELECT 1 FROM entries r WHERE r.reverses = e.id)"
            " GROUP BY 1"
        )
    )
    reconciled = 0
    for row in conn.execute("SELECT month, minutes FROM hours_by_month WHERE suppressed = 0"):
        assert row["minutes"] == ledger_minutes[row["month"]]
        reconciled += 1
    for month, members in _groups(conn, "hours_by_month_kind", "month", "kind").items():
        if all(r["suppressed"] == 0 for r in members):
            parts = sum(r["minutes"] for r in members if r["kind"] != "all")
            [total] = [r["minutes"] for r in members if r["kind"] == "all"]
            assert parts == total == ledger_minutes[month]
            reconciled += 1
    assert reconciled > 10


def test_balance_bands_are_members_balances_at_the_end_of_the_last_month(seeded, published):
    """Bands count the members of that day (one retired later still counts) on that day's balances."""
    conn, _ = tables(published)
    through = published_through(PUBLISHED_ON).isoformat()
    members = {m.handle for m in seeded.members() if m.joined.isoformat() <= through}
    members -= {m.handle for m in seeded.members() if m.left and m.left.isoformat() <= through}
    assert any(m.left for m in seeded.members()), "the data must retire someone after the month"
    balances = dict(
        seeded.conn.execute(
            "SELECT a.code, sum(p.amount) FROM postings p JOIN entries e ON e.id = p.entry_id"
            " JOIN accounts a ON a.id = p.account_id WHERE e.day <= ? GROUP BY a.code",
            (through,),
        )
    )
    expected = {label: 0 for label, _, _ in BANDS}
    for handle in members:
        balance = balances.get(handle, 0)
        for label, low, high in BANDS:
            if (low is None or balance >= low) and (high is None or balance < high):
                expected[label] += 1
    rows = {r["band"]: r for r in conn.execute("SELECT * FROM balance_bands")}
    assert rows["all"]["member_count"] == len(members) == 25
    shown = {label: count for label, count in expected.items() if rows[label]["suppressed"] == 0}
    assert len(shown) >= 2, "the data must publish some bands"
    assert shown == {label: rows[label]["member_count"] for label in shown}
    for label, count in expected.items():  # a band hidden as small really is small
        assert rows[label]["suppressed"] != 1 or 0 < count < 5, label


def test_only_whole_months_a_week_over_are_published(seeded, published):
    conn, _ = tables(published)
    months = [r[0] for r in conn.execute("SELECT month FROM hours_by_month ORDER BY month")]
    assert months[-1] == "2026-01", "February ended on the 28th; published on March 1st it is not shown"
    about = dict(conn.execute("SELECT key, value FROM about"))
    assert about["figures_through"] == "2026-01-31"
    assert published_through(dt.date(2026, 3, 8)) == dt.date(2026, 2, 28)


def test_two_publications_in_one_month_show_the_same_figures(seeded, tmp_path):
    """What happened between two publications in a month cannot be found by subtraction."""
    first, second = tmp_path / "first.sqlite", tmp_path / "second.sqlite"
    publish(seeded, first, today=PUBLISHED_ON)
    seeded.record(exchange("zq00xyzzy", "zq01xyzzy", 90, category="admin help", day=PUBLISHED_ON))
    seeded.record(exchange("zq02xyzzy", "zq03xyzzy", 30, category="shopping", day=PUBLISHED_ON))
    seeded.retire_member("zq04xyzzy", actor="coord", day=PUBLISHED_ON)
    publish(seeded, second, today=PUBLISHED_ON + dt.timedelta(days=1))
    (a, names), (b, _) = tables(first), tables(second)
    for name in names:
        if name not in ("about",):
            assert (
                a.execute(f"SELECT * FROM [{name}]").fetchall()
                == b.execute(f"SELECT * FROM [{name}]").fetchall()
            ), name
    publish(seeded, second, today=dt.date(2026, 4, 8))
    b, _ = tables(second)
    assert b.execute("SELECT count(*) FROM hours_by_month WHERE month = '2026-03'").fetchone()[0] == 1


def test_about_traces_the_figures_to_the_ledger(seeded, published):
    conn, _ = tables(published)
    about = dict(conn.execute("SELECT key, value FROM about"))
    assert about["ledger_head_hash"] == seeded.head_hash()
    assert about["k"] == "5" and about["rules_version"] == str(seeded.rules.version)
    assert about["coop"] == seeded.rules.coop["name"] and "suppressed" in about["method"]


def test_k_is_a_choice(seeded, tmp_path):
    strict, lax = tmp_path / "strict.sqlite", tmp_path / "lax.sqlite"
    assert publish(seeded, strict, k=10).primary > publish(seeded, lax, k=2).primary


def test_publishing_again_replaces_the_file_whole(seeded, published):
    before = (
        sqlite3.connect(published)
        .execute("SELECT value FROM about WHERE key = 'ledger_head_hash'")
        .fetchone()
    )
    seeded.record(exchange("zq00xyzzy", "zq01xyzzy", 30, category="shopping"))
    publish(seeded, published)
    after = (
        sqlite3.connect(published)
        .execute("SELECT value FROM about WHERE key = 'ledger_head_hash'")
        .fetchone()
    )
    assert before != after and not published.with_name(f".{published.name}.tmp").exists()


def test_models_contribute_their_own_figures(make_ledger, tmp_path):
    from timebank.plugins.social_prescribing import answer, refer

    ledger = make_ledger(
        "social-prescribing", members={f"p{i}": "participant" for i in range(6)} | {"lin": "link worker"}
    )
    for i in range(6):
        answer(
            ledger, refer(ledger, f"p{i}", actor="lin", activity="walking group"), "accepted", actor=f"p{i}"
        )
    out = tmp_path / "sp.sqlite"
    next_month = (dt.date.today().replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    publish(ledger, out, today=next_month + dt.timedelta(days=7))
    rows = (
        sqlite3.connect(out)
        .execute("SELECT status, referrals, suppressed FROM referrals_by_month")
        .fetchall()
    )
    assert ("accepted", 6, 0) in rows and ("all", 6, 0) in rows
