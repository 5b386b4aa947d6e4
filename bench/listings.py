"""Offers and requests at the size the issue sets: 10,000 listings among 10,000 members.

``run(ledger, handles)`` is called by ``bench/run.py`` on its ledger of a million
exchanges; ``python bench/listings.py`` builds a smaller ledger of its own
(BENCH_LISTING_EXCHANGES, default 200,000 exchanges) and measures the same things:
full-text search (median of 200), matching one request (median of 200) and a digest for
every member, rendered as text and HTML.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from resolve import core  # noqa: E402
from timing import median_of  # noqa: E402

from timebank import digest as digests  # noqa: E402
from timebank.ledger import Ledger  # noqa: E402
from timebank.listings import Listings  # noqa: E402
from timebank.models import Exchange, Member  # noqa: E402

csvio = core("csvio")  # timebank.interchange.csvio since the layout change

N_LISTINGS = int(os.environ.get("BENCH_LISTINGS", 10_000))
AREAS = ["north", "south", "east", "west", "centre", "riverside", "hill", "old town"]
WORDS = [
    "help",
    "lift",
    "shop",
    "garden",
    "hedge",
    "lawn",
    "shelves",
    "tablet",
    "form",
    "letters",
    "walk",
    "dog",
    "tea",
    "chat",
    "company",
    "surgery",
    "hospital",
    "prescription",
    "bathing",
    "dressing",
    "cooking",
    "meal",
    "curtains",
    "bulbs",
    "tap",
    "paint",
    "fence",
    "weeding",
    "mowing",
    "bins",
    "reading",
    "post",
    "phone",
    "computer",
    "sewing",
    "knitting",
    "cards",
    "chess",
    "music",
    "piano",
]


def report(name: str, value: float, unit: str, target: str = "") -> None:
    print(f"{name:<58} {value:>12.3f} {unit:<4} {target}", flush=True)


def post_listings(ledger: Ledger, handles: list[str], rng: random.Random) -> None:
    board = Listings(ledger)
    categories = ledger.categories()
    today = dt.date.today()
    with ledger.transaction():
        for i in range(N_LISTINGS):
            board.post(
                "offer" if i % 2 else "request",
                actor="coord",
                member=rng.choice(handles),
                category=rng.choice(categories),
                title=" ".join(rng.sample(WORDS, 3)).capitalize(),
                description=" ".join(rng.sample(WORDS, 12)),
                area=rng.choice(AREAS),
                today=today - dt.timedelta(days=rng.randrange(0, 50)),
            )


def run(ledger: Ledger, handles: list[str]) -> None:
    rng = random.Random(5)
    print(f"offers and requests: {N_LISTINGS:,} listings, {len(handles):,} members")
    for handle in handles[:2000]:  # areas for matching; the rest have none
        ledger.conn.execute("UPDATE members SET area = ? WHERE handle = ?", (rng.choice(AREAS), handle))
    ledger._forget()
    began = time.perf_counter()
    post_listings(ledger, handles, rng)
    report(f"post {N_LISTINGS:,} listings (one transaction)", time.perf_counter() - began, "s")
    board = Listings(ledger)
    queries = iter([" ".join(rng.sample(WORDS, rng.choice([1, 1, 2]))) for _ in range(400)])
    found = []
    report(
        "search among them, full text (median of 200)",
        median_of(lambda: found.append(len(board.search(next(queries), limit=50))), 200) * 1e3,
        "ms",
        "(target <= 20 ms)",
    )
    report("  listings found per search (median)", statistics.median(found), "")
    requests = [item.id for item in board.board(kind="request", limit=400)]
    ids = iter(requests * 2)
    sizes = []
    report(
        "match one request (median of 200)",
        median_of(lambda: sizes.append(len(board.match(next(ids)))), 200) * 1e3,
        "ms",
        "(target <= 50 ms)",
    )
    report("  matches per request (median)", statistics.median(sizes), "")
    active = [m.handle for m in ledger.members(include_retired=False)]
    began = time.perf_counter()
    built = digests.build_digest(ledger, members=active)
    gathered = time.perf_counter() - began
    text = digests.render_text(built)
    html = digests.render_html(built)
    elapsed = time.perf_counter() - began
    report(f"digest for {len(active):,} members, text and HTML", elapsed, "s", "(target <= 10 s)")
    report("  of which gathering (board, matches, claims)", gathered, "s")
    report("  size of the text / the HTML", len(text) / 1e6, "MB", f"/ {len(html) / 1e6:.1f} MB")


def main() -> int:
    data = Path(__file__).parent / "data"
    data.mkdir(exist_ok=True)
    path = data / "listings.sqlite"
    for suffix in ("", "-wal", "-shm", ".anchors"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    members = int(os.environ.get("BENCH_MEMBERS", 10_000))
    exchanges = int(os.environ.get("BENCH_LISTING_EXCHANGES", 200_000))
    from coop import RULES

    ledger = Ledger.create(path, RULES)
    ledger.add_member(
        Member("coord", "Co-ordinator", "member", dt.date(2023, 1, 1), role="coordinator"), actor="system"
    )
    handles = [f"m{i:05d}" for i in range(members)]
    members_csv = data / "listing-members.csv"
    with open(members_csv, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(("handle", "name", "member_class", "joined"))
        writer.writerows((h, f"Member {h}", "member", "2023-06-01") for h in handles)
    csvio.import_members(ledger, members_csv, actor="coord")
    rng = random.Random(3)
    categories = ledger.categories()
    start = dt.date.today() - dt.timedelta(days=700)
    began = time.perf_counter()
    ledger.record_many(
        [
            Exchange(
                *((giver,), (receiver,)),
                rng.choice([30, 60, 90]),
                start + dt.timedelta(days=i * 700 // exchanges),
                rng.choice(categories),
                "coord",
            )
            for i, (giver, receiver) in enumerate(rng.sample(handles, 2) for _ in range(exchanges))
        ],
        acknowledge=True,
    )
    report(f"record {exchanges:,} exchanges (setup)", time.perf_counter() - began, "s")
    run(ledger, handles)
    ledger.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
