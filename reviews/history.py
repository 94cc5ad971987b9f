"""An engineer's history across cycles: the ratings per dimension and the composite of each of
their reviews the viewer may see, oldest first, with the rubric version each cycle used."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from reviews.models import Review, ScoreSnapshot
from reviews.permissions import manager_ratings_visible, visible_reviews_filter
from rubrics.selectors import version_data


@dataclass
class Cycle:
    review: Review
    version: str  # "backend-engineering v2"
    version_changed: bool  # from the cycle before
    shared: bool  # the manager's ratings (and the composite) may be shown to this viewer
    ratings: dict[str, int | None] = field(default_factory=dict)  # dimension key → rating
    composite: Decimal | None = None


@dataclass
class History:
    cycles: list[Cycle]
    dimensions: list[tuple[str, str]]  # (key, name) across the versions, first seen first


def engineer_history(user: Any, review: Review) -> History:
    """`review`'s engineer's reviews that `user` may see (three queries)."""
    reviews = list(
        Review.objects.filter(visible_reviews_filter(user), engineer_id=review.engineer_id)
        .select_related("cycle__rubric_version__rubric", "engineer")
        .prefetch_related("ratings")
        .order_by("cycle__self_review_ends", "cycle_id")
    )
    composites: dict[int, Decimal | None] = {}
    for review_id, composite in (
        ScoreSnapshot.objects.filter(review__in=[r.pk for r in reviews])
        .order_by("review_id", "-created_at", "-pk")
        .values_list("review_id", "composite")
    ):
        composites.setdefault(review_id, composite)
    cycles: list[Cycle] = []
    names: dict[str, str] = {}
    previous = None
    for each in reviews:
        version = each.cycle.rubric_version
        for spec in version_data(version).dimensions:
            names.setdefault(spec.key, spec.name)
        label = f"{version.rubric.slug} v{version.number}"
        shared = manager_ratings_visible(user, each.engineer.user_id, each.state)
        cycles.append(
            Cycle(
                review=each,
                version=label,
                version_changed=previous is not None and previous != label,
                shared=shared,
                ratings={r.dimension_key: r.manager_rating for r in each.ratings.all()}
                if shared
                else {},
                composite=composites.get(each.pk) if shared else None,
            )
        )
        previous = label
    return History(cycles=cycles, dimensions=list(names.items()))
