"""``timebank publish``: a separate SQLite file of aggregates that is safe to show anyone.

Nothing personal leaves the ledger: no names, handles, areas typed by co-ordinators, notes
or per-member rows, only rounded counts and sums over groups of members. Every figure is
declared (``timebank.publishing.disclosure``): the core's own and each plugin's. The core computes
them, suppresses the small and the dominated, audits the rest with a linear-programming
solver and suppresses more until no hidden figure can be narrowed below its protection
range from everything published.

Published months are frozen: each publication is recorded in the ledger (months, rows,
digest) and in the file itself, and a later publication repeats earlier months byte for
byte. Late changes to those months (a back-dated retirement, a late exchange, a member
moved) are held back, so two publications cannot be differenced. The file is written
beside its destination and renamed into place, so a site never sees half a new one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any

import attrs

from timebank.errors import InputError
from timebank.ledger import Ledger
from timebank.publishing.charts import bar_chart
from timebank.publishing.disclosure import (
    ALL,
    DOMINANCE_MEMBERS,
    DOMINANCE_SHARE,
    FLOORS,
    OTHER,
    Atom,
    Audit,
    AuditResult,
    Cell,
    Figure,
    Measure,
    Protection,
    collect,
    dominated,
)
from timebank.rules import Rules
from timebank.storage import figures as stored_figures
from timebank.storage import publications as stored
from timebank.storage.store import now_utc

METHOD = (
    "Rounded counts and sums over groups of members, each drawn from enough members. A figure"
    " drawn from fewer than k contributors (givers for hours given, both sides for exchanges,"
    " the members themselves for counts of members), or where two members make up most of it,"
    " is suppressed (published empty). Then a linear-programming audit solves, for every"
    " suppressed figure, the range it could take given everything published (all tables, their"
    " totals, running totals, rounding, the rules' weights) and suppresses more until every"
    " range is wide enough. Kinds, classes and areas with fewer than k members are shown as"
    " 'other'. Months already published are repeated exactly, never revised. Hours of care count"
    " every giver's time; reversed entries and reversals are left out."
)
BANDS = (
    ("owes more than 10 hours", None, -600),
    ("owes 1 to 10 hours", -600, -60),
    ("within an hour of zero", -60, 60),
    ("is owed 1 to 10 hours", 60, 600),
    ("is owed more than 10 hours", 600, None),
)
RECIPROCITY = ("active in the 12 months", "gave and received")
# A month is published once it has been over this many days: the slips for a month
# arrive in the days after it.
GRACE_DAYS = 7


def published_through(today: dt.date, grace_days: int = GRACE_DAYS) -> dt.date:
    """The last day the figures cover: the end of the last month over ``grace_days`` ago."""
    return (today - dt.timedelta(days=grace_days)).replace(day=1) - dt.timedelta(days=1)


def protection_from(rules: Rules, k: int | None = None) -> Protection:
    """The rules' publishing settings, refused below their floors (``k`` may only raise k)."""
    values = {name: rules.coop[name] for name in FLOORS}
    if k is not None:
        values["publish_k"] = k
    for name, floor in FLOORS.items():
        if values[name] < floor:
            shown = "k" if name == "publish_k" and k is not None else f"coop.{name}"
            raise InputError(f"{shown}: {values[name]} is below the floor of {floor} for published figures")
    return Protection(
        k=values["publish_k"],
        p=values["publish_p"],
        round_counts=values["publish_round_counts"],
        round_minutes=values["publish_round_hours"],
    )


@attrs.frozen
class Published:
    """What ``publish`` wrote: the file, its tables, the audit's result, the months it added."""

    path: Path
    tables: tuple[str, ...]
    audit: AuditResult
    through: dt.date
    new_months: tuple[str, ...]
    number: int
    protection: Protection

    @property
    def primary(self) -> int:
        return self.audit.sensitive

    @property
    def complementary(self) -> int:
        return self.audit.secondary


def _month_of(day: dt.date) -> str:
    return day.isoformat()[:7]


