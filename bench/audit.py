"""Audit log benchmarks at a million events. Import after django.setup(), against the seeded
demo database.

1. Append synthetic events in bulk (a bench-only writer below: COPY on PostgreSQL, batched
   INSERTs on SQLite), chained and hashed as audit.record does, until the log holds 100,000
   events and then 1,000,000: events per second.
2. At each size, the whole-chain check as HR's "verify the whole chain now" runs it: in a
   Celery worker started for it (its own process, one task at a time) when REDIS_URL is set,
   otherwise in this process: events per second, and the worker's peak RSS (VmHWM in
   /proc/<pid>/status). Target: constant memory, the peak at 1,000,000 events within 20% of
   the peak at 100,000.
3. At each size, interleaved with the trivial `GET /api/me/` in the same run: the audit page
   for HR and the API list of events, newest first, a page deep in the log, and each filter,
   as ratios to `GET /api/me/`. Targets: ≤ 5×, and the ratio grows ≤ 1.2× from 100,000 events
   to 1,000,000, with the same number of queries at both sizes.

The synthetic events come from the demo's people but HR, cover every declared action but
those of one area, and name synthetic targets: the filters on HR, on that area and on a demo
review find only the demo's own events, the oldest in the log, which an index reaches at once.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from audit import keys, registry
from audit.models import GENESIS_HASH, AuditEvent, ChainCheck, canonical_content
from audit.services import check_whole_chain, whole_check_request
from bench.measure import count_queries, interleaved, report, verdict

ROOT = Path(__file__).resolve().parent.parent
SIZES = (100_000, 1_000_000)
PAGE_RATIO_TARGET = 5.0
GROWTH_TARGET = 1.2
MEMORY_GROWTH_TARGET = 1.2
CHUNK = 20_000
# The area whose actions no synthetic event takes: filtering on it finds the demo's events.
QUIET_AREA = "people"
TARGET_TYPES = ("bench.document", "bench.meeting", "bench.ticket", "bench.note")
_COLUMNS = (
    "seq",
    "created_at",
    "actor_id",
    "actor_repr",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "payload",
    "prev_hash",
    "hash",
    "key_id",
)


def _rows(
    *,
    count: int,
    seq: int,
    prev: str,
    start: datetime.datetime,
    actors: list[tuple[int, str]],
    codes: list[str],
) -> Iterator[tuple[Any, ...]]:
    """`count` events after event `seq` (hash `prev`), as column values, hashed as
    audit.record hashes them; stamped one microsecond apart from `start`."""
    kid = keys.current()[0]
    for step in range(count):
        seq += 1
        actor_id, actor = actors[seq % len(actors)]
        action = codes[seq % len(codes)]
        target_type = TARGET_TYPES[seq % len(TARGET_TYPES)]
        target_id = str(seq % 997)
        target_repr = f"Synthetic event {seq}"
        payload = {"n": seq, "note": "synthetic"}
        created_at = start + datetime.timedelta(microseconds=step)
        content = canonical_content(
            seq=seq,
            created_at=created_at,
            actor_id=actor_id,
            actor_repr=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            target_repr=target_repr,
            payload=payload,
            prev_hash=prev,
        )
        digest = keys.digest(content, kid)
        yield (
            seq,
            created_at,
            actor_id,
            actor,
            action,
            target_type,
            target_id,
            target_repr,
            json.dumps(payload),
            prev,
            digest,
            kid,
        )
        prev = digest


def _insert(rows: list[tuple[Any, ...]]) -> None:
    table = AuditEvent._meta.db_table
    columns = ", ".join(_COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            adapt = connection.ops.adapt_datetimefield_value
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(_COLUMNS))})",
                [(r[0], adapt(r[1]), *r[2:]) for r in rows],
            )


def append_events(
    *,
    actor: Any,
    count: int,
    actors: list[Any] | None = None,
    codes: list[str] | None = None,
) -> None:
    """Bench and test data only: append `count` correctly chained events in bulk, hashed by the
    same function as audit.record, without its per-event lock and query. Never use it for real
    events: it assumes nobody else writes the log meanwhile. The events take their actors
    from `actors` (default: `actor`) and their actions from `codes` (default: the first
    declared one) in turn."""
    if count <= 0:
        return
    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash", "created_at").first()
    seq, prev, last = head if head else (0, GENESIS_HASH, None)
    # Stamped after the newest event, in order: numbers and moments grow together.
    start = timezone.now()
    if last is not None and last >= start:
        start = last + datetime.timedelta(microseconds=1)
    people = [(u.pk, u.get_username()) for u in (actors or [actor])]
    rows = _rows(
        count=count,
        seq=seq,
        prev=prev,
        start=start,
        actors=people,
        codes=codes or [str(registry.declared()[0])],
    )
    while batch := [row for _, row in zip(range(CHUNK), rows, strict=False)]:
        _insert(batch)


def _grow_to(size: int, *, hr: Any, actors: list[Any], codes: list[str]) -> None:
    existing = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    began = time.perf_counter()
    append_events(actor=hr, count=size - existing, actors=actors, codes=codes)
    elapsed = time.perf_counter() - began
    print(
        f"audit: appended {size - existing:,} events in bulk in {elapsed:.1f} s "
        f"({(size - existing) / elapsed:,.0f} events/s; "
        f"{'COPY' if connection.vendor == 'postgresql' else 'batched INSERT'})"
    )


# The whole-chain check (benchmark 2).


def _database_url() -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    return f"sqlite:///{connection.settings_dict['NAME']}"


def _kib(pid: int, field: str) -> int:
    """A memory figure of a process, from /proc/<pid>/status (VmHWM: its peak RSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(field)


def _wait_for(done: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.1)


def _check_in_worker(log: Path) -> tuple[int, float, int, int]:
    """A whole check queued as HR's button queues it, run by a Celery worker started for it
    (with --pool=solo the task runs in the worker's own process). Returns the events verified,
    the seconds from queueing to the recorded result, the worker's RSS when idle and its peak
    RSS, in KiB."""
    from audit.tasks import verify_audit_chain
    from config.celery import app

    queue = f"levelset-bench-{uuid.uuid4().hex[:8]}"
    node = f"{queue}@{socket.gethostname()}"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_QUEUE": queue,
        "AUDIT_CHECKPOINTS": settings.AUDIT_CHECKPOINTS,
    }
    with log.open("a") as output:
        worker = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue),
                *("--pool=solo", "-n", node, "--without-gossip", "--without-mingle"),
                "--loglevel=WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(
            lambda: bool(app.control.ping(destination=[node], timeout=0.5)),
            seconds=60,
            what=f"the worker did not start (see {log})",
        )
        idle = _kib(worker.pid, "VmRSS")
        check, created = whole_check_request()
        assert created, "a whole check was already under way"
        began = time.perf_counter()
        verify_audit_chain.apply_async(args=[check.pk], queue=queue)
        _wait_for(
            lambda: ChainCheck.objects.filter(pk=check.pk, state=ChainCheck.State.DONE).exists(),
            seconds=3600,
            what=f"the whole check did not finish (see {log})",
        )
        elapsed = time.perf_counter() - began
        peak = _kib(worker.pid, "VmHWM")
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    done = ChainCheck.objects.get(pk=check.pk)
    assert done.ok, done.message
    return done.count, elapsed, idle, peak


