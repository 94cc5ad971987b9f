"""Review cycles, reviews, evidence, ratings and score snapshots."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, transition

from people.models import Engineer, Team
from reviews.evidence import MAX_URL_LENGTH, EvidenceKind


class ReviewCycle(models.Model):
    """One review period, scored against one published rubric version."""

    class Phase(models.TextChoices):
        PLANNED = "planned", "Planned"
        SELF_REVIEW = "self_review", "Self-review"
        MANAGER_REVIEW = "manager_review", "Manager review"
        CALIBRATION = "calibration", "Calibration"
        FINALISATION = "finalisation", "Finalisation"
        CLOSED = "closed", "Closed"

    ORDER: ClassVar[tuple[str, ...]] = (
        Phase.PLANNED,
        Phase.SELF_REVIEW,
        Phase.MANAGER_REVIEW,
        Phase.CALIBRATION,
        Phase.FINALISATION,
        Phase.CLOSED,
    )

    name = models.CharField(max_length=120, unique=True)
    rubric_version = models.ForeignKey(
        "rubrics.RubricVersion", on_delete=models.PROTECT, related_name="cycles"
    )
    phase = models.CharField(max_length=20, choices=Phase.choices, default=Phase.PLANNED)
    self_review_ends = models.DateField()
    manager_review_ends = models.DateField()
    calibration_ends = models.DateField()
    finalisation_ends = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-self_review_ends", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(self_review_ends__lte=models.F("manager_review_ends"))
                & Q(manager_review_ends__lte=models.F("calibration_ends"))
                & Q(calibration_ends__lte=models.F("finalisation_ends")),
                name="cycle_phases_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def next_phase(self) -> str | None:
        index = self.ORDER.index(self.phase)
        return self.ORDER[index + 1] if index + 1 < len(self.ORDER) else None

    def phase_deadline(self) -> Any:
        deadlines: dict[str, Any] = {
            self.Phase.SELF_REVIEW: self.self_review_ends,
            self.Phase.MANAGER_REVIEW: self.manager_review_ends,
            self.Phase.CALIBRATION: self.calibration_ends,
            self.Phase.FINALISATION: self.finalisation_ends,
        }
        return deadlines.get(self.phase)


class ReviewQuerySet(models.QuerySet["Review"]):
    def in_cycle(self, cycle: Any) -> ReviewQuerySet:
        return self.filter(cycle=cycle)

    def in_state(self, *states: str) -> ReviewQuerySet:
        return self.filter(state__in=states)


class Review(models.Model):
    """One engineer's review in one cycle. Level and manager are copied at cycle open, so a
    later reorg does not rewrite history."""

    class State(models.TextChoices):
        DRAFT = "draft", "Self-review in progress"
        SELF_SUBMITTED = "self_submitted", "Self-review submitted"
        MANAGER_SUBMITTED = "manager_submitted", "Manager review submitted"
        CALIBRATED = "calibrated", "Calibrated"
        FINALIZED = "finalized", "Finalized"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"

    cycle = models.ForeignKey(ReviewCycle, on_delete=models.PROTECT, related_name="reviews")
    engineer = models.ForeignKey(Engineer, on_delete=models.PROTECT, related_name="reviews")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="reviews")
    level_code = models.CharField(max_length=20)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="managed_reviews",
    )
    state = FSMField(default=State.DRAFT, choices=State.choices)
    # The manager's holistic view: overall rating (on the rubric's scale) and growth/scope
    # trajectory (1 low – 5 high), which places the engineer on the calibration 9-box.
    overall_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    growth_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    # Bumped on every change, for optimistic concurrency (ETag).
    version = models.PositiveIntegerField(default=1)
    self_submitted_at = models.DateTimeField(null=True, blank=True)
    manager_submitted_at = models.DateTimeField(null=True, blank=True)
    finalized_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["cycle", "team__name", "engineer__user__last_name"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "engineer"], name="review_per_cycle"),
        ]

    def __str__(self) -> str:
        return f"{self.engineer} — {self.cycle}"

    @transition(field=state, source=State.DRAFT, target=State.SELF_SUBMITTED)
    def submit_self(self) -> None:
        pass

    @transition(field=state, source=State.SELF_SUBMITTED, target=State.DRAFT)
    def return_to_engineer(self) -> None:
        pass

    @transition(field=state, source=State.SELF_SUBMITTED, target=State.MANAGER_SUBMITTED)
    def submit_manager(self) -> None:
        pass

    @transition(field=state, source=State.MANAGER_SUBMITTED, target=State.CALIBRATED)
    def calibrate(self) -> None:
        pass

    @transition(
        field=state, source=[State.MANAGER_SUBMITTED, State.CALIBRATED], target=State.FINALIZED
    )
    def finalize(self) -> None:
        pass

    @transition(field=state, source=State.FINALIZED, target=State.ACKNOWLEDGED)
    def acknowledge(self) -> None:
        pass

    @property
    def manager_has_submitted(self) -> bool:
        return self.state_has_manager_submission(self.state)

    @classmethod
    def state_has_manager_submission(cls, state: str) -> bool:
        return state not in (cls.State.DRAFT, cls.State.SELF_SUBMITTED)


class EvidenceQuerySet(models.QuerySet["Evidence"]):
    def active(self) -> EvidenceQuerySet:
        return self.filter(withdrawn_at__isnull=True)


class Evidence(models.Model):
    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField(max_length=30, choices=EvidenceKind.choices)
    url = models.URLField(max_length=MAX_URL_LENGTH)
    title = models.CharField(max_length=200)
    occurred_on = models.DateField(null=True, blank=True)
    contribution = models.TextField(blank=True, help_text="What you did, in a sentence or two.")
    dimensions = models.JSONField(default=list, help_text="Rubric dimension keys it supports.")
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        # By id, not by "review": ordering by the relation would join Review's own ordering.
        ordering = ["review_id", "-occurred_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "url"],
                condition=Q(withdrawn_at__isnull=True),
                name="evidence_url_once_per_review",
            ),
        ]
        verbose_name_plural = "evidence"

    def __str__(self) -> str:
        return self.title

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None


class DimensionRating(models.Model):
    """The engineer's and the manager's rating of one dimension of one review."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="ratings")
    dimension_key = models.CharField(max_length=60)
    self_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    self_justification = models.TextField(blank=True)
    manager_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    manager_justification = models.TextField(blank=True)
    counterexample = models.TextField(
        blank=True, help_text="For a low rating without evidence: what happened instead."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["review_id", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "dimension_key"], name="rating_per_review_dimension"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.review_id}:{self.dimension_key}"


