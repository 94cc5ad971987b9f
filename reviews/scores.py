"""How a review's score is built: the scoring engine applied to a review, plus the context an
engineer needs to read it (self rating, evidence count, the level's criteria)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reviews.models import Review
from reviews.permissions import can_see_manager_ratings
from reviews.selectors import evidence_counts, ratings_by_key
from rubrics.scoring import Breakdown, compute
from rubrics.selectors import version_data


def manager_ratings(review: Review) -> dict[str, int]:
    return {
        key: rating.manager_rating
        for key, rating in ratings_by_key(review).items()
        if rating.manager_rating is not None
    }


def self_ratings(review: Review) -> dict[str, int]:
    return {
        key: rating.self_rating
        for key, rating in ratings_by_key(review).items()
        if rating.self_rating is not None
    }


def score(review: Review, ratings: Mapping[str, Any]) -> Breakdown:
    version = version_data(review.cycle.rubric_version)
    return compute(
        dimensions=version.dimensions,
        ratings=ratings,
        scale=version.scale,
        rubric_version=version.number,
    )


def score_payload(
    review: Review, *, viewer: Any, what_if: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The breakdown as the API and the score page show it.

    The composite is built from the manager's ratings once the viewer may see them; before
    that, from the engineer's own ratings, labelled as a self-assessment. A what-if changes
    only the ratings it names (null: "not rated") and keeps every other current rating, so
    an unrated dimension stays unrated and its gate cannot apply.
    """
    if can_see_manager_ratings(viewer, review) and manager_ratings(review):
        basis, ratings = "manager", manager_ratings(review)
    else:
        basis, ratings = "self", self_ratings(review)
    changed: list[str] = []
    if what_if is not None:
        merged: dict[str, Any] = {**ratings, **what_if}
        changed = [key for key, value in what_if.items() if ratings.get(key) != value]
        basis = "what_if"
        ratings = {key: value for key, value in merged.items() if value is not None}
    breakdown = score(review, ratings).as_dict()

    version = version_data(review.cycle.rubric_version)
    stored = ratings_by_key(review)
    counts = evidence_counts(review)
    show_manager = can_see_manager_ratings(viewer, review)
    for term in breakdown["terms"]:
        key = term["dimension"]
        rating = stored.get(key)
        term["self_rating"] = rating.self_rating if rating else None
        term["manager_rating"] = rating.manager_rating if rating and show_manager else None
        term["evidence_count"] = counts.get(key, 0)
        term["criteria"] = version.criteria.get((key, review.level_code), "")
    breakdown.update(
        review=review.pk,
        basis=basis,
        changed=changed,
        level=review.level_code,
        rubric=version.rubric,
        explanation=(
            "Advisory: a calibration input, never the final answer. composite = Σ(weight × "
            "rating) ÷ Σ weight over the rated dimensions; a triggered gate caps it; rounded "
            "once, half-to-even, to 2 places."
        ),
    )
    return breakdown
