"""Process health for a cycle: is the review process itself working? Plain figures for HR."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Q

from calibration.models import (
    MIN_PULSE_GROUP,
    PULSE_QUESTIONS,
    Adjustment,
    Appeal,
    CalibrationSession,
    PulseAnswer,
    SessionReview,
)
from core import readcache
from reviews.models import Review, ReviewCycle
from reviews.selectors import cycle_state_counts

# A review is past a phase once it reached the state that phase leads to.
PHASE_STATES: dict[str, list[str]] = {
    "self_review": Review.states_from(Review.State.SELF_SUBMITTED),
    "manager_review": Review.states_from(Review.State.MANAGER_SUBMITTED),
    "calibration": Review.states_from(Review.State.CALIBRATED),
    "finalisation": Review.states_from(Review.State.FINALIZED),
    "acknowledgement": Review.states_from(Review.State.ACKNOWLEDGED),
}


def _pstdev(values: list[float]) -> float:
    """Population standard deviation in floats (two passes): `statistics.pstdev` works in
    exact fractions, which cost most of the page on a board of hundreds; the figures are
    rounded to three places, where the two agree."""
    mean = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values))


def _spread_by_manager(pairs: list[tuple[Any, Decimal | None]]) -> dict[str, Any]:
    """Spread (population standard deviation) of composites per manager, and its mean."""
    by_manager: dict[Any, list[float]] = defaultdict(list)
    for manager, composite in pairs:
        if composite is not None:
            by_manager[manager].append(float(composite))
    spreads = {m: _pstdev(v) for m, v in by_manager.items() if len(v) > 1}
    means = [statistics.fmean(v) for v in by_manager.values()]
    return {
        "mean_spread_within_managers": round(statistics.fmean(spreads.values()), 3)
        if spreads
        else None,
        "spread_between_manager_means": round(_pstdev(means), 3) if len(means) > 1 else None,
    }


def median_days_to_finalise(cycle: ReviewCycle) -> float | None:
    """Median days from the cycle's opening to each review's finalisation: read over the
    whole cycle once per change to its reviews (core.readcache), not on every request."""

    def median() -> float | None:
        opened = cycle.opened_at
        if opened is None:
            return None
        finished = Review.objects.in_cycle(cycle).filter(finalized_at__isnull=False).order_by()
        durations = [
            (finalized - opened).total_seconds() / 86400
            for finalized in finished.values_list("finalized_at", flat=True)
            if finalized is not None
        ]
        return round(statistics.median(durations), 1) if durations else None

    shows = [readcache.cycle_scope(cycle.pk)]
    days: float | None = readcache.cached(f"cycle:{cycle.pk}:days-to-finalise", median, shows=shows)
    return days


def cycle_health(cycle: ReviewCycle) -> dict[str, Any]:
    """The figures over the cycle's reviews are counted once per change to them; those of its
    calibration sessions and appeals (a few hundred rows at most) on each request."""
    counts = cycle_state_counts(cycle)
    total = sum(counts.values())
    completion = {
        phase: round(sum(counts.get(s, 0) for s in states) / total, 3) if total else None
        for phase, states in PHASE_STATES.items()
    }
    board = list(
        SessionReview.objects.filter(session__cycle=cycle)
        .order_by()
        .values_list("review__manager_id", "pre_composite", "composite")
    )
    adjusted = Adjustment.objects.filter(session__cycle=cycle).aggregate(
        changes=Count("pk", distinct=True),
        with_evidence=Count("pk", distinct=True, filter=Q(evidence__isnull=False)),
    )
    changes, with_evidence = adjusted["changes"], adjusted["with_evidence"]
    sessions = list(
        CalibrationSession.objects.filter(cycle=cycle)
        .annotate(changes=Count("adjustments"))
        .values("pk", "name", "status", "changes")
    )
    appeal_outcomes = {
        row["status"]: row["n"]
        for row in Appeal.objects.filter(review__cycle=cycle)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
    }
    appeals = sum(appeal_outcomes.values())
    finalized = sum(counts.get(s, 0) for s in PHASE_STATES["finalisation"])
    return {
        "cycle": {"id": cycle.pk, "name": cycle.name, "phase": cycle.phase},
        "reviews": total,
        "states": dict(counts),
        "completion": completion,
        "median_days_to_finalise": median_days_to_finalise(cycle),
        "calibration_variance": {
            "before": _spread_by_manager([(m, pre) for m, pre, _ in board]),
            "after": _spread_by_manager([(m, post) for m, _, post in board]),
        },
        "changes": changes,
        "share_of_changes_with_evidence": round(with_evidence / changes, 3) if changes else None,
        "changes_per_session": sessions,
        "appeal_rate": round(appeals / finalized, 3) if finalized else None,
        "appeal_outcomes": appeal_outcomes,
        "open_appeals": appeal_outcomes.get(Appeal.Status.OPEN, 0),
        **understanding([cycle.pk])[cycle.pk],
    }


def _mean(total: float | None, count: int) -> float | None:
    """A group's mean, or None for a group smaller than MIN_PULSE_GROUP (hidden, so that no
    answer can be told apart)."""
    return round(float(total), 2) if total is not None and count >= MIN_PULSE_GROUP else None


def understanding(cycle_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per cycle: the pulse (how many engineers answered, and each question's mean where at
    least MIN_PULSE_GROUP answered it) and the managers' confidence in their overall ratings
    (its mean over at least MIN_PULSE_GROUP reviews). Two grouped queries for any number of
    cycles."""
    figures: dict[int, dict[str, Any]] = {
        cycle_id: {
            "pulse": {"answers": 0, "means": {key: None for key, _q in PULSE_QUESTIONS}},
            "manager_confidence": {"ratings": 0, "mean": None},
            "min_group": MIN_PULSE_GROUP,
        }
        for cycle_id in cycle_ids
    }
    aggregates: dict[str, Any] = {"answers": Count("pk")}
    for key, _question in PULSE_QUESTIONS:
        aggregates[f"{key}_mean"] = Avg(key)
        aggregates[f"{key}_count"] = Count(key)
    for row in (
        PulseAnswer.objects.filter(cycle_id__in=cycle_ids)
        .values("cycle_id")
        .annotate(**aggregates)
        .order_by()
    ):
        figures[row["cycle_id"]]["pulse"] = {
            "answers": row["answers"],
            "means": {
                key: _mean(row[f"{key}_mean"], row[f"{key}_count"])
                for key, _question in PULSE_QUESTIONS
            },
        }
    for row in (
        Review.objects.filter(cycle_id__in=cycle_ids, manager_confidence__isnull=False)
        .values("cycle_id")
        .annotate(rated=Count("pk"), mean=Avg("manager_confidence"))
        .order_by()
    ):
        figures[row["cycle_id"]]["manager_confidence"] = {
            "ratings": row["rated"],
            "mean": _mean(row["mean"], row["rated"]),
        }
    return figures
