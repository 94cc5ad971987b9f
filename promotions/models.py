"""Promotion cases: a manager's case for an engineer, built from review evidence on three
readiness axes, decided by a committee; rendered packets and their export jobs.

The tables keep the names they were created with (`calibration_promotioncase`, ...): the
models moved here without copying a row.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django_fsm import FSMField, transition

from calibration.models import CalibrationSession
from reviews.models import Evidence, ReviewCycle


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
        "people.Engineer", on_delete=models.PROTECT, related_name="promotion_cases"
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
        db_table = "calibration_promotioncase"
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
        db_table = "calibration_readinessaxis"
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
        db_table = "calibration_promotionpacket"
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
        db_table = "calibration_exportjob"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"export {self.id} ({self.status})"
