"""Attacks on the published file of generated co-ops of 6-20 members, for every template.

The attacker (``attacker.py``) has the published file and the co-op's rules only, and its
equations share no code with the audit. For every suppressed figure it solves the range the
figure could take; the ranges must cover the protection the method promises. The true
values, where checked, come from the test's own SQL on the ledger.
"""

from __future__ import annotations

import sqlite3

import pytest
from attacker import Attack
from coops import PUBLIC_AREAS, TEMPLATES, publish_day

from timebank.publishing.publish import publish

SIZES = [6, 20, 8, 18, 10, 16, 12, 14, 7]
# one co-op per template, sizes across 6-20; every other one rounds at the floors (counts
# to 1, hours to the hour), where the audit, not the rounding, has to do the protecting
COOPS = [(template, SIZES[seed % len(SIZES)], seed, seed % 2 == 0) for seed, template in enumerate(TEMPLATES)]
COOPS += [("time-bank", 20, 101, True), ("fureai-kippu", 6, 102, True)]


def true_hours(ledger) -> dict[str, int]:
    """Hours of care given each month, straight from the ledger (every giver's time)."""
    return dict(
        ledger.conn.execute(
            "SELECT substr(day, 1, 7), sum(minutes * (length(givers) - length(replace(givers, ' ', '')) + 1))"
            " FROM entries e WHERE kind = 'service'"
            " AND NOT EXISTS (SELECT 1 FROM entries r WHERE r.reverses = e.id) GROUP BY 1"
        )
    )


def true_kinds(ledger) -> dict[tuple[str, str], int]:
    """Hours of care given by month and kind, straight from the ledger."""
    return {
        (month, kind): minutes
        for month, kind, minutes in ledger.conn.execute(
            "SELECT substr(day, 1, 7), category,"
            " sum(minutes * (length(givers) - length(replace(givers, ' ', '')) + 1))"
            " FROM entries e WHERE kind = 'service'"
            " AND NOT EXISTS (SELECT 1 FROM entries r WHERE r.reverses = e.id) GROUP BY 1, 2"
        )
    }


def true_active(ledger) -> dict[str, int]:
    """Members who gave or received each month."""
    out: dict[str, set[str]] = {}
    for month, givers, receivers in ledger.conn.execute(
        "SELECT substr(day, 1, 7), givers, receivers FROM entries e WHERE kind = 'service'"
        " AND NOT EXISTS (SELECT 1 FROM entries r WHERE r.reverses = e.id)"
    ):
        out.setdefault(month, set()).update(givers.split(), receivers.split())
    return {month: len(who) for month, who in out.items()}


def assert_protected(unit: str, lo: float, hi: float, k: int, p: float, where: str) -> None:
    """What the attacker can narrow a suppressed figure to still hides it: minutes stay
    within a band wider than ``p`` either way; a count could still be ``k`` or more, and
    is either possibly zero or as wide as minutes."""
    if unit == "minutes":
        assert hi * (1 - p) >= lo * (1 + p) - 1e-6, where
    else:
        assert hi >= k - 1e-6, where
        assert lo <= 1e-6 or hi * (1 - p) >= lo * (1 + p) - 1e-6, where


