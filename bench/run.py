"""``make bench``: the ledger core's figures on a generated co-op, with same-run baselines.

Sizes come from BENCH_EXCHANGES (default 1,000,000) and BENCH_MEMBERS (10,000). Files go
in bench/data/ (ignored by git). Timings are medians where a thing is repeated; the
machines are shared, so read ratios before absolute figures.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import sys
import time
from pathlib import Path
from typing import Any

from coop import (
    DATA,
    N_EXCHANGES,
    N_MEMBERS,
    ensure_data,
    fresh_sqlite,
    handles,
    new_ledger,
    raw_into_ledger_schema,
    remove_sqlite,
)
from resolve import core
from timing import median_of


def report(name: str, value: float, unit: str, target: str = "") -> None:
    print(f"{name:<58} {value:>12.3f} {unit:<4} {target}", flush=True)


def shuffled_copy(path: Path) -> Path:
    """The same rows in another order (fixed seed): an import not sorted by date."""
    out = path.with_name(f"{path.stem}-shuffled.csv")
    if not out.exists():
        with open(path, newline="") as stream:
            header, *rows = stream.readlines()
        random.Random(2027).shuffle(rows)
        with open(out, "w", newline="") as stream:
            stream.write(header)
            stream.writelines(rows)
    return out


def baseline(path: Path) -> float:
    """Raw sqlite3: read the same CSV and executemany it into a plain table."""
    conn = fresh_sqlite(DATA / "baseline.sqlite")
    conn.execute(
        "CREATE TABLE rows (date TEXT, giver TEXT, receiver TEXT, duration TEXT, category TEXT, note TEXT)"
    )
    began = time.perf_counter()
    with open(path, newline="") as stream:
        reader = csv.reader(stream)
        next(reader)
        conn.execute("BEGIN IMMEDIATE")
        while batch := [row for _, row in zip(range(5000), reader, strict=False)]:
            conn.executemany("INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?)", batch)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - began
    conn.close()
    return elapsed


def raw_ledger_rows(ledger: Any) -> float:
    """Raw sqlite3: the entry and posting rows the import wrote, executemany'd into plain tables.

    What the ledger's writes cost with no rules, no hashing, no indexes and no constraints:
    the floor under any implementation that keeps entries and postings.
    """
    entries = ledger.conn.execute("SELECT * FROM entries").fetchall()
    postings = ledger.conn.execute("SELECT * FROM postings").fetchall()
    conn = fresh_sqlite(DATA / "baseline-ledger-rows.sqlite")
    conn.execute(f"CREATE TABLE entries ({', '.join(f'c{i}' for i in range(len(entries[0])))})")
    conn.execute(f"CREATE TABLE postings ({', '.join(f'c{i}' for i in range(len(postings[0])))})")
    began = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    for table, rows in (("entries", entries), ("postings", postings)):
        marks = ", ".join("?" * len(rows[0]))
        for i in range(0, len(rows), 5000):
            conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows[i : i + 5000])
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - began
    conn.close()
    del entries, postings
    return elapsed


def unsorted_import(csv_path: Path, members_csv: Path) -> float:
    """The same rows shuffled, into a fresh ledger with the same members: an import's time
    must not depend on the order of its rows (the daily limit once made this quadratic)."""
    shuffled = shuffled_copy(csv_path)
    path = DATA / "ledger-shuffled.sqlite"
    ledger = new_ledger(path, members_csv)
    began = time.perf_counter()
    count = core("csvio").import_exchanges(ledger, shuffled, actor="coord")
    elapsed = time.perf_counter() - began
    assert count == N_EXCHANGES, count
    ledger.close()
    remove_sqlite(path)
    return elapsed


def main() -> int:
    DATA.mkdir(exist_ok=True)
    ledger_path = DATA / "ledger.sqlite"
    remove_sqlite(ledger_path)
    members = handles()
    print(f"timebank ledger core benchmark: {N_EXCHANGES:,} exchanges, {N_MEMBERS:,} members")
    csv_path, members_csv, generated = ensure_data(members)
    if generated is not None:
        report("generate CSV", generated, "s")
    began = time.perf_counter()
    ledger = new_ledger(ledger_path, members_csv)
    report(f"import {N_MEMBERS:,} members", time.perf_counter() - began, "s")

    raw = baseline(csv_path)
    report("baseline: csv.reader + raw executemany, plain table", raw, "s")
    began = time.perf_counter()
    count = core("csvio").import_exchanges(ledger, csv_path, actor="coord")
    imported = time.perf_counter() - began
    assert count == N_EXCHANGES, count
    report(f"import {count:,} exchanges through the full rules path", imported, "s")
    report("  ratio to baseline", imported / raw, "x", "(target <= 5x)")
    report("  per exchange", imported / count * 1e6, "us")
    own = raw_ledger_rows(ledger)
    report("second baseline: ledger's rows raw into plain tables", own, "s")
    report("  ratio of the import to it", imported / own, "x")
    floor = raw_into_ledger_schema(ledger)
    report("floor: ledger's rows raw into its own schema, no rules", floor, "s")
    report("  its ratio to the CSV baseline", floor / raw, "x")
    report("  ratio of the import to it", imported / floor, "x")
    unsorted = unsorted_import(csv_path, members_csv)
    report("import the same exchanges shuffled (not sorted by date)", unsorted, "s")
    report("  ratio to the sorted import", unsorted / imported, "x", "(target <= 1.5x)")

    rng = random.Random(1)
    codes = [rng.choice(members) for _ in range(2000)]
    it = iter(codes * 10)
    report(
        "one balance (median of 2,000)",
        median_of(lambda: ledger.balance(next(it)), 2000) * 1e6,
        "us",
        "(target <= 50 us)",
    )
    it = iter(codes * 10)
    report(
        "statement page of 50 rows (median of 500)",
        median_of(lambda: ledger.statement(next(it), limit=50), 500) * 1e3,
        "ms",
        "(target <= 2 ms)",
    )
    deep = ledger.statement(codes[0], limit=50)
    report(
        "statement page further back (median of 200)",
        median_of(lambda: ledger.statement(codes[0], limit=50, before=deep[-1].entry_id), 200) * 1e3,
        "ms",
    )
    today = dt.date.today()
    pairs = iter([rng.sample(members, 2) for _ in range(400)])

    def record_one():
        giver, receiver = next(pairs)
        ledger.record(core("Exchange")((giver,), (receiver,), 60, today, "shopping", "coord"))

    report(
        "record one exchange via the API (median of 200)",
        median_of(record_one, 200) * 1e3,
        "ms",
        "(target <= 5 ms)",
    )
    began = time.perf_counter()
    result = ledger.verify()
    report("verify the whole ledger", time.perf_counter() - began, "s", "(target <= 10 s)")
    assert result.ok, result.problem
    print(result.sentence())
    size = ledger_path.stat().st_size / 1e6
    report("ledger file size", size, "MB")

    import public_site

    publish = core("publish")
    print("public figures")
    began = time.perf_counter()
    for _ in ledger.conn.execute(
        "SELECT substr(day, 1, 7), category, givers, receivers, minutes FROM entries WHERE kind = 'service'"
    ):
        pass
    raw_read = time.perf_counter() - began
    report("baseline: read every service entry raw (one SELECT)", raw_read, "s")
    public = DATA / "public.sqlite"
    remove_sqlite(public)  # an earlier run's file holds another ledger's publications
    began = time.perf_counter()
    done = publish(ledger, public)
    published = time.perf_counter() - began
    report(
        f"publish {len(done.tables)} tables from the ledger, LP audit included",
        published,
        "s",
        "(target <= 10 s)",
    )
    report("  ratio to the raw read", published / raw_read, "x")
    print(f"  {done.audit.sentence()}; {done.audit.lp_solves} LP solves")
    ledger.close()
    rate, median, errors = public_site.serve_load(public)
    report("serve home page + figures table, 20 clients: requests/s", rate, "/s", "(target >= 200)")
    report("  median latency", median, "ms", "(target < 50 ms)")
    report("  non-200 answers", errors, "")

    import asyncio

    import tui

    print("terminal UI on the same ledger")
    report(
        "process start to the first screen ready (median of 5)",
        tui.startup(ledger_path, "coord"),
        "s",
        "(target <= 1.0 s)",
    )
    find, shown, save = asyncio.run(tui.interactive(ledger_path, "coord", members[1], members[2]))
    report("find members from what was typed (median of 20)", find, "ms", "(target <= 50 ms)")
    report("  typed to the matches showing in the app", shown, "ms")
    report("Enter to the saved entry showing (median of 10)", save, "ms", "(target <= 100 ms)")

    import listings

    with core("Ledger")(ledger_path) as ledger:
        listings.run(ledger, members)
    return 0


if __name__ == "__main__":
    sys.exit(main())
