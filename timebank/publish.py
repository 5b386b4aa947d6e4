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
# A month is published once it has been over this many days: the slips for a month
# arrive in the days after it, and a month's figures should not move once shown.
GRACE_DAYS = 7


def published_through(today: dt.date, grace_days: int = GRACE_DAYS) -> dt.date:
    """The last day the figures cover: the end of the last month over ``grace_days`` ago.

    Only whole months are published, so two publications in the same month show the same
    figures: nobody can subtract one from the other to see what changed that day.
    """
    return (today - dt.timedelta(days=grace_days)).replace(day=1) - dt.timedelta(days=1)


@attrs.frozen
class Published:
    """What ``publish`` wrote: the file, the tables, how many rows each rule suppressed."""

    path: Path
    tables: tuple[str, ...]
    primary: int
    complementary: int
    through: dt.date


class Activity:
    """One pass over the service entries: minutes, exchanges and members by month and more."""

    def __init__(self, ledger: Ledger, areas: dict[str, str | None], through: dt.date):
        self.cells: dict[tuple[str, str, str], list[Any]] = defaultdict(lambda: [0, 0, set()])
        self.gave: dict[str, set[str]] = defaultdict(set)
        self.received: dict[str, set[str]] = defaultdict(set)
        rows = ledger.conn.execute(
            "SELECT e.day, e.category, e.givers, e.receivers, e.minutes FROM entries e"
            # ``+e.day``: most entries qualify, so read the table in order rather than via the index
            f" WHERE e.kind = 'service' AND +e.day <= ? AND {STANDING}",
            (through.isoformat(),),
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


def core_tables(ledger: Ledger, through: dt.date) -> list[PublicTable]:
    members = [m for m in ledger.members() if m.joined <= through]
    areas = {m.handle: m.area for m in members} if any(m.area for m in members) else {}
    activity = Activity(ledger, areas, through)
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
    tables += member_tables(members, activity, through)
    tables.append(reciprocity(activity, through))
    still_members = {m.handle for m in members if not m.left or m.left > through}
    tables.append(balance_bands(ledger, still_members, through))
    return tables


def member_tables(members: list, activity: Activity, through: dt.date) -> list[PublicTable]:
    """Active, new and retired members by month and class, and the co-op's growth."""
    classes = sorted({m.member_class for m in members})
    last = through.isoformat()[:7]
    months = sorted(
        set(activity.months)
        | {m.joined.isoformat()[:7] for m in members}
        | {m.left.isoformat()[:7] for m in members if m.left and m.left <= through}
    )
    months = [month for month in months if month <= last]
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


def reciprocity(activity: Activity, through: dt.date) -> PublicTable:
    """Share of the members active in the 12 months to ``through`` who both gave and received."""
    months_back = through.year * 12 + through.month - 1 - 11
    since = f"{months_back // 12:04d}-{months_back % 12 + 1:02d}"
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
        "Of the members active in the 12 months to the last month published, how many both gave"
        " and received care.",
        ("period", "active_members", "gave_and_received", "share_percent", "members"),
        [(f"{since} to {through.isoformat()[:7]}", len(active), len(both), share, len(active))],
        ("active_members", "gave_and_received", "share_percent"),
    )


def balances_on(ledger: Ledger, day: dt.date) -> dict[str, int]:
    """Every account's balance at the end of ``day``: today's, less what is dated after it.

    Entries dated after ``day`` are few (a month or so), and found through the by-day index.
    """
    later = dict(
        ledger.conn.execute(
            # CROSS JOIN keeps entries outside: otherwise SQLite walks all postings by account
            "SELECT p.account_id, sum(p.amount) FROM entries e CROSS JOIN postings p ON p.entry_id = e.id"
            " WHERE e.day > ? GROUP BY p.account_id",
            (day.isoformat(),),
        )
    )
    ids = ledger.account_ids()
    return {account.code: balance - later.get(ids[account.code], 0) for account, balance in ledger.balances()}


def balance_bands(ledger: Ledger, members: set[str], through: dt.date) -> PublicTable:
    """How many members' balances fall in each band at the end of ``through``."""
    counts = {label: 0 for label, _, _ in BANDS}
    for code, balance in balances_on(ledger, through).items():
        if code not in members:
            continue
        for label, low, high in BANDS:
            if (low is None or balance >= low) and (high is None or balance < high):
                counts[label] += 1
    rows = [(label, n, n) for label, n in counts.items()] + [(ALL, len(members), len(members))]
    return PublicTable(
        "balance_bands",
        "Balances in bands",
        "How many members' balances fall in each band at the end of the last month published.",
        ("band", "member_count", "members"),
        rows,
        ("member_count",),
        group_label="band",
        total=ALL,
    )


def gather(ledger: Ledger, through: dt.date) -> list[PublicTable]:
    """The core tables and plugins' tables, every month after ``through`` left out."""
    tables = core_tables(ledger, through)
    for _, found in ledger.plugins.call("contribute_public_figures", ledger.rules, ledger=ledger):
        tables.extend(_through(table, through) for table in found)
    return tables


def _through(table: PublicTable, through: dt.date) -> PublicTable:
    if "month" not in table.columns:
        return table
    at, last = table.columns.index("month"), through.isoformat()[:7]
    return attrs.evolve(table, rows=[row for row in table.rows if str(row[at]) <= last])


def publish(ledger: Ledger, out: str | Path, *, k: int = 5, today: dt.date | None = None) -> Published:
    """Write the public file at ``out`` (replacing it whole) and return what was written."""
    if k < 2:
        raise ValueError("k must be at least 2")
    through = published_through(today or dt.date.today())
    out = Path(out)
    temp = out.with_name(f".{out.name}.tmp")
    temp.unlink(missing_ok=True)
    primary = complementary = 0
    names = []
    with ledger.store.read():
        tables = gather(ledger, through)
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
            ("figures_through", through.isoformat()),
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
    return Published(out, tuple(names), primary, complementary, through)


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