@pytest.mark.parametrize(("template", "size", "seed", "floors"), COOPS)
def test_no_suppressed_figure_can_be_narrowed_below_its_protection(
    coop, tmp_path, template, size, seed, floors
):
    ledger = coop(template, size, seed)
    if floors:
        ledger.change_settings(
            "coop", {"publish_round_counts": 1, "publish_round_hours": "1h"}, actor="coord"
        )
    out = tmp_path / "public.sqlite"
    publish(ledger, out, today=publish_day())
    attack = Attack(out, ledger.rules.to_data(), ledger.categories(), ledger.member_classes())
    attack.build()
    found = attack.intervals()
    k, p = attack.k, attack.p
    assert found, "a small co-op always has figures to hide"
    hours, active, kinds = true_hours(ledger), true_active(ledger), true_kinds(ledger)
    labels = {tuple(r) for r in sqlite3.connect(out).execute("SELECT month, kind FROM hours_by_month_kind")}
    checked = 0
    for table, key, unit, lo, hi in found:
        where = f"{template}: {table} {key} could be {lo:.1f} to {hi:.1f}"
        assert_protected(unit, lo, hi, k, p, where)
        if table == "hours_by_month":
            v = hours.get(key[0], 0)
            assert lo <= v * (1 - p) + 1e-6 and hi >= v * (1 + p) - 1e-6, where
            checked += 1
        if table == "hours_by_month_kind":
            shown = {kind for (m, kind) in labels if m == key[0]}
            if key[1] == "other":
                v = sum(x for (m, kind), x in kinds.items() if m == key[0] and kind not in shown)
            else:
                v = kinds.get(key, 0)
            assert lo <= v * (1 - p) + 1e-6 and hi >= v * (1 + p) - 1e-6, where
            checked += 1
        if table == "members_active" and key[1] == "all" and 0 < active.get(key[0], 0) < k:
            assert lo <= 1e-6 and hi >= k - 1e-6, where
            checked += 1
    assert checked, "some hidden figures were checked against the ledger's true values"
    plugin_table = {
        "fureai-kippu": "credits_earned_so_far",
        "friendly-society": "mutual_fund",
        "social-prescribing": "referrals_by_month",
    }
    assert plugin_table.get(template, "hours_by_month") in attack.names, (
        "the plugin's figures are attacked too"
    )
    data = out.read_bytes()
    assert b"Mill Lane" not in data, "an area typed by a co-ordinator is never a label"
    conn = sqlite3.connect(out)
    areas = (
        {r[0] for r in conn.execute("SELECT area FROM hours_by_month_area")}
        if "hours_by_month_area" in {r[0] for r in conn.execute("SELECT name FROM _tables")}
        else set()
    )
    assert areas <= {*PUBLIC_AREAS, "other"}


def test_the_attacker_finds_what_the_old_fixed_rule_gave_away(tmp_path):
    """The attacker is not toothless: on a file suppressed the old way it pins the hidden cells.

    One class has one active member, hidden; its partner is 'the smallest other row' (also
    one member); the month's total is shown. Total minus the shown class leaves 2 for the
    two hidden cells: each is at most 2, so each is provably small.
    """
    out = tmp_path / "old.sqlite"
    conn = sqlite3.connect(out)
    conn.executescript(
        """
        CREATE TABLE _tables (name, title, description);
        INSERT INTO _tables VALUES ('members_active', '', '');
        CREATE TABLE about (key, value);
        INSERT INTO about VALUES ('k', '5'), ('p_percent', '20'), ('counts_rounded_to', '1'),
            ('hours_rounded_to', '1 h');
        CREATE TABLE members_active (month, member_class, members, suppressed);
        INSERT INTO members_active VALUES ('2026-01', 'all', 8, 0), ('2026-01', 'a', 6, 0),
            ('2026-01', 'b', NULL, 1), ('2026-01', 'c', NULL, 1);
        """
    )
    conn.commit()
    attack = Attack(out, {"coop": {}, "plugins": {}}, ["h"], ["a", "b", "c"])
    attack.build()
    found = {key: (lo, hi) for _, key, _, lo, hi in attack.intervals()}
    assert found[("2026-01", "b")][0] == pytest.approx(0) and found[("2026-01", "c")][0] == pytest.approx(0)
    assert all(hi < attack.k for _, hi in found.values()), "both are shown to be below k"


@pytest.mark.parametrize("template", ["time-bank", "fureai-kippu"])
def test_a_second_publication_after_late_changes_gives_nothing_away_either(coop, tmp_path, template):
    """Frozen months, running totals carried on from them, and the new months, attacked together."""
    import datetime as dt

    from timebank.testing import exchange

    ledger = coop(template, 12, 7)
    ledger.change_settings("coop", {"publish_round_counts": 1, "publish_round_hours": "1h"}, actor="coord")
    out = tmp_path / "public.sqlite"
    first_day = publish_day() - dt.timedelta(days=62)
    publish(ledger, out, today=first_day)
    handles = [m.handle for m in ledger.members() if m.handle != "coord" and not m.left]
    early = first_day - dt.timedelta(days=70)
    ledger.retire_member(handles[2], actor="coord", day=early)  # back-dated into a published month
    ledger.record_many([exchange(handles[3], handles[4], 90, day=early, category=ledger.categories()[0])])
    second = publish(ledger, out, today=publish_day())
    assert second.new_months, "the second publication adds months"
    attack = Attack(out, ledger.rules.to_data(), ledger.categories(), ledger.member_classes())
    attack.build()
    k, p = attack.k, attack.p
    for table, key, unit, lo, hi in attack.intervals():
        where = f"{table} {key} could be {lo:.1f} to {hi:.1f}"
        assert_protected(unit, lo, hi, k, p, where)
