"""Calibration: sessions over a cycle's reviews, evidence-backed adjustments, appeals."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, transition

from people.models import Team
from reviews.models import Evidence, Review, ReviewCycle


class CalibrationSession(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        OPEN = "open", "Open"
        LOCKED = "locked", "Locked"
        CLOSED = "closed", "Closed"

    cycle = models.ForeignKey(
        ReviewCycle, on_delete=models.PROTECT, related_name="calibration_sessions"
    )
    name = models.CharField(max_length=120)
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="facilitated_sessions"
    )
    status = FSMField(default=Status.SCHEDULED, choices=Status.choices)
    # Scope: reviews of the cycle matching every filter that is set.
    scope_teams = models.ManyToManyField(Team, blank=True, related_name="+")
    scope_levels = models.JSONField(default=list, blank=True)
    scope_managers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    # Optional guidance: the share of reviews expected per rating, shown, never forced.
    guidance = models.JSONField(default=dict, blank=True)
    # Bumped on every change to the board, for optimistic concurrency (ETag).
    version = models.PositiveIntegerField(default=1)
    summary = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "name"], name="session_name_per_cycle"),
        ]

    def __str__(self) -> str:
        return self.name

    @transition(field=status, source=Status.SCHEDULED, target=Status.OPEN)
    def open(self) -> None:
        pass

    @transition(field=status, source=Status.OPEN, target=Status.LOCKED)
    def lock(self) -> None:
        pass

    @transition(field=status, source=Status.LOCKED, target=Status.OPEN)
    def unlock(self) -> None:
        pass

    @transition(field=status, source=[Status.OPEN, Status.LOCKED], target=Status.CLOSED)
    def close(self) -> None:
        pass


class Participant(models.Model):
    class Role(models.TextChoices):
        MANAGER = "manager", "Manager"
        OBSERVER = "observer", "Observer (read-only)"

    session = models.ForeignKey(
        CalibrationSession, on_delete=models.CASCADE, related_name="participants"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MANAGER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="participant_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.session}"


class SessionReview(models.Model):
    """A review on a session's board: its ratings before, during and after calibration."""

    session = models.ForeignKey(CalibrationSession, on_delete=models.CASCADE, related_name="board")
    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="session_entries")
    active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    pre_ratings = models.JSONField(default=dict)
    pre_overall = models.PositiveSmallIntegerField(null=True, blank=True)
    pre_composite = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    ratings = models.JSONField(default=dict)
    overall = models.PositiveSmallIntegerField(null=True, blank=True)
    composite = models.DecimalField(max_digits=5, decimal_places=2, null=True)

    class Meta:
        ordering = ["session", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "review"], name="review_once_per_session"),
            # A review is on at most one open (or locked) board at a time.
            models.UniqueConstraint(
                fields=["review"], condition=Q(active=True), name="review_in_one_open_session"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.review} in {self.session}"


class PreRead(models.Model):
    session = models.ForeignKey(
        CalibrationSession, on_delete=models.CASCADE, related_name="prereads"
    )
    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="prereads")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"pre-read on {self.review_id}"


class Adjustment(models.Model):
    OVERALL = "overall"

    session = models.ForeignKey(
        CalibrationSession, on_delete=models.PROTECT, related_name="adjustments"
    )
    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="adjustments")
    dimension_key = models.CharField(max_length=60, help_text='A dimension key, or "overall".')
    before = models.PositiveSmallIntegerField(null=True)
    after = models.PositiveSmallIntegerField()
    rationale = models.TextField()
    evidence = models.ManyToManyField(Evidence, blank=True, related_name="adjustments")
    counterexample = models.TextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.dimension_key}: {self.before} → {self.after}"


class Appeal(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        UPHELD = "upheld", "Upheld (rating kept)"
        CHANGED = "changed", "Changed"

    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="appeals")
    dimension_key = models.CharField(max_length=60)
    reason = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True)
    before = models.PositiveSmallIntegerField(null=True, blank=True)
    after = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "dimension_key"],
                condition=Q(status="open"),
                name="one_open_appeal_per_rating",
            ),
        ]

    def __str__(self) -> str:
        return f"appeal on {self.review_id}:{self.dimension_key}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension_key,
            "status": self.status,
            "before": self.before,
            "after": self.after,
        }
