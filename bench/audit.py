"""Audit chain benchmarks. Import after django.setup(), against the seeded demo database.

1. Append 100,000 events (bench-only bulk writer below), then verify the whole chain as the
   background check does: events per second.
2. Peak memory of the whole check (tracemalloc) at 10,000 and 100,000 events: constant, set by
   one batch of events (audit.services.BATCH), not by the log's length.
3. The audit page for HR with 100,000 events, as a ratio to the trivial `GET /api/me/`
   measured in the same run. Target: ≤ 5×; the page reads stored checks, never verifies.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from typing import Any

from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from audit import keys, registry
from audit.models import GENESIS_HASH, AuditEvent
from audit.services import check_whole_chain, verify_chain
from bench.measure import timed

PAGE_TARGET_RATIO = 5.0
CHUNK = 5000


def append_events(*, actor: Any, count: int) -> None:
    """Bench and test data only: append `count` correctly chained events in bulk, hashed by the
    same function as audit.record, without its per-event lock and query. Never use it for real
    events: it assumes nobody else writes the log meanwhile."""
    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, prev = head if head else (0, GENESIS_HASH)
    kid = keys.current()[0]
    code = str(registry.declared()[0])
    now = timezone.now()
    for start in range(0, count, CHUNK):
        batch = []
        for _ in range(min(CHUNK, count - start)):
            seq += 1
            event = AuditEvent(
                seq=seq,
                created_at=now,
                actor=actor,
                actor_repr=actor.get_username(),
                action=code,
                target_type="bench.event",
                target_id=str(seq),
                target_repr=f"Synthetic event {seq}",
                payload={"n": seq, "note": "synthetic"},
                prev_hash=prev,
                key_id=kid,
            )
            event.hash = event.compute_hash()
            prev = event.hash
            batch.append(event)
        with transaction.atomic():
            AuditEvent.objects.bulk_create(batch)


def _peak_kib() -> tuple[int, float, int]:
    tracemalloc.start()
    try:
        began = time.perf_counter()
        report = verify_chain()
        elapsed = time.perf_counter() - began
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.ok, report.message
    return report.count, elapsed, peak // 1024


def main() -> None:
    from django.contrib.auth import get_user_model

    hr = get_user_model().objects.get(username="hr")
    api = APIClient()
    api.force_authenticate(hr)
    for _ in range(20):
        api.get("/api/me/")
    baseline = statistics.median(timed(lambda: api.get("/api/me/"), 100))

    existing = AuditEvent.objects.count()
    began = time.perf_counter()
    append_events(actor=hr, count=10_000 - existing)
    count, _, small = _peak_kib()
    append_events(actor=hr, count=100_000 - count)
    appended = time.perf_counter() - began
    print(f"audit: appended {100_000 - existing:,} events in bulk in {appended:.1f} s")
    count, elapsed, large = _peak_kib()
    print(
        f"audit: whole check of {count:,} events: {elapsed:.2f} s "
        f"({count / elapsed:,.0f} events/s, under tracemalloc)"
    )
    began = time.perf_counter()
    report = check_whole_chain()
    elapsed = time.perf_counter() - began
    assert report.ok, report.message
    print(
        f"audit: check_whole_chain (slices, checkpoint, recorded): {elapsed:.2f} s "
        f"({report.count / elapsed:,.0f} events/s)"
    )
    print(
        f"audit: peak memory of the whole check: {small:,} KiB at 10,000 events, "
        f"{large:,} KiB at {count:,} ({large / small:.2f}×)"
    )
    page = Client()
    page.force_login(hr)
    for _ in range(5):
        assert page.get("/audit/").status_code == 200
    ms = statistics.median(timed(lambda: page.get("/audit/"), 50))
    ratio = ms / baseline
    verdict = "PASS" if ratio <= PAGE_TARGET_RATIO else "MISS"
    print(
        f"audit: GET /audit/ with {count:,} events: {ms:.1f} ms, {ratio:.1f}× GET /api/me/ "
        f"({baseline:.1f} ms); target ≤ {PAGE_TARGET_RATIO:.0f}×: {verdict}"
    )
