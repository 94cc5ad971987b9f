"""Demo review data for seed_demo: a closed, finalised past cycle and an open cycle with
reviews in every state it can hold, with realistic evidence and team DORA context.

Everything goes through the services, so the demo's audit log tells a true story."""

from __future__ import annotations

import datetime
from typing import Any

from reviews import services
from reviews.models import Engineer, Review, ReviewCycle, Team
from reviews.team_metrics import team_metrics_import
from rubrics.models import RubricVersion

DIMENSIONS = ["delivery", "technical_quality", "reliability", "collaboration", "mentoring", "scope"]
EVIDENCE = [
    (
        "https://github.com/levelset-demo/{team}/pull/{n}",
        "Idempotent retries for the {team} API",
        ["delivery", "reliability"],
        "Designed the retry budget and shipped it behind a flag.",
    ),
    (
        "https://wiki.levelset.example/postmortems/{team}-{n}",
        "Postmortem: {team} latency incident",
        ["reliability"],
        "Led the incident review and owned three follow-ups.",
    ),
    (
        "https://docs.levelset.example/design/{team}-{n}",
        "Design doc: {team} data model v2",
        ["technical_quality", "scope"],
        "Wrote the doc and ran the review with two teams.",
    ),
    (
        "https://wiki.levelset.example/mentoring/{team}-{n}",
        "Mentoring plan for a new joiner",
        ["mentoring", "collaboration"],
        "Paired weekly for a quarter; they now own on-call.",
    ),
    (
        "https://grafana.levelset.example/d/{team}-{n}/slo",
        "SLO dashboard for {team}",
        ["reliability", "technical_quality"],
        "Built the SLO and its burn-rate alerts.",
    ),
]
METRICS_HEADER = (
    "team,deployment_frequency,deployment_frequency_unit,lead_time,lead_time_unit,"
    "change_failure_rate,time_to_restore,time_to_restore_unit"
)
METRICS_CSV = (
    METRICS_HEADER
    + """
Payments,{a},per_week,26,hours,{c},3.5,hours
Platform,14,per_week,{b},hours,9,1.5,hours
Search,{a},per_week,30,hours,12,6,hours
Mobile,3,per_week,72,hours,{c},8,hours
Data,9,per_week,40,hours,7.5,2,hours
Identity,6,per_week,{b},hours,4,45,minutes
"""
)


def _rating(n: int, key: str) -> int:
    """A deterministic spread of ratings around the midpoint."""
    return [3, 3, 4, 3, 2, 3, 4, 5, 3, 3][(n * 7 + DIMENSIONS.index(key) * 3) % 10]


def _add_evidence(review: Review, n: int, count: int) -> None:
    team = review.team.slug
    for i in range(count):
        url, title, dims, note = EVIDENCE[(n + i) % len(EVIDENCE)]
        services.evidence_add(
            actor=review.engineer.user,
            review=review,
            url=url.format(team=team, n=100 + n * 10 + i),
            title=title.format(team=review.team.name),
            dimensions=dims,
            contribution=note,
            occurred_on=review.cycle.self_review_ends - datetime.timedelta(days=20 + 9 * i),
        )


def _self_rate_and_submit(review: Review, n: int) -> None:
    ratings = {
        k: {"rating": _rating(n + 1, k), "justification": "See the evidence."} for k in DIMENSIONS
    }
    services.rating_set_self(actor=review.engineer.user, review=review, ratings=ratings)
    services.review_submit_self(actor=review.engineer.user, review=review)


def _manager_rate(review: Review, n: int, submit: bool) -> None:
    counts: dict[str, int] = {}
    for item in review.evidence.all():
        for key in item.dimensions:
            counts[key] = counts.get(key, 0) + 1
    ratings: dict[str, dict[str, Any]] = {}
    for key in DIMENSIONS:
        value = _rating(n, key)
        if value != 3 and not counts.get(key):
            value = 3  # the evidence rule: away from the midpoint only with evidence
        ratings[key] = {
            "rating": value,
            "justification": "Backed by the linked evidence." if value != 3 else "",
        }
    manager = review.manager
    services.rating_set_manager(actor=manager, review=review, ratings=ratings)
    mean = sum(r["rating"] for r in ratings.values()) / len(ratings)
    services.rating_set_overall(
        actor=manager, review=review, overall=round(mean), growth=1 + (n * 3) % 5
    )
    if submit:
        services.review_submit_manager(actor=manager, review=review)


def _reviews(cycle: ReviewCycle) -> list[Review]:
    return list(
        Review.objects.filter(cycle=cycle)
        .select_related("cycle__rubric_version", "engineer__user", "team", "manager")
        .order_by("engineer__user__username")
    )


def seed_review_cycles(*, hr: Any, version: RubricVersion) -> None:
    if ReviewCycle.objects.exists():
        return
    past = services.cycle_create(
        actor=hr,
        name="2026 H1",
        rubric_version=version,
        self_review_ends=datetime.date(2026, 6, 5),
        manager_review_ends=datetime.date(2026, 6, 19),
        calibration_ends=datetime.date(2026, 6, 26),
        finalisation_ends=datetime.date(2026, 7, 3),
    )
    services.cycle_open(actor=hr, cycle=past)
    team_metrics_import(actor=hr, cycle=past, text=METRICS_CSV.format(a=11, b=20, c=14))
    for n, review in enumerate(_reviews(past)):
        _add_evidence(review, n, 2)
        _self_rate_and_submit(review, n)
    services.cycle_advance(actor=hr, cycle=past)
    for n, review in enumerate(_reviews(past)):
        _manager_rate(review, n, submit=True)
    for _ in range(2):
        past = services.cycle_advance(actor=hr, cycle=past)  # calibration, finalisation
    for n, review in enumerate(_reviews(past)):
        services.review_finalize(actor=hr, review=review)
        if n % 3:
            services.review_acknowledge(actor=review.engineer.user, review=review)
    services.cycle_advance(actor=hr, cycle=past)  # closed

    current = services.cycle_create(
        actor=hr,
        name="2026 H2",
        rubric_version=version,
        self_review_ends=datetime.date(2026, 11, 20),
        manager_review_ends=datetime.date(2026, 12, 4),
        calibration_ends=datetime.date(2026, 12, 11),
        finalisation_ends=datetime.date(2026, 12, 18),
    )
    services.cycle_open(actor=hr, cycle=current)
    team_metrics_import(actor=hr, cycle=current, text=METRICS_CSV.format(a=13, b=18, c=10))
    reviews = _reviews(current)
    for n, review in enumerate(reviews):
        _add_evidence(review, n, 1 + n % 4)
        if n % 10 != 0:  # every tenth engineer is still drafting
            _self_rate_and_submit(review, n)
    services.cycle_advance(actor=hr, cycle=current)  # manager review
    for n, review in enumerate(reviews):
        if n % 10 in (3, 4, 5, 6):
            _manager_rate(review, n, submit=True)
        elif n % 10 == 7:
            _manager_rate(review, n, submit=False)


def demo_counts() -> dict[str, int]:
    return {
        "teams": Team.objects.count(),
        "engineers": Engineer.objects.count(),
        "reviews": Review.objects.count(),
    }