class ScoreSnapshot(models.Model):
    """A stored breakdown: enough to reproduce the number after the rubric changes."""

    class Reason(models.TextChoices):
        MANAGER_RATING = "manager_rating", "Manager rating changed"
        CALIBRATION = "calibration", "Calibration"
        RECOMPUTE = "recompute", "Recomputed"
        APPEAL = "appeal", "Appeal resolved"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="snapshots")
    rubric_version = models.ForeignKey("rubrics.RubricVersion", on_delete=models.PROTECT)
    formula_version = models.CharField(max_length=40)
    ratings = models.JSONField()
    breakdown = models.JSONField()
    composite = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["review_id", "-created_at", "-pk"]
        get_latest_by = "created_at"

    def __str__(self) -> str:
        return f"{self.review_id}: {self.composite}"


class TeamMetrics(models.Model):
    """DORA figures for one team in one cycle: context beside reviews, never a score input."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="metrics")
    cycle = models.ForeignKey(ReviewCycle, on_delete=models.PROTECT, related_name="team_metrics")
    deployment_frequency = models.DecimalField(max_digits=10, decimal_places=2)
    deployment_frequency_unit = models.CharField(max_length=20, default="per_week")
    lead_time = models.DecimalField(max_digits=10, decimal_places=2)
    lead_time_unit = models.CharField(max_length=20, default="hours")
    change_failure_rate = models.DecimalField(
        max_digits=5, decimal_places=2, help_text="Percent of deployments causing a failure."
    )
    time_to_restore = models.DecimalField(max_digits=10, decimal_places=2)
    time_to_restore_unit = models.CharField(max_length=20, default="hours")
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cycle", "team__name"]
        verbose_name_plural = "team metrics"
        constraints = [
            models.UniqueConstraint(fields=["team", "cycle"], name="team_metrics_per_cycle"),
            models.CheckConstraint(
                condition=Q(change_failure_rate__gte=0) & Q(change_failure_rate__lte=100),
                name="team_metrics_cfr_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team} — {self.cycle}"
