"""The SQL of the offers-and-requests board: ``listings``, ``listing_answers``,
``listing_events`` and the ``listings_fts`` index, and the one read of ``entries`` the board
needs (who gave a kind of care lately).

Every function takes a connection (``ledger.conn`` to read, the connection of
``ledger.transaction()`` to write) and plain values, and returns rows as dicts keyed by
column name. What may be posted, by whom and when is decided in ``timebank.listings``;
here is only how it is stored. "Expired" is never stored: it is an open listing whose
``expires_on`` is before ``:today``, so every read that filters by state takes ``today``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from timebank.storage.store import STANDING

# What a listing's poster gives, and of it what may change later.
POSTED = (
    "kind",
    "member",
    "posted_by",
    "category",
    "title",
    "description",
    "area",
    "availability",
    "posted_on",
    "expires_on",
)
CHANGEABLE = ("title", "description", "area", "availability", "category", "expires_on")
COLUMNS = ("id", *POSTED, "posted_at", "status", "taken_by", "entry_id")
_SELECT = f"SELECT {', '.join('l.' + c for c in COLUMNS)} FROM"

# Each state a listing can be asked for, as a condition on ``l`` and ``:today``.
_STATE_SQL = {
    "open": "(l.status = 'open' AND l.expires_on >= :today)",
    "expired": "(l.status = 'open' AND l.expires_on < :today)",
    "taken up": "l.status = 'taken'",
    "taken": "l.status = 'taken'",
    "done": "l.status = 'done'",
    "withdrawn": "l.status = 'withdrawn'",
    "all": "1 = 1",
}
STATE_NAMES = frozenset(_STATE_SQL)


def rows(conn: Any, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[dict[str, Any]]:
    """Every row of ``sql`` as a dict keyed by column name."""
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# reading --------------------------------------------------------------------


def listing(conn: Any, listing_id: int) -> dict[str, Any] | None:
    """One listing's row, or None if there is no such listing."""
    found = rows(conn, f"{_SELECT} listings l WHERE l.id = ?", (listing_id,))
    return found[0] if found else None


def find(
    conn: Any,
    *,
    today: dt.date,
    kind: str | None = None,
    state: str | None = None,
    category: str | None = None,
    area: str | None = None,
    member: str | None = None,
    posted_since: dt.date | None = None,
    fts_query: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Listings matching every filter given: with ``fts_query`` (FTS5 syntax) best matches
    first, otherwise newest first. ``state`` is one of ``STATE_NAMES``."""
    where, params = ["1 = 1"], {"today": today.isoformat()}
    if kind:
        where.append("l.kind = :kind")
        params["kind"] = kind
    if state:
        where.append(_STATE_SQL[state])
    if category:
        where.append("l.category = :category")
        params["category"] = category
    if area:
        where.append("l.area = :area")
        params["area"] = area
    if member:
        where.append("l.member = :member")
        params["member"] = member
    if posted_since:
        where.append("l.posted_on >= :since")
        params["since"] = posted_since.isoformat()
    order = "l.id DESC"
    source = "listings l"
    if fts_query:
        source = "listings_fts JOIN listings l ON l.id = listings_fts.rowid"
        where.append("listings_fts MATCH :query")
        params["query"] = fts_query
        order = "listings_fts.rank, l.id DESC"
    sql = f"{_SELECT} {source} WHERE {' AND '.join(where)} ORDER BY {order}"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return rows(conn, sql, params)


def events(conn: Any, listing_id: int) -> list[dict[str, Any]]:
    """A listing's history, oldest first: ``listing_id``, ``at``, ``by``, ``action``, ``detail``."""
    return rows(
        conn,
        "SELECT listing_id, at, by, action, detail FROM listing_events WHERE listing_id = ? ORDER BY id",
        (listing_id,),
    )


def answers(conn: Any, listing_id: int) -> list[dict[str, Any]]:
    """Who answered a listing, first first: ``listing_id``, ``member``, ``at``, ``note``."""
    return rows(
        conn,
        "SELECT listing_id, member, at, note FROM listing_answers WHERE listing_id = ? ORDER BY id",
        (listing_id,),
    )


def has_answered(conn: Any, listing_id: int, member: str) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM listing_answers WHERE listing_id = ? AND member = ?", (listing_id, member)
        ).fetchone()
        is not None
    )


def unanswered_requests(conn: Any, *, today: dt.date, posted_before: dt.date) -> list[dict[str, Any]]:
    """Open requests posted before ``posted_before`` that nobody has answered, oldest first."""
    return rows(
        conn,
        f"{_SELECT} listings l WHERE l.kind = 'request' AND {_STATE_SQL['open']}"
        " AND l.posted_on < :cutoff"
        " AND NOT EXISTS (SELECT 1 FROM listing_answers a WHERE a.listing_id = l.id)"
        " ORDER BY l.posted_on, l.id",
        {"today": today.isoformat(), "cutoff": posted_before.isoformat()},
    )


