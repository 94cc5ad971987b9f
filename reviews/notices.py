"""Notification kinds the review services send: whose turn it is in a cycle, and what
happened to a review.

Essential kinds tell a person that work waits for them (a phase opened for them, a
self-review returned, a review to rate) or answer for their own review (it was finalised):
missing one stalls the cycle. Reminders repeat what a phase-opened notice already said, so
a person may switch them off.
"""

from __future__ import annotations

from notify.registry import kind

PHASE_OPENED = kind(
    "reviews.cycle.phase_opened", "A phase of your review cycle opened", essential=True
)
PHASE_REOPENED = kind(
    "reviews.cycle.phase_reopened", "An earlier phase of your review cycle reopened", essential=True
)
PHASE_DUE = kind("reviews.cycle.phase_due", "Reminder: a phase you still have work in ends soon")
PHASE_OVERDUE = kind(
    "reviews.cycle.phase_overdue", "Reminder: a phase you still have work in has ended"
)
SELF_REVIEW_RETURNED = kind(
    "reviews.review.returned", "Your self-review was returned to you", essential=True
)
REVIEW_WAITING = kind(
    "reviews.review.waiting_for_manager", "A review is waiting for you to rate it", essential=True
)
REVIEW_FINALISED = kind("reviews.review.finalised", "Your review was finalised", essential=True)
REVIEW_HANDED_OVER = kind(
    "reviews.review.handed_over",
    "A review moved to you because an engineer now reports to you",
    essential=True,
)
