"""``timebank publish``: a separate SQLite file of aggregates that is safe to show anyone.

Nothing personal leaves the ledger: no names, handles, contact details, notes or
per-member rows, only counts and sums over groups of members, each row saying how many
distinct members it is drawn from, with small cells suppressed (``timebank.disclosure``).
The file is written beside its destination and renamed into place, so a site serving the
old file never sees half a new one.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from timebank.charts import bar_chart
from timebank.disclosure import PublicTable, suppress
from timebank.ledger import Ledger
from timebank.store import STANDING, now_utc
from timebank.units import to_hours as hours

METHOD = (
    "Counts and sums over groups of members. Each row records how many distinct members it "
    "is drawn from; a row drawn from fewer than k members is suppressed (published as empty), "
    "and where a group of rows adds up to a published total and only one row was suppressed, "
    "the smallest other row is suppressed too, so no suppressed figure can be worked out by "
    "subtraction. Hours of care count every giver's time: a session of one hour with two "
    "givers is two hours of care. Reversed entries and reversals are left out."
)
BANDS = (
    ("owes more than 10 hours", None, -600),
    ("owes 1 to 10 hours", -600, -60),
    ("within an hour of zero", -60, 60),
    ("is owed 1 to 10 hours", 60, 600),
    ("is owed more than 10 hours", 600, None),
)
ALL = "all"


@attrs.frozen
class Published:
    """What ``publish`` wrote: the file, the tables, how many rows each rule suppressed."""

    path: Path
    tables: tuple[str, ...]
    primary: int
    complementary: int


class Activity:
    """One pass over the service entries: minutes, exchanges and members by month and more."""

    def __init__(self, ledger: Ledger, areas: dict[str, str | None]):
        self.cells: dict[tuple[str, str, str], list[Any]] = defaultdict(lambda: [0, 0, set()])
        self.gave: dict[str, set[str]] = defaultdict(set)
        self.received: dict[str, set[str]] = defaultdict(set)
        rows = ledger.conn.execute(
            "SELECT e.day, e.category, e.givers, e.receivers, e.minutes FROM entries e"
            f" WHERE e.kind = 'service' AND {STANDING}"
        )
        for day, category, givers, receivers, minutes in rows:
            month = day[:7]
            giver_list = givers.split()
            receiver_list = receivers.split()
            care = minutes * len(giver_list)
            people = {*giver_list, *receiver_list}
            self.gave[month].update(giver_list)
            self.received[month].update(receiver_list)
            for key in ((month, "kind", category), (month, "kind", ALL)):
                self._add(key, care, people)
            if areas:  # care is counted in the area of the member who gave it
                by_area: dict[str, list[str]] = defaultdict(list)
                for giver in giver_list:
                    by_area[areas.get(giver) or "not recorded"].append(giver)
                for area, area_givers in by_area.items():
                    self._add(
                        (month, "area", area), minutes * len(area_givers), {*area_givers, *receiver_list}
                    )
                self._add((month, "area", ALL), care, people)

    def _add(self, key: tuple[str, str, str], care: int, people: set[str]) -> None:
        cell = self.cells[key]
        cell[0] += care
        cell[1] += 1
        cell[2] |= people

    def rows(self, dimension: str) -> list[tuple[Any, ...]]:
        return [
            (month, value, exchanges, hours(minutes), minutes, len(members))
            for (month, dim, value), (minutes, exchanges, members) in sorted(self.cells.items())
            if dim == dimension
        ]

    @property
    def months(self) -> list[str]:
        return sorted({m for m, _, _ in self.cells})


def core_tables(ledger: Ledger, today: dt.date) -> list[PublicTable]:
    members = ledger.members()
    areas = {m.handle: m.area for m in members} if any(m.area for m in members) else {}
    activity = Activity(ledger, areas)
    hour_columns = ("month", "kind", "exchanges", "hours", "minutes", "members")
    tables = [
        PublicTable(
            "hours_by_month",
            "Hours of care each month",
            "Hours of care given and exchanges recorded each month, all kinds of care together.",
            ("month", "exchanges", "hours", "minutes", "members"),
            [(m, x, h, mi, n) for m, _, x, h, mi, n in activity.rows("kind") if _ == ALL],
            ("exchanges", "hours", "minutes"),
        ),
        PublicTable(
            "hours_by_month_kind",
            "Hours of care by month and kind of care",
            "Each month's hours by kind of care; the 'all' row is the month's total.",
            hour_columns,
            activity.rows("kind"),
            ("exchanges", "hours", "minutes"),
            group="month",
            group_label="kind",
            total=ALL,
        ),
    ]
    if areas:
        tables.append(
            PublicTable(
                "hours_by_month_area",
                "Hours of care by month and area",
                "Each month's hours by the coarse area members live in, where the co-op records it.",
                ("month", "area", "exchanges", "hours", "minutes", "members"),
                activity.rows("area"),
                ("exchanges", "hours", "minutes"),
                group="month",
                group_label="area",
                total=ALL,
            )
        )
    tables += member_tables(members, activity)
    tables.append(reciprocity(activity, today))
    tables.append(balance_bands(ledger, {m.handle for m in members if m.is_active}))
    return tables


def member_tables(members: list, activity: Activity) -> list[PublicTable]:
    """Active, new and retired members by month and class, and the co-op's growth."""
    classes = sorted({m.member_class for m in members})
    months = sorted(
        set(activity.months)
        | {m.joined.isoformat()[:7] for m in members}
        | {m.left.isoformat()[:7] for m in members if m.left}
    )
    by_handle = {m.handle: m for m in members}
    counts = []
    for month in months:
        active = activity.gave.get(month, set()) | activity.received.get(month, set())
        for member_class in [*classes, ALL]:

            def of_class(handles, member_class=member_class):
                return {
                    h
                    for h in handles
                    if h in by_handle and (member_class == ALL or by_handle[h].member_class == member_class)
                }

            new = of_class(m.handle for m in members if m.joined.isoformat()[:7] == month)
            retired = of_class(m.handle for m in members if m.left and m.left.isoformat()[:7] == month)
            counts.append((month, member_class, "active", len(of_class(active))))
            counts.append((month, member_class, "new", len(new)))
            counts.append((month, member_class, "retired", len(retired)))
    growth = []
    for month in months:
        end = f"{month}-31"
        total = sum(
            1 for m in members if m.joined.isoformat() <= end and (not m.left or m.left.isoformat() > end)
        )
        active = len(activity.gave.get(month, set()) | activity.received.get(month, set()))
        # each figure is a count of members: the row is as small as its smallest count
        growth.append((month, total, active, min([v for v in (total, active) if v], default=0)))
    return [
        PublicTable(
            "members_by_month_class",
            "Active, new and retired members by month and class",
            "How many members took part (gave or received), joined or retired each month, by member "
            "class; the 'all' row is every class together.",
            ("month", "member_class", "measure", "members"),
            counts,
            (),
            group=("month", "measure"),
            group_label="member_class",
            total=ALL,
        ),
        PublicTable(
            "growth",
            "The co-op's growth",
            "Members at the end of each month, and how many took part.",
            ("month", "members_total", "active_members", "members"),
            growth,
            ("members_total", "active_members"),
        ),
    ]


