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


# Targets first set in seconds are kept as multiples of the trivial request (GET /api/me/ in
# this process, authenticated: about 1 ms when this 2-core machine is quiet), so that they
# hold whatever its load: each long figure is divided by the trivial request timed just before
# and just after it.
TRIVIAL_QUIET_MS = 1.0


def trivial_ms(user: Any, runs: int = 60) -> float:
    """The median of `runs` trivial requests (GET /api/me/ as `user`), in milliseconds."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    for _ in range(5):
        client.get("/api/me/")
    return statistics.median(timed(lambda: client.get("/api/me/"), runs))


def against_trivial(user: Any, call: Callable[[], Any]) -> tuple[Any, float, float]:
    """What `call()` returns, the seconds it took and the trivial request's milliseconds
    around it (the mean of its medians just before and just after)."""
    before = trivial_ms(user)
    start = time.perf_counter()
    result = call()
    elapsed = time.perf_counter() - start
    return result, elapsed, (before + trivial_ms(user)) / 2


def multiple(seconds: float, trivial: float, target_s: float) -> str:
    """`seconds` as a multiple of the trivial request, with its verdict against `target_s`
    kept as a multiple (target_s at TRIVIAL_QUIET_MS)."""
    ratio = seconds * 1000 / trivial
    limit = target_s * 1000 / TRIVIAL_QUIET_MS
    return (
        f"{ratio:,.0f}× GET /api/me/ ({trivial:.2f} ms)   {verdict(ratio <= limit)}"
        f" (target ≤ {limit:,.0f}×: {target_s:g} s when it takes {TRIVIAL_QUIET_MS:g} ms)"
    )
