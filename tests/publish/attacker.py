"""An attacker with the published file and the co-op's rules, and nothing else.

Shares no code with ``timebank.publishing.disclosure`` or ``timebank.publishing.publish``: it reads
the tables, writes down every equation the documentation promises between them (breakdowns add up to
their month, kinds and areas split the same hours, credits are hours times the rules'
weights, growth and credits-so-far are running totals of their months, balance bands add
up to the members at the end of the month, reciprocity's counts are bounded by the
monthly ones), takes each rounded figure as the interval it rounds from, and asks SciPy's
LP solver how small and how large each empty figure can be.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from fractions import Fraction

from scipy.optimize import linprog


class Attack:
    def __init__(self, path, rules: dict, categories: list[str], classes: list[str]):
        self.conn = sqlite3.connect(path)
        self.about = dict(self.conn.execute("SELECT key, value FROM about"))
        self.k = int(self.about["k"])
        self.p = int(self.about["p_percent"]) / 100
        self.count_base = int(self.about["counts_rounded_to"])
        text = self.about["hours_rounded_to"]
        self.minute_base = int(text.split()[0]) * 60 if text.endswith(" h") else int(text.split()[0])
        self.rules = rules
        self.categories = categories
        self.classes = classes
        self.names = [r[0] for r in self.conn.execute("SELECT name FROM _tables")]
        self.vars: dict[tuple, int] = {}
        self.eq: list[tuple[dict[int, float], float]] = []
        self.ub: list[tuple[dict[int, float], float]] = []
        self.bounds: dict[int, tuple[float | None, float | None]] = {}
        self.hidden: list[tuple[str, tuple, int, str]] = []  # table, key, variable, unit

    def var(self, *key) -> int:
        if key not in self.vars:
            self.vars[key] = len(self.vars)
        return self.vars[key]

    def rows(self, table: str) -> list[tuple]:
        if table not in self.names:
            return []
        return self.conn.execute(f"SELECT * FROM [{table}]").fetchall()

    def published(
        self, table: str, key: tuple, value, suppressed: int, unit: str, expression: dict[int, float]
    ):
        """A published cell: a new variable equal to ``expression``, bounded by its rounding."""
        cell = self.var("cell", table, *key)
        row = {cell: 1.0}
        for v, c in expression.items():
            row[v] = row.get(v, 0.0) - c
        self.eq.append((row, 0.0))
        negative_possible = any(c < 0 for c in expression.values())
        low = None if negative_possible else 0.0
        if suppressed:
            self.bounds[cell] = (low, None)
            self.hidden.append((table, key, cell, unit))
        else:
            half = (self.minute_base if unit == "minutes" else self.count_base) / 2
            lo = value - half
            self.bounds[cell] = (lo if low is None else max(lo, 0.0), value + half)
        return cell

    def build(self) -> None:
        # hours given: raw atoms per month, kind (from the rules) and area (declared ones + other)
        areas = list(self.rules["coop"].get("public_areas", [])) + ["other"]
        area_rows = self.rows("hours_by_month_area")
        if not area_rows:
            areas = ["any"]

        def hours(month, kinds=None, area_set=None):
            return {
                self.var("h", month, kind, area): 1.0
                for kind in (kinds or self.categories)
                for area in (area_set or areas)
            }

        for month, _, minutes, suppressed in self.rows("hours_by_month"):
            self.published("hours_by_month", (month,), minutes, suppressed, "minutes", hours(month))
        self._breakdown("hours_by_month_kind", self.categories, "minutes", lambda m, ks: hours(m, kinds=ks))
        self._breakdown("hours_by_month_area", areas, "minutes", lambda m, ks: hours(m, area_set=ks))
        weights = self.rules["plugins"].get("fureai_kippu", {}).get("weights", {})

        def credits(month):
            return {
                self.var("h", month, kind, area): float(Fraction(weights.get(kind, "1")))
                for kind in self.categories
                for area in areas
            }

        for month, _, minutes, suppressed in self.rows("credits_earned"):
            self.published("credits_earned", (month,), minutes, suppressed, "minutes", credits(month))
        so_far: dict[int, float] = {}
        for month, _, minutes, suppressed in self.rows("credits_earned_so_far"):
            for v, c in credits(month).items():
                so_far[v] = so_far.get(v, 0.0) + c
            self.published("credits_earned_so_far", (month,), minutes, suppressed, "minutes", dict(so_far))
        for month, value, suppressed in self.rows("exchanges_by_month"):
            self.published(
                "exchanges_by_month", (month,), value, suppressed, "count", {self.var("x", month): 1.0}
            )
        # members: per month and class (each member has one class, so classes add up)
        for table, atom in (("members_active", "a"), ("members_new", "n"), ("members_retired", "r")):
            self._breakdown(
                table,
                self.classes,
                "count",
                lambda m, ks, atom=atom: {self.var(atom, m, c): 1.0 for c in ks},
                with_all=True,
            )
        running: dict[int, float] = {}
        growth = {}
        for month, value, suppressed in self.rows("growth"):
            for c in self.classes:
                running[self.var("n", month, c)] = running.get(self.var("n", month, c), 0.0) + 1
                running[self.var("r", month, c)] = running.get(self.var("r", month, c), 0.0) - 1
            growth[month] = self.published("growth", (month,), value, suppressed, "count", dict(running))
        bands = defaultdict(list)
        for month, band, value, suppressed in self.rows("balance_bands"):
            bands[month].append(
                self.published(
                    "balance_bands",
                    (month, band),
                    value,
                    suppressed,
                    "count",
                    {self.var("b", month, band): 1.0},
                )
            )
        for month, cells in bands.items():
            if month in growth:  # every member at the month's end is in one band
                row = {c: 1.0 for c in cells}
                row[growth[month]] = -1.0
                self.eq.append((row, 0.0))
        recip = {}
        for month, measure, value, suppressed in self.rows("reciprocity"):
            recip[measure] = self.published(
                "reciprocity",
                (month, measure),
                value,
                suppressed,
                "count",
                {self.var("q", month, measure): 1.0},
            )
            recip["month"] = month
        if recip:
            active, both = recip["active in the 12 months"], recip["gave and received"]
            self.ub.append(({both: 1.0, active: -1.0}, 0.0))
            last = recip["month"]
            y, m = int(last[:4]), int(last[5:7])
            window = [
                f"{(y * 12 + m - 1 - i) // 12:04d}-{(y * 12 + m - 1 - i) % 12 + 1:02d}" for i in range(12)
            ]
            monthly = [
                self.vars[("cell", "members_active", w, "all")]
                for w in window
                if ("cell", "members_active", w, "all") in self.vars
            ]
            for cell in monthly:
                self.ub.append(({cell: 1.0, active: -1.0}, 0.0))
            row = {active: 1.0}
            for cell in monthly:
                row[cell] = -1.0
            self.ub.append((row, 0.0))
        # the mutual fund: money in, money out, and the fund as their running difference
        fund: dict[int, float] = {}
        for table, atom in (("mutual_fund_contributions", "fi"), ("mutual_fund_benefit", "fo")):
            for month, _, minutes, suppressed in self.rows(table):
                self.published(table, (month,), minutes, suppressed, "minutes", {self.var(atom, month): 1.0})
        for month, _, minutes, suppressed in self.rows("mutual_fund"):
            fund[self.var("fi", month)] = 1.0
            fund[self.var("fo", month)] = -1.0
            self.published("mutual_fund", (month,), minutes, suppressed, "minutes", dict(fund))
        self._breakdown(
            "referrals_by_month",
            ["referred", "accepted", "declined", "completed"],
            "count",
            lambda m, ks: {self.var("s", m, s): 1.0 for s in ks},
            with_all=True,
        )

    def _breakdown(self, table, raw, unit, atoms, with_all=False):
        """Rows by month and label: each shown label is its own raw value; 'other' is the rest."""
        by_month = defaultdict(list)
        for row in self.rows(table):
            by_month[row[0]].append(row)
        for month, rows in by_month.items():
            labels = {r[1] for r in rows} - {"all", "other"}
            rest = [x for x in raw if x not in labels]
            for row in rows:
                label, value, suppressed = row[1], row[-2], row[-1]
                if label == "all":
                    members = raw
                elif label == "other":
                    members = rest
                else:
                    members = [label]
                self.published(table, (month, label), value, suppressed, unit, atoms(month, members))

    def intervals(self) -> list[tuple[str, tuple, str, float, float]]:
        n = len(self.vars)
        from scipy.sparse import csr_matrix

        def matrix(rows):
            data, ri, ci = [], [], []
            for i, (row, _) in enumerate(rows):
                for j, c in row.items():
                    data.append(c)
                    ri.append(i)
                    ci.append(j)
            return csr_matrix((data, (ri, ci)), shape=(len(rows), n)) if rows else None

        # solve each connected part of the equations on its own: the same answers, far faster
        from scipy.sparse.csgraph import connected_components

        everything = matrix(self.eq + self.ub)
        _, part = connected_components((everything.T @ everything) != 0, directed=False)
        bounds = [self.bounds.get(j, (0.0, None)) for j in range(n)]
        out = []
        for table, key, cell, unit in self.hidden:
            keep = [j for j in range(n) if part[j] == part[cell]]
            at = {j: i for i, j in enumerate(keep)}

            def sub(rows, cell=cell, at=at, keep=keep):
                picked = [(r, b) for r, b in rows if part[next(iter(r))] == part[cell]]
                if not picked:
                    return None, None
                data, ri, ci = [], [], []
                for i, (row, _) in enumerate(picked):
                    for j, c in row.items():
                        data.append(c)
                        ri.append(i)
                        ci.append(at[j])
                return csr_matrix((data, (ri, ci)), shape=(len(picked), len(keep))), [b for _, b in picked]

            a_eq, b_eq = sub(self.eq)
            a_ub, b_ub = sub(self.ub)
            found = []
            for sign in (1.0, -1.0):
                c = [0.0] * len(keep)
                c[at[cell]] = sign
                result = linprog(
                    c,
                    A_ub=a_ub,
                    b_ub=b_ub,
                    A_eq=a_eq,
                    b_eq=b_eq,
                    bounds=[bounds[j] for j in keep],
                    method="highs",
                )
                assert result.status in (0, 3), (table, key, result.message)
                found.append(sign * result.fun if result.status == 0 else -sign * float("inf"))
            out.append((table, key, unit, found[0], found[1]))
        return out
