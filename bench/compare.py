"""The core figures of a baseline commit and of the current tree, measured in the same run.

Issue 11 asks that a refactor leave ``make bench`` no slower than at its starting commit,
measured in the same run, within 5 %. A figure from another day says little on a shared
machine, so this extracts the baseline's source (``git archive``) into bench/data/, then runs
``bench/core_figures.py`` once for each tree in turn, in a fresh process with that tree first
on ``PYTHONPATH`` (the child refuses to run if ``timebank`` or a plugin came from the other
tree), the order alternating between rounds. It prints each figure for both, the ratio
current / baseline, and flags SLOWER beyond 5 %.

BENCH_BASELINE: the baseline commit (default: the one in bench/BASELINE). BENCH_ROUNDS:
rounds (default 1; with more, the table of medians over rounds is printed last).
BENCH_EXCHANGES and BENCH_MEMBERS: sizes, as for ``bench/run.py``, whose CSV files both use.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from coop import DATA, N_EXCHANGES, N_MEMBERS, ensure_data, handles

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TOLERANCE = 1.05

# (key, label, unit, one of the figures issue 11 holds the refactor to)
FIGURES = [
    ("members_s", f"import {N_MEMBERS:,} members", "s", False),
    ("import_s", f"import {N_EXCHANGES:,} exchanges", "s", False),
    ("floor_s", "floor: the same rows raw into the schema", "s", False),
    ("import_per_floor", "import / floor", "x", True),
    ("record_ms", "record one exchange (median of 200)", "ms", True),
    ("balance_us", "one balance (median of 2,000)", "us", True),
    ("statement_ms", "statement page of 50 (median of 500)", "ms", True),
    ("verify_s", "verify the whole ledger", "s", True),
]


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, check=True, capture_output=True, text=True).stdout.strip()


def baseline_ref() -> str:
    ref = os.environ.get("BENCH_BASELINE") or (HERE / "BASELINE").read_text().strip()
    return git("rev-parse", "--verify", f"{ref}^{{commit}}")


def extract(sha: str) -> Path:
    """The baseline's source tree in bench/data/baseline-src-<sha>, extracted once and reused."""
    dest = DATA / f"baseline-src-{sha}"
    if (dest / ".extracted").exists():
        return dest
    partial = DATA / f"baseline-src-{sha}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(dest, ignore_errors=True)
    partial.mkdir(parents=True)
    archive = subprocess.Popen(["git", "archive", sha], cwd=REPO, stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(partial)], stdin=archive.stdout, check=True)
    assert archive.stdout is not None
    archive.stdout.close()
    if archive.wait() != 0:
        raise SystemExit(f"bench: git archive {sha} failed")
    (partial / ".extracted").write_text(sha + "\n")
    partial.rename(dest)
    return dest


def python() -> str:
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def child(tag: str, root: Path) -> dict[str, float]:
    """One tree's figures from a fresh process that imports the core from ``root`` only."""
    # The tree first; its example plugins' folders next, so that entry points installed
    # from the current tree's examples load the tree's own copy.
    paths = [root, *sorted(p.parent for p in (root / "examples").glob("*/pyproject.toml"))]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env |= {"PYTHONPATH": os.pathsep.join(map(str, paths)), "BENCH_SOURCE_ROOT": str(root), "BENCH_TAG": tag}
    began = time.perf_counter()
    done = subprocess.run(
        [python(), str(HERE / "core_figures.py")], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"bench: the {tag} run ({root}) failed with status {done.returncode}")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"bench: the {tag} run printed no figures:\n{done.stdout}")
    figures = json.loads(lines[-1])
    print(f"  {tag:<8} done in {time.perf_counter() - began:6.1f} s  ({figures.pop('source')})", flush=True)
    return figures


def table(title: str, base: dict[str, float], current: dict[str, float]) -> list[str]:
    """Print the figures side by side; return the labels of those more than 5 % slower."""
    print(f"\n{title}")
    print(f"  {'figure':<44} {'baseline':>10} {'current':>10}      {'current/baseline':>16}")
    slower = []
    for key, label, unit, held in FIGURES:
        ratio = current[key] / base[key]
        flag = "SLOWER" if ratio > TOLERANCE else ""
        if flag:
            slower.append(label)
        mark = "*" if held else " "
        print(f"{mark} {label:<44} {base[key]:>10.3f} {current[key]:>10.3f} {unit:<4} {ratio:>16.3f} {flag}")
    print("  (* the figures issue 11 holds the refactor to; SLOWER: more than 5 % slower)")
    return slower


def main() -> int:
    began = time.perf_counter()
    rounds = int(os.environ.get("BENCH_ROUNDS", 1))
    sha = baseline_ref()
    root = extract(sha)
    ensure_data(handles())  # generated once here, not raced by the first child
    print(
        f"core figures, baseline {sha[:10]} against the current tree: "
        f"{N_EXCHANGES:,} exchanges, {N_MEMBERS:,} members, {rounds} round(s)",
        flush=True,
    )
    runs: dict[str, list[dict[str, float]]] = {"baseline": [], "current": []}
    slower: list[str] = []
    trees = {"baseline": root, "current": REPO}
    for n in range(rounds):
        print(f"round {n + 1}", flush=True)
        order = ("baseline", "current") if n % 2 == 0 else ("current", "baseline")
        for tag in order:
            runs[tag].append(child(tag, trees[tag]))
        slower = table(f"round {n + 1}", runs["baseline"][-1], runs["current"][-1])
    if rounds > 1:
        medians = {
            tag: {key: statistics.median(r[key] for r in results) for key, *_ in FIGURES}
            for tag, results in runs.items()
        }
        slower = table(f"medians over {rounds} rounds", medians["baseline"], medians["current"])
    took = time.perf_counter() - began
    print(f"\n{len(slower)} figure(s) more than 5 % slower; compare.py took {took:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
