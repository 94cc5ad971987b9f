"""Calibration: sessions over a cycle's reviews, evidence-backed adjustments, appeals."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, transition

from reviews.models import Evidence, Review, ReviewCycle, Team


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


class PromotionCase(models.Model):
    """A manager's case for promoting an engineer, decided by a calibrating committee."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted to the committee"
        DECIDED = "decided", "Decided"

    class Outcome(models.TextChoices):
        PROMOTED = "promoted", "Promoted"
        NOT_YET = "not_yet", "Not yet"

    engineer = models.ForeignKey(
        "reviews.Engineer", on_delete=models.PROTECT, related_name="promotion_cases"
    )
    cycle = models.ForeignKey(ReviewCycle, on_delete=models.PROTECT, related_name="promotion_cases")
    current_level = models.CharField(max_length=20)
    target_level = models.CharField(max_length=20)
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    committee = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    status = FSMField(default=Status.DRAFT, choices=Status.choices)
    summary = models.TextField(blank=True, help_text="Markdown; stored sanitised beside it.")
    summary_html = models.TextField(blank=True, editable=False)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    feedback = models.TextField(blank=True, help_text="Written feedback to the engineer.")
    shared_with_engineer = models.BooleanField(default=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["engineer", "cycle"], name="one_promotion_case_per_cycle"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.engineer}: {self.current_level} → {self.target_level}"

    @transition(field=status, source=Status.DRAFT, target=Status.SUBMITTED)
    def submit(self) -> None:
        pass

    @transition(field=status, source=Status.SUBMITTED, target=Status.DECIDED)
    def decide(self) -> None:
        pass


class ReadinessAxis(models.Model):
    class Axis(models.TextChoices):
        SCOPE = "scope", "Scope"
        COMPLEXITY = "complexity", "Complexity"
        CONSISTENCY = "consistency", "Consistency"

    case = models.ForeignKey(PromotionCase, on_delete=models.CASCADE, related_name="axes")
    axis = models.CharField(max_length=20, choices=Axis.choices)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    narrative = models.TextField(blank=True, help_text="Markdown (a small safe subset).")
    narrative_html = models.TextField(blank=True, editable=False)
    evidence = models.ManyToManyField(Evidence, blank=True, related_name="readiness_axes")

    class Meta:
        ordering = ["case", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["case", "axis"], name="axis_once_per_case"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.axis}"


class PromotionPacket(models.Model):
    """A rendered packet, cached as a row: the same content is rendered and stored once."""

    case = models.ForeignKey(PromotionCase, on_delete=models.PROTECT, related_name="packets")
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the packet's HTML.")
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the PDF file.")
    path = models.CharField(max_length=300)
    pages = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "content_hash"], name="packet_once_per_content"
            ),
        ]

    def __str__(self) -> str:
        return f"packet {self.sha256[:12]} for {self.case_id}"


class ExportJob(models.Model):
    """Progress of a packet export (one case) or a batch (a session's or a cycle's cases)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RENDERING = "rendering", "Rendering"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(
        PromotionCase, null=True, blank=True, on_delete=models.CASCADE, related_name="jobs"
    )
    cycle = models.ForeignKey(
        ReviewCycle, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    session = models.ForeignKey(
        CalibrationSession, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    message = models.TextField(blank=True)
    total = models.PositiveIntegerField(default=1)
    done = models.PositiveIntegerField(default=0)
    packet = models.ForeignKey(
        PromotionPacket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    archive = models.CharField(max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"export {self.id} ({self.status})"
