"""Audit action codes written by the review services: every change to a cycle, a review, its
evidence or its ratings."""

from audit.registry import action

CYCLE_CREATED = action("reviews.cycle.created", "created a review cycle")
CYCLE_OPENED = action("reviews.cycle.opened", "opened a review cycle")
CYCLE_ENGINEER_ADDED = action("reviews.cycle.engineer_added", "added an engineer to a cycle")
CYCLE_ADVANCED = action("reviews.cycle.advanced", "moved a cycle to its next phase")
CYCLE_REOPENED = action("reviews.cycle.reopened", "reopened an earlier phase of a cycle")
CYCLE_SCORES_RECOMPUTED = action("reviews.cycle.scores_recomputed", "recomputed a cycle's scores")
TEAM_METRICS_IMPORTED = action("reviews.team_metrics.imported", "imported team DORA metrics")

EVIDENCE_ADDED = action("reviews.evidence.added", "added evidence")
EVIDENCE_PASTED = action("reviews.evidence.pasted", "pasted evidence links")
EVIDENCE_EDITED = action("reviews.evidence.edited", "edited evidence")
EVIDENCE_WITHDRAWN = action("reviews.evidence.withdrawn", "withdrew evidence")

SELF_RATINGS_CHANGED = action("reviews.rating.self_changed", "changed self ratings")
MANAGER_RATINGS_CHANGED = action("reviews.rating.manager_changed", "changed manager ratings")
OVERALL_RATING_CHANGED = action(
    "reviews.rating.overall_changed", "changed the overall and growth ratings"
)
RATING_CHANGED_ON_APPEAL = action("reviews.rating.appeal_changed", "changed a rating on appeal")

SELF_SUBMITTED = action("reviews.review.self_submitted", "submitted the self-review")
RETURNED = action("reviews.review.returned", "returned the self-review to the engineer")
MANAGER_SUBMITTED = action("reviews.review.manager_submitted", "submitted the manager review")
CALIBRATION_STARTED = action(
    "reviews.review.calibration_started", "put the review on a calibration board"
)
CALIBRATED = action("reviews.review.calibrated", "wrote the calibrated ratings back to the review")
FINALIZED = action("reviews.review.finalized", "finalised the review")
ACKNOWLEDGED = action("reviews.review.acknowledged", "acknowledged the review")
HANDED_OVER = action(
    "reviews.review.handed_over", "followed a move of the engineer to another manager"
)
