"""Read paths for the organisation and reviews: what a given user may see."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet, TextField
from django.db.models.functions import Cast
from django.http import Http404

from core import readcache
from core.filters import named_by
from core.roles import Role, has_role, is_hr
from people.models import Engineer, Team
from people.selectors import engineers_for_user
from reviews.models import (
    DimensionRating,
    Evidence,
    Review,
    ReviewCycle,
    ScoreSnapshot,
    TeamMetrics,
)
from reviews.permissions import visible_reviews_filter
from rubrics.models import Criterion, Dimension, RubricVersion
from rubrics.selectors import attach_content


def get_team_for_user(user: Any, pk: int | str) -> Team:
    """A team is visible to HR and to anyone who can see one of its reviews or engineers."""
    team = Team.objects.filter(pk=pk).first() if str(pk).isdigit() else None
    if team is None:
        raise Http404("No such team.")
    if is_hr(user):
        return team
    if (
        reviews_for_user(user).filter(team=team).exists()
        or engineers_for_user(user).filter(team=team).exists()
    ):
        return team
    raise Http404("No such team.")


def cycles_for_user(user: Any) -> QuerySet[ReviewCycle]:
    """HR and facilitators (who schedule calibration sessions) see every cycle; anyone else
    the cycles with a review they may see."""
    cycles = ReviewCycle.objects.select_related("rubric_version__rubric")
    if is_hr(user) or has_role(user, Role.FACILITATOR):
        return cycles
    visible = Review.objects.filter(visible_reviews_filter(user)).values("cycle_id")
    return cycles.filter(pk__in=visible)


def get_cycle_for_user(user: Any, pk: int | str) -> ReviewCycle:
    cycle = cycles_for_user(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if cycle is None:
        raise Http404("No such cycle.")
    return cycle


LIST_USER_FIELDS = ("username", "first_name", "last_name")
REVIEW_LIST_ORDER = ("cycle_id", "team__name", "engineer__user__last_name", "pk")


def reviews_for_user(user: Any) -> QuerySet[Review]:
    """Reviews the user may see, for lists.

    Lists load only the columns they show: full user rows (passwords, dates) and a GROUP BY
    over every joined column made the list several times slower.
    """
    return (
        Review.objects.filter(visible_reviews_filter(user))
        .select_related("cycle", "engineer__user", "team", "manager")
        .only(
            *(f.name for f in Review._meta.concrete_fields),
            "cycle__name",
            "cycle__phase",
            "engineer__user",
            "engineer__start_date",
            *(f"engineer__user__{f}" for f in LIST_USER_FIELDS),
            "team__name",
            *(f"manager__{f}" for f in LIST_USER_FIELDS),
        )
        .prefetch_related(
            Prefetch(
                "ratings",
                queryset=DimensionRating.objects.order_by("review_id", "pk").only(
                    "review_id", "dimension_key", "self_rating", "manager_rating"
                ),
            )
        )
        .order_by(*REVIEW_LIST_ORDER)
    )


REVIEW_LIST_COLUMNS = (
    "id",
    "cycle_id",
    "engineer_id",
    "engineer__user_id",
    *(f"engineer__user__{f}" for f in LIST_USER_FIELDS),
    "team_id",
    "team__name",
    "level_code",
    *(f"manager__{f}" for f in LIST_USER_FIELDS),
    "state",
    "version",
    "overall_rating",
    "growth_rating",
    "self_submitted_at",
    "manager_submitted_at",
    "finalized_at",
    "acknowledged_at",
)


def review_list_rows(user: Any) -> QuerySet[Review, dict[str, Any]]:
    """`reviews_for_user` as plain rows, for the reviews API list: a page of rows skips
    building six model instances per review (most of that endpoint's time)."""
    return (
        Review.objects.filter(visible_reviews_filter(user))
        .values(*REVIEW_LIST_COLUMNS, "evidence_count")
        .order_by(*REVIEW_LIST_ORDER)
    )


def own_reviews(user: Any) -> QuerySet[Review]:
    """The user's own reviews, newest cycle first."""
    return (
        Review.objects.filter(engineer__user_id=getattr(user, "pk", None) or 0)
        .select_related("cycle")
        .only(*(f.name for f in Review._meta.concrete_fields), "cycle__name")
        .order_by("-cycle__self_review_ends", "-pk")
    )


REVIEW_PAGE_COLUMNS = (
    "id",
    "cycle__name",
    "team__name",
    "level_code",
    "state",
    "manager_id",
    *(f"engineer__user__{f}" for f in LIST_USER_FIELDS),
)


def review_page_candidates(user: Any) -> QuerySet[Review]:
    """Other people's reviews the user may see, to filter, sort, count and page through."""
    reviews = (
        Review.objects.filter(visible_reviews_filter(user))
        # The user's own engineer row by subquery: excluded without joining every review's.
        .exclude(engineer__in=Engineer.objects.filter(user_id=getattr(user, "pk", None) or 0))
        .order_by(*REVIEW_LIST_ORDER)
    )
    return reviews


def review_page_rows(review_ids: list[int]) -> list[dict[str, Any]]:
    """The columns the reviews page shows, for one page of reviews, in the given order."""
    if not review_ids:
        return []
    rows = {
        row["id"]: row
        for row in Review.objects.filter(pk__in=review_ids).values(
            *REVIEW_PAGE_COLUMNS, "evidence_count"
        )
    }
    return [rows[pk] for pk in review_ids if pk in rows]


def ratings_by_review(review_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each review's dimension ratings as rows, in the order they were written."""
    by_review: dict[int, list[dict[str, Any]]] = {pk: [] for pk in review_ids}
    rows = (
        DimensionRating.objects.filter(review_id__in=review_ids)
        .order_by("review_id", "pk")
        .values("review_id", "dimension_key", "self_rating", "manager_rating")
    )
    for row in rows:
        by_review[row["review_id"]].append(dict(row))
    return by_review


def with_detail(queryset: QuerySet[Review], *, content: bool = True) -> QuerySet[Review]:
    """Everything one review's page, score or API detail needs, in a fixed number of queries.
    With `content=False` the rubric version's levels, dimensions and criteria are left for
    `rubrics.selectors.attach_content`."""
    queryset = _with_people(queryset).select_related(
        "cycle__rubric_version__rubric", "cycle__rubric_version__scale"
    )
    if not content:
        return queryset
    return queryset.prefetch_related(
        "cycle__rubric_version__levels",
        Prefetch(
            "cycle__rubric_version__dimensions",
            queryset=Dimension.objects.order_by("order").prefetch_related(
                Prefetch("criteria", queryset=Criterion.objects.select_related("level"))
            ),
        ),
    )


def _with_people(queryset: QuerySet[Review]) -> QuerySet[Review]:
    """A review with its cycle, engineer, team and manager, its ratings and its evidence."""
    return queryset.select_related("cycle", "engineer__user", "team", "manager").prefetch_related(
        "ratings",
        Prefetch("evidence", queryset=Evidence.objects.order_by("-occurred_on", "pk")),
    )


def get_review_for_user(user: Any, pk: int | str) -> Review:
    """The review, or 404 both when it is missing and when the user may not see it, with what
    `with_detail` gives. The rubric version is read by itself: nine tables joined in one
    query took PostgreSQL longer to plan than a second query takes to run. Its content comes
    from the per-process copy of released versions."""
    if not str(pk).isdigit():
        raise Http404("No such review.")
    found = _with_people(Review.objects.filter(visible_reviews_filter(user), pk=pk))
    review = next(iter(found.order_by()[:1]), None)  # by key: no ORDER BY to plan
    if review is None:
        raise Http404("No such review.")
    version = RubricVersion.objects.select_related("rubric", "scale").get(
        pk=review.cycle.rubric_version_id
    )
    review.cycle.rubric_version = version
    attach_content(version)
    return review


def get_review_for_score(user: Any, pk: int | str) -> Review:
    """`get_review_for_user` with only what `score_payload` reads: the rubric's content comes
    from `rubrics.selectors.version_data`, so three queries instead of seven."""
    if not str(pk).isdigit():
        raise Http404("No such review.")
    review = (
        Review.objects.filter(visible_reviews_filter(user), pk=pk)
        .select_related("engineer", "cycle__rubric_version")
        .prefetch_related(
            "ratings",
            Prefetch(
                "evidence", queryset=Evidence.objects.only("review", "dimensions", "withdrawn_at")
            ),
        )
        .first()
    )
    if review is None:
        raise Http404("No such review.")
    return review


def ratings_by_key(review: Review) -> dict[str, DimensionRating]:
    return {r.dimension_key: r for r in review.ratings.all()}


def tally(tag_lists: Iterable[Iterable[str]]) -> dict[str, int]:
    """How many evidence items are tagged to each dimension key."""
    counts: dict[str, int] = {}
    for tags in tag_lists:
        for key in tags:
            counts[key] = counts.get(key, 0) + 1
    return counts


def evidence_counts(review: Review) -> dict[str, int]:
    """A loaded review's active evidence items tagged to each dimension key."""
    return tally(item.dimensions for item in review.evidence.all() if item.is_active)


@dataclass
class EvidenceTally:
    """A review's active evidence: how many items, and how many tagged to each dimension."""

    count: int = 0
    by_dimension: dict[str, int] = field(default_factory=dict)


def evidence_tallies(review_ids: Any) -> dict[int, EvidenceTally]:
    """`evidence_counts` for many reviews (ids, or a subquery of them) in one query.

    The tag lists arrive as JSON text and are decoded once per distinct list: a big board
    repeats a handful of combinations thousands of times."""
    tallies: dict[int, EvidenceTally] = defaultdict(EvidenceTally)
    decoded: dict[str, list[str]] = {}
    for review_id, raw in (
        Evidence.objects.active()
        .filter(review_id__in=review_ids)
        .order_by()
        .values_list("review_id", Cast("dimensions", TextField()))
    ):
        entry = tallies[review_id]
        entry.count += 1
        tags = decoded.get(raw)
        if tags is None:
            tags = decoded[raw] = json.loads(raw) if raw else []
        for key in tags:
            entry.by_dimension[key] = entry.by_dimension.get(key, 0) + 1
    return tallies


def latest_snapshot(review: Review) -> ScoreSnapshot | None:
    return review.snapshots.order_by("-created_at", "-pk").first()


def team_metrics(team: Team, cycle: ReviewCycle | None = None) -> QuerySet[TeamMetrics]:
    metrics = TeamMetrics.objects.filter(team=team).select_related("cycle", "team")
    return metrics.filter(cycle=cycle) if cycle is not None else metrics


def _cycle_cached(cycle: ReviewCycle, name: str, build: Callable[[], Any]) -> Any:
    """A figure over the cycle's reviews, computed once per change to them (each write to a
    review moves its cycle's read-cache scope; cycles, teams and names move everything)."""
    return readcache.cached(
        f"cycle:{cycle.pk}:{name}", build, shows=[readcache.cycle_scope(cycle.pk)]
    )


def cycle_state_counts(cycle: ReviewCycle) -> dict[str, int]:
    """How many of the cycle's reviews are in each state (states with none left out)."""

    def count() -> dict[str, int]:
        rows = (
            Review.objects.in_cycle(cycle).order_by().values_list("state").annotate(n=Count("pk"))
        )
        return dict(rows)

    counts: dict[str, int] = _cycle_cached(cycle, "states", count)
    return counts


def count_in_states(counts: dict[str, int], states: Iterable[str]) -> int:
    return sum(counts.get(state, 0) for state in states)


def cycle_progress(counts: dict[str, int]) -> list[tuple[str, int]]:
    """How many of the cycle's reviews are in each state (`cycle_state_counts`), in the
    workflow's order."""
    return [(label, counts.get(state, 0)) for state, label in Review.State.choices]


def first_of_cycle(
    reviews: QuerySet[Review], *, cycle: ReviewCycle, name: str, limit: int
) -> list[Review]:
    """The first `limit` of `reviews` (some of the cycle's, in their order). Which ones is
    worked out once per change to the cycle's reviews (sorting thousands by team and name is
    most of the cost); the rows themselves are read each time, by primary key."""
    ids: list[int] = _cycle_cached(
        cycle, f"first:{name}:{limit}", lambda: list(reviews.values_list("pk", flat=True)[:limit])
    )
    rows = {review.pk: review for review in reviews.filter(pk__in=ids).order_by()}
    return [rows[pk] for pk in ids if pk in rows]


def reviews_not_done(cycle: ReviewCycle) -> QuerySet[Review]:
    """The reviews that are not done for the cycle's current phase, with who owes what."""
    return (
        Review.objects.in_cycle(cycle)
        .filter(state__in=cycle.unfinished_states())
        .select_related("engineer__user", "manager", "team")
        .order_by("team__name", "engineer__user__last_name", "engineer__user__first_name")
    )


READY_STATES = (Review.State.MANAGER_SUBMITTED, Review.State.CALIBRATED)


def reviews_ready_to_finalise(cycle: ReviewCycle) -> QuerySet[Review]:
    return (
        Review.objects.in_cycle(cycle)
        .filter(state__in=READY_STATES)
        # The cycle too: whether each may be finalised now asks its cycle's phase.
        .select_related("cycle", "engineer__user", "manager", "team")
        .order_by("team__name", "engineer__user__last_name", "engineer__user__first_name")
    )


def late_joiner_candidates(cycle: ReviewCycle) -> QuerySet[Engineer]:
    """Engineers the cycle covers (its teams, with a manager) who have no review in it yet."""
    covered = ReviewCycle.teams.through.objects.filter(reviewcycle_id=cycle.pk)
    return (
        Engineer.objects.with_manager()
        .exclude(Exists(Review.objects.filter(cycle=cycle, engineer=OuterRef("pk"))))
        # Read where it is used, not as a list of hundreds of team ids to plan around.
        .filter(Exists(covered.filter(team_id=OuterRef("team_id"))) | ~Exists(covered))
        .select_related("user", "team")
        .order_by("user__last_name", "user__first_name")
    )


def late_joiner_count(cycle: ReviewCycle) -> int:
    """How many late joiners there are to choose from; engineers' changes move everything."""
    count: int = _cycle_cached(cycle, "late-joiners", lambda: late_joiner_candidates(cycle).count())
    return count


def late_joiner_search(cycle: ReviewCycle, text: str, limit: int = 10) -> list[Engineer]:
    """Up to `limit` late joiners whose name or username holds every word typed."""
    if not text.split():
        return []
    return list(named_by(late_joiner_candidates(cycle), text, path="user")[:limit])
