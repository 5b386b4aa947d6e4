"""The audit on small, hand-made cells: where the old fixed rule leaked, it suppresses more."""

from fractions import Fraction

import pytest

from timebank.publishing.disclosure import Audit, Cell, Protection, dominated


def group(values, *, small, published_total=True, unit="count"):
    """A month's cells: a total and its parts over one atom each, ``small`` parts sensitive."""
    cells = [
        Cell(
            "t",
            ("2026-01", "all"),
            unit,
            Fraction(sum(values)),
            {("x", i): Fraction(1) for i in range(len(values))},
        )
    ]
    for i, v in enumerate(values):
        cells.append(Cell("t", ("2026-01", str(i)), unit, Fraction(v), {("x", i): Fraction(1)}))
    for cell in cells:
        cell.published = cell.value
    for i in small:
        cells[1 + i].status = 1
    if not published_total:
        cells[0].status = 2
    return cells


EXACT = Protection(k=5, p=20, round_counts=1, round_minutes=1)


def test_one_small_cell_beside_a_total_gets_a_partner_and_both_intervals_hold():
    cells = group([10, 7, 2], small=[2])
    result = Audit(cells, [], EXACT).run()
    assert result.secondary == 1 and cells[2].status == 2, "the smallest other part is hidden with it"
    lo, hi = cells[3].interval
    assert lo <= 0 and hi >= 5


def test_a_zero_partner_is_not_enough_the_old_rules_leak():
    """Total 12, parts 10, 0 and 2: hiding the 2 with the 0 still gives 2 = 12 - 10."""
    cells = group([10, 0, 2], small=[2])
    Audit(cells, [], EXACT).run()
    assert cells[1].status == 2, "the 10 is hidden too: a 0 partner protects nothing"
    lo, hi = cells[3].interval
    assert lo <= 0 and hi >= 5


def test_two_small_cells_whose_sum_is_below_k_are_not_protected_by_each_other():
    cells = group([20, 1, 2], small=[1, 2])
    Audit(cells, [], EXACT).run()
    for i in (2, 3):
        lo, hi = cells[i].interval
        assert lo <= 0 and hi >= 5, cells[i].key
    assert cells[1].status == 2


def test_rounding_is_protection_the_audit_accounts_for():
    cells = group([10, 7, 2], small=[2])
    rounded = Protection(k=5, p=20, round_counts=5, round_minutes=300)
    for cell in cells:
        cell.published = rounded.rounded(cell.value, "count")
    result = Audit(cells, [], rounded).run()
    assert result.secondary == 0, "total 20 and part 10 and 5 as published leave the 2 anywhere in 0..7.5"
    lo, hi = cells[3].interval
    assert lo <= 0 and hi >= 5


def test_hours_must_stay_uncertain_by_p_percent():
    cells = group([600, 300, 100], small=[2], unit="minutes")
    Audit(cells, [], EXACT).run()
    lo, hi = cells[3].interval
    assert lo <= 80 and hi >= 120


def test_a_running_total_gives_away_its_month_unless_audited():
    """Members 8 then 9 with joiners 1 hidden: 9 - 8 is the hidden month, so more is hidden."""
    month1 = Cell("new", ("2026-01",), "count", Fraction(8), {("n", 1): Fraction(1)})
    month2 = Cell("new", ("2026-02",), "count", Fraction(1), {("n", 2): Fraction(1)}, status=1)
    total1 = Cell("growth", ("2026-01",), "count", Fraction(8), {("n", 1): Fraction(1)})
    total2 = Cell(
        "growth", ("2026-02",), "count", Fraction(9), {("n", 1): Fraction(1), ("n", 2): Fraction(1)}
    )
    cells = [month1, month2, total1, total2]
    for cell in cells:
        cell.published = cell.value
    Audit(cells, [], EXACT).run()
    lo, hi = month2.interval
    assert lo <= 0 and hi >= 5
    assert any(c.status == 2 for c in (month1, total1, total2))


def test_rounding_is_half_away_from_zero_to_the_base():
    p = Protection(round_counts=5, round_minutes=300)
    assert [p.rounded(v, "count") for v in (0, 2, 3, 7, 8, -3)] == [0, 0, 5, 5, 10, -5]
    assert p.rounded(Fraction(449), "minutes") == 300 and p.rounded(450, "minutes") == 600


@pytest.mark.parametrize(
    ("amounts", "expected"),
    [({"a": 90, "b": 5, "c": 5, "d": 0, "e": 0}, True), ({"a": 30, "b": 30, "c": 20, "d": 20}, False)],
)
def test_dominance(amounts, expected):
    assert dominated({k: v for k, v in amounts.items() if v} | {"z": 1, "y": 1}) is expected
