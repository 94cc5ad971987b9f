"""Read paths for calibration: sessions a user may see, and the board in a fixed number of
queries however many reviews it holds."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from audit.models import AuditEvent
from calibration.analytics import tenure_band
from calibration.models import CalibrationSession, Participant, PreRead, SessionReview
from calibration.permissions import visible_sessions_filter
from reviews.models import Evidence, Review, ScoreSnapshot
from rubrics.models import RubricVersion
from rubrics.scoring import compute


def sessions_for_user(user: Any) -> QuerySet[CalibrationSession]:
    return (
        CalibrationSession.objects.filter(visible_sessions_filter(user))
        .select_related("cycle", "facilitator")
        .distinct()
    )


def get_session_for_user(user: Any, pk: int | str) -> CalibrationSession:
    """The session, or 404 both when it is missing and when the user may not see it."""
    if not str(pk).isdigit():
        raise Http404("No such session.")
    session = (
        sessions_for_user(user)
        .select_related("cycle__rubric_version__rubric", "cycle__rubric_version__scale")
        .prefetch_related(
            Prefetch("participants", queryset=Participant.objects.select_related("user")),
        )
        .filter(pk=pk)
        .first()
    )
    if session is None:
        raise Http404("No such session.")
    return session


def in_scope_reviews(session: CalibrationSession) -> QuerySet[Review]:
    """The cycle's reviews matching every scope filter the session sets."""
    reviews = Review.objects.filter(cycle_id=session.cycle_id)
    teams = [t.pk for t in session.scope_teams.all()]
    managers = [m.pk for m in session.scope_managers.all()]
    if teams:
        reviews = reviews.filter(team_id__in=teams)
    if managers:
        reviews = reviews.filter(manager_id__in=managers)
    if session.scope_levels:
        reviews = reviews.filter(level_code__in=session.scope_levels)
    return reviews


def _version(session: CalibrationSession) -> RubricVersion:
    version = session.cycle.rubric_version
    # One query for the dimensions; the scale came with the session.
    version._prefetched_objects_cache = {  # type: ignore[attr-defined]
        "dimensions": version.dimensions.order_by("order")
    }
    return version


def board_rows(session: CalibrationSession) -> tuple[list[dict[str, Any]], RubricVersion]:
    """One row per review on the board. Before the session opens, the reviews in scope with
    their current ratings (read-only); after, the board's working ratings."""
    version = _version(session)
    dimensions = list(version.dimensions.all())
    specs = [d.spec() for d in dimensions]
    scale = version.scale_spec()
    active_evidence = (
        Evidence.objects.filter(withdrawn_at__isnull=True)
        .only("review_id", "dimensions")
        .order_by("pk")
    )
    prereads = PreRead.objects.filter(session=session).select_related("author")
    review_related = (
        "engineer__user",
        "team",
        "manager",
    )
    if session.status == CalibrationSession.Status.SCHEDULED:
        reviews = list(
            in_scope_reviews(session)
            .select_related(*review_related)
            .prefetch_related(
                "ratings",
                Prefetch("evidence", queryset=active_evidence, to_attr="active_evidence"),
                Prefetch("prereads", queryset=prereads, to_attr="session_prereads"),
            )
            .order_by("team__name", "engineer__user__last_name", "pk")
        )
        entries: list[tuple[Review, SessionReview | None]] = [(r, None) for r in reviews]
    else:
        board = list(
            SessionReview.objects.filter(session=session)
            .select_related(*(f"review__{f}" for f in review_related), "review")
            .prefetch_related(
                "review__ratings",
                Prefetch("review__evidence", queryset=active_evidence, to_attr="active_evidence"),
                Prefetch("review__prereads", queryset=prereads, to_attr="session_prereads"),
            )
            .order_by("review__team__name", "review__engineer__user__last_name", "pk")
        )
        entries = [(entry.review, entry) for entry in board]

    engineer_ids = [review.engineer_id for review, _ in entries]
    previous: dict[int, Decimal | None] = {}
    for engineer_id, composite in (
        ScoreSnapshot.objects.filter(review__engineer_id__in=engineer_ids, composite__isnull=False)
        .exclude(review__cycle_id=session.cycle_id)
        .order_by("review__engineer_id", "-created_at", "-pk")
        .values_list("review__engineer_id", "composite")
    ):
        previous.setdefault(engineer_id, composite)

    today = datetime.date.today()
    rows = []
    for review, entry in entries:
        stored = {r.dimension_key: r for r in review.ratings.all()}
        if entry is None:
            ratings = {
                k: r.manager_rating for k, r in stored.items() if r.manager_rating is not None
            }
            overall = review.overall_rating
        else:
            ratings, overall = dict(entry.ratings), entry.overall
        breakdown = compute(dimensions=specs, ratings=ratings, scale=scale) if ratings else None
        evidence_by_dimension: dict[str, int] = {}
        for item in review.active_evidence:  # type: ignore[attr-defined]
            for key in item.dimensions:
                evidence_by_dimension[key] = evidence_by_dimension.get(key, 0) + 1
        rows.append(
            {
                "review": review.pk,
                "version": entry.version if entry else review.version,
                "engineer": str(review.engineer),
                "team": review.team.name,
                "team_id": review.team_id,
                "level": review.level_code,
                "manager": str(review.manager.get_full_name() or review.manager)
                if review.manager
                else "",
                "manager_id": review.manager_id,
                "tenure_band": tenure_band((today - review.engineer.start_date).days / 365.25),
                "state": review.state,
                "self_ratings": {k: r.self_rating for k, r in stored.items()},
                "ratings": ratings,
                "pre_ratings": dict(entry.pre_ratings) if entry else None,
                "overall": overall,
                "growth": review.growth_rating,
                "composite": breakdown.composite if breakdown else None,
                "pre_composite": entry.pre_composite if entry else None,
                "evidence_count": len(review.active_evidence),  # type: ignore[attr-defined]
                "evidence_by_dimension": evidence_by_dimension,
                "prereads": [
                    {"author": str(p.author), "text": p.text, "at": p.created_at}
                    for p in review.session_prereads  # type: ignore[attr-defined]
                ],
                "previous_composite": previous.get(review.engineer_id),
            }
        )
    return rows, version


def review_evidence(review: Review) -> QuerySet[Evidence]:
    return review.evidence.filter(withdrawn_at__isnull=True).order_by("-occurred_on", "pk")


def calibration_history(review: Review) -> QuerySet[AuditEvent]:
    """Every calibration change to a review, from the audit log: who, when, why, evidence."""
    return (
        AuditEvent.objects.for_target("reviews.review", review.pk)
        .filter(Q(action__startswith="calibration.") | Q(action__startswith="reviews.appeal"))
        .select_related("actor")
    )


def with_counts(sessions: QuerySet[CalibrationSession]) -> QuerySet[CalibrationSession]:
    return sessions.annotate(
        board_size=Count("board", distinct=True),
        changes=Count("adjustments", distinct=True),
    )


def is_participant_subquery(user: Any) -> Exists:
    return Exists(Participant.objects.filter(session=OuterRef("pk"), user=user))
