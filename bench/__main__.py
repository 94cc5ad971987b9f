"""Benchmarks: `make bench` prints each figure. Runs against a throw-away SQLite database
(or DATABASE_URL if set) seeded with the demo organisation."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def report(name: str, samples: list[float], extra: str = "") -> None:
    samples = sorted(samples)
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(
        f"{name:<48} median {statistics.median(samples):8.3f} ms   p95 {p95:8.3f} ms"
        f"   n={len(samples)}{extra}"
    )


def main() -> None:
    os.environ.setdefault("LEVELSET_VAR_DIR", tempfile.mkdtemp(prefix="levelset-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Production-like: no per-query debug logging (it would skew the timings).
    os.environ["DEBUG"] = "false"
    os.environ["SECRET_KEY"] = "bench-only-" + "x" * 50
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["DB_CONN_MAX_AGE"] = "600"  # keep one connection, as a production server would
    import django

    django.setup()
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from rest_framework.test import APIClient

    from rubrics.scoring import DimensionSpec, ScaleSpec, compute

    call_command("migrate", verbosity=0)
    call_command("seed_demo", "--quiet")

    print(f"Levelset benchmarks ({connection.vendor})")
    dims = [
        DimensionSpec(
            f"d{i}", f"D{i}", Decimal(10 + i), 2 if i == 0 else None, Decimal(3) if i == 0 else None
        )
        for i in range(8)
    ]
    ratings = {d.key: 1 + i % 5 for i, d in enumerate(dims)}
    samples = timed(lambda: compute(dimensions=dims, ratings=ratings, scale=ScaleSpec(1, 5)), 2000)
    report(
        "scoring.compute, 8 dimensions",
        samples,
        f"   ({1000 / statistics.median(samples):,.0f} scores/s)",
    )

    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username="eng01"))
    base = "/api/rubrics/backend-engineering"
    for name, call in [
        ("GET /api/rubrics/", lambda: client.get("/api/rubrics/")),
        ("GET .../versions/2/ (full ladder)", lambda: client.get(f"{base}/versions/2/")),
        ("GET .../changelog/", lambda: client.get(f"{base}/changelog/")),
        (
            "POST .../versions/2/score-preview/",
            lambda: client.post(
                f"{base}/versions/2/score-preview/",
                {"ratings": {"delivery": 4, "reliability": 1, "mentoring": 3}},
                format="json",
            ),
        ),
    ]:
        queries: list[str] = []

        def count(execute, sql, params, many, context, queries=queries):  # type: ignore[no-untyped-def]
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            response = call()
        assert response.status_code == 200, response.status_code
        report(name, timed(call, 200), f"   {len(queries)} queries")


if __name__ == "__main__":
    main()
