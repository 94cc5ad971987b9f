"""Benchmarks: `make bench` prints each figure. Runs against a throw-away database seeded
with the demo organisation: SQLite, or with DATABASE_URL a database of its own on that
PostgreSQL server, dropped at the end (so that runs follow one another). The review benchmarks, with
their targets, are in bench/reviews.py; the served application's (every persona's pages and
API over HTTP from gunicorn, memory and load, in a database of their own) in bench/served.py."""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import count_queries, report, timed  # noqa: E402


def main() -> None:
    import warnings

    # collectstatic fills STATIC_ROOT (in the throw-away directory) before the pages render.
    warnings.filterwarnings("ignore", message="No directory at")
    if "LEVELSET_VAR_DIR" in os.environ:
        run()
        return
    # The 10,000-review cycle leaves a database of some 30 MB: a throw-away one is removed.
    with tempfile.TemporaryDirectory(prefix="levelset-bench-") as var_dir, own_database():
        os.environ["LEVELSET_VAR_DIR"] = var_dir
        run()


@contextlib.contextmanager
def own_database() -> Iterator[None]:
    """With DATABASE_URL naming PostgreSQL, a new database on that server for this run,
    dropped afterwards; nothing to do for SQLite (a file in the throw-away directory)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield
        return
    import psycopg

    name = f"levelset_bench_groups_{os.getpid()}"
    parts = urlsplit(url)
    with psycopg.connect(url, autocommit=True) as server:
        server.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    try:
        yield
    finally:
        os.environ["DATABASE_URL"] = url
        with psycopg.connect(url, autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Production-like: no per-query debug logging (it would skew the timings).
    os.environ["DEBUG"] = "false"
    os.environ["SECRET_KEY"] = "bench-only-" + "x" * 50
    os.environ["AUDIT_KEY"] = "bench-only-audit-" + "x" * 50
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["LOG_LEVEL"] = "WARNING"  # no line per request: it would skew the timings
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
    # Pages name their hashed static files, as in production: collect them first.
    call_command("collectstatic", "--noinput", verbosity=0)
    call_command("seed_demo", "--quiet")

    # Other work on the machine skews every figure: the load average says how much there was.
    print(
        f"Levelset benchmarks ({connection.vendor}; load average {os.getloadavg()[0]:.2f}"
        f" on {os.cpu_count()} CPUs)"
    )
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
        with count_queries() as queries:
            response = call()
        assert response.status_code == 200, response.status_code
        report(name, timed(call, 200), f"   {len(queries)} queries")

    from bench import audit, calibration, metrics, packets, people, reviews, served

    # `python -m bench reviews packets` runs only the named groups; no argument runs them all.
    groups = {
        "reviews": reviews.main,
        "calibration": calibration.main,
        "packets": packets.main,
        "people": people.main,
        "audit": audit.main,
        "metrics": metrics.main,
        "served": served.main,
    }
    for name in sys.argv[1:] or groups:
        groups[name]()


if __name__ == "__main__":
    main()
