"""Disclosure control for published figures: declared grouped figures, suppression, an LP audit.

What is published is declared, never written directly. A ``Measure`` is a set of facts
(``Fact``: in a month, with some dimension values, these members contributed this amount);
a ``Figure`` is a published table over one measure (or a signed sum of measures), by month
and at most one dimension, optionally weighted, optionally a running total. The core turns
declarations into *cells*, each one a linear expression over *atoms* (the measure's totals
for one month and one combination of raw dimension values), so that every relation between
published figures — a breakdown adds up to its total, two tables split the same hours two
ways, a running total grows by the month's figure, a weighted total is a sum of hours times
the rules' weights — is a relation between the same atoms.

Protection, in order:

1. a cell is *sensitive* when it is drawn from fewer than *k* contributors (the members
   whose contribution it is: givers for hours given, both sides for exchanges), or when
   its two largest contributors make up more than ``DOMINANCE_SHARE`` of it;
2. sensitive cells are suppressed (published empty);
3. the audit: for every suppressed cell, a linear-programming solver (SciPy's HiGHS) finds
   the smallest and largest value consistent with everything published — every cell
   (rounded values as intervals), non-negativity, the relations above and any extra
   relations (distinct-member counts: part <= total <= sum of parts). If the interval does
   not cover the cell's protection range, the smallest neighbouring cell is suppressed too
   and the cell is audited again, until every interval does.

Protection ranges: a sensitive count must be indistinguishable from both 0 and *k*; any
other suppressed cell (hours, or a count hidden to protect another) must stay uncertain by
at least *p* percent either side. Suppressing more only ever widens intervals, so a cell
that passes stays passed.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from fractions import Fraction
from typing import Any, NamedTuple

import attrs

ALL = "all"
OTHER = "other"
UNITS = ("minutes", "count", "members")
# The dominance rule: no hours figure where this many members make up more than this share.
DOMINANCE_MEMBERS = 2
DOMINANCE_SHARE = Fraction(85, 100)
# Floors under the rules settings: a co-op may be stricter, never laxer.
FLOORS = {"publish_k": 5, "publish_p": 10, "publish_round_counts": 1, "publish_round_hours": 60}


class Fact(NamedTuple):
    """One contribution to a measure: in ``month`` (YYYY-MM), with one value per dimension.

    ``members`` are whose contribution it is (never published; they decide whether a cell
    is drawn from enough people). A NamedTuple rather than an attrs class: the core makes
    one per exchange and giver, a million in the benchmark.
    """

    month: str
    values: tuple[str, ...]
    members: tuple[str, ...]
    amount: int = 1


class Atom:
    """A measure's total for one month and one combination of raw values, with who gave it."""

    __slots__ = ("amount", "members")

    def __init__(self, amount: int = 0, members: dict[str, int] | None = None) -> None:
        self.amount = amount
        self.members: dict[str, int] = (
            members if isinstance(members, defaultdict) else defaultdict(int, members or {})
        )


@attrs.frozen(eq=False)
class Measure:
    """Facts to publish figures of: ``unit`` is "minutes" or "count" (summed), or "members"
    (how many distinct members; only ever summed over a dimension that is a member's own
    attribute, such as class, where each member has one value)."""

    name: str
    unit: str = attrs.field(validator=attrs.validators.in_(UNITS))
    dimensions: tuple[str, ...] = attrs.field(converter=tuple, default=())
    facts: tuple[Fact, ...] = attrs.field(converter=tuple, default=())
    # the core's own measures come with their atoms already summed (one pass over a
    # million entries); plugins give facts
    atoms: dict[tuple[str, tuple[str, ...]], Atom] | None = None