def _months(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


# --- the core's own figures -------------------------------------------------------------


def core_declarations(ledger: Ledger, through: dt.date) -> tuple[list[Measure], list[Figure], dict]:
    """The core's measures and figures, and what the relations between them need."""
    last = through.isoformat()
    last_month = last[:7]
    members = [m for m in ledger.members() if m.joined.isoformat() <= last]
    declared_areas = set(ledger.rules.coop["public_areas"])
    klass = {m.handle: m.member_class for m in members}
    area = {m.handle: (m.area if m.area in declared_areas else OTHER) for m in members}
    # One lean pass over the service entries, straight into atoms: the benchmark has a
    # million, and a Fact per exchange and giver would cost seconds.
    count: dict[str, int] = defaultdict(int)
    gave: dict[str, set[str]] = defaultdict(set)
    received: dict[str, set[str]] = defaultdict(set)
    area_of = area.get
    current, received_now, n = None, set(), 0
    cells: dict[tuple[str, str], dict[str, int]] = {}
    per_month: dict[str, dict[tuple[str, str], dict[str, int]]] = {}
    for chunk in stored_figures.service_rows_through(ledger.conn, through):
        for month, category, givers, receivers, minutes in chunk:
            if month != current:  # entries come in day order, mostly: keep this month at hand
                if current is not None:
                    count[current] += n
                current, received_now, n = month, received[month], 0
                cells = per_month.setdefault(month, {})
            n += 1
            for giver in givers.split() if " " in givers else (givers,):
                key = (category, area_of(giver, OTHER))
                given = cells.get(key)
                if given is None:
                    given = cells[key] = defaultdict(int)
                given[giver] += minutes  # the givers of a month: the keys of its cells, below
            if " " in receivers:
                received_now.update(receivers.split())
            else:
                received_now.add(receivers)
    if current is not None:
        count[current] += n
    for month, month_cells in per_month.items():
        gave[month] = set().union(*(given.keys() for given in month_cells.values()))
    hours = {
        (month, key): Atom(sum(given.values()), given)
        for month, month_cells in per_month.items()
        for key, given in month_cells.items()
    }
    exchanges: dict[tuple[str, tuple[str, ...]], Atom] = {}
    active: dict[tuple[str, tuple[str, ...]], Atom] = {}
    for month in count:
        people = gave[month] | received[month]
        exchanges[(month, ())] = Atom(count[month], dict.fromkeys(people, 1))
        for handle in people:
            key = (month, (klass.get(handle, OTHER),))
            atom = active.get(key)
            if atom is None:
                atom = active[key] = Atom()
            atom.amount += 1
            atom.members[handle] = 1
    joined = [(_month_of(m.joined), (m.member_class,), (m.handle,), 1) for m in members]
    left = [
        (_month_of(m.left), (m.member_class,), (m.handle,), 1)
        for m in members
        if m.left and m.left <= through
    ]
    population = {m.handle for m in members if not m.left or m.left > through}
    bands = [(last_month, (label,), (code,), 1) for code, label in _bands(ledger, population, through)]
    window = _months(_shift(last_month, -11), last_month)
    gave12 = set().union(*(gave.get(m, set()) for m in window))
    received12 = set().union(*(received.get(m, set()) for m in window))
    reciprocity = [(last_month, (RECIPROCITY[0],), (h,), 1) for h in gave12 | received12] + [
        (last_month, (RECIPROCITY[1],), (h,), 1) for h in gave12 & received12
    ]
    measures = [
        Measure("hours_given", "minutes", ("kind", "area"), atoms=hours),
        Measure("exchanges", "count", (), atoms=exchanges),
        Measure("active", "members", ("member_class",), atoms=active),
        Measure("joined", "count", ("member_class",), joined),
        Measure("left", "count", ("member_class",), left),
        Measure("balance_band", "count", ("band",), bands),
        Measure("reciprocity", "members", ("measure",), reciprocity),
    ]
    figures = [
        Figure(
            "hours_by_month",
            "Hours of care each month",
            "Hours of care given each month, all kinds of care together.",
            "hours_given",
            "hours",
        ),
        Figure(
            "hours_by_month_kind",
            "Hours of care by month and kind of care",
            "Each month's hours by kind of care; kinds given by fewer than k members are 'other'.",
            "hours_given",
            "hours",
            by="kind",
            total=False,
        ),
        Figure(
            "exchanges_by_month",
            "Exchanges each month",
            "How many exchanges of care were recorded each month.",
            "exchanges",
            "exchanges",
        ),
        Figure(
            "members_active",
            "Members taking part each month, by class",
            "How many members gave or received care each month; the 'all' row is every class.",
            "active",
            "members",
            by="member_class",
        ),
        Figure(
            "members_new",
            "New members each month, by class",
            "How many members joined each month; the 'all' row is every class.",
            "joined",
            "members",
            by="member_class",
        ),
        Figure(
            "members_retired",
            "Members who retired each month, by class",
            "How many members retired each month; the 'all' row is every class.",
            "left",
            "members",
            by="member_class",
        ),
        Figure(
            "growth",
            "The co-op's growth",
            "Members at the end of each month: everyone who joined less everyone who retired.",
            {"joined": 1, "left": -1},
            "members_total",
            running=True,
        ),
        Figure(
            "balance_bands",
            "Balances in bands",
            "How many members' balances fell in each band at the end of the month shown.",
            "balance_band",
            "members",
            by="band",
            total=False,
            fold=False,
            snapshot=True,
        ),
        Figure(
            "reciprocity",
            "Reciprocity",
            "Of the members active in the 12 months to the month shown, how many both gave and received.",
            "reciprocity",
            "members",
            by="measure",
            total=False,
            fold=False,
            snapshot=True,
        ),
    ]
    if declared_areas:
        figures.insert(
            2,
            Figure(
                "hours_by_month_area",
                "Hours of care by month and area",
                "Each month's hours by the area of the member who gave them (declared areas only).",
                "hours_given",
                "hours",
                by="area",
                total=False,
            ),
        )
    return measures, figures, {"window": window}


def _shift(month: str, by: int) -> str:
    n = int(month[:4]) * 12 + int(month[5:7]) - 1 + by
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def _bands(ledger: Ledger, members: set[str], through: dt.date) -> Iterable[tuple[str, str]]:
    for code, balance in balances_on(ledger, through).items():
        if code not in members:
            continue
        for label, low, high in BANDS:
            if (low is None or balance >= low) and (high is None or balance < high):
                yield code, label


def balances_on(ledger: Ledger, day: dt.date) -> dict[str, int]:
    """Every account's balance at the end of ``day``: today's, less what is dated after it."""
    later = stored_figures.amounts_dated_after(ledger.conn, day)
    ids = ledger.account_ids()
    return {account.code: balance - later.get(ids[account.code], 0) for account, balance in ledger.balances()}


def gather(ledger: Ledger, through: dt.date) -> tuple[list[Measure], list[Figure], dict]:
    """The core's declarations and every enabled plugin's, checked."""
    measures, figures, extra = core_declarations(ledger, through)
    # Each item is a Measure or a Figure: the plugin manager checks every hook's results.
    for _, found in ledger.plugins.call(
        "contribute_public_figures", ledger.rules, ledger=ledger, through=through
    ):
        for item in found:
            (measures if isinstance(item, Measure) else figures).append(item)
    names = [m.name for m in measures]
    known = set(names)
    seen: set[str] = set()
    for figure in figures:
        if figure.name in seen or not figure.name.isidentifier():
            raise InputError(f"figure {figure.name!r}: the name is used twice or is not a plain name")
        seen.add(figure.name)
        for name in figure.terms:
            if name not in known:
                raise InputError(f"figure {figure.name!r}: no measure called {name!r}")
            dimensions = next(m.dimensions for m in measures if m.name == name)
            for wanted in (figure.by, figure.weight_by):
                if wanted and wanted not in dimensions:
                    raise InputError(f"figure {figure.name!r}: measure {name!r} has no dimension {wanted!r}")
        if figure.running and figure.by:
            raise InputError(f"figure {figure.name!r}: a running total cannot be broken down")
    if len(known) != len(names):
        raise InputError("measures: a measure name is declared twice")
    return measures, figures, extra


# --- what was published before ----------------------------------------------------------


@attrs.frozen
class Previous:
    """The latest publication: its through month, tables (the public's rows) and truth."""

    number: int
    through: str
    tables: dict[str, dict[str, Any]]
    truth: dict[str, str]
    records: list[tuple]
    ledger: str = ""


def ledger_identity(ledger: Ledger) -> str:
    """Which ledger a published file comes from, without saying anything about it: a random
    name given to the ledger by migration 4 (its backups share it)."""
    source = stored.identity_source(ledger.conn)
    return hashlib.sha256(f"timebank ledger|{source}".encode()).hexdigest()[:32]


def _from_ledger(ledger: Ledger) -> Previous | None:
    latest = stored.latest(ledger.conn)
    if latest is None:
        return None
    records = stored.records(ledger.conn)
    return Previous(latest["id"], latest["through"], latest["tables"], latest["truth"], records)


def _from_file(path: Path) -> Previous | None:
    """The publication record the public file carries, with its rows, if it is one."""
    try:
        found = stored.read_file(path)
    except sqlite3.DatabaseError as exc:
        # a file of publications that cannot be read now must not be taken for none at all:
        # that would unfreeze every month the public has
        raise InputError(f"out: {path} could not be read ({exc}); nothing was published") from None
    if found is None:  # no file, or not a file of publications (an older format, or not ours): replaced whole
        return None
    records = found["records"]
    return Previous(
        records[-1][0], records[-1][2], found["tables"], {}, [tuple(r[:6]) for r in records], records[-1][6]
    )


def _digest(tables: dict[str, dict[str, Any]]) -> str:
    canonical = {name: [t["columns"], t["rows"]] for name, t in sorted(tables.items())}
    return hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()


# --- cells -------------------------------------------------------------------------------


def _key(table: str, key: tuple[str, ...]) -> str:
    return "|".join((table, *key))


class Builder:
    """Turns declared figures into cells for the months being published."""

    def __init__(
        self,
        measures: list[Measure],
        protection: Protection,
        new_months: list[str],
        all_months: set[str],
        previous: Previous | None,
    ):
        self.protection = protection
        self.new = new_months
        self.measures = {m.name: m for m in measures}
        self.atoms = {m.name: collect(m, all_months) if m.atoms is None else m.atoms for m in measures}
        self.previous = previous
        self.cells: list[Cell] = []
        self.where: dict[tuple[str, tuple[str, ...]], int] = {}
        self.rows: dict[str, list[tuple[int, tuple[str, ...]]]] = defaultdict(list)

    def unit(self, figure: Figure) -> str:
        units = {self.measures[name].unit for name in figure.terms}
        if len(units) != 1:
            raise InputError(f"figure {figure.name!r}: its measures have different units")
        return units.pop()

    def fold(self, figure: Figure, months: list[str]) -> dict[str, str]:
        """Raw values of ``by`` to published labels: small ones (and undeclared areas) as 'other'."""
        seen: dict[str, set[str]] = defaultdict(set)
        for name in figure.terms:
            at = self.measures[name].dimensions.index(figure.by)
            for (month, values), atom in self.atoms[name].items():
                if month in months:
                    seen[values[at]].update(atom.members)
        labels = {value: value for value in seen}
        if not figure.fold:
            return labels
        k = self.protection.k
        for value, who in seen.items():
            if len(who) < k:
                labels[value] = OTHER

        def members_of(label: str) -> set[str]:
            return set().union(*(seen[v] for v, lab in labels.items() if lab == label))

        while True:
            other = members_of(OTHER)
            shown = sorted({lab for lab in labels.values() if lab != OTHER}, key=lambda x: len(members_of(x)))
            if not other or len(other) >= k or not shown:
                break
            for value, lab in labels.items():
                if lab == shown[0]:
                    labels[value] = OTHER
        return labels

    def add(self, figure: Figure) -> None:
        unit = self.unit(figure)
        months = [self.new[-1]] if figure.snapshot else list(self.new)
        keys: list[str | None] = [None]
        labels: dict[str, str] = {}
        if figure.by:
            labels = self.fold(figure, months)
            shown = sorted(set(labels.values()) - {OTHER}) + ([OTHER] if OTHER in labels.values() else [])
            # one label alone would only repeat the total (or, folded, hide nothing)
            breakdown = shown if len(shown) >= 2 or (not figure.fold and shown) else []
            keys = [*([ALL] if figure.total else []), *breakdown]
        base = self._base(figure, unit) if figure.running else None
        for month in months:
            for label in keys:
                self._cell(figure, unit, month, label, labels, base)

    def _select(self, figure: Figure, month_ok, label: str | None, labels: dict[str, str]):
        for name, sign in figure.terms.items():
            dims = self.measures[name].dimensions
            at = dims.index(figure.by) if figure.by else None
            wat = dims.index(figure.weight_by) if figure.weight_by else None
            for (month, values), atom in self.atoms[name].items():
                if not month_ok(month):
                    continue
                if label not in (None, ALL) and labels.get(values[at]) != label:
                    continue
                weight = Fraction(figure.weights.get(values[wat], "1")) if figure.weights else Fraction(1)
                yield name, month, values, atom, sign * weight

    def _cell(self, figure, unit, month, label, labels, base) -> None:
        key = (month,) if label is None else (month, label)
        if figure.running:
            first = self.new[0]
            month_ok = lambda m: first <= m <= month  # noqa: E731
        else:
            month_ok = lambda m: m == month  # noqa: E731
        terms: dict[Any, Fraction] = {}
        value = Fraction(0)
        positive = True
        selected = list(self._select(figure, month_ok, label, labels))
        for name, m, values, atom, coef in selected:
            amount = len(atom.members) if self.measures[name].unit == "members" else atom.amount
            terms[(name, m, values)] = terms.get((name, m, values), Fraction(0)) + coef
            value += coef * amount
            positive = positive and coef > 0
        is_dominated = False
        if unit == "minutes" and positive and not figure.running and value > 0:
            # the two largest givers: merging only when the largest in each part could add up
            bound = sum(coef * max(atom.members.values(), default=0) for *_, atom, coef in selected)
            if DOMINANCE_MEMBERS * bound > DOMINANCE_SHARE * value:
                who: dict[str, Fraction] = defaultdict(Fraction)
                for *_, atom, coef in selected:
                    for member, given in atom.members.items():
                        who[member] += coef * given
                is_dominated = dominated(who)
        contributors = len(set().union(*(atom.members.keys() for *_, atom, _ in selected)))
        dominated_cell = is_dominated
        if base is not None:
            index, base_value = base
            value += base_value
            if index is not None:
                terms[("cell", index)] = Fraction(1)
            if base_value:
                contributors = max(contributors, self.protection.k)
        cell = Cell(
            figure.name,
            key,
            unit,
            value,
            terms,
            contributors=contributors,
            dominated=dominated_cell,
            nonnegative=all(s > 0 for s in figure.terms.values()),
        )
        if 0 < cell.contributors < self.protection.k or cell.dominated:
            cell.status = 1
        cell.published = self.protection.rounded(value, unit)
        self.where[(figure.name, key)] = len(self.cells)
        self.rows[figure.name].append((len(self.cells), key))
        self.cells.append(cell)

    def _base(self, figure: Figure, unit: str) -> tuple[int | None, Fraction] | None:
        """Where a running total starts: the last month published before, as then published."""
        if self.previous is None or figure.name not in self.previous.tables:
            return None
        rows = self.previous.tables[figure.name]["rows"]
        if not rows:
            return None
        last = rows[-1]
        key = (last[0],)
        truth = self.previous.truth.get(_key(figure.name, key))
        if truth is None:  # the ledger does not have the record: recompute from the ledger
            old = lambda m: m <= last[0]  # noqa: E731
            value = sum(
                (coef * (len(a.members) if self.measures[n].unit == "members" else a.amount))
                for n, _, _, a, coef in self._select(figure, old, None, {})
            )
        else:
            value = Fraction(truth)
        return self.frozen_cell(figure.name, key, unit, last, value, truth is not None), value

    def frozen_cell(
        self, table: str, key: tuple[str, ...], unit: str, row: list, value: Fraction, known: bool
    ) -> int:
        """An earlier published cell that new figures relate to, as a fixed part of the audit."""
        if (table, key) in self.where:
            return self.where[(table, key)]
        published = row[-2]  # minutes, or the count
        suppressed = bool(row[-1])
        cell = Cell(
            table,
            key,
            unit,
            Fraction(value),
            {},
            frozen=True,
            published=None if suppressed else int(published),
            known=known,
        )
        if suppressed:
            small = unit != "minutes" and (not known or value < self.protection.k)
            cell.status = 1 if small else 2
        self.where[(table, key)] = len(self.cells)
        self.cells.append(cell)
        return len(self.cells) - 1


def relations(builder: Builder, extra: dict) -> list[tuple[dict[int, Fraction], float, float]]:
    """What an attacker also knows: distinct counts bounded by their parts, bands add up."""
    out: list[tuple[dict[int, Fraction], float, float]] = []
    if not builder.new:
        return out
    last = builder.new[-1]
    where = builder.where
    active = where.get(("reciprocity", (last, RECIPROCITY[0])))
    both = where.get(("reciprocity", (last, RECIPROCITY[1])))
    if active is not None and both is not None:
        out.append(({both: Fraction(1), active: Fraction(-1)}, -float("inf"), 0.0))
        monthly = []
        for month in extra["window"]:
            index = where.get(("members_active", (month, ALL)))
            if index is None and builder.previous and "members_active" in builder.previous.tables:
                for row in builder.previous.tables["members_active"]["rows"]:
                    if row[0] == month and row[1] == ALL:
                        key = _key("members_active", (month, ALL))
                        truth = builder.previous.truth.get(key)
                        index = builder.frozen_cell(
                            "members_active",
                            (month, ALL),
                            "members",
                            row,
                            Fraction(truth or 0),
                            truth is not None,
                        )
            if index is not None:
                monthly.append(index)
                out.append(({index: Fraction(1), active: Fraction(-1)}, -float("inf"), 0.0))
        if monthly:  # months before the first published month had nobody active
            row = {active: Fraction(1)}
            for index in monthly:
                row[index] = row.get(index, Fraction(0)) - 1
            out.append((row, -float("inf"), 0.0))
    bands = [i for i, key in builder.rows.get("balance_bands", []) if key[0] == last]
    growth = where.get(("growth", (last,)))
    if bands and growth is not None:
        cells = builder.cells
        if sum(cells[i].value for i in bands) == cells[growth].value:
            row = {i: Fraction(1) for i in bands}
            row[growth] = Fraction(-1)
            out.append((row, 0.0, 0.0))
    return out


# --- publish -----------------------------------------------------------------------------


def publish(
    ledger: Ledger,
    out: str | Path,
    *,
    k: int | None = None,
    today: dt.date | None = None,
    previous_file: str | Path | None = None,
) -> Published:
    """Audit, record and write the public file at ``out`` (replacing it whole).

    ``previous_file`` is the file the public has now, when ``out`` is a temporary file that
    will replace it: its own publication record freezes the months it holds.
    """
    protection = protection_from(ledger.rules, k)
    through = published_through(today or dt.date.today())
    out = Path(out)
    temp = out.with_name(f".{out.name}.tmp")
    temp.unlink(missing_ok=True)
    with ledger.store.read():
        recorded, carried = _from_ledger(ledger), _from_file(Path(previous_file or out))
        identity = ledger_identity(ledger)
        if carried and carried.ledger != identity:
            raise InputError(f"out: {out} holds figures published from another ledger; publish to a new file")
        previous = recorded
        if carried and (recorded is None or carried.through > recorded.through):
            previous = carried  # an older ledger backup cannot unfreeze what the public has
        frozen_through = previous.through if previous else None
        last_month = _month_of(through)
        nothing_new = bool(frozen_through and frozen_through >= last_month)
        if nothing_new:  # every month is published already: repeat them
            through = dt.date.fromisoformat(frozen_through + "-01")
            through = (through + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
            measures, figures, extra = [], [], {}
        else:
            measures, figures, extra = gather(ledger, through)
        every = [min(m.atoms)[0] for m in measures if m.atoms] + [
            min((fact[0] for fact in m.facts), default=last_month) for m in measures if m.atoms is None
        ]
        first = min(every) if every else last_month
        all_months = _months(first, _month_of(through))
        new_months = [m for m in all_months if not frozen_through or m > frozen_through]
        head = ledger.head_hash()
        builder = Builder(measures, protection, new_months, set(all_months), previous)
        if new_months:
            for figure in figures:
                builder.add(figure)
        rules = ledger.rules
        # the rules in force when the period ended: later changes are activity after it
        in_force = max(
            (r["version"] for r in ledger.rules_history() if r["created_at"][:10] <= through.isoformat()),
            default=None,
        )
    audit = Audit(builder.cells, relations(builder, extra), protection)
    result = audit.run()
    tables = _tables(figures, builder, previous, protection)
    number = max([r[0] for r in previous.records] if previous else [0]) + 1
    number = max(number, (recorded.number + 1) if recorded else 1)
    key = secrets.token_hex(32)
    commitment = hmac.new(bytes.fromhex(key), head.encode(), hashlib.sha256).hexdigest()
    digest = _digest(tables)
    published_at = now_utc()
    effective = _month_of(through)
    months = new_months
    records = list(previous.records) if previous else []
    records.append((number, published_at, effective, json.dumps(months), digest, commitment))
    truth = dict(previous.truth) if previous else {}
    for cell in builder.cells:
        if not cell.frozen:
            truth[_key(cell.table, cell.key)] = str(cell.value)
    about = [
        ("coop", rules.coop["name"]),
        ("description", rules.coop["description"]),
        ("published_at", published_at),
        ("publication", str(number)),
        ("figures_through", through.isoformat()),
        ("k", str(protection.k)),
        ("p_percent", str(protection.p)),
        ("counts_rounded_to", str(protection.round_counts)),
        ("hours_rounded_to", _hours_text(protection.round_minutes)),
        (
            "dominance",
            f"no hours figure where {DOMINANCE_MEMBERS} members give more than {DOMINANCE_SHARE * 100}%",
        ),
        ("method", METHOD),
        ("audit", result.sentence()),
        ("rules_version", str(in_force or 1)),
        ("ledger_commitment", commitment),
        (
            "commitment_method",
            "HMAC-SHA256 of the ledger's head hash when these figures were made, keyed with a secret"
            " the co-op keeps in its ledger and shows an auditor on request",
        ),
        ("licence", rules.coop["licence"]),
        ("licence_url", rules.coop["licence_url"]),
        ("source_url", rules.coop["source_url"]),
    ]
    _write(temp, tables, about, records, identity)
    with ledger.store.write() as conn:
        if stored.latest_id(conn) != (recorded.number if recorded else None):
            temp.unlink(missing_ok=True)
            raise InputError("publish: another publication was recorded meanwhile; publish again")
        stored.record(
            conn,
            number=number,
            published_at=published_at,
            through=effective,
            months=months,
            tables=tables,
            truth=truth,
            digest=digest,
            head_hash=head,
            commitment_key=key,
            commitment=commitment,
        )
    os.replace(temp, out)
    return Published(out, tuple(tables), result, through, tuple(new_months), number, protection)


def _hours_text(minutes: int) -> str:
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"


def _tables(
    figures: list[Figure], builder: Builder, previous: Previous | None, protection: Protection
) -> dict[str, dict[str, Any]]:
    """Every table's rows: earlier months exactly as published before, then the new months."""
    tables: dict[str, dict[str, Any]] = {}
    if previous:
        for name, table in previous.tables.items():
            tables[name] = {**table, "rows": [list(r) for r in table["rows"]]}
    for figure in figures:
        unit = builder.unit(figure)
        values = ["hours", "minutes"] if unit == "minutes" else [figure.column]
        columns = ["month", *([figure.by] if figure.by else []), *values, "suppressed"]
        table = tables.setdefault(
            figure.name,
            {"title": figure.title, "description": figure.description, "columns": columns, "rows": []},
        )
        if table["columns"] != columns:
            raise InputError(
                f"figure {figure.name!r}: its columns changed since it was first published; name a new figure"
            )
        for index, key in builder.rows.get(figure.name, []):
            cell = builder.cells[index]
            if cell.status:
                shown: list[Any] = [None] * len(values)
            else:
                rounded = protection.rounded(cell.value, unit)
                shown = [round(rounded / 60, 2), rounded] if unit == "minutes" else [rounded]
            table["rows"].append([*key, *shown, 1 if cell.status else 0])
    return tables


def _write(path: Path, tables: dict[str, dict[str, Any]], about: list, records: list, identity: str) -> None:
    """The public file: the tables, what ``about`` says, every publication (each naming the
    ledger by its public identity) and the charts."""
    stored.write_file(path, tables, about, [(*r, identity) for r in records], list(_charts(tables)))


def _charts(tables: dict[str, dict[str, Any]]) -> Iterable[tuple[str, str, str]]:
    """Charts of the main figures, drawn now so the site needs no script or outside request."""
    months = [(r[0], r[1]) for r in tables.get("hours_by_month", {}).get("rows", [])]
    yield (
        "hours_by_month",
        "Hours of care each month",
        bar_chart(months[-24:], title="Hours of care each month", unit="hours"),
    )
    active = [(r[0], r[2]) for r in tables.get("members_active", {}).get("rows", []) if r[1] == ALL]
    yield (
        "active_members",
        "Members taking part each month",
        bar_chart(active[-24:], title="Members taking part each month", unit="members"),
    )
    bands = tables.get("balance_bands", {}).get("rows", [])
    latest = max((r[0] for r in bands), default=None)
    shown = [(r[1], r[2]) for r in bands if r[0] == latest]
    yield ("balance_bands", "Balances in bands", bar_chart(shown, title="Members by balance", unit="members"))
