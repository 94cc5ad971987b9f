"""Review benchmarks. Import after django.setup(), against the seeded demo database.

1. API: for a manager with 100 direct reports (each review holding 3 evidence items and a
   self rating on every dimension), the median in-process time of `GET /api/reviews/` (the
   first page of 50) and `GET /api/reviews/{id}/score/`, as a ratio to the trivial
   authenticated `GET /api/me/` measured in the same run. Target: ≤ 2×. Both reads are
   cached per viewer until review data changes (core/readcache.py); the first read after
   a write, which renders afresh, is printed beneath them.
2. HR's reviews page (`GET /reviews/`, the first page of 25, with its filters) once the
   organisation holds about 1,000 engineers and again at about 11,000, as a ratio to `GET
   /api/me/` in the same run. Target: ≤ 5× at 1,000, and no growth from 1,000 to 11,000.
3. `cycle_recompute_scores` for a cycle of 10,000 reviews manager-rated on every dimension:
   seconds and queries of one call, with the query count at 1,000 reviews beside it to show it
   does not grow with the cycle. Target: < 5 s.
"""

from __future__ import annotations

import datetime
import functools
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from bench.measure import count_queries, interleaved, multiple, report, trivial_ms, verdict
from core import readcache
from core.roles import Role
from people.models import Engineer, Team
from reviews.evidence import EvidenceKind
from reviews.models import DimensionRating, Evidence, ReviewCycle
from reviews.services import cycle_create, cycle_open, cycle_recompute_scores, recount_evidence
from rubrics.models import RubricVersion

User = get_user_model()
LEVELS = ["L3", "L4", "L5", "L6"]
API_RATIO_TARGET = 2.0
PAGE_RATIO_TARGET = 5.0
RECOMPUTE_TARGET_S = 5.0


def _team_with_reports(slug: str, manager: Any, reports: int) -> Team:
    """A team of `reports` engineers reporting to `manager`, written in bulk."""
    team = Team.objects.create(slug=slug, name=slug.title())
    users = User.objects.bulk_create(
        User(username=f"{slug}-{i:05d}", first_name="Eng", last_name=f"{i:05d}", password="!")
        for i in range(reports)
    )
    Engineer.objects.bulk_create(
        Engineer(
            user=user,
            team=team,
            level_code=LEVELS[i % len(LEVELS)],
            manager=manager,
            start_date=datetime.date(2022, 1, 1),
        )
        for i, user in enumerate(users)
    )
    return team


def _manager(username: str) -> Any:
    manager = User.objects.create(username=username, first_name="Mona", last_name="Bench")
    manager.groups.add(Group.objects.get(name=Role.MANAGER.value))
    return manager


def _open_cycle(hr: Any, version: RubricVersion, name: str, teams: Sequence[Team]) -> ReviewCycle:
    """A cycle through the services; `cycle_open` writes one review per engineer, in bulk."""
    today = datetime.date.today()
    cycle = cycle_create(
        actor=hr,
        name=name,
        rubric_version=version,
        self_review_ends=today,
        manager_review_ends=today + datetime.timedelta(days=14),
        calibration_ends=today + datetime.timedelta(days=28),
        finalisation_ends=today + datetime.timedelta(days=42),
        teams=teams,
    )
    return cycle_open(actor=hr, cycle=cycle)


def _rate(cycle: ReviewCycle, keys: list[str], field: str) -> None:
    """A rating from 1 to 5 in `field` on every dimension of every review of the cycle."""
    DimensionRating.objects.bulk_create(
        DimensionRating(review_id=review_id, dimension_key=key, **{field: 1 + (i + d) % 5})
        for i, review_id in enumerate(cycle.reviews.values_list("pk", flat=True))
        for d, key in enumerate(keys)
    )


def bench_api(hr: Any, version: RubricVersion, runs: int = 200) -> None:
    """Benchmark 1 of the module docstring."""
    keys = [d.key for d in version.dimensions.all()]
    with transaction.atomic():
        manager = _manager("bench-manager")
        team = _team_with_reports("bench-reports", manager, reports=100)
        cycle = _open_cycle(hr, version, "Bench API cycle", [team])
        _rate(cycle, keys, "self_rating")
        Evidence.objects.bulk_create(
            Evidence(
                review_id=review_id,
                kind=EvidenceKind.PULL_REQUEST,
                url=f"https://github.com/acme/api/pull/{review_id * 10 + n}",
                title=f"Pull request {n}",
                dimensions=keys[n : n + 2],
            )
            for review_id in cycle.reviews.values_list("pk", flat=True)
            for n in range(3)
        )
        recount_evidence(cycle.reviews.values_list("pk", flat=True))
    review_id = cycle.reviews.values_list("pk", flat=True).first()

    # A fresh user object, and its role cache dropped before each request: every request then
    # looks the roles up once, as a request authenticated from a session or token does.
    user = User.objects.get(pk=manager.pk)
    client = APIClient()
    client.force_authenticate(user)

    def get(url: str) -> Callable[[], Any]:
        def call() -> Any:
            user.__dict__.pop("_levelset_roles", None)
            return client.get(url)

        return call

    def after_write(url: str) -> Callable[[], Any]:
        call = get(url)

        def fresh() -> Any:
            readcache.bump()  # as any write does: the read below renders afresh
            return call()

        return fresh

    baseline = "GET /api/me/ (baseline)"
    cached = {
        baseline: get("/api/me/"),
        "GET /api/reviews/ (50 of 100 reports)": get("/api/reviews/"),
        "GET /api/reviews/{id}/score/": get(f"/api/reviews/{review_id}/score/"),
    }
    uncached = {
        baseline: get("/api/me/"),
        "  the same list, first read after a write": after_write("/api/reviews/"),
        "  the same score, first read after a write": after_write(
            f"/api/reviews/{review_id}/score/"
        ),
    }
    queries: dict[str, list[str]] = {}
    for name, call in {**cached, **uncached}.items():
        for _ in range(20):  # warm-up
            call()
        with count_queries() as queries[name]:
            response = call()
        assert response.status_code == 200, (name, response.status_code)
    list_page = cached["GET /api/reviews/ (50 of 100 reports)"]().json()
    assert list_page["count"] == 100 and len(list_page["results"]) == 50, list_page["count"]

    # Two rounds, each interleaved with its own baseline, so a load spike on the machine hits
    # every endpoint alike, not the ratio; the second round's writes would empty the first's
    # cache if the two were mixed.
    for calls in (cached, uncached):
        samples = interleaved(calls, runs)
        base = statistics.median(samples[baseline])
        for name in calls:
            extra = f"   {len(queries[name])} queries"
            ratio = statistics.median(samples[name]) / base
            if name == baseline:
                if calls is uncached:
                    continue
            elif calls is uncached:
                extra += f"   {ratio:.1f}× /api/me/  (rendered afresh)"
            else:
                extra += (
                    f"   {ratio:.1f}× /api/me/  {verdict(ratio <= API_RATIO_TARGET)}"
                    f" (target ≤ {API_RATIO_TARGET:g}×)"
                )
            report(name, samples[name], extra)


