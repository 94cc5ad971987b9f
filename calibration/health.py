"""Process health for a cycle: is the review process itself working? Plain figures for HR."""

from __future__ import annotations

import statistics
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q

from calibration.models import Adjustment, Appeal, CalibrationSession, SessionReview
from reviews.models import Review, ReviewCycle

# A review is past a phase once it reached the state that phase leads to.
PHASE_STATES: dict[str, list[str]] = {
    "self_review": Review.states_from(Review.State.SELF_SUBMITTED),
    "manager_review": Review.states_from(Review.State.MANAGER_SUBMITTED),
    "calibration": Review.states_from(Review.State.CALIBRATED),
    "finalisation": Review.states_from(Review.State.FINALIZED),
    "acknowledgement": Review.states_from(Review.State.ACKNOWLEDGED),
}


def _spread_by_manager(pairs: list[tuple[Any, Decimal | None]]) -> dict[str, Any]:
    """Spread (population standard deviation) of composites per manager, and its mean."""
    by_manager: dict[Any, list[float]] = defaultdict(list)
    for manager, composite in pairs:
        if composite is not None:
            by_manager[manager].append(float(composite))
    spreads = {m: statistics.pstdev(v) for m, v in by_manager.items() if len(v) > 1}
    means = [statistics.fmean(v) for v in by_manager.values()]
    return {
        "mean_spread_within_managers": round(statistics.fmean(spreads.values()), 3)
        if spreads
        else None,
        "spread_between_manager_means": round(statistics.pstdev(means), 3)
        if len(means) > 1
        else None,
    }


def cycle_health(cycle: ReviewCycle) -> dict[str, Any]:
    counts: dict[str, int] = {
        row["state"]: row["n"]
        for row in Review.objects.in_cycle(cycle).values("state").annotate(n=Count("pk"))
    }
    total = sum(counts.values())
    completion = {
        phase: round(sum(counts.get(s, 0) for s in states) / total, 3) if total else None
        for phase, states in PHASE_STATES.items()
    }
    opened = cycle.opened_at
    finished = Review.objects.in_cycle(cycle).filter(finalized_at__isnull=False)
    durations = [
        (finalized - opened).total_seconds() / 86400
        for finalized in finished.values_list("finalized_at", flat=True)
        if finalized is not None and opened is not None
    ]
    board = list(
        SessionReview.objects.filter(session__cycle=cycle).values_list(
            "review__manager_id", "pre_composite", "composite"
        )
    )
    adjustments = Adjustment.objects.filter(session__cycle=cycle).annotate(
        n_evidence=Count("evidence")
    )
    changes = adjustments.count()
    with_evidence = adjustments.filter(n_evidence__gt=0).count()
    sessions = list(
        CalibrationSession.objects.filter(cycle=cycle)
        .annotate(changes=Count("adjustments"))
        .values("pk", "name", "status", "changes")
    )
    appeals = Appeal.objects.filter(review__cycle=cycle)
    appeal_outcomes = {
        row["status"]: row["n"] for row in appeals.values("status").annotate(n=Count("pk"))
    }
    finalized = sum(counts.get(s, 0) for s in PHASE_STATES["finalisation"])
    return {
        "cycle": {"id": cycle.pk, "name": cycle.name, "phase": cycle.phase},
        "reviews": total,
        "states": counts,
        "completion": completion,
        "median_days_to_finalise": round(statistics.median(durations), 1) if durations else None,
        "calibration_variance": {
            "before": _spread_by_manager([(m, pre) for m, pre, _ in board]),
            "after": _spread_by_manager([(m, post) for m, _, post in board]),
        },
        "changes": changes,
        "share_of_changes_with_evidence": round(with_evidence / changes, 3) if changes else None,
        "changes_per_session": sessions,
        "appeal_rate": round(appeals.count() / finalized, 3) if finalized else None,
        "appeal_outcomes": appeal_outcomes,
        "open_appeals": appeals.filter(Q(status=Appeal.Status.OPEN)).count(),
    }
