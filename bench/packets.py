"""Promotion packet benchmarks. Import after django.setup(), against the seeded demo database.

1. One packet with 25 evidence items (about 6 pages): median time to render the HTML and to
   render the PDF from it, and their ratio. Target: PDF render median ≤ 1.5 s.
2. A batch export (one ZIP) of a cycle's 40 packets through real Celery workers (Redis):
   throughput with 2 workers against 1 worker, each run twice in turn. The batch fans out, one
   task per packet, so a second worker should nearly halve it. Target: ≥ 1.7×. Needs
   REDIS_URL; reported as skipped without it.
"""

from __future__ import annotations

import contextlib
import datetime
import statistics
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model

from bench.measure import multiple, trivial_ms, verdict
from config.celery import app as celery_app
from people.models import Engineer
from promotions.models import ExportJob, PromotionCase, PromotionPacket, ReadinessAxis
from promotions.packets import render_packet_html, render_packet_pdf
from promotions.services import case_nominate, case_update, export_batch_request
from reviews.evidence import EvidenceKind
from reviews.models import Evidence, Review, ReviewCycle
from reviews.services import recount_evidence
from tests.workers import start_worker, stop_worker

User = get_user_model()
RENDER_TARGET_S = 1.5
THROUGHPUT_TARGET = 1.7
BATCH = 40
KINDS = list(EvidenceKind)


def _case_for(engineer: Engineer, cycle: ReviewCycle, evidence: int) -> PromotionCase:
    """A submitted-ready case citing `evidence` items from the engineer's reviews in `cycle`
    and before it (what a case may cite)."""
    reviews = list(
        Review.objects.filter(
            engineer=engineer, cycle__self_review_ends__lte=cycle.self_review_ends
        ).order_by("cycle__self_review_ends")
    )
    Evidence.objects.bulk_create(
        Evidence(
            review=reviews[n % len(reviews)],
            kind=KINDS[n % len(KINDS)],
            url=f"https://github.com/levelset-bench/{engineer.pk}/pull/{n}",
            title=f"Payout reliability work, part {n}",
            contribution="Designed it, wrote most of it and ran the rollout.",
            occurred_on=datetime.date(2026, 1 + n % 10, 1 + n % 27),
            dimensions=["delivery", "reliability"] if n % 2 else ["scope", "mentoring"],
        )
        for n in range(evidence)
    )
    recount_evidence(r.pk for r in reviews)
    manager = engineer.manager
    assert manager is not None
    case = case_nominate(
        actor=manager,
        engineer=engineer,
        cycle=cycle,
        target_level=_next_level(cycle, engineer.level_code),
        summary="Operates **one level up** on scope and reliability.",
    )
    ids = list(
        Evidence.objects.filter(review__in=reviews)
        .order_by("-pk")
        .values_list("pk", flat=True)[:evidence]
    )
    for i, axis in enumerate(ReadinessAxis.Axis.values):
        case_update(
            actor=manager,
            case=case,
            axis=axis,
            rating=4,
            narrative="Led the payouts platform across three teams, steadily, all year.",
            evidence_ids=ids[i::3],
        )
    return case


def _next_level(cycle: ReviewCycle, code: str) -> str:
    levels = list(cycle.rubric_version.levels.order_by("order").values_list("code", flat=True))
    return levels[min(levels.index(code) + 1, len(levels) - 1)]


def bench_render(cycle: ReviewCycle) -> None:
    engineer = Engineer.objects.filter(user__username="eng03").select_related("manager").get()
    case = _case_for(engineer, cycle, evidence=25)
    html_samples, pdf_samples, pages = [], [], 0
    before = trivial_ms(engineer.manager)
    for _ in range(9):
        start = time.perf_counter()
        html = render_packet_html(case)
        html_samples.append(time.perf_counter() - start)
        start = time.perf_counter()
        _pdf, pages = render_packet_pdf(html, title="bench", author="bench")
        pdf_samples.append(time.perf_counter() - start)
    trivial = (before + trivial_ms(engineer.manager)) / 2
    html_s, pdf_s = statistics.median(html_samples), statistics.median(pdf_samples)
    print(f"{'packet HTML, 25 evidence items':<48} median {html_s * 1000:8.1f} ms")
    print(
        f"{f'packet PDF, 25 evidence items ({pages} pages)':<48} median {pdf_s * 1000:8.1f} ms"
        f"   {pdf_s / html_s:.1f}× the HTML, {multiple(pdf_s, trivial, RENDER_TARGET_S)}"
    )


