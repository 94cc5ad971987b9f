"""Read paths for calibration: sessions a user may see, and the board in a fixed number of
queries however many reviews it holds."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Collection
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.http import Http404

from audit.models import AuditEvent
from audit.registry import codes, sentence
from calibration import analytics, events
from calibration.analytics import tenure_band
from calibration.models import (
    Adjustment,
    Appeal,
    CalibrationSession,
    Participant,
    PreRead,
    SessionReview,
)
from calibration.permissions import visible_sessions_filter
from core import readcache
from core.roles import is_hr
from reviews.models import DimensionRating, Evidence, Review, ScoreSnapshot
from reviews.selectors import evidence_tallies
from rubrics.models import Dimension, RubricVersion
from rubrics.scoring import compute


def sessions_for_user(user: Any) -> QuerySet[CalibrationSession]:
    return CalibrationSession.objects.filter(visible_sessions_filter(user)).select_related(
        "cycle", "facilitator"
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


def waiting_reviews(session: CalibrationSession) -> QuerySet[Review]:
    """Reviews in the session's scope ready for calibration and on no board yet: what opening
    puts on the board, and what the board lists as waiting once it is open."""
    return (
        session.scoped_reviews()
        .in_state(Review.State.MANAGER_SUBMITTED)
        .order_by("team__name", "engineer__user__last_name", "pk")
    )


def _version(session: CalibrationSession) -> RubricVersion:
    version = session.cycle.rubric_version
    # One query for the dimensions; the scale came with the session.
    prefetch_related_objects(
        [version], Prefetch("dimensions", queryset=Dimension.objects.order_by("order"))
    )
    return version


def _name(first: str, last: str, username: str) -> str:
    return f"{first} {last}".strip() or username


def board_rows(
    session: CalibrationSession,
    *,
    viewer: Any,
    detail: bool = True,
    before: bool | None = None,
    evidence: bool = True,
    previous: bool = True,
    hr_attribute: bool = False,
    reviews: Collection[int] | None = None,
) -> tuple[list[dict[str, Any]], RubricVersion]:
    """One row per review on the board. Before the session opens, the reviews in scope with
    their current ratings (read-only); after, the board's working ratings. The viewer's own
    review is never on their board: nobody watches their own calibration.

    Built from `values()` rows in at most six queries whatever the board's size: model
    instances for 500 reviews and their ratings cost more than everything else on the page.
    With `detail=False` (analytics) the self ratings and pre-reads are left out, and with
    them the pre-calibration ratings unless `before` asks for those. `evidence=False` and
    `previous=False` leave out the evidence tallies and the previous cycles' composites (the
    export shows neither, a page of the board no previous composite). `reviews`
    narrows the rows to those reviews (a page of the board), in the board's order. Only with
    `hr_attribute=True` — for HR, and nobody else — does a row carry the engineer's
    HR-managed attribute.
    """
    if before is None:
        before = detail
    version = _version(session)
    specs = [d.spec() for d in version.dimensions.all()]
    scale = version.scale_spec()
    scheduled = not session.has_board
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
    own = getattr(viewer, "pk", None) or 0  # anonymous: excludes nobody
    if scheduled:
        in_scope = session.scoped_reviews().exclude(engineer__user_id=own)
        if reviews is not None:
            in_scope = in_scope.filter(pk__in=list(reviews))
        columns = {
            "review_id": "pk",
            "version": "version",
            "overall": "overall_rating",
            **review_fields,
        }
        base: QuerySet[Any] = in_scope.values_list(*columns.values()).order_by(
            "team__name", "engineer__user__last_name", "pk"
        )
        review_ids: Any = in_scope.values("pk")
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
                    *(("pre_ratings", "pre_composite") if before else ()),
                )
            },
            **{alias: f"review__{path}" for alias, path in review_fields.items()},
        }
        entries_on_board = SessionReview.objects.filter(session=session).exclude(
            review__engineer__user_id=own
        )
        if reviews is not None:
            entries_on_board = entries_on_board.filter(review_id__in=list(reviews))
        base = entries_on_board.values_list(*columns.values()).order_by(
            "review__team__name", "review__engineer__user__last_name", "pk"
        )
        review_ids = entries_on_board.values("review_id")
    entries = [dict(zip(columns, values, strict=True)) for values in base]
    if reviews is not None:
        # A page's few ids: a plain list reads faster than the board's subquery.
        review_ids = [e["review_id"] for e in entries]

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
    tallies = evidence_tallies(review_ids) if evidence else {}
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
    previous_composites: dict[int, Decimal | None] = {}
    for engineer_id, composite in (
        (ScoreSnapshot.objects if previous else ScoreSnapshot.objects.none())
        .filter(
            review__engineer__in=Review.objects.filter(pk__in=review_ids).values("engineer_id"),
            composite__isnull=False,
        )
        .exclude(review__cycle_id=session.cycle_id)
        .order_by("review__engineer_id", "-created_at", "-pk")
        .values_list("review__engineer_id", "composite")
    ):
        previous_composites.setdefault(engineer_id, composite)

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
                "evidence_count": tallies[rid].count if rid in tallies else 0,
                "evidence_by_dimension": tallies[rid].by_dimension if rid in tallies else {},
                "prereads": prereads.get(rid, []),
                "previous_composite": previous_composites.get(e["engineer_id"]),
                "engineer_id": e["engineer_id"],
            }
        )
        if hr_attribute:
            rows[-1]["hr_attribute"] = e["hr_attribute"] or "not set"
    return rows, version


EARLIER_CYCLES = 2


def earlier_composites(
    session: CalibrationSession, engineer_ids: Collection[int]
) -> dict[int, list[dict[str, Any]]]:
    """For each engineer, the composites of their last EARLIER_CYCLES cycles before the
    session's, newest first (each cycle's latest snapshot), in one query: beside the current
    ratings on the board."""
    cycle = session.cycle
    earlier: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
    for engineer_id, cycle_id, name, composite in (
        ScoreSnapshot.objects.filter(
            review__engineer_id__in=list(engineer_ids),
            composite__isnull=False,
            review__cycle__self_review_ends__lt=cycle.self_review_ends,
        )
        .order_by("review__engineer_id", "-review__cycle__self_review_ends", "-created_at", "-pk")
        .values_list("review__engineer_id", "review__cycle_id", "review__cycle__name", "composite")
    ):
        cycles = earlier[engineer_id]
        if cycle_id not in cycles and len(cycles) < EARLIER_CYCLES:
            cycles[cycle_id] = {"cycle": name, "composite": str(composite)}
    return {engineer_id: list(cycles.values()) for engineer_id, cycles in earlier.items()}


def board_analytics(session: CalibrationSession, *, viewer: Any) -> dict[str, Any]:
    """The whole board's analytics as JSON-ready values (decimals already as strings), read
    afresh. HR's carry the groups by the HR-managed attribute; nobody else's do."""
    rows, version = board_rows(session, viewer=viewer, detail=False, hr_attribute=is_hr(viewer))
    return _analytics(session, rows, version)


def _analytics(
    session: CalibrationSession, rows: list[dict[str, Any]], version: RubricVersion
) -> dict[str, Any]:
    scale = version.scale
    return {
        "distribution": analytics.distribution(
            rows,
            scale_min=scale.min_rating,
            scale_max=scale.max_rating,
            guidance=session.guidance,
        ),
        "skew": analytics.manager_skew(rows),
        "outliers": analytics.outliers(rows, midpoint=scale.midpoint),
        "nine_box": analytics.nine_box(rows),
        "groups": analytics.groups(rows),
    }


SUMMARY_SECONDS = 600  # an entry of an older board or generation is never read again


def board_summary(session: CalibrationSession, *, viewer: Any) -> dict[str, Any]:
    """What every page of the board shows whatever the page: the order of the board's reviews
    (`order`: [review id, engineer] pairs), the whole board's `analytics`, the reviews
    `waiting` to join an open board and the names in its scope, computed once and kept until
    what they depend on changes (`key` names that state; None when nothing is kept)."""
    hr = is_hr(viewer)
    key = board_state_key(session, viewer=viewer)
    summary = kept(key, "summary", lambda: _board_summary(session, viewer=viewer, hr_attribute=hr))
    return {**summary, "key": key}


def board_state_key(session: CalibrationSession, *, viewer: Any) -> str | None:
    """A name for everything a viewer's board shows, None when the read cache is off.

    It holds the session's version (moved by every change to the board: an adjustment, a
    review joining it, opening and closing), the read cache's generations of every review and
    of the organisation (core.readcache: every write to a review — ratings, evidence, state,
    scores — moves HR's view of reviews; a change to people, teams or managers moves
    everything), the viewer (whose own review is left out, and whether the HR attribute is
    shown) and the day (tenure bands count from today)."""
    if not settings.LEVELSET_READ_CACHE:
        return None
    current = ".".join(map(str, readcache.generations(readcache.EVERYTHING, "hr")))
    return (
        f"levelset:calibration:board:{session.pk}:{session.version}:{current}:"
        f"{getattr(viewer, 'pk', None) or 0}:{int(is_hr(viewer))}:"
        f"{datetime.date.today().isoformat()}"
    )


def kept(key: str | None, name: str, build: Callable[[], Any]) -> Any:
    """`build()`, kept in the cache under the board's state `key` until that state moves on
    (built afresh each time when there is no key)."""
    if key is None:
        return build()
    return cache.get_or_set(f"{key}:{name}", build, SUMMARY_SECONDS)


def _board_summary(
    session: CalibrationSession, *, viewer: Any, hr_attribute: bool
) -> dict[str, Any]:
    rows, version = board_rows(session, viewer=viewer, detail=False, hr_attribute=hr_attribute)
    waiting = (
        waiting_reviews(session).values_list(
            "pk",
            "engineer__user__first_name",
            "engineer__user__last_name",
            "engineer__user__username",
            "team__name",
            "level_code",
        )
        if session.has_board and session.closed_at is None
        else []
    )
    scope_teams = list(session.scope_teams.order_by("name").values_list("pk", "name"))
    return {
        "order": [(row["review"], row["engineer"]) for row in rows],
        "analytics": _analytics(session, rows, version),
        "waiting": [
            {"review": pk, "engineer": _name(first, last, username), "team": team, "level": level}
            for pk, first, last, username, team, level in waiting
        ],
        # Set when the session is scheduled, never changed after.
        "scope_teams": [name for _pk, name in scope_teams],
        "scope_team_ids": [pk for pk, _name in scope_teams],
        "scope_managers": [
            _name(first, last, username)
            for first, last, username in session.scope_managers.order_by("pk").values_list(
                "first_name", "last_name", "username"
            )
        ],
    }


def review_evidence(review: Review) -> QuerySet[Evidence]:
    return review.evidence.active().order_by("-occurred_on", "pk")


def calibration_history(review: Review) -> QuerySet[AuditEvent]:
    """Every calibration change to a review, from the audit log: who, when, why, evidence."""
    return (
        AuditEvent.objects.for_target("reviews.review", review.pk)
        .filter(action__in=codes(events.HISTORY))
        .select_related("actor")
    )


def adjustments_for(session: CalibrationSession, *, viewer: Any) -> QuerySet[Adjustment]:
    """The session's changes, with who made them and the evidence they cite; the viewer's own
    review's changes left out (they read them in their calibration history once final)."""
    return (
        session.adjustments.exclude(review__engineer__user_id=getattr(viewer, "pk", None) or 0)
        .select_related("actor", "review__engineer__user")
        .prefetch_related("evidence")
    )


