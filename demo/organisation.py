"""Demo review data for seed_demo: a closed, finalised past cycle and an open cycle with
reviews in every state it can hold, with realistic evidence and team DORA context.

Everything goes through the services, so the demo's audit log tells a true story."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model

from calibration import services as calibration
from people.models import Engineer, Team
from promotions import services as promotions
from promotions.selectors import candidate_evidence
from reviews import services
from reviews.models import Review, ReviewCycle
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
    assert manager is not None  # every demo review has a manager
    services.rating_set_manager(actor=manager, review=review, ratings=ratings)
    mean = sum(r["rating"] for r in ratings.values()) / len(ratings)
    services.rating_set_overall(
        actor=manager, review=review, overall=round(mean), growth=1 + (n * 3) % 5
    )
    if submit:
        services.review_submit_manager(actor=manager, review=review)


def _reviews(cycle: ReviewCycle) -> list[Review]:
    return list(
        Review.objects.in_cycle(cycle)
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
    past = services.cycle_advance(actor=hr, cycle=past)  # calibration
    _calibrate(past, "2026 H1 — all teams", teams=[], close=True)
    past = services.cycle_advance(actor=hr, cycle=past)  # finalisation
    for n, review in enumerate(_reviews(past)):
        services.review_finalize(actor=hr, review=review)
        if n % 3:
            services.review_acknowledge(actor=review.engineer.user, review=review)
    _appeals(past, hr)
    services.cycle_advance(actor=hr, cycle=past)  # closed

    current = services.cycle_create(
        actor=hr,
        name="2026 H2",
        rubric_version=version,
        self_review_ends=datetime.date(2026, 11, 20),
        manager_review_ends=datetime.date(2026, 12, 4),
        calibration_ends=datetime.date(2026, 12, 11),
        finalisation_ends=datetime.date(2026, 12, 18),
        teams=Team.objects.filter(slug__in=MANAGER_REVIEW_TEAMS),
    )
    services.cycle_open(actor=hr, cycle=current)
    team_metrics_import(actor=hr, cycle=current, text=METRICS_CSV.format(a=13, b=18, c=10))
    reviews = _reviews(current)
    for n, review in enumerate(reviews):
        _add_evidence(review, n, 1 + n % 4)
        if n % 10 != 0:  # every tenth engineer missed the self-review deadline
            _self_rate_and_submit(review, n)
    services.cycle_advance(actor=hr, cycle=current)  # manager review
    for n, review in enumerate(reviews):
        if n % 10 in (3, 4, 5, 6):
            _manager_rate(review, n, submit=True)
        elif n % 10 == 7:
            _manager_rate(review, n, submit=False)
    _promotions(current, hr)
    _calibrate(
        current,
        "2026 H2 — Payments and Platform",
        teams=list(Team.objects.filter(slug__in=["payments", "platform"])),
        close=False,
    )
    _self_review_cycle(hr, version)


# The current cycle covers these teams; the two others joined later and are still writing
# their self-reviews in a cycle of their own.
MANAGER_REVIEW_TEAMS = ["payments", "platform", "search", "data"]
SELF_REVIEW_TEAMS = ["mobile", "identity"]


def _self_review_cycle(hr: Any, version: RubricVersion) -> None:
    """A cycle in its self-review phase: some drafts with evidence, some submitted, and one
    self-review the manager returned with a reason."""
    cycle = services.cycle_create(
        actor=hr,
        name="2026 H2 — Mobile and Identity",
        rubric_version=version,
        self_review_ends=datetime.date(2026, 12, 18),
        manager_review_ends=datetime.date(2027, 1, 8),
        calibration_ends=datetime.date(2027, 1, 15),
        finalisation_ends=datetime.date(2027, 1, 22),
        teams=Team.objects.filter(slug__in=SELF_REVIEW_TEAMS),
    )
    services.cycle_open(actor=hr, cycle=cycle)
    for n, review in enumerate(_reviews(cycle)):
        _add_evidence(review, n, n % 3)
        if n % 4 in (1, 2):
            _self_rate_and_submit(review, n)
        if n == 1:
            manager = review.manager
            assert manager is not None  # every demo review has a manager
            services.review_return(
                actor=manager,
                review=review,
                reason="Please link the incident follow-ups you mention under Reliability.",
            )


ADJUSTMENT_REASONS = [
    ("delivery", +1, "The ledger migration landed a quarter early and unblocked two teams."),
    ("reliability", -1, "Two sev-2 incidents traced to skipped canaries; follow-ups still open."),
    ("scope", +1, "Owned the payouts roadmap across three teams, beyond the level's scope."),
    ("collaboration", +1, "Peers across teams cite the design reviews they ran as the model."),
]


def _calibrate(cycle: ReviewCycle, name: str, *, teams: list[Team], close: bool) -> None:
    """A facilitator runs a session: pre-reads, a few evidence-backed changes, maybe closed."""
    user_model = get_user_model()
    facilitator = user_model.objects.get(username="facilitator")
    managers = list(user_model.objects.filter(username__startswith="manager."))
    session = calibration.session_create(
        actor=user_model.objects.get(username="hr"),
        cycle=cycle,
        name=name,
        facilitator=facilitator,
        managers=managers,
        observers=[user_model.objects.get(username="hr2")],
        teams=teams,
        guidance={"2": "0.15", "3": "0.55", "4": "0.25", "5": "0.05"},
    )
    calibration.session_open(actor=facilitator, session=session)
    entries = list(session.board.select_related("review__manager", "review__engineer__user"))
    for i, entry in enumerate(entries[:: max(1, len(entries) // 6)][:6]):
        review = entry.review
        manager = review.manager if review.manager in managers else facilitator
        calibration.preread_add(
            actor=manager,
            session=session,
            review=review,
            text="Check the incident follow-ups before moving this one.",
        )
        key, step, why = ADJUSTMENT_REASONS[i % len(ADJUSTMENT_REASONS)]
        current = entry.ratings.get(key, 3)
        evidence = [e.pk for e in review.evidence.active() if key in e.dimensions][:1]
        if not evidence or current + step > 5:
            step = -1  # raising needs evidence tagged to the dimension; lowering may rest on
            # a documented counterexample
        target = current + step
        if target < 1:
            continue
        calibration.adjustment_make(
            actor=facilitator if i % 2 else manager,
            session=session,
            review=review,
            dimension_key=key,
            rating=target,
            rationale=why,
            evidence_ids=evidence,
            counterexample=""
            if evidence
            else "Two missed handovers were discussed in session; see the incident tracker.",
        )
    if close:
        calibration.session_close(actor=facilitator, session=session)


def _appeals(cycle: ReviewCycle, hr: Any) -> None:
    reviews = [
        r for r in _reviews(cycle) if r.engineer.user.groups.filter(name="engineer").exists()
    ]
    first, second = reviews[4], reviews[11]
    calibration.appeal_create(
        actor=first.engineer.user,
        review=first,
        dimension_key="scope",
        reason="I led the search relevance project end to end; the scope rating misses it.",
    )
    appeal = calibration.appeal_create(
        actor=second.engineer.user,
        review=second,
        dimension_key="mentoring",
        reason="I mentored both new joiners through their first on-call rotation.",
    )
    calibration.appeal_resolve(
        actor=hr,
        appeal=appeal,
        outcome="changed",
        new_rating=4,
        resolution="The on-call handbook and both mentees' feedback support a 4.",
    )


def demo_counts() -> dict[str, int]:
    return {
        "teams": Team.objects.count(),
        "engineers": Engineer.objects.count(),
        "reviews": Review.objects.count(),
    }


PROMOTION_NARRATIVES = {
    "scope": "Owned the **payouts platform** across three teams: the ledger rewrite, the retry "
    "budget and the SLOs that now gate every release.",
    "complexity": "Untangled a double-entry ledger migration with zero downtime, including the "
    "reconciliation job nobody else wanted to touch.",
    "consistency": "Delivered at this level in **both halves** of the year: see the H1 "
    "postmortem follow-ups and the H2 design work.",
}


def _promotions(cycle: ReviewCycle, hr: Any) -> None:
    """Four cases in different states, each built from evidence of both cycles."""

    user_model = get_user_model()
    committee = [user_model.objects.get(username=u) for u in ("facilitator", "hr2")]
    candidates = ["eng04", "eng15", "eng26", "eng46"]
    for n, username in enumerate(candidates):
        engineer = Engineer.objects.select_related("manager").get(user__username=username)
        manager = engineer.manager
        assert manager is not None
        levels = list(cycle.rubric_version.levels.order_by("order").values_list("code", flat=True))
        if engineer.level_code == levels[-1]:
            continue
        target = levels[levels.index(engineer.level_code) + 1]
        case = promotions.case_nominate(
            actor=manager,
            engineer=engineer,
            cycle=cycle,
            target_level=target,
            summary=f"{engineer.user.first_name} works at **{target}** on scope and reliability.",
        )
        ids = list(candidate_evidence(case).values_list("pk", flat=True))
        for i, (axis, text) in enumerate(PROMOTION_NARRATIVES.items()):
            if n == 0 and axis == "consistency":
                break  # the first case is still being written
            promotions.case_update(
                actor=manager,
                case=case,
                axis=axis,
                rating=4,
                narrative=text,
                evidence_ids=ids if axis == "consistency" else ids[i::2],
            )
        if n == 0:
            continue
        promotions.case_submit(actor=manager, case=case, committee=committee)
        if n >= 2:
            outcome = "promoted" if n == 2 else "not_yet"
            feedback = (
                "The committee agreed the scope is clearly at the next level; congratulations."
                if n == 2
                else "Strong delivery; show the same scope for one more half before the next case."
            )
            promotions.case_decide(
                actor=committee[0], case=case, outcome=outcome, feedback=feedback
            )