@attrs.frozen(eq=False)
class Figure:
    """A published table: one row per month (and per value of ``by``), a ``column`` of values.

    ``measure`` is a measure's name, or ``{name: +1 or -1}`` for a signed sum (a fund's
    money in less money out). ``total`` adds an "all" row per month when ``by`` is given;
    ``fold`` puts values of ``by`` with fewer than *k* contributors into "other";
    ``running`` publishes the total of every month so far; ``snapshot`` publishes only the
    last month; ``weights`` weights each value of the measure's dimension ``weight_by``
    (Fureai Kippu's credits per hour by kind of care).
    """

    name: str
    title: str
    description: str
    measure: str | Mapping[str, int]
    column: str
    by: str | None = None
    total: bool = True
    fold: bool = True
    running: bool = False
    snapshot: bool = False
    weights: Mapping[str, str] | None = None
    weight_by: str | None = None

    @property
    def terms(self) -> dict[str, int]:
        return {self.measure: 1} if isinstance(self.measure, str) else dict(self.measure)


@attrs.frozen
class Protection:
    """The rules' settings for publishing, each at or above its floor."""

    k: int = 5
    p: int = 20
    round_counts: int = 5
    round_minutes: int = 300

    def base(self, unit: str) -> int:
        return self.round_minutes if unit == "minutes" else self.round_counts

    def rounded(self, value: Fraction | int, unit: str) -> int:
        """Round half away from zero to a multiple of the unit's base (documented; exact)."""
        base = self.base(unit)
        q = Fraction(value) / base
        n = math.floor(abs(q) + Fraction(1, 2))
        return int(math.copysign(n, q)) * base if n else 0


def collect(measure: Measure, months: set[str]) -> dict[tuple[str, tuple[str, ...]], Atom]:
    """The measure's atoms for ``months``."""
    atoms: dict[tuple[str, tuple[str, ...]], Atom] = {}
    for fact in measure.facts:
        month, values, members, amount = fact
        if month not in months:
            continue
        key = (month, tuple(values))
        atom = atoms.get(key)
        if atom is None:
            atom = atoms[key] = Atom()
        atom.amount += amount
        for member in members:
            atom.members[member] += amount
    return atoms


@attrs.define
class Cell:
    """One published figure: its table and row, true value and how it relates to the atoms.

    ``terms`` maps variables (atom keys, or ``("cell", index)`` for an earlier published
    cell a running total starts from) to coefficients. ``status``: 0 published, 1 sensitive
    (suppressed), 2 suppressed to protect another cell. ``bounds`` is what the public knows
    of a published cell (its rounding interval). Frozen cells were published before and
    cannot change.
    """

    table: str
    key: tuple[str, ...]
    unit: str
    value: Fraction
    terms: dict[Any, Fraction]
    contributors: int = 0
    dominated: bool = False
    nonnegative: bool = True
    frozen: bool = False
    status: int = 0
    published: int | None = None
    known: bool = True  # whether the true value is known (a frozen cell's may not be)
    interval: tuple[float, float] | None = None


@attrs.frozen
class AuditResult:
    """What the audit found: cells suppressed, why, and whether every interval held."""

    sensitive: int
    secondary: int
    audited: int
    lp_solves: int
    unresolved: tuple[str, ...]
    solver: str

    def sentence(self) -> str:
        held = (
            "every one's interval, solved from all published figures, covers its protection range"
            if not self.unresolved
            else f"{len(self.unresolved)} could not be protected further (fixed by earlier publications"
            " or inconsistent):"
            f" {', '.join(self.unresolved[:5])}"
        )
        return (
            f"audited {self.audited} suppressed figures ({self.sensitive} small or dominated, "
            f"{self.secondary} more to protect them) with {self.solver}: {held}"
        )


def dominated(amounts: Mapping[str, Fraction | int]) -> bool:
    """Whether the largest ``DOMINANCE_MEMBERS`` contributors make up more than the share."""
    import heapq

    total = sum(amounts.values())
    if total <= 0 or len(amounts) <= DOMINANCE_MEMBERS:
        return total > 0 and len(amounts) > 0 and len(amounts) <= DOMINANCE_MEMBERS
    top = heapq.nlargest(DOMINANCE_MEMBERS, amounts.values())
    return Fraction(sum(top)) > DOMINANCE_SHARE * total