def _check_here() -> tuple[int, float, int]:
    """Without Redis there is no worker: the same check in this process, its peak memory as
    tracemalloc sees it (KiB)."""
    tracemalloc.start()
    try:
        began = time.perf_counter()
        result = check_whole_chain()
        elapsed = time.perf_counter() - began
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.ok, result.message
    return result.count, elapsed, peak // 1024


def bench_whole_check(size: int, log: Path) -> int:
    """Benchmark 2 at one size: the peak memory (KiB) it measured."""
    if settings.REDIS_URL:
        count, elapsed, idle, peak = _check_in_worker(log)
        where = f"worker peak RSS {peak:,} KiB (idle {idle:,} KiB)"
        label = "in a Celery worker"
    else:
        count, elapsed, peak = _check_here()
        where = f"peak {peak:,} KiB under tracemalloc"
        label = "in this process (no REDIS_URL)"
    assert count == size, (count, size)
    print(
        f"audit: whole check of {count:,} events {label}: {elapsed:.1f} s "
        f"({count / elapsed:,.0f} events/s), {where}"
    )
    return peak


# The page and the API (benchmark 3).


def _cursor(seq: int) -> str:
    """The API's cursor for the page of events older than `seq` (as its `next` links read)."""
    return base64.b64encode(f"p={seq}".encode()).decode()


