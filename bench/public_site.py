"""Public-site figures: publishing from the benchmark ledger, and serving it under load."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

import httpx

from timebank.testing import served


async def _load(base: str, paths: list[str], clients: int, total: int) -> tuple[float, float, int]:
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[str] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(paths[i % len(paths)])

    async def client() -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            while not queue.empty():
                path = queue.get_nowait()
                began = time.perf_counter()
                response = await http.get(path)
                latencies.append(time.perf_counter() - began)
                errors += response.status_code != 200

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - began
    return total / elapsed, statistics.median(latencies) * 1e3, errors


def serve_load(public: Path, *, clients: int = 20, total: int = 2000) -> tuple[float, float, int]:
    """Requests a second and median ms for the home page and a figures table, 20 clients at once."""
    with served(public) as base:
        paths = ["/", f"/{public.stem}/hours_by_month"]
        asyncio.run(_load(base, paths, clients, 100))  # warm up
        return asyncio.run(_load(base, paths, clients, total))
