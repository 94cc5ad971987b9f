"""Promotion cases: a manager's case for an engineer, built from review evidence on three
readiness axes, decided by a committee; rendered packets and their export jobs.

The tables keep the names they were created with (`calibration_promotioncase`, ...): the
models moved here without copying a row.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django_fsm import FSMField, transition

from calibration.models import CalibrationSession
from core.roles import is_hr
from core.workflow import step
from reviews.models import Evidence, ReviewCycle


def _nominator(case: Any, user: Any) -> bool:
    return case.is_nominator(user)


def _decider(case: Any, user: Any) -> bool:
    return case.may_decide(user)


def _sharer(case: Any, user: Any) -> bool:
    return case.is_nominator(user) or is_hr(user)


def _reader(case: Any, user: Any) -> bool:
    return case.may_read_packet(user)


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

    # ---- who (instance questions; the committee comes prefetched) ---------------------------

    def is_nominator(self, user: Any) -> bool:
        return bool(self.nominated_by_id == getattr(user, "pk", None))

    def is_about(self, user: Any) -> bool:
        return bool(self.engineer.user_id == getattr(user, "pk", None))

    def on_committee(self, user: Any) -> bool:
        return any(member.pk == getattr(user, "pk", None) for member in self.committee.all())

    def may_decide(self, user: Any) -> bool:
        """The committee (or HR) decides; never the engineer or the nominating manager."""
        if self.is_about(user) or self.is_nominator(user):
            return False
        return is_hr(user) or self.on_committee(user)

    def may_read_packet(self, user: Any) -> bool:
        if is_hr(user) or self.is_nominator(user) or self.on_committee(user):
            return True
        return self.is_about(user) and (
            self.status == self.Status.DECIDED or self.shared_with_engineer
        )

    # ---- the case machine (core.workflow asks it) -------------------------------------------

    def state_sentence(self) -> str:
        return f"the case is {self.get_status_display().lower()}"

    def idle_sentence(self) -> str:
        return "nothing: the case is decided"

    @transition(
        field=status,
        source=Status.DRAFT,
        target=None,
        permission=_nominator,
        custom=step("edit the case", "the nominating manager"),
    )
    def edit(self) -> None:
        pass

    @transition(
        field=status,
        source=Status.DRAFT,
        target=Status.SUBMITTED,
        permission=_nominator,
        custom=step("submit the case to a committee", "the nominating manager"),
    )
    def submit(self) -> None:
        pass

    @transition(
        field=status,
        source=Status.SUBMITTED,
        target=Status.DECIDED,
        permission=_decider,
        custom=step("decide the case", "the committee or HR"),
    )
    def decide(self) -> None:
        pass

    @transition(
        field=status,
        source=[Status.DRAFT, Status.SUBMITTED, Status.DECIDED],
        target=None,
        permission=_sharer,
        custom=step(
            "share the packet with the engineer", "the nominating manager or HR", hidden=True
        ),
    )
    def share(self) -> None:
        pass

    @transition(
        field=status,
        source=[Status.DRAFT, Status.SUBMITTED, Status.DECIDED],
        target=None,
        permission=_reader,
        custom=step("export the packet", "its readers", hidden=True),
    )
    def export(self) -> None:
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
    status = FSMField(max_length=20, choices=Status.choices, default=Status.QUEUED)
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

    def state_sentence(self) -> str:
        return f"the export is {self.get_status_display().lower()}"

    def idle_sentence(self) -> str:
        return "nothing: the export has finished"

    @property
    def is_done(self) -> bool:
        return self.status == self.Status.DONE

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RENDERING)

    @property
    def all_rendered(self) -> bool:
        """Every packet of the export is rendered: what is left is to write the archive."""
        return self.done >= self.total

    # Workers move an export on; a redelivered task starts (renders) again.
    @transition(
        field=status,
        source=[Status.QUEUED, Status.RENDERING],
        target=Status.RENDERING,
        custom=step("start rendering", "a worker"),
    )
    def start(self) -> None:
        pass

    @transition(
        field=status, source=Status.RENDERING, target=Status.DONE, custom=step("finish", "a worker")
    )
    def finish(self) -> None:
        pass

    @transition(
        field=status,
        source=[Status.QUEUED, Status.RENDERING],
        target=Status.FAILED,
        custom=step("fail", "a worker"),
    )
    def fail(self) -> None:
        pass


class ExportItemQuerySet(models.QuerySet["ExportItem"]):
    def pending(self) -> ExportItemQuerySet:
        return self.filter(rendered_at__isnull=True)

    def in_archive_order(self) -> ExportItemQuerySet:
        """The batch's order (engineers by last name), with what an archive entry is named by."""
        return self.select_related("case__engineer__user", "packet").order_by(
            "case__engineer__user__last_name", "case_id"
        )


class ExportItem(models.Model):
    """One case of a batch export. A worker renders its packet and marks it rendered once, so
    the job's count of rendered packets moves by one per case however often a task runs."""

    job = models.ForeignKey(ExportJob, on_delete=models.CASCADE, related_name="items")
    case = models.ForeignKey(PromotionCase, on_delete=models.CASCADE, related_name="+")
    # A stored packet may be deleted (to render afresh): an archive already written keeps its
    # copy, and an export still running renders the case again.
    packet = models.ForeignKey(
        PromotionPacket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rendered_at = models.DateTimeField(null=True, blank=True)

    objects = ExportItemQuerySet.as_manager()

    class Meta:
        ordering = ["job", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["job", "case"], name="export_item_once_per_case"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.case_id}"
