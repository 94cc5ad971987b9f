"""Read paths for calibration: sessions a user may see, and the board in a fixed number of
queries however many reviews it holds."""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.http import Http404

from audit.models import AuditEvent
from calibration.analytics import tenure_band
from calibration.models import CalibrationSession, Participant, PreRead, SessionReview
from calibration.permissions import visible_sessions_filter
from reviews.models import DimensionRating, Evidence, Review, ScoreSnapshot
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


def _name(first: str, last: str, username: str) -> str:
    return f"{first} {last}".strip() or username


def board_rows(
    session: CalibrationSession, *, detail: bool = True, hr_attribute: bool = False
) -> tuple[list[dict[str, Any]], RubricVersion]:
    """One row per review on the board. Before the session opens, the reviews in scope with
    their current ratings (read-only); after, the board's working ratings.

    Built from `values()` rows in five queries whatever the board's size: model instances
    for 500 reviews and their ratings cost more than everything else on the page. With
    `detail=False` (analytics) the self ratings and pre-reads are left out. Only with
    `hr_attribute=True` — for HR, and nobody else — does a row carry the engineer's
    HR-managed attribute.
    """
    version = _version(session)
    specs = [d.spec() for d in version.dimensions.all()]
    scale = version.scale_spec()
    scheduled = session.status == CalibrationSession.Status.SCHEDULED
    review_fields = {
        "level": "level_code",
        "state": "state",
        "growth": "growth_rating",
        "team_id": "team_id",
        "team": "team__name",
        "manager_id": "manager_id",
        "manager_first": "manager__first_name",
        "manager_last": "manager__last_name",
        "manager_username": "manager__username",
        "engineer_id": "engineer_id",
        "start_date": "engineer__start_date",
        "first": "engineer__user__first_name",
        "last": "engineer__user__last_name",
        "username": "engineer__user__username",
        **({"hr_attribute": "engineer__hr_attribute"} if hr_attribute else {}),
    }
    if scheduled:
        reviews = in_scope_reviews(session)
        columns = {
            "review_id": "pk",
            "version": "version",
            "overall": "overall_rating",
            **review_fields,
        }
        base: QuerySet[Any] = reviews.values_list(*columns.values()).order_by(
            "team__name", "engineer__user__last_name", "pk"
        )
        review_ids: QuerySet[Any] = reviews.values("pk")
    else:
        columns = {
            **{
                k: k
                for k in (
                    "review_id",
                    "version",
                    "ratings",
                    "overall",
                    "composite",
                    # Analytics never look back at the pre-calibration ratings.
                    *(("pre_ratings", "pre_composite") if detail else ()),
                )
            },
            **{alias: f"review__{path}" for alias, path in review_fields.items()},
        }
        base = (
            SessionReview.objects.filter(session=session)
            .values_list(*columns.values())
            .order_by("review__team__name", "review__engineer__user__last_name", "pk")
        )
        review_ids = SessionReview.objects.filter(session=session).values("review_id")
    entries = [dict(zip(columns, values, strict=True)) for values in base]

    self_ratings: dict[int, dict[str, int | None]] = defaultdict(dict)
    manager_ratings: dict[int, dict[str, int]] = defaultdict(dict)
    ratings_needed = detail or scheduled  # an open board keeps its own working ratings
    for review_id, key, own, manager in (
        (
            DimensionRating.objects.filter(review_id__in=review_ids)
            if ratings_needed
            else DimensionRating.objects.none()
        )
        .order_by()
        .values_list("review_id", "dimension_key", "self_rating", "manager_rating")
    ):
        self_ratings[review_id][key] = own
        if manager is not None:
            manager_ratings[review_id][key] = manager
    evidence: dict[int, dict[str, int]] = defaultdict(dict)
    evidence_counts: dict[int, int] = defaultdict(int)
    # The tag lists arrive as JSON text and are decoded once per distinct list: a big board
    # repeats a handful of combinations thousands of times.
    decoded: dict[str, list[str]] = {}
    for review_id, raw in (
        Evidence.objects.filter(withdrawn_at__isnull=True, review_id__in=review_ids)
        .order_by()
        .values_list("review_id", Cast("dimensions", TextField()))
    ):
        evidence_counts[review_id] += 1
        dimensions = decoded.get(raw)
        if dimensions is None:
            dimensions = decoded[raw] = json.loads(raw) if raw else []
        for key in dimensions:
            evidence[review_id][key] = evidence[review_id].get(key, 0) + 1
    prereads: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for review_id, first, last, username, text, at in (
        (PreRead.objects.filter(session=session) if detail else PreRead.objects.none())
        .order_by("created_at", "pk")
        .values_list(
            "review_id",
            "author__first_name",
            "author__last_name",
            "author__username",
            "text",
            "created_at",
        )
    ):
        prereads[review_id].append({"author": _name(first, last, username), "text": text, "at": at})
    previous: dict[int, Decimal | None] = {}
    for engineer_id, composite in (
        ScoreSnapshot.objects.filter(
            review__engineer__in=Review.objects.filter(pk__in=review_ids).values("engineer_id"),
            composite__isnull=False,
        )
        .exclude(review__cycle_id=session.cycle_id)
        .order_by("review__engineer_id", "-created_at", "-pk")
        .values_list("review__engineer_id", "composite")
    ):
        previous.setdefault(engineer_id, composite)

    today = datetime.date.today()
    rows = []
    for e in entries:
        rid = e["review_id"]
        if scheduled:
            ratings: dict[str, Any] = manager_ratings.get(rid, {})
            composite = (
                compute(dimensions=specs, ratings=ratings, scale=scale).composite
                if ratings
                else None
            )
            pre_ratings, pre_composite = None, None
        else:
            ratings, composite = e["ratings"], e["composite"]
            pre_ratings, pre_composite = e.get("pre_ratings"), e.get("pre_composite")
        rows.append(
            {
                "review": rid,
                "version": e["version"],
                "engineer": _name(e["first"], e["last"], e["username"]),
                "team": e["team"],
                "team_id": e["team_id"],
                "level": e["level"],
                "manager": _name(
                    e["manager_first"] or "", e["manager_last"] or "", e["manager_username"] or ""
                ),
                "manager_id": e["manager_id"],
                "tenure_band": tenure_band((today - e["start_date"]).days / 365.25),
                "state": e["state"],
                "self_ratings": self_ratings.get(rid, {}),
                "ratings": ratings,
                "pre_ratings": pre_ratings,
                "overall": e["overall"],
                "growth": e["growth"],
                "composite": composite,
                "pre_composite": pre_composite,
                "evidence_count": evidence_counts.get(rid, 0),
                "evidence_by_dimension": evidence.get(rid, {}),
                "prereads": prereads.get(rid, []),
                "previous_composite": previous.get(e["engineer_id"]),
            }
        )
        if hr_attribute:
            rows[-1]["hr_attribute"] = e["hr_attribute"] or "not set"
    return rows, version


def review_evidence(review: Review) -> QuerySet[Evidence]:
    return review.evidence.filter(withdrawn_at__isnull=True).order_by("-occurred_on", "pk")


def calibration_history(review: Review) -> QuerySet[AuditEvent]:
    """Every calibration change to a review, from the audit log: who, when, why, evidence."""
    return (
        AuditEvent.objects.for_target("reviews.review", review.pk)
        .filter(Q(action="calibration.adjustment.made") | Q(action__startswith="reviews.appeal"))
        .select_related("actor")
    )


def with_counts(sessions: QuerySet[CalibrationSession]) -> QuerySet[CalibrationSession]:
    return sessions.annotate(
        board_size=Count("board", distinct=True),
        changes=Count("adjustments", distinct=True),
    )


def is_participant_subquery(user: Any) -> Exists:
    return Exists(Participant.objects.filter(session=OuterRef("pk"), user=user))
