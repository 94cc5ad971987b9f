"""Calibration benchmarks. Import after django.setup(), against the seeded demo database.

1. The board and the analytics of a session of 500 reviews (10 managers × 50 reports, each
   review with manager ratings, 2 evidence items, overall and growth ratings), through the API
   as the facilitator: median in-process time and queries per request.
   Targets: at most 10 queries, median ≤ 300 ms.
2. Analytics over a cycle of 10,000 reviews: loading the board rows of a 10,000-review
   session and computing distribution, skew, outliers, 9-box and groups; the median of 5
   runs, with the first (cold) run beside it.
   Target: ≤ 1 s (the pure analytics are also timed on their own).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from rest_framework.test import APIClient

from bench.measure import count_queries, interleaved, multiple, report, trivial_ms, verdict
from bench.reviews import _manager, _open_cycle, _team_with_reports
from calibration import analytics, selectors
from calibration.api import board_analytics
from calibration.models import CalibrationSession
from calibration.services import session_create, session_open
from core.roles import Role
from reviews.evidence import EvidenceKind
from reviews.models import DimensionRating, Evidence, Review, ReviewCycle
from reviews.services import cycle_advance, recount_evidence
from rubrics.models import RubricVersion

User = get_user_model()
BOARD_QUERIES_TARGET = 10
BOARD_MS_TARGET = 300.0
ANALYTICS_S_TARGET = 1.0


def _submitted_cycle(
    hr: Any, version: RubricVersion, name: str, managers: int, reports: int
) -> ReviewCycle:
    keys = [d.key for d in version.dimensions.all()]
    with transaction.atomic():
        teams = [
            _team_with_reports(f"{name}-{m}", _manager(f"{name}-manager-{m}"), reports=reports)
            for m in range(managers)
        ]
        cycle = _open_cycle(hr, version, f"Bench {name}", teams)
        ids = list(cycle.reviews.values_list("pk", flat=True))
        DimensionRating.objects.bulk_create(
            DimensionRating(
                review_id=rid,
                dimension_key=key,
                self_rating=1 + (i + d) % 5,
                manager_rating=1 + (i * 3 + d) % 5,
            )
            for i, rid in enumerate(ids)
            for d, key in enumerate(keys)
        )
        Evidence.objects.bulk_create(
            Evidence(
                review_id=rid,
                kind=EvidenceKind.PULL_REQUEST,
                url=f"https://github.com/acme/{name}/pull/{rid * 10 + n}",
                title=f"PR {n}",
                dimensions=keys[n * 2 : n * 2 + 2],
            )
            for rid in ids
            for n in range(2)
        )
        recount_evidence(ids)
        Review.objects.filter(pk__in=ids).update(
            state=Review.State.MANAGER_SUBMITTED, overall_rating=3, growth_rating=4
        )
    return cycle_advance(actor=hr, cycle=cycle)  # into the manager-review phase


def _session(hr: Any, cycle: ReviewCycle, facilitator: Any) -> CalibrationSession:
    session = session_create(
        actor=hr, cycle=cycle, name=f"{cycle.name} session", facilitator=facilitator
    )
    return session_open(actor=facilitator, session=session)


def bench_board(hr: Any, version: RubricVersion, facilitator: Any) -> None:
    cycle = _submitted_cycle(hr, version, "board", managers=10, reports=50)
    session = _session(hr, cycle, facilitator)
    user = User.objects.get(pk=facilitator.pk)
    client = APIClient()
    client.force_authenticate(user)
    for tail in ("board/", "analytics/"):
        url = f"/api/calibration/sessions/{session.pk}/{tail}"

        def call(url: str = url) -> Any:
            user.__dict__.pop("_levelset_roles", None)
            return client.get(url)

        call()
        with count_queries() as queries:
            response = call()
        assert response.status_code == 200, response.status_code
        both = interleaved({"route": call, "me": lambda: client.get("/api/me/")}, 30)
        samples, trivial = both["route"], statistics.median(both["me"])
        ok = len(queries) <= BOARD_QUERIES_TARGET
        report(
            f"GET .../sessions/{{id}}/{tail} (500 reviews)",
            samples,
            f"   {len(queries)} queries   {verdict(ok)} (≤ {BOARD_QUERIES_TARGET})"
            f"   {multiple(statistics.median(samples) / 1000, trivial, BOARD_MS_TARGET / 1000)}",
        )


def bench_cycle_analytics(hr: Any, version: RubricVersion, facilitator: Any) -> None:
    cycle = _submitted_cycle(hr, version, "cycle10k", managers=20, reports=500)
    session = _session(hr, cycle, facilitator)
    session = CalibrationSession.objects.select_related("cycle__rubric_version__scale").get(
        pk=session.pk
    )
    samples = []
    before = trivial_ms(hr)
    for _ in range(5):  # the first run is cold (nothing of the cycle in SQLite's page cache)
        start = time.perf_counter()
        result = board_analytics(session, viewer=session.facilitator)
        samples.append(time.perf_counter() - start)
        assert result["distribution"]["total"] == 10_000, result["distribution"]["total"]
    total = statistics.median(samples)
    trivial = (before + trivial_ms(hr)) / 2
    rows, ver = selectors.board_rows(session, viewer=session.facilitator)
    start = time.perf_counter()
    analytics.distribution(rows, scale_min=1, scale_max=5)
    analytics.manager_skew(rows)
    analytics.outliers(rows, midpoint=ver.scale.midpoint)
    analytics.nine_box(rows)
    analytics.groups(rows)
    pure = time.perf_counter() - start
    print(
        f"{'analytics, 10,000 reviews (load + compute)':<48} {total:8.3f} s median of 5"
        f" (first {samples[0]:.3f} s)   {multiple(total, trivial, ANALYTICS_S_TARGET)}"
    )
    print(f"{'  of which the analytics functions alone':<48} {pure:8.3f} s")


def main() -> None:
    hr = User.objects.get(username="hr")
    version = RubricVersion.objects.get(rubric__slug="backend-engineering", status="published")
    facilitator = User.objects.create(username="bench-facilitator")
    facilitator.groups.add(Group.objects.get(name=Role.FACILITATOR.value))
    bench_board(hr, version, facilitator)
    bench_cycle_analytics(hr, version, facilitator)