def reciprocity(activity: Activity, today: dt.date) -> PublicTable:
    """Share of the members active in the last 12 months who both gave and received."""
    since = (today.replace(day=1) - dt.timedelta(days=365)).isoformat()[:7]
    gave = set().union(*(s for m, s in activity.gave.items() if m >= since)) if activity.gave else set()
    received = (
        set().union(*(s for m, s in activity.received.items() if m >= since)) if activity.received else set()
    )
    active = gave | received
    both = gave & received
    share = round(100 * len(both) / len(active), 1) if active else None
    return PublicTable(
        "reciprocity",
        "Reciprocity",
        "Of the members active in the last 12 months, how many both gave and received care.",
        ("period", "active_members", "gave_and_received", "share_percent", "members"),
        [(f"{since} to {today.isoformat()[:7]}", len(active), len(both), share, len(active))],
        ("active_members", "gave_and_received", "share_percent"),
    )


def balance_bands(ledger: Ledger, active: set[str]) -> PublicTable:
    """How many active members' balances fall in each band."""
    counts = {label: 0 for label, _, _ in BANDS}
    for account, balance in ledger.balances():
        if account.code not in active:
            continue
        for label, low, high in BANDS:
            if (low is None or balance >= low) and (high is None or balance < high):
                counts[label] += 1
    rows = [(label, n, n) for label, n in counts.items()] + [(ALL, len(active), len(active))]
    return PublicTable(
        "balance_bands",
        "Balances in bands",
        "How many active members' balances fall in each band.",
        ("band", "member_count", "members"),
        rows,
        ("member_count",),
        group_label="band",
        total=ALL,
    )


