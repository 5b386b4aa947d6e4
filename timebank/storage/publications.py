"""The SQL of publications: the ledger's ``publications`` table (what was published, when,
and the truth behind it) and the published file's own tables (``_tables``, one table a
figure, ``about``, ``_publications``, ``charts``).

The published file is a separate SQLite file, written whole beside its destination by
``timebank.publishing.publish``; its layout is defined here, in one place, for the writer
and for every reader (``publish`` reading the file the public has, ``serve`` building the
site's metadata, ``serve`` refusing a ledger). The site's canned queries and its template
plugin read the same tables through Datasette and stay with the site.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from timebank.storage.anchors import ledger_id
from timebank.storage.store import file_uri, tables_in

# The columns of a publication record, in the ledger and in the file's ``_publications``.
RECORD_COLUMNS = ("id", "published_at", "through", "months", "digest", "commitment")


# the ledger's publications --------------------------------------------------


def latest(conn: Any) -> dict[str, Any] | None:
    """The latest publication recorded in the ledger: ``id``, ``through``, and its
    ``tables`` and ``truth`` decoded from JSON; None if nothing was published."""
    row = conn.execute(
        "SELECT id, through, tables, truth FROM publications ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    return {"id": row[0], "through": row[1], "tables": json.loads(row[2]), "truth": json.loads(row[3])}


def records(conn: Any) -> list[tuple]:
    """Every publication recorded in the ledger, oldest first, as tuples of ``RECORD_COLUMNS``
    (the rows the public file's ``_publications`` repeats)."""
    return [
        tuple(r) for r in conn.execute(f"SELECT {', '.join(RECORD_COLUMNS)} FROM publications ORDER BY id")
    ]


def latest_id(conn: Any) -> int | None:
    return conn.execute("SELECT max(id) FROM publications").fetchone()[0]


def record(
    conn: Any,
    *,
    number: int,
    published_at: str,
    through: str,
    months: Sequence[str],
    tables: dict[str, Any],
    truth: dict[str, str],
    digest: str,
    head_hash: str,
    commitment_key: str,
    commitment: str,
) -> None:
    """Record a publication in the ledger, with the rows and the truth behind them."""
    conn.execute(
        "INSERT INTO publications (id, published_at, through, months, tables, truth, digest,"
        " head_hash, commitment_key, commitment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            number,
            published_at,
            through,
            json.dumps(list(months)),
            json.dumps(tables, separators=(",", ":")),
            json.dumps(truth, separators=(",", ":")),
            digest,
            head_hash,
            commitment_key,
            commitment,
        ),
    )


def identity_source(conn: Any) -> str:
    """The text a ledger's public identity is drawn from: the random ``ledger_id`` migration
    4 gave it, or (not expected) the first rules version's time and text."""
    found = ledger_id(conn)
    if found is not None:
        return found
    return conn.execute("SELECT created_at || data FROM rules ORDER BY version LIMIT 1").fetchone()[0]


# the published file ---------------------------------------------------------


def write_file(
    path: Path,
    tables: dict[str, dict[str, Any]],
    about: Iterable[tuple[str, str]],
    records: Iterable[tuple],
    charts: Iterable[tuple[str, str, str]],
) -> None:
    """Write a new published file at ``path``: each table (``title``, ``description``,
    ``columns``, ``rows``), the ``about`` pairs, the publication records and the charts."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("CREATE TABLE _tables (name TEXT PRIMARY KEY, title TEXT, description TEXT)")
        for name, table in tables.items():
            columns = ", ".join(f"[{c}]" for c in table["columns"])
            conn.execute(f"CREATE TABLE [{name}] ({columns})")
            marks = ", ".join("?" * len(table["columns"]))
            conn.executemany(f"INSERT INTO [{name}] VALUES ({marks})", table["rows"])
            conn.execute("INSERT INTO _tables VALUES (?, ?, ?)", (name, table["title"], table["description"]))
        conn.execute("CREATE TABLE about (key TEXT PRIMARY KEY, value TEXT)")
        conn.executemany("INSERT INTO about VALUES (?, ?)", about)
        conn.execute(
            "CREATE TABLE _publications (number INTEGER PRIMARY KEY, published_at TEXT, through TEXT,"
            " months TEXT, digest TEXT, commitment TEXT, ledger TEXT)"
        )
        conn.executemany("INSERT INTO _publications VALUES (?, ?, ?, ?, ?, ?, ?)", records)
        conn.execute("CREATE TABLE charts (name TEXT PRIMARY KEY, title TEXT, svg TEXT)")
        conn.executemany("INSERT INTO charts VALUES (?, ?, ?)", charts)
        conn.commit()
    finally:
        conn.close()


def read_file(path: Path) -> dict[str, Any] | None:
    """What a published file holds: ``records`` (tuples of ``RECORD_COLUMNS`` and ``ledger``,
    oldest first) and ``tables`` (each with ``title``, ``description``, ``columns``,
    ``rows``); None if there is no file, or it is not a file of publications (an older
    format, or not ours). Any other fault of the file raises ``sqlite3.DatabaseError``."""
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(file_uri(path, "mode=ro"), uri=True)
        try:
            found = conn.execute(
                "SELECT number, published_at, through, months, digest, commitment, ledger FROM _publications"
                " ORDER BY number"
            ).fetchall()
            if not found:
                return None
            tables = {}
            for name, title, description in conn.execute("SELECT name, title, description FROM _tables"):
                columns = [r[1] for r in conn.execute(f"PRAGMA table_info([{name}])")]
                rows = [list(r) for r in conn.execute(f"SELECT * FROM [{name}] ORDER BY rowid")]
                tables[name] = {"title": title, "description": description, "columns": columns, "rows": rows}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        if "no such table" in str(exc) or "not a database" in str(exc) or "no such column" in str(exc):
            return None
        raise
    return {"records": [tuple(r) for r in found], "tables": tables}


def read_about(path: str | Path) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """A published file's ``about`` pairs, and each figure table's ``title`` and ``description``."""
    conn = sqlite3.connect(file_uri(path, "mode=ro"), uri=True)
    try:
        about = dict(conn.execute("SELECT key, value FROM about"))
        tables = {
            name: {"title": title, "description": description}
            for name, title, description in conn.execute("SELECT name, title, description FROM _tables")
        }
    finally:
        conn.close()
    return about, tables


def table_names(path: Path) -> set[str] | None:
    """The names of the tables in the SQLite file at ``path``; None if it is not one."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return tables_in(conn)
    except sqlite3.DatabaseError:
        return None
    finally:
        conn.close()


__all__ = [
    "RECORD_COLUMNS",
    "identity_source",
    "latest",
    "latest_id",
    "read_about",
    "read_file",
    "record",
    "records",
    "table_names",
    "write_file",
]
