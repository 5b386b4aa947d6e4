"""The generated co-op every core benchmark runs on, and the floor the import is held to.

``bench/run.py`` (the full ``make bench``) and ``bench/core_figures.py`` (one tree's figures
for ``bench/compare.py``) share it, so both read the same CSV files in bench/data/ and
measure the floor the same way. Nothing here imports ``timebank`` at module level: the
comparison pins which tree the core comes from before the first import
(``resolve.pin_source``), and every core name is looked up through ``resolve.core``.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import sqlite3
import time
from pathlib import Path
from typing import Any

from resolve import core

DATA = Path(__file__).parent / "data"
N_EXCHANGES = int(os.environ.get("BENCH_EXCHANGES", 1_000_000))
N_MEMBERS = int(os.environ.get("BENCH_MEMBERS", 10_000))
CATEGORIES = ["companionship", "shopping", "transport", "gardening", "household", "personal care"]
RULES = {
    "coop": {"name": "Benchmark Co-op"},
    "plugins": {
        "classic": {"categories": CATEGORIES},
        "credit_limits": {"floor": "-100000h", "warn_below": "-100000h", "ceiling": "100000h"},
        "confirmation": {},
    },
}


def handles(n_members: int = N_MEMBERS) -> list[str]:
    return [f"m{i:05d}" for i in range(n_members)]


def exchanges_csv(n_exchanges: int = N_EXCHANGES) -> Path:
    return DATA / f"exchanges-{n_exchanges}.csv"


def generate(path: Path, members: list[str], n_exchanges: int = N_EXCHANGES) -> None:
    """``n_exchanges`` exchanges between ``members`` over two years, sorted by date (fixed seed)."""
    rng = random.Random(2026)
    start = dt.date(2024, 1, 1)
    per_day = n_exchanges / 730
    # Written under another name and renamed, so that a run stopped half-way leaves no
    # short file that the next run would take for the whole one.
    partial = path.with_name(f"{path.name}.partial")
    with open(partial, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(("date", "giver", "receiver", "duration", "category", "note"))
        for i in range(n_exchanges):
            giver, receiver = rng.sample(members, 2)
            day = start + dt.timedelta(days=int(i / per_day))
            writer.writerow(
                (
                    day.isoformat(),
                    giver,
                    receiver,
                    rng.choice(("30m", "1h", "1h30", "2h")),
                    rng.choice(CATEGORIES),
                    "bench",
                )
            )
    partial.replace(path)


def ensure_data(members: list[str], n_exchanges: int = N_EXCHANGES) -> tuple[Path, Path, float | None]:
    """The exchanges CSV (generated if missing) and the members CSV (always rewritten).

    Returns both paths and the seconds generating took, or None when the file was there.
    """
    DATA.mkdir(exist_ok=True)
    path = exchanges_csv(n_exchanges)
    took = None
    if not path.exists():
        began = time.perf_counter()
        generate(path, members, n_exchanges)
        took = time.perf_counter() - began
    members_csv = DATA / "members.csv"
    with open(members_csv, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(("handle", "name", "member_class", "joined"))
        writer.writerows((h, f"Member {h}", "member", "2023-06-01") for h in members)
    return path, members_csv, took


def new_ledger(path: Path, members_csv: Path) -> Any:
    """A fresh benchmark ledger: the rules, a co-ordinator and the members."""
    remove_sqlite(path)
    ledger = core("Ledger").create(path, RULES)
    ledger.add_member(
        core("Member")("coord", "Co-ordinator", "member", dt.date(2023, 1, 1), role="coordinator"),
        actor=core("SYSTEM"),
    )
    core("csvio").import_members(ledger, members_csv, actor="coord")
    return ledger


def remove_sqlite(path: Path) -> None:
    """Delete a database file with its WAL and shared-memory files (and a ledger's anchors)."""
    for suffix in ("", "-wal", "-shm", ".anchors", ".import-lock"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def fresh_sqlite(path: Path) -> sqlite3.Connection:
    """A new, empty database set up as the ledger sets itself up (WAL, synchronous FULL)."""
    remove_sqlite(path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def raw_into_ledger_schema(ledger: Any, path: Path | None = None) -> float:
    """Raw sqlite3: the same entry, posting and balance rows into a new ledger's own schema.

    Indexes, foreign keys, triggers and pragmas as the import meets them, in batches of 5,000
    in one transaction, with no rules, no records and no hashing: what this design's writes
    cost before any Python runs, the floor under any import that keeps them.
    """
    entries = ledger.conn.execute("SELECT * FROM entries ORDER BY id").fetchall()
    postings = ledger.conn.execute("SELECT * FROM postings ORDER BY entry_id, seq").fetchall()
    balances = ledger.conn.execute("SELECT * FROM balances").fetchall()
    path = path or DATA / "baseline-ledger-schema.sqlite"
    remove_sqlite(path)
    conn = core("Store")(path, create=True).conn
    conn.execute("ATTACH DATABASE ? AS source", (str(ledger.path),))
    conn.execute("BEGIN IMMEDIATE")
    for table in ("rules", "members", "accounts"):
        conn.execute(f"INSERT INTO main.{table} SELECT * FROM source.{table}")
    conn.execute("COMMIT")
    conn.execute("DETACH DATABASE source")
    entry_marks, posting_marks = ", ".join("?" * len(entries[0])), ", ".join("?" * len(postings[0]))
    began = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    start = 0
    for i in range(0, len(entries), 5000):
        chunk = entries[i : i + 5000]
        end = start
        while end < len(postings) and postings[end][0] <= chunk[-1][0]:
            end += 1
        conn.executemany(f"INSERT INTO entries VALUES ({entry_marks})", chunk)
        conn.executemany(f"INSERT INTO postings VALUES ({posting_marks})", postings[start:end])
        start = end
    conn.executemany("INSERT INTO balances VALUES (?, ?, ?)", balances)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - began
    conn.close()
    return elapsed