def gather(ledger: Ledger, today: dt.date) -> list[PublicTable]:
    tables = core_tables(ledger, today)
    for _, found in ledger.plugins.call("contribute_public_figures", ledger.rules, ledger=ledger):
        tables.extend(found)
    return tables


def publish(ledger: Ledger, out: str | Path, *, k: int = 5, today: dt.date | None = None) -> Published:
    """Write the public file at ``out`` (replacing it whole) and return what was written."""
    if k < 2:
        raise ValueError("k must be at least 2")
    today = today or dt.date.today()
    out = Path(out)
    temp = out.with_name(f".{out.name}.tmp")
    temp.unlink(missing_ok=True)
    primary = complementary = 0
    names = []
    with ledger.store.read():
        tables = gather(ledger, today)
        head, rules = ledger.head_hash(), ledger.rules
        entries = ledger.conn.execute("SELECT count(*) FROM entries").fetchone()[0]
    conn = sqlite3.connect(temp)
    try:
        conn.execute("CREATE TABLE _tables (name TEXT PRIMARY KEY, title TEXT, description TEXT)")
        for table in tables:
            rows, p, c = suppress(table, k)
            primary, complementary = primary + p, complementary + c
            columns = ", ".join(f"[{c}]" for c in table.columns)
            conn.execute(f"CREATE TABLE [{table.name}] ({columns}, suppressed INTEGER)")
            marks = ", ".join("?" * (len(table.columns) + 1))
            conn.executemany(f"INSERT INTO [{table.name}] VALUES ({marks})", rows)
            conn.execute("INSERT INTO _tables VALUES (?, ?, ?)", (table.name, table.title, table.description))
            names.append(table.name)
        about = [
            ("coop", rules.coop["name"]),
            ("description", rules.coop["description"]),
            ("published_at", now_utc()),
            ("k", str(k)),
            ("method", METHOD),
            ("rules_version", str(rules.version)),
            ("ledger_head_hash", head),
            ("ledger_entries", str(entries)),
            ("licence", rules.coop["licence"]),
            ("licence_url", rules.coop["licence_url"]),
            ("source_url", rules.coop["source_url"]),
        ]
        conn.execute("CREATE TABLE about (key TEXT PRIMARY KEY, value TEXT)")
        conn.executemany("INSERT INTO about VALUES (?, ?)", about)
        conn.execute("CREATE TABLE charts (name TEXT PRIMARY KEY, title TEXT, svg TEXT)")
        conn.executemany("INSERT INTO charts VALUES (?, ?, ?)", list(_charts(conn)))
        conn.commit()
    finally:
        conn.close()
    os.replace(temp, out)
    return Published(out, tuple(names), primary, complementary)


def _charts(conn: sqlite3.Connection) -> Iterable[tuple[str, str, str]]:
    """Charts of the main figures, drawn now so the site needs no script or outside request."""
    months = conn.execute("SELECT month, hours FROM hours_by_month ORDER BY month").fetchall()
    yield (
        "hours_by_month",
        "Hours of care each month",
        bar_chart(months[-24:], title="Hours of care each month", unit="hours"),
    )
    active = conn.execute("SELECT month, active_members FROM growth ORDER BY month").fetchall()
    yield (
        "active_members",
        "Members taking part each month",
        bar_chart(active[-24:], title="Members taking part each month", unit="members"),
    )
    bands = conn.execute("SELECT band, member_count FROM balance_bands WHERE band != 'all'").fetchall()
    yield ("balance_bands", "Balances in bands", bar_chart(bands, title="Members by balance", unit="members"))