def bench_reviews_page(hr: Any, runs: int = 60) -> float:
    """Benchmark 2 of the module docstring, at the organisation's present size: the ratio."""
    client = Client()
    client.force_login(hr)
    calls = {"GET /api/me/ (baseline)": "/api/me/", "page": "/reviews/"}
    for url in calls.values():
        for _ in range(5):  # warm-up
            assert client.get(url).status_code == 200
    with count_queries() as queries:
        html = client.get("/reviews/").content.decode()
    samples = interleaved(
        {name: functools.partial(client.get, url) for name, url in calls.items()}, runs
    )
    ratio = statistics.median(samples["page"]) / statistics.median(
        samples["GET /api/me/ (baseline)"]
    )
    engineers = Engineer.objects.count()
    shown = html.count('<td><a href="/reviews/')
    report(
        f"HR reviews page, {engineers:,} engineers",
        samples["page"],
        f"   {len(queries)} queries, {shown} rows, {len(html) // 1024} KB   {ratio:.1f}× /api/me/"
        f"  {verdict(ratio <= PAGE_RATIO_TARGET)} (target ≤ {PAGE_RATIO_TARGET:g}×)",
    )
    return ratio


def bench_recompute(hr: Any, version: RubricVersion) -> None:
    """Benchmarks 2 and 3 of the module docstring: the organisation grows from about 1,000
    engineers to about 11,000 between the two measures of the reviews page."""
    keys = [d.key for d in version.dimensions.all()]

    def grow(teams: range) -> list[Team]:
        return [
            _team_with_reports(f"bench-org-{t}", _manager(f"bench-org-manager-{t}"), reports=1000)
            for t in teams
        ]

    with transaction.atomic():
        teams = grow(range(1))
        cycles = {1_000: _open_cycle(hr, version, "Bench recompute 1k", teams)}
        _rate(cycles[1_000], keys, "manager_rating")
    small = bench_reviews_page(hr)
    with transaction.atomic():
        teams += grow(range(1, 10))
        cycles[10_000] = _open_cycle(hr, version, "Bench recompute 10k", teams)
        _rate(cycles[10_000], keys, "manager_rating")
    large = bench_reviews_page(hr)
    print(
        f"{'  the reviews page, 1,000 → 11,000 engineers':<48} {large / small:.2f}× the time"
        f"   {verdict(large / small <= 1.5)} (no growth: at most 1.5×)"
    )

    counts = {}
    for size, cycle in cycles.items():
        assert cycle.reviews.count() == size
        before = trivial_ms(hr)
        with count_queries() as queries:
            start = time.perf_counter()
            created = cycle_recompute_scores(actor=hr, cycle=cycle)
            elapsed = time.perf_counter() - start
        trivial = (before + trivial_ms(hr)) / 2
        assert created == size, created
        # Snapshots go out in one COPY on PostgreSQL (not seen by the query counter), in INSERT
        # batches elsewhere: the one part that may grow with the cycle (124 rows a batch on
        # SQLite, its 999-parameter limit over 8 columns).
        inserts = sum(1 for sql in queries if 'INSERT INTO "reviews_scoresnapshot"' in sql)
        counts[size] = len(queries) - inserts
        said = f"   {multiple(elapsed, trivial, RECOMPUTE_TARGET_S)}" if size == 10_000 else ""
        print(
            f"{f'cycle_recompute_scores, {size:,} reviews':<48} {elapsed:8.3f} s"
            f"   {len(queries)} queries, {inserts} of them snapshot insert batches{said}"
        )
    print(
        f"{'  queries besides the insert batches':<48} {counts[1_000]} at 1,000, "
        f"{counts[10_000]} at 10,000   {verdict(counts[1_000] == counts[10_000])} (no growth)"
    )


def main() -> None:
    hr = User.objects.get(username="hr")
    version = RubricVersion.objects.get(rubric__slug="backend-engineering", number=2)
    bench_api(hr, version)
    bench_recompute(hr, version)
