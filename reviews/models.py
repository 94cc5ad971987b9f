"""Review cycles, reviews, evidence, ratings and score snapshots."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import GET_STATE, FSMField, transition

from core.roles import Role, has_role, is_hr, is_hr_or_system
from core.workflow import step
from people.models import Engineer, Team, Transfer
from reviews.evidence import MAX_URL_LENGTH, EvidenceKind, url_warnings
from rubrics.scoring import ScaleSpec

# The manager's growth and scope trajectory, beside the performance rating on the 9-box.
GROWTH_SCALE = ScaleSpec(minimum=1, maximum=5)
# How sure the manager is of their overall rating (1 not sure – 5 sure): process health
# reports it per cycle, for groups large enough (calibration.health).
CONFIDENCE_SCALE = ScaleSpec(minimum=1, maximum=5)


def _is_hr(obj: Any, user: Any) -> bool:
    return is_hr_or_system(user)


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
    RUNNING: ClassVar[tuple[str, ...]] = ORDER[1:-1]

    name = models.CharField(max_length=120, unique=True)
    rubric_version = models.ForeignKey(
        "rubrics.RubricVersion", on_delete=models.PROTECT, related_name="cycles"
    )
    phase = FSMField(max_length=20, choices=Phase.choices, default=Phase.PLANNED)
    self_review_ends = models.DateField()
    manager_review_ends = models.DateField()
    calibration_ends = models.DateField()
    finalisation_ends = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    # The cycle's scope: the engineers of these teams, or everyone with a manager when empty.
    teams = models.ManyToManyField(Team, blank=True, related_name="cycles")

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

    @property
    def previous_phase(self) -> str | None:
        index = self.ORDER.index(self.phase)
        return self.ORDER[index - 1] if index > 1 else None

    def phase_deadline(self) -> Any:
        deadlines: dict[str, Any] = {
            self.Phase.SELF_REVIEW: self.self_review_ends,
            self.Phase.MANAGER_REVIEW: self.manager_review_ends,
            self.Phase.CALIBRATION: self.calibration_ends,
            self.Phase.FINALISATION: self.finalisation_ends,
        }
        return deadlines.get(self.phase)

    @property
    def previous_phase_label(self) -> str:
        previous = self.previous_phase
        return self.Phase(previous).label.lower() if previous else ""

    def unfinished_states(self) -> tuple[str, ...]:
        """The review states that are not done for the current phase: what moving to the next
        phase would leave behind (shown to HR before they move it)."""
        state = Review.State
        before_manager = (state.DRAFT, state.SELF_SUBMITTED)
        return {
            self.Phase.SELF_REVIEW: (state.DRAFT,),
            self.Phase.MANAGER_REVIEW: before_manager,
            self.Phase.CALIBRATION: (*before_manager, state.IN_CALIBRATION),
            self.Phase.FINALISATION: (
                *before_manager,
                state.MANAGER_SUBMITTED,
                state.IN_CALIBRATION,
                state.CALIBRATED,
            ),
        }.get(self.phase, ())

    # ---- the phase machine (core.workflow asks it) -------------------------------------------

    def state_sentence(self) -> str:
        return f"{self} is in '{self.get_phase_display()}'"

    def idle_sentence(self) -> str:
        return "nothing: the cycle is closed"

    @transition(
        field=phase,
        source=Phase.PLANNED,
        target=Phase.SELF_REVIEW,
        permission=_is_hr,
        custom=step("open the cycle", "HR"),
    )
    def open(self) -> None:
        pass

    @transition(
        field=phase,
        source=RUNNING,
        target=GET_STATE(lambda cycle: cycle.next_phase, states=ORDER[2:]),
        permission=_is_hr,
        custom=step("move the cycle to its next phase", "HR"),
    )
    def advance(self) -> None:
        pass

    @transition(
        field=phase,
        source=ORDER[2:],
        target=GET_STATE(lambda cycle: cycle.previous_phase, states=ORDER[1:-1]),
        permission=_is_hr,
        custom=step("reopen the previous phase", "HR"),
    )
    def reopen(self) -> None:
        pass

    @transition(
        field=phase,
        source=RUNNING,
        target=None,
        permission=_is_hr,
        custom=step("add a late joiner", "HR", hidden=True),
    )
    def add_engineer(self) -> None:
        pass

    @transition(
        field=phase,
        source=ORDER,
        target=None,
        permission=_is_hr,
        custom=step("recompute the cycle's scores", "HR", hidden=True),
    )
    def recompute(self) -> None:
        pass


class ReviewQuerySet(models.QuerySet["Review"]):
    def in_cycle(self, cycle: Any) -> ReviewQuerySet:
        return self.filter(cycle=cycle)

    def in_state(self, *states: str) -> ReviewQuerySet:
        return self.filter(state__in=states)


# Conditions (on the review's cycle) and permissions (who acts) of the review machine.
def _self_review_open(review: Any) -> bool:
    """The engineer edits during the self-review phase, and a returned self-review during
    the manager-review phase too (the return is the manager asking for changes)."""
    phase = review.cycle.phase
    return phase == ReviewCycle.Phase.SELF_REVIEW or (
        review.returned_at is not None and phase == ReviewCycle.Phase.MANAGER_REVIEW
    )


def _return_open(review: Any) -> bool:
    return review.cycle.phase in (ReviewCycle.Phase.SELF_REVIEW, ReviewCycle.Phase.MANAGER_REVIEW)


def _manager_review_open(review: Any) -> bool:
    return review.cycle.phase == ReviewCycle.Phase.MANAGER_REVIEW


def _calibration_open(review: Any) -> bool:
    return review.cycle.phase in (ReviewCycle.Phase.MANAGER_REVIEW, ReviewCycle.Phase.CALIBRATION)


def _finalisation_open(review: Any) -> bool:
    return review.cycle.phase == ReviewCycle.Phase.FINALISATION


def _acknowledgement_open(review: Any) -> bool:
    return review.cycle.phase in (ReviewCycle.Phase.FINALISATION, ReviewCycle.Phase.CLOSED)


def _is_owner(review: Any, user: Any) -> bool:
    return review.is_owned_by(user)


def _is_manager(review: Any, user: Any) -> bool:
    return review.is_managed_by(user)


def _calibrates(review: Any, user: Any) -> bool:
    """Facilitators (and HR) run calibration; the session decides which one may act."""
    return has_role(user, Role.FACILITATOR) or is_hr(user)


class Review(models.Model):
    """One engineer's review in one cycle. Level and manager are copied at cycle open, so a
    later reorg does not rewrite history."""

    class State(models.TextChoices):
        DRAFT = "draft", "Self-review in progress"
        SELF_SUBMITTED = "self_submitted", "Self-review submitted"
        MANAGER_SUBMITTED = "manager_submitted", "Manager review submitted"
        IN_CALIBRATION = "in_calibration", "On a calibration board"
        CALIBRATED = "calibrated", "Calibrated"
        FINALIZED = "finalized", "Finalized"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"

    BEFORE_MANAGER: ClassVar[tuple[str, ...]] = (State.DRAFT, State.SELF_SUBMITTED)

    FINAL: ClassVar[tuple[str, ...]] = (State.FINALIZED, State.ACKNOWLEDGED)

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
    # trajectory (GROWTH_SCALE), which places the engineer on the calibration 9-box.
    overall_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    growth_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    manager_confidence = models.PositiveSmallIntegerField(null=True, blank=True)
    # Bumped on every change, for optimistic concurrency (ETag).
    version = models.PositiveIntegerField(default=1)
    # Why the manager returned the self-review, while it waits for the engineer's changes.
    returned_reason = models.TextField(blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    # The calibration board the review is on (its name), while it is on one.
    calibration_board = models.CharField(max_length=200, blank=True)
    self_submitted_at = models.DateTimeField(null=True, blank=True)
    manager_submitted_at = models.DateTimeField(null=True, blank=True)
    finalized_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    # Active (not withdrawn) evidence items, kept by the evidence services: lists show and
    # sort by it without counting the evidence table for every review they could show.
    evidence_count = models.PositiveIntegerField(default=0, editable=False)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["cycle", "team__name", "engineer__user__last_name"]
        # The reviews list's sorts, answered a page at a time from an index: a cycle's reviews
        # team by team (with the team name index), and by evidence, within a state or not.
        indexes = [
            models.Index(fields=["cycle", "team"], name="review_cycle_team"),
            models.Index(fields=["-evidence_count", "-id"], name="review_evidence"),
            models.Index(fields=["state", "-evidence_count", "-id"], name="review_state_evidence"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "engineer"], name="review_per_cycle"),
            models.CheckConstraint(
                condition=Q(state="in_calibration") | Q(calibration_board=""),
                name="review_board_only_in_calibration",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.engineer} — {self.cycle}"

    @classmethod
    def states_from(cls, state: str) -> list[str]:
        """`state` and every state a review reaches after it (the states in order)."""
        values = list(cls.State.values)
        return values[values.index(state) :]

    def is_owned_by(self, user: Any) -> bool:
        return bool(self.engineer.user_id == getattr(user, "pk", None))

    def is_managed_by(self, user: Any) -> bool:
        """The direct manager recorded on the review: the one person who rates it."""
        return bool(self.manager_id is not None and self.manager_id == getattr(user, "pk", None))

    @property
    def manager_has_submitted(self) -> bool:
        return self.state_has_manager_submission(self.state)

    @classmethod
    def state_has_manager_submission(cls, state: str) -> bool:
        return state not in cls.BEFORE_MANAGER

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL

    @property
    def self_review_in_progress(self) -> bool:
        return self.state == self.State.DRAFT

    @property
    def withdrawal_needs_reason(self) -> bool:
        """Once submitted, withdrawing evidence needs a reason on record."""
        return self.state != self.State.DRAFT

    # ---- the review machine (core.workflow asks it) ------------------------------------------

    @property
    def waiting_for(self) -> str:
        """Who or what the review waits for, in words."""
        return {
            self.State.DRAFT: "the engineer's self-review",
            self.State.SELF_SUBMITTED: "the manager's ratings",
            self.State.MANAGER_SUBMITTED: "finalisation by HR",
            self.State.IN_CALIBRATION: f"its calibration session ({self.calibration_board})",
            self.State.CALIBRATED: "finalisation by HR",
            self.State.FINALIZED: "the engineer's acknowledgement",
        }.get(self.state, "nothing")

    def state_sentence(self) -> str:
        where = f" ({self.calibration_board})" if self.calibration_board else ""
        return (
            f"the review is '{self.get_state_display()}'{where} and the cycle is in "
            f"'{self.cycle.get_phase_display()}'"
        )

    def idle_sentence(self) -> str:
        phase = self.cycle.phase
        if phase == ReviewCycle.Phase.PLANNED:
            return "nothing until the self-review phase opens"
        if self.state == self.State.DRAFT:
            return "nothing: the self-review was not submitted in time; HR can reopen its phase"
        if self.state == self.State.SELF_SUBMITTED:
            return "nothing: the manager review was not submitted in time; HR can reopen its phase"
        if self.state in (self.State.MANAGER_SUBMITTED, self.State.CALIBRATED):
            return "HR finalises the review in the finalisation phase"
        return "nothing: the review is closed"

    @transition(
        field=state,
        source=State.DRAFT,
        target=None,
        conditions=[_self_review_open],
        permission=_is_owner,
        custom=step("add evidence and rate", "the engineer"),
    )
    def edit_self_review(self) -> None:
        pass

    @transition(
        field=state,
        source=State.DRAFT,
        target=State.SELF_SUBMITTED,
        conditions=[_self_review_open],
        permission=_is_owner,
        custom=step("submit the self-review", "the engineer"),
    )
    def submit_self(self) -> None:
        pass

    @transition(
        field=state,
        source=State.SELF_SUBMITTED,
        target=State.DRAFT,
        conditions=[_return_open],
        permission=_is_manager,
        custom=step("return the self-review", "the manager"),
    )
    def return_to_engineer(self) -> None:
        pass

    @transition(
        field=state,
        source=State.SELF_SUBMITTED,
        target=None,
        conditions=[_manager_review_open],
        permission=_is_manager,
        custom=step("rate", "the manager"),
    )
    def rate(self) -> None:
        pass

    @transition(
        field=state,
        source=State.SELF_SUBMITTED,
        target=State.MANAGER_SUBMITTED,
        conditions=[_manager_review_open],
        permission=_is_manager,
        custom=step("submit the manager review", "the manager"),
    )
    def submit_manager(self) -> None:
        pass

    @transition(
        field=state,
        source=State.MANAGER_SUBMITTED,
        target=State.IN_CALIBRATION,
        conditions=[_calibration_open],
        permission=_calibrates,
        custom=step("put the review on a calibration board", "a facilitator"),
    )
    def start_calibration(self) -> None:
        pass

    @transition(
        field=state,
        source=State.IN_CALIBRATION,
        target=State.CALIBRATED,
        permission=_calibrates,
        custom=step("close its calibration session", "the facilitator"),
    )
    def calibrate(self) -> None:
        pass

    @transition(
        field=state,
        source=[State.MANAGER_SUBMITTED, State.CALIBRATED],
        target=State.FINALIZED,
        conditions=[_finalisation_open],
        permission=_is_hr,
        custom=step("finalise the review", "HR"),
    )
    def finalize(self) -> None:
        pass

    @transition(
        field=state,
        source=State.FINALIZED,
        target=State.ACKNOWLEDGED,
        conditions=[_acknowledgement_open],
        permission=_is_owner,
        custom=step("acknowledge the review", "the engineer"),
    )
    def acknowledge(self) -> None:
        pass

    @transition(
        field=state,
        source=FINAL,
        target=None,
        permission=_is_owner,
        custom=step("appeal a rating", "the engineer"),
    )
    def appeal(self) -> None:
        pass

    @transition(
        field=state,
        source=FINAL,
        target=None,
        permission=_is_hr,
        custom=step("change a rating on appeal", "HR", hidden=True),
    )
    def change_on_appeal(self) -> None:
        pass

    @transition(
        field=state,
        source=[
            State.DRAFT,
            State.SELF_SUBMITTED,
            State.MANAGER_SUBMITTED,
            State.IN_CALIBRATION,
            State.CALIBRATED,
        ],
        target=None,
        permission=_is_owner,
        custom=step("withdraw evidence", "the engineer", hidden=True),
    )
    def withdraw_evidence(self) -> None:
        pass


class EvidenceQuerySet(models.QuerySet["Evidence"]):
    def active(self) -> EvidenceQuerySet:
        """Evidence that counts: never deleted, but a withdrawn item no longer supports."""
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

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None

    @property
    def warnings(self) -> list[str]:
        """What a reader should know before opening the link (e.g. a look-alike host)."""
        return url_warnings(self.url)


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

    @staticmethod
    def _number(value: Any) -> str:
        return format(value.normalize(), "f")  # 13.00 → "13", 3.50 → "3.5", 100 → "100"

    def shown(self) -> dict[str, str]:
        """The four keys in words, for people: "13 per week", "26 hours", "10%"."""
        return {
            "Deployment frequency": f"{self._number(self.deployment_frequency)} "
            + self.deployment_frequency_unit.replace("_", " "),
            "Lead time for changes": f"{self._number(self.lead_time)} {self.lead_time_unit}",
            "Change failure rate": f"{self._number(self.change_failure_rate)}%",
            "Time to restore": f"{self._number(self.time_to_restore)} {self.time_to_restore_unit}",
        }


class ReviewHandover(models.Model):
    """An engineer moved to another manager while their review was open. A review not yet
    rated by its manager moves to the new manager, who rates it; one already rated stays with
    the manager who rated it, and the new manager reads it. Both managers keep reading it."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="handovers")
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="+")
    from_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    to_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    # Whether the review moved to the new manager (False: it had been rated already).
    rater_moved = models.BooleanField()
    at = models.DateTimeField()

    class Meta:
        ordering = ["review", "at", "pk"]
        indexes = [
            models.Index(fields=["from_manager"], name="handover_from_manager"),
            models.Index(fields=["to_manager"], name="handover_to_manager"),
        ]

    def __str__(self) -> str:
        return f"{self.review} handed over {self.at:%Y-%m-%d}"