def with_counts(sessions: QuerySet[CalibrationSession]) -> QuerySet[CalibrationSession]:
    """Each session's board size and number of changes, counted per session (two joins would
    multiply every board entry by every adjustment, and sort them all)."""

    def count(model: Any) -> Any:
        rows = model.objects.filter(session=OuterRef("pk")).order_by().values("session")
        return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), 0)

    return sessions.annotate(board_size=count(SessionReview), changes=count(Adjustment))


def _person_name(event: AuditEvent) -> str:
    actor = event.actor
    if actor is None or event.actor_repr == "system":
        return event.actor_repr or "system"
    return actor.get_full_name() or actor.get_username()


def history_entry(event: AuditEvent, names: dict[str, str]) -> dict[str, Any]:
    """One calibration change (or appeal) of a review, in words, for pages and packets."""
    payload = event.payload or {}
    dimension = str(payload.get("dimension") or "")
    label = "Overall rating" if dimension == "overall" else names.get(dimension, dimension)
    before = payload.get("before")
    before_text = "—" if before is None else str(before)
    evidence = [
        {"title": e.get("title") or e.get("url"), "url": e.get("url")}
        for e in payload.get("evidence", [])
        if e.get("url")
    ]
    if event.action == events.ADJUSTMENT_MADE:
        what = f"{label}: {before_text} → {payload.get('after')}"
        where = payload.get("session_name", "")
        why = payload.get("rationale", "")
    elif event.action == events.APPEAL_OPENED:
        what = f"Appeal opened on {label} (rating {payload.get('rating', '—')})"
        where = "Appeal"
        why = payload.get("reason", "")
    elif event.action == events.APPEAL_RESOLVED:
        outcome = payload.get("outcome", "")
        change = "kept" if outcome == "upheld" else f"{before_text} → {payload.get('after')}"
        what = f"Appeal resolved on {label}: {change}"
        where = "Appeal"
        why = payload.get("resolution", "")
    else:
        what = sentence(event.action)
        where = payload.get("session_name", "")
        why = payload.get("rationale", "")
    return {
        "at": event.created_at,
        "who": _person_name(event),
        "what": what,
        "where": where,
        "why": why,
        "evidence": evidence,
        "counterexample": payload.get("counterexample", ""),
    }


def appeals_for_user(user: Any) -> QuerySet[Appeal]:
    """HR sees every appeal; an engineer their own; anyone else none."""
    appeals = Appeal.objects.select_related(
        "resolved_by", "review__engineer__user", "review__cycle", "review__team"
    )
    if is_hr(user):
        return appeals
    return appeals.filter(review__engineer__user_id=getattr(user, "pk", None) or 0)


def get_appeal_for_user(user: Any, pk: int | str) -> Appeal:
    """The appeal, or 404 both when it is missing and when the user may not see it."""
    appeal = appeals_for_user(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if appeal is None:
        raise Http404("No such appeal.")
    return appeal
