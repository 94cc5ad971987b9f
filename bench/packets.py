"""Promotion packet benchmarks. Import after django.setup(), against the seeded demo database.

1. One packet with 25 evidence items (about 6 pages): median time to render the HTML and to
   render the PDF from it, and their ratio. Target: PDF render median ≤ 1.5 s.
2. 40 packets exported through real Celery workers (Redis): throughput with 2 workers against
   1 worker, each run twice in turn. Target: ≥ 1.6×. Needs REDIS_URL; reported as skipped
   without it.
"""

from __future__ import annotations

import datetime
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from bench.reviews import _verdict
from config.celery import app as celery_app
from people.models import Engineer
from promotions.models import ExportJob, PromotionCase, PromotionPacket, ReadinessAxis
from promotions.packets import render_packet_html, render_packet_pdf
from promotions.services import case_nominate, case_update, export_request
from reviews.evidence import EvidenceKind
from reviews.models import Evidence, Review, ReviewCycle

User = get_user_model()
ROOT = Path(__file__).resolve().parent.parent
RENDER_TARGET_S = 1.5
THROUGHPUT_TARGET = 1.6
KINDS = list(EvidenceKind)


def _case_for(engineer: Engineer, cycle: ReviewCycle, evidence: int) -> PromotionCase:
    """A submitted-ready case citing `evidence` items from the engineer's two cycles."""
    reviews = list(Review.objects.filter(engineer=engineer).order_by("cycle__self_review_ends"))
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
    manager = engineer.manager
    case = case_nominate(
        actor=manager,
        engineer=engineer,
        cycle=cycle,
        target_level=_next_level(cycle, engineer.level_code),
        summary="Operates **one level up** on scope and reliability.",
    )
    ids = list(
        Evidence.objects.filter(review__engineer=engineer)
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
    for _ in range(9):
        start = time.perf_counter()
        html = render_packet_html(case)
        html_samples.append(time.perf_counter() - start)
        start = time.perf_counter()
        _pdf, pages = render_packet_pdf(html, title="bench", author="bench")
        pdf_samples.append(time.perf_counter() - start)
    html_s, pdf_s = statistics.median(html_samples), statistics.median(pdf_samples)
    print(f"{'packet HTML, 25 evidence items':<48} median {html_s * 1000:8.1f} ms")
    print(
        f"{f'packet PDF, 25 evidence items ({pages} pages)':<48} median {pdf_s * 1000:8.1f} ms"
        f"   {pdf_s / html_s:.1f}× the HTML   {_verdict(pdf_s <= RENDER_TARGET_S)}"
        f" (target ≤ {RENDER_TARGET_S:g} s)"
    )


def _workers(count: int, queue: str) -> list[subprocess.Popen[bytes]]:
    db = connection.settings_dict
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    url = (
        f"sqlite:///{db['NAME']}"
        if connection.vendor == "sqlite"
        else f"postgres://{db['USER'] or 'postgres'}@{host}/{db['NAME']}"
    )
    env = {**os.environ, "DATABASE_URL": url, "CELERY_QUEUE": queue}
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                queue,
                "--pool=solo",
                "-n",
                f"bench{n}-{queue}@%h",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=ERROR",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in range(count)
    ]


def _export_all(cases: list[PromotionCase], workers: int, requester: Any) -> float:
    queue = f"bench-{uuid.uuid4().hex[:6]}"
    celery_app.conf.task_default_queue = queue
    PromotionPacket.objects.filter(case__in=cases).delete()  # render afresh each run
    procs = _workers(workers, queue)
    try:
        time.sleep(3)  # let the workers connect
        start = time.perf_counter()
        jobs = [export_request(actor=requester, case=case) for case in cases]
        ids = [job.pk for job in jobs]
        while ExportJob.objects.filter(pk__in=ids, status__in=["queued", "rendering"]).exists():
            time.sleep(0.1)
        elapsed = time.perf_counter() - start
        failed = ExportJob.objects.filter(pk__in=ids, status="failed").count()
        assert not failed, f"{failed} exports failed"
        return elapsed
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)


def bench_throughput(cycle: ReviewCycle) -> None:
    if not settings.REDIS_URL:
        print(f"{'40 packets, 2 workers vs 1':<48} skipped: set REDIS_URL to run real workers")
        return
    engineers = list(
        Engineer.objects.filter(user__username__startswith="eng", manager__isnull=False)
        .exclude(user__username="eng03")
        .exclude(promotion_cases__cycle=cycle)
        .exclude(level_code=cycle.rubric_version.levels.order_by("-order").values("code")[:1])
        .select_related("manager")
        .order_by("user__username")[:40]
    )
    cases = [_case_for(engineer, cycle, evidence=12) for engineer in engineers]
    hr = User.objects.get(username="hr")
    # Each configuration twice, alternating, so a slow spell of the machine does not fall on
    # one side of the ratio only; the ratio is of the means.
    runs: dict[int, list[float]] = {1: [], 2: []}
    for workers in (1, 2, 1, 2):
        runs[workers].append(_export_all(cases, workers, hr))
    one, two = statistics.fmean(runs[1]), statistics.fmean(runs[2])
    ratio = one / two
    for workers, mean in ((1, one), (2, two)):
        label = f"40 packets, {workers} worker{'s' if workers > 1 else ''}"
        each = " and ".join(f"{t:.2f}" for t in runs[workers])
        extra = (
            f"   {ratio:.2f}× {_verdict(ratio >= THROUGHPUT_TARGET)}"
            f" (target ≥ {THROUGHPUT_TARGET:g}×)"
            if workers == 2
            else ""
        )
        print(f"{label:<48} {mean:8.2f} s   ({each} s)   {40 / mean:.2f} packets/s{extra}")


def main() -> None:
    cycle = ReviewCycle.objects.get(name="2026 H2")
    bench_render(cycle)
    bench_throughput(cycle)