def protected(cell: Cell, lo: float, hi: float, protection: Protection) -> bool:
    """Whether an attacker's interval ``[lo, hi]`` covers the cell's protection range."""
    eps = 1e-6
    v = float(cell.value)
    spread = abs(v) * protection.p / 100
    if cell.unit == "minutes":
        return lo <= v - spread + eps and hi >= v + spread - eps
    # counts: never provably below k; a small one never provably above 0
    if hi + eps < protection.k:  # counts are whole: below k means at most k - 1
        return False
    if cell.status == 1 or not cell.known:
        return lo - eps <= 0
    return lo <= v - spread + eps and hi >= v + spread - eps


class Audit:
    """The LP over every published cell; suppresses more until every interval holds."""

    def __init__(
        self,
        cells: list[Cell],
        relations: list[tuple[dict[int, Fraction], float, float]],
        protection: Protection,
    ):
        self.cells = cells
        self.protection = protection
        self.solves = 0
        index: dict[Any, int] = {}
        for i in range(len(cells)):
            index[("cell", i)] = i
        self.rows: list[tuple[dict[int, float], float, float]] = []  # (coefficients, lo, hi)
        self.defining: dict[int, int] = {}
        for i, cell in enumerate(cells):
            if not cell.terms:
                continue
            row = {i: 1.0}
            for var, coef in cell.terms.items():
                j = index.setdefault(var, len(index))
                row[j] = row.get(j, 0.0) - float(coef)
            self.defining[i] = len(self.rows)
            self.rows.append((row, 0.0, 0.0))
        for coefficients, lo, hi in relations:
            self.rows.append(({i: float(c) for i, c in coefficients.items()}, lo, hi))
        self.n = len(index)
        self.var_rows: dict[int, list[int]] = defaultdict(list)
        for r, (row, _, _) in enumerate(self.rows):
            for j in row:
                self.var_rows[j].append(r)
        # connected components: variables joined by a row
        parent = list(range(self.n))

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for row, _, _ in self.rows:
            first = next(iter(row))
            for j in row:
                a, b = find(first), find(j)
                if a != b:
                    parent[a] = b
        self.component_of = [find(j) for j in range(self.n)]
        members: dict[int, list[int]] = defaultdict(list)
        for j in range(self.n):
            members[self.component_of[j]].append(j)
        self.components = members
        self.component_rows: dict[int, list[int]] = defaultdict(list)
        for r, (row, _, _) in enumerate(self.rows):
            self.component_rows[self.component_of[next(iter(row))]].append(r)
        self._matrices: dict[int, Any] = {}

    def bounds(self, j: int) -> tuple[float | None, float | None]:
        if j >= len(self.cells):
            return (0.0, None)  # an atom: sums of non-negative contributions
        cell = self.cells[j]
        low = 0.0 if cell.nonnegative else None
        if cell.status or cell.published is None:
            return (low, None)
        half = self.protection.base(cell.unit) / 2
        lo = cell.published - half
        return (max(lo, low) if low is not None else lo, cell.published + half)

    def _matrix(self, component: int) -> Any:
        if component not in self._matrices:
            from scipy.sparse import csr_matrix

            variables = self.components[component]
            position = {j: n for n, j in enumerate(variables)}
            eq, ub = [], []
            for r in self.component_rows[component]:
                row, lo, hi = self.rows[r]
                (eq if lo == hi else ub).append((row, lo, hi))

            def build(rows: list) -> Any:
                if not rows:
                    return None
                if len(variables) <= 400:  # small parts: dense is cheaper for the solver's checks
                    import numpy

                    dense = numpy.zeros((len(rows), len(variables)))
                    for n, (row, _, _) in enumerate(rows):
                        for j, c in row.items():
                            dense[n, position[j]] += c
                    return dense
                data, ri, ci = [], [], []
                for n, (row, _, _) in enumerate(rows):
                    for j, c in row.items():
                        data.append(c)
                        ri.append(n)
                        ci.append(position[j])
                return csr_matrix((data, (ri, ci)), shape=(len(rows), len(variables)))

            a_eq, b_eq = build(eq), [lo for _, lo, _ in eq]
            # an inequality lo <= row <= hi as two rows of A_ub x <= b_ub
            ub_rows, b_ub = [], []
            for row, lo, hi in ub:
                if hi != math.inf:
                    ub_rows.append((row, 0, 0))
                    b_ub.append(hi)
                if lo != -math.inf:
                    ub_rows.append(({j: -c for j, c in row.items()}, 0, 0))
                    b_ub.append(-lo)
            self._matrices[component] = (
                variables,
                position,
                a_eq,
                b_eq or None,
                build(ub_rows),
                b_ub or None,
            )
        return self._matrices[component]

    def interval(self, i: int) -> tuple[float, float] | None:
        """The smallest and largest value of cell ``i`` consistent with what is published."""
        from scipy.optimize import linprog

        component = self.component_of[i]
        if len(self.component_rows[component]) == 1 and self.defining.get(i) is not None:
            return (0.0 if self.cells[i].nonnegative else -math.inf), math.inf  # nothing else constrains it
        variables, position, a_eq, b_eq, a_ub, b_ub = self._matrix(component)
        bounds = [self.bounds(j) for j in variables]
        out = []
        for sign in (1.0, -1.0):
            c = [0.0] * len(variables)
            c[position[i]] = sign
            self.solves += 1
            result = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
            if result.status == 3:
                out.append(-math.inf if sign > 0 else math.inf)
            elif result.status == 2:
                return None  # no data fits: the model is inconsistent (see docs/publishing.md)
            elif result.status != 0:
                raise RuntimeError(f"the audit's solver failed: {result.message}")
            else:
                out.append(sign * result.fun)
        return out[0], out[1]

    def neighbours(self, i: int) -> list[int]:
        """Cells near cell ``i``: sharing an atom or a relation with it, or with a cell that does.

        Two steps out reach the other parts of a total (siblings share the total's atoms, not
        the cell's own), which is where a partner is usually best taken from; further out
        only if nothing nearer may be suppressed.
        """
        seen, frontier, found, steps = {i}, [i], [], 0
        while frontier and (not found or steps < 4):
            nxt = []
            for v in frontier:
                for r in self.var_rows[v]:
                    for j in self.rows[r][0]:
                        if j not in seen:
                            seen.add(j)
                            nxt.append(j)
            found += [j for j in nxt if j < len(self.cells) and self._may_suppress(j)]
            frontier, steps = nxt, steps + 1
        return found

    def _may_suppress(self, j: int) -> bool:
        cell = self.cells[j]
        return not cell.frozen and cell.status == 0

    def run(self) -> AuditResult:
        queue = [i for i, c in enumerate(self.cells) if c.status or (c.frozen and c.published is None)]
        audited = set(queue)
        unresolved: list[str] = []
        while queue:
            i = queue.pop()
            cell = self.cells[i]
            got = self.interval(i)
            if got is None:  # the published figures contradict each other: say so, never pass it
                cell.interval = None
                unresolved.append(f"{cell.table} {'/'.join(cell.key)} (figures inconsistent)")
                continue
            if protected(cell, got[0], got[1], self.protection):
                cell.interval = got
                continue
            candidates = self.neighbours(i)
            if not candidates:
                cell.interval = got
                unresolved.append(f"{cell.table} {'/'.join(cell.key)}")
                continue
            partner = min(candidates, key=lambda j: (self.cells[j].value == 0, abs(self.cells[j].value)))
            self.cells[partner].status = 2
            audited.add(partner)
            queue += [partner, i]
        from scipy import __version__ as scipy_version

        return AuditResult(
            sensitive=sum(1 for c in self.cells if c.status == 1 and not c.frozen),
            secondary=sum(1 for c in self.cells if c.status == 2 and not c.frozen),
            audited=len(audited),
            lp_solves=self.solves,
            unresolved=tuple(unresolved),
            solver=f"SciPy {scipy_version} HiGHS",
        )
