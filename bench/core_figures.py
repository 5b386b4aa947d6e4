"""One tree's core figures, for ``bench/compare.py``: prints one JSON line.

Run as ``BENCH_SOURCE_ROOT=<tree> PYTHONPATH=<tree> .venv/bin/python bench/core_figures.py``.
The ledger core is imported from that tree (pinned before the first import, then checked:
the process stops if ``timebank`` or a built-in plugin came from anywhere else), and only
what issue 11 holds the refactor to is measured, on the CSV ``bench/run.py`` generates:
the import and its floor (so their ratio, which the machine's load mostly cancels out of),
recording one exchange, one balance, a statement page, verify.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sys
import time
from pathlib import Path

import resolve

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SOURCE = Path(os.environ.get("BENCH_SOURCE_ROOT", REPO)).resolve()
resolve.pin_source(SOURCE)

import coop  # noqa: E402
from timing import median_of  # noqa: E402


def plugin_modules() -> list:
    """The loaded modules of the plugins the benchmark's rules enable (``classic`` and so on),
    found by name wherever the tree keeps them (``timebank.plugins.classic``, ``plugins.classic``)."""
    names = set(coop.RULES["plugins"])
    found = [
        module
        for name, module in list(sys.modules.items())
        if name.rsplit(".", 1)[-1] in names and getattr(module, "__file__", None)
    ]
    if {module.__name__.rsplit(".", 1)[-1] for module in found} != names:
        raise SystemExit(f"bench: not every enabled plugin module was loaded: {sorted(names)}")
    return found


def main() -> int:
    tag = os.environ.get("BENCH_TAG", "current")
    members = coop.handles()
    csv_path, members_csv, _ = coop.ensure_data(members)
    path = coop.DATA / f"compare-{tag}.sqlite"
    figures: dict[str, object] = {"source": str(SOURCE)}

    began = time.perf_counter()
    ledger = coop.new_ledger(path, members_csv)
    figures["members_s"] = time.perf_counter() - began
    resolve.check_source(SOURCE, REPO, plugin_modules())  # before the long part, and after it
    began = time.perf_counter()
    count = resolve.core("csvio").import_exchanges(ledger, csv_path, actor="coord")
    figures["import_s"] = time.perf_counter() - began
    assert count == coop.N_EXCHANGES, count
    figures["floor_s"] = coop.raw_into_ledger_schema(ledger, coop.DATA / f"compare-{tag}-floor.sqlite")
    coop.remove_sqlite(coop.DATA / f"compare-{tag}-floor.sqlite")
    figures["import_per_floor"] = figures["import_s"] / figures["floor_s"]

    rng = random.Random(1)
    codes = [rng.choice(members) for _ in range(2000)]
    it = iter(codes * 10)
    figures["balance_us"] = median_of(lambda: ledger.balance(next(it)), 2000) * 1e6
    it = iter(codes * 10)
    figures["statement_ms"] = median_of(lambda: ledger.statement(next(it), limit=50), 500) * 1e3
    today = dt.date.today()
    pairs = iter([rng.sample(members, 2) for _ in range(400)])
    exchange = resolve.core("Exchange")

    def record_one() -> None:
        giver, receiver = next(pairs)
        ledger.record(exchange((giver,), (receiver,), 60, today, "shopping", "coord"))

    figures["record_ms"] = median_of(record_one, 200) * 1e3
    began = time.perf_counter()
    result = ledger.verify()
    figures["verify_s"] = time.perf_counter() - began
    assert result.ok, result.problem
    resolve.check_source(SOURCE, REPO, plugin_modules())
    ledger.close()
    coop.remove_sqlite(path)
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