def open_of_kinds(
    conn: Any,
    *,
    kind: str,
    categories: Sequence[str],
    areas: Sequence[str],
    not_member: str,
    category: str,
    area: str,
    today: dt.date,
    limit: int,
) -> list[dict[str, Any]]:
    """Open listings of ``kind`` in ``categories`` (and, if ``areas`` are given, in one of
    them or with no area), not ``not_member``'s, at most ``limit``: those of ``category``
    and ``area`` first, then the nearer, then newest first. Ordering in SQL means only the
    listings shown are read into Python."""
    params: dict[str, Any] = {"kind": kind, "today": today.isoformat(), "member": not_member}
    marks = ", ".join(f":k{i}" for i in range(len(categories)))
    params |= {f"k{i}": k for i, k in enumerate(categories)}
    area_sql = ""
    if areas:
        area_sql = f" AND (l.area = '' OR l.area IN ({', '.join(f':a{i}' for i in range(len(areas)))}))"
        params |= {f"a{i}": a for i, a in enumerate(areas)}
    params |= {"category": category, "area": area, "want": limit}
    return rows(
        conn,
        f"{_SELECT} listings l WHERE l.kind = :kind AND {_STATE_SQL['open']}"
        f" AND l.category IN ({marks}) AND l.member != :member{area_sql}"
        " ORDER BY (CASE WHEN l.category = :category THEN 0 ELSE 2 END)"
        " + (CASE WHEN :area = '' OR l.area = '' OR l.area = :area THEN 0 ELSE 1 END),"
        " l.posted_on DESC, l.id DESC LIMIT :want",
        params,
    )


def recent_givers(conn: Any, category: str, history: int) -> list[tuple[str, int, int]]:
    """Among the ``history`` most recent standing exchanges of ``category``, each distinct
    givers text (handles separated by spaces) with its count and minutes, as tuples
    ``(givers, count, minutes)``: up to ``history`` of them for every match, so not dicts.

    Read backwards along the entries' rowid: no index on entries is needed (an import pays
    for none) and a long ledger costs nothing.
    """
    return conn.execute(
        "SELECT givers, count(*), sum(minutes) FROM (SELECT e.givers, e.minutes FROM entries e"
        f" WHERE e.kind = 'service' AND e.category = ? AND {STANDING} ORDER BY e.id DESC"
        f" LIMIT {int(history)}) GROUP BY givers",
        (category,),
    ).fetchall()


# writing --------------------------------------------------------------------


def insert(conn: Any, row: Mapping[str, Any], now: str) -> int:
    """Store a new open listing from the ``POSTED`` fields of ``row`` (days as ISO text),
    posted and last changed ``now``; returns its id."""
    return conn.execute(
        f"INSERT INTO listings ({', '.join(POSTED)}, posted_at, status, updated_at)"
        f" VALUES ({', '.join(':' + c for c in POSTED)}, :now, 'open', :now)",
        {**{c: row[c] for c in POSTED}, "now": now},
    ).lastrowid


def update(conn: Any, listing_id: int, row: Mapping[str, Any], now: str) -> None:
    """Store the ``CHANGEABLE`` fields of ``row`` (days as ISO text) as changed ``now``."""
    conn.execute(
        f"UPDATE listings SET {', '.join(f'{c} = :{c}' for c in CHANGEABLE)}, updated_at = :now"
        " WHERE id = :id",
        {**{c: row[c] for c in CHANGEABLE}, "now": now, "id": listing_id},
    )


def close(conn: Any, listing_id: int, status: str, now: str) -> bool:
    """Set an open or taken-up listing's ``status``; False if it was already closed."""
    return bool(
        conn.execute(
            "UPDATE listings SET status = ?, updated_at = ? WHERE id = ? AND status IN ('open', 'taken')",
            (status, now, listing_id),
        ).rowcount
    )


def take(conn: Any, listing_id: int, member: str, now: str) -> bool:
    """Mark an open listing taken up by ``member``; False if it was not open any more."""
    return bool(
        conn.execute(
            "UPDATE listings SET status = 'taken', taken_by = ?, updated_at = ?"
            " WHERE id = ? AND status = 'open'",
            (member, now, listing_id),
        ).rowcount
    )


def insert_answer(conn: Any, listing_id: int, member: str, at: str, note: str) -> None:
    conn.execute(
        "INSERT INTO listing_answers (listing_id, member, at, note) VALUES (?, ?, ?, ?)",
        (listing_id, member, at, note),
    )


def insert_event(conn: Any, listing_id: int, at: str, by: str, action: str, detail: str = "") -> None:
    """Append a line to a listing's history (``listing_events`` is never changed)."""
    conn.execute(
        "INSERT INTO listing_events (listing_id, at, by, action, detail) VALUES (?, ?, ?, ?, ?)",
        (listing_id, at, by, action, detail),
    )


__all__ = [
    "CHANGEABLE",
    "COLUMNS",
    "POSTED",
    "STATE_NAMES",
    "answers",
    "close",
    "events",
    "find",
    "has_answered",
    "insert",
    "insert_answer",
    "insert_event",
    "listing",
    "open_of_kinds",
    "recent_givers",
    "rows",
    "take",
    "unanswered_requests",
    "update",
]
