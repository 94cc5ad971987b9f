"""Timing, reporting and query counting shared by the benchmarks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def verdict(ok: bool) -> str:
    """How every benchmark says whether a figure meets its target."""
    return "PASS" if ok else "MISS"


def interleaved(calls: dict[str, Callable[[], object]], runs: int) -> dict[str, list[float]]:
    """Milliseconds of each call, taken in turn `runs` times: a load spike on the machine hits
    every call alike, so their ratios hold while absolute times drift."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(runs):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            samples[name].append((time.perf_counter() - start) * 1000)
    return samples


def report(name: str, samples: list[float], extra: str = "") -> None:
    samples = sorted(samples)
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(
        f"{name:<48} median {statistics.median(samples):8.3f} ms   p95 {p95:8.3f} ms"
        f"   n={len(samples)}{extra}"
    )


@contextmanager
def count_queries() -> Iterator[list[str]]:
    """The SQL statements run inside the block, seen by an execute wrapper: it catches every
    statement the connection runs (CaptureQueriesContext proved unreliable in this benchmark)."""
    from django.db import connection

    queries: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield queries