def _waited_for_cpu(pids: list[int]) -> float:
    """Seconds these processes have spent runnable but waiting for a CPU (Linux; 0 elsewhere).
    Other work on the machine shows here: a worker that waits cannot speed a batch up."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    return total


def _wait_until_ready(queue: str, workers: int) -> None:
    """Until every worker started for `queue` answers a ping: their start-up is not timed."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        replies = celery_app.control.ping(timeout=0.5)
        if sum(queue in name for reply in replies for name in reply) >= workers:
            return
    raise RuntimeError(f"{workers} worker(s) on {queue} did not start within 2 minutes")


def _export_batch(cycle: ReviewCycle, workers: int, requester: Any) -> tuple[float, float]:
    """Seconds from asking for the cycle's ZIP to the ZIP being written, every packet
    rendered afresh, and the share of that time the workers waited for a CPU."""
    queue = f"bench-{uuid.uuid4().hex[:6]}"
    celery_app.conf.task_default_queue = queue
    PromotionPacket.objects.filter(case__cycle=cycle).delete()  # render afresh each run
    procs = [
        start_worker(queue, output=subprocess.DEVNULL, loglevel="ERROR") for _ in range(workers)
    ]
    pids = [proc.pid for proc in procs]
    try:
        _wait_until_ready(queue, workers)
        start, waited = time.perf_counter(), _waited_for_cpu(pids)
        job = export_batch_request(actor=requester, cycle=cycle)
        while ExportJob.objects.filter(pk=job.pk, status__in=["queued", "rendering"]).exists():
            time.sleep(0.1)
        elapsed = time.perf_counter() - start
        waited = _waited_for_cpu(pids) - waited
        job.refresh_from_db()
        assert job.status == "done", f"the export failed: {job.message}"
        assert job.done == BATCH, f"{job.done} of {BATCH} packets"
        return elapsed, waited / (workers * elapsed)
    finally:
        for proc in procs:
            stop_worker(proc)


def bench_throughput(cycle: ReviewCycle) -> None:
    label = f"batch of {BATCH} packets (one ZIP)"
    if not settings.REDIS_URL:
        print(f"{label + ', 2 workers vs 1':<48} skipped: set REDIS_URL to run real workers")
        return
    # The cycle's cases are the batch: those already there (the demo's) and enough more.
    engineers = list(
        Engineer.objects.filter(user__username__startswith="eng", manager__isnull=False)
        .exclude(user__username="eng03")
        .exclude(promotion_cases__cycle=cycle)
        .exclude(level_code=cycle.rubric_version.levels.order_by("-order").values("code")[:1])
        .select_related("manager")
        .order_by("user__username")[: BATCH - PromotionCase.objects.filter(cycle=cycle).count()]
    )
    for engineer in engineers:
        _case_for(engineer, cycle, evidence=12)
    hr = User.objects.get(username="hr")
    # Each configuration twice, alternating, so a slow spell of the machine does not fall on
    # one side of the ratio only; the ratio is of the means.
    runs: dict[int, list[float]] = {1: [], 2: []}
    waits: dict[int, list[float]] = {1: [], 2: []}
    for workers in (1, 2, 1, 2):
        elapsed, waited = _export_batch(cycle, workers, hr)
        runs[workers].append(elapsed)
        waits[workers].append(waited)
    one, two = statistics.fmean(runs[1]), statistics.fmean(runs[2])
    ratio = one / two
    for workers, mean in ((1, one), (2, two)):
        name = f"{label}, {workers} worker{'s' if workers > 1 else ''}"
        each = " and ".join(f"{t:.2f}" for t in runs[workers])
        extra = (
            f"   {ratio:.2f}× {verdict(ratio >= THROUGHPUT_TARGET)}"
            f" (target ≥ {THROUGHPUT_TARGET:g}×)"
            if workers == 2
            else ""
        )
        print(
            f"{name:<48} {mean:8.2f} s   ({each} s)   {BATCH / mean:.2f} packets/s"
            f"   waited for a CPU {statistics.fmean(waits[workers]):.0%}{extra}"
        )


def main() -> None:
    cycle = ReviewCycle.objects.get(name="2026 H2")
    bench_render(cycle)
    bench_throughput(cycle)
