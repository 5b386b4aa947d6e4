"""What every benchmark script times with: the median of repeated runs."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_of(fn: Callable[[], object], repeat: int) -> float:
    """Seconds ``fn`` takes, the median of ``repeat`` runs (the machines are shared and noisy)."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)
