"""Audit action codes written by the calibration services."""

from audit.registry import action

SESSION_SCHEDULED = action("calibration.session.scheduled", "scheduled a calibration session")
SESSION_OPENED = action("calibration.session.opened", "opened a calibration session")
SESSION_REVIEW_ADDED = action(
    "calibration.session.review_added", "added a review to an open calibration board"
)
SESSION_LOCKED = action("calibration.session.locked", "locked a calibration session")
SESSION_UNLOCKED = action("calibration.session.unlocked", "unlocked a calibration session")
SESSION_CLOSED = action(
    "calibration.session.closed", "closed a calibration session and wrote its ratings back"
)
PREREAD_ADDED = action("calibration.preread.added", "left a pre-read")
ADJUSTMENT_MADE = action("calibration.adjustment.made", "changed a rating in calibration")
APPEAL_OPENED = action("reviews.appeal.opened", "appealed a rating")
APPEAL_RESOLVED = action("reviews.appeal.resolved", "resolved an appeal")

# A review's calibration history: what the engineer reads once the review is finalised.
HISTORY = (ADJUSTMENT_MADE, APPEAL_OPENED, APPEAL_RESOLVED)

# Written before reviews wrote the calibration write-back itself; kept so old events read well.
LEGACY_REVIEW_CALIBRATED = action(
    "calibration.review.calibrated", "wrote the calibrated ratings back to the review"
)

# Who answered (never what): the answers are kept apart from any person (calibration.models).
PULSE_ANSWERED = action("calibration.pulse.answered", "answered the process pulse")