def _reads(size: int, *, hr_name: str, review: int, code: str) -> dict[str, str]:
    today = timezone.localdate().isoformat()
    middle = size // 2
    target = f"target_type=reviews.review&target_id={review}"
    return {
        "GET /audit/": "/audit/",
        "  ?before=… (a page in the middle of the log)": f"/audit/?before={middle}",
        f"  ?actor={hr_name} (the demo's events only)": f"/audit/?actor={hr_name}",
        f"  ?area={QUIET_AREA} (the demo's events only)": f"/audit/?area={QUIET_AREA}",
        f"  ?action={code}": f"/audit/?action={code}",
        "  one demo review's history": f"/audit/?{target}",
        f"  ?since={today}": f"/audit/?since={today}",
        "GET /api/audit/events/": "/api/audit/events/",
        "  ?cursor=… (a page in the middle of the log)": (
            f"/api/audit/events/?cursor={_cursor(middle)}"
        ),
        f"  ?actor={hr_name}": f"/api/audit/events/?actor={hr_name}",
        f"  ?area={QUIET_AREA}": f"/api/audit/events/?area={QUIET_AREA}",
        f"  ?action={code} ": f"/api/audit/events/?action={code}",
        "  one demo review's history ": f"/api/audit/events/?{target}",
        f"  ?since={today} ": f"/api/audit/events/?since={today}T00:00Z",
    }


BASELINE = "GET /api/me/ (baseline)"


def bench_reads(
    size: int, reads: dict[str, str], hr: Any, runs: int = 60
) -> dict[str, tuple[float, float, int]]:
    """Benchmark 3 at one size: {read: (ratio to GET /api/me/, median ms, queries)}."""
    page = Client()
    page.force_login(hr)
    api = APIClient()
    api.force_authenticate(hr)

    def get(client: Any, url: str) -> Callable[[], Any]:
        return lambda: client.get(url)

    calls = {BASELINE: get(api, "/api/me/")}
    for name, url in reads.items():
        calls[name] = get(api if url.startswith("/api/") else page, url)
    queries: dict[str, int] = {}
    for name, call in calls.items():
        for _ in range(5):  # warm-up
            call()
        with count_queries() as seen:
            response = call()
        assert response.status_code == 200, (name, response.status_code)
        queries[name] = len(seen)
    samples = interleaved(calls, runs)
    base = statistics.median(samples[BASELINE])
    print(f"audit: reads with {size:,} events, interleaved with GET /api/me/")
    found: dict[str, tuple[float, float, int]] = {}
    for name, taken in samples.items():
        if name == BASELINE:
            report(name, taken)
            continue
        ratio = statistics.median(taken) / base
        found[name] = (ratio, statistics.median(taken), queries[name])
        report(
            name,
            taken,
            f"   {queries[name]} queries   {ratio:.1f}× /api/me/"
            f"  {verdict(ratio <= PAGE_RATIO_TARGET)} (target ≤ {PAGE_RATIO_TARGET:g}×)",
        )
    return found


def main() -> None:
    User = get_user_model()
    hr = User.objects.get(username="hr")
    actors = list(User.objects.filter(is_active=True).exclude(pk=hr.pk).order_by("pk"))
    codes = [c for c in registry.codes(registry.declared()) if not c.startswith(f"{QUIET_AREA}.")]
    review = (
        AuditEvent.objects.filter(target_type="reviews.review")
        .values_list("target_id", flat=True)
        .first()
    )
    assert review is not None, "the demo recorded no review event"
    log = Path(settings.AUDIT_CHECKPOINTS).parent / "bench-audit-worker.log"
    peaks: dict[int, int] = {}
    ratios: dict[int, dict[str, tuple[float, float, int]]] = {}
    for size in SIZES:
        _grow_to(size, hr=hr, actors=actors, codes=codes)
        peaks[size] = bench_whole_check(size, log)
        reads = _reads(size, hr_name=hr.get_username(), review=int(review), code=codes[0])
        ratios[size] = bench_reads(size, reads, hr)
    small, large = SIZES
    growth = peaks[large] / peaks[small]
    print(
        f"{f'audit: whole check memory, {small:,} → {large:,} events':<48} {growth:.2f}× the "
        f"peak   {verdict(growth <= MEMORY_GROWTH_TARGET)} (constant: at most "
        f"{MEMORY_GROWTH_TARGET:g}×)"
    )
    print(f"audit: reads, {small:,} → {large:,} events (the ratio to GET /api/me/)")
    for (name, (before, ms_before, queries_before)), (ratio, ms, queries_after) in zip(
        ratios[small].items(), ratios[large].values(), strict=True
    ):
        grew = ratio / before
        same = queries_before == queries_after
        print(
            f"{name:<48} {grew:.2f}× the ratio   {verdict(grew <= GROWTH_TARGET)} "
            f"(target ≤ {GROWTH_TARGET:g}×; the time {ms / ms_before:.2f}×)   "
            f"queries {queries_before} → {queries_after} {verdict(same)}"
        )
