"""Calibration: sessions over a cycle's reviews, evidence-backed adjustments, appeals."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Exists, Q
from django_fsm import FSMField, transition

from core.roles import is_hr
from core.workflow import step
from people.models import Team
from reviews.models import Evidence, Review, ReviewCycle, ReviewQuerySet

# An adjustment's "dimension" for the manager's overall rating.
OVERALL = "overall"


def _runs(session: Any, user: Any) -> bool:
    return session.is_facilitator(user)


def _adjusts(session: Any, user: Any) -> bool:
    return session.can_adjust(user)


def _takes_part(session: Any, user: Any) -> bool:
    return session.is_facilitator(user) or session.participant_role(user) is not None


def _cycle_calibrating(session: Any) -> bool:
    return session.cycle.phase in (ReviewCycle.Phase.MANAGER_REVIEW, ReviewCycle.Phase.CALIBRATION)


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

    @property
    def has_board(self) -> bool:
        """Opened at some point: the board holds its own copy of the reviews' ratings."""
        return self.opened_at is not None

    @property
    def board_label(self) -> str:
        """How a review on this board names it."""
        return f"calibration session '{self.name}' (#{self.pk})"

    # ---- who takes part (instance questions; participants come prefetched) ------------------

    def is_facilitator(self, user: Any) -> bool:
        return bool(self.facilitator_id == getattr(user, "pk", None))

    def participant_role(self, user: Any) -> str | None:
        for participant in self.participants.all():
            if participant.user_id == getattr(user, "pk", None):
                return str(participant.role)
        return None

    def can_adjust(self, user: Any) -> bool:
        """The facilitator, and invited managers with a report among the session's reviews:
        a manager from elsewhere reads along but changes nothing."""
        if self.is_facilitator(user):
            return True
        if self.participant_role(user) != Participant.Role.MANAGER:
            return False
        return self.scoped_reviews().filter(manager_id=getattr(user, "pk", None)).exists()

    def scoped_reviews(self) -> ReviewQuerySet:
        """The cycle's reviews matching every scope filter the session sets (an empty filter
        matches all), as one query."""
        teams = self.scope_teams.through.objects.filter(calibrationsession_id=self.pk)
        managers = self.scope_managers.through.objects.filter(calibrationsession_id=self.pk)
        reviews = Review.objects.in_cycle(self.cycle_id).filter(
            (~Exists(teams) | Q(team_id__in=teams.values("team_id")))
            & (~Exists(managers) | Q(manager_id__in=managers.values("user_id")))
        )
        if self.scope_levels:
            reviews = reviews.filter(level_code__in=self.scope_levels)
        return reviews

    # ---- the session machine (core.workflow asks it) ----------------------------------------

    def state_sentence(self) -> str:
        return f"{self} is {self.get_status_display().lower()}"

    def idle_sentence(self) -> str:
        if self.status == self.Status.SCHEDULED:
            return "the session opens during the manager-review or calibration phase"
        return "nothing: the session is closed"

    @transition(
        field=status,
        source=Status.SCHEDULED,
        target=Status.OPEN,
        conditions=[_cycle_calibrating],
        permission=_runs,
        custom=step("open the session", "the facilitator"),
    )
    def open(self) -> None:
        pass

    @transition(
        field=status,
        source=[Status.SCHEDULED, Status.OPEN],
        target=None,
        permission=_takes_part,
        custom=step("leave pre-reads", "participants"),
    )
    def add_preread(self) -> None:
        pass

    @transition(
        field=status,
        source=Status.OPEN,
        target=None,
        permission=_adjusts,
        custom=step("change ratings", "the facilitator and the managers in scope"),
    )
    def adjust(self) -> None:
        pass

    @transition(
        field=status,
        source=Status.OPEN,
        target=None,
        permission=_runs,
        custom=step("add waiting reviews to the board", "the facilitator", hidden=True),
    )
    def add_reviews(self) -> None:
        pass

    @transition(
        field=status,
        source=Status.OPEN,
        target=Status.LOCKED,
        permission=_runs,
        custom=step("lock the session", "the facilitator"),
    )
    def lock(self) -> None:
        pass

    @transition(
        field=status,
        source=Status.LOCKED,
        target=Status.OPEN,
        permission=_runs,
        custom=step("unlock the session", "the facilitator"),
    )
    def unlock(self) -> None:
        pass

    @transition(
        field=status,
        source=[Status.OPEN, Status.LOCKED],
        target=Status.CLOSED,
        permission=_runs,
        custom=step("close the session and write its ratings back", "the facilitator"),
    )
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

    def current(self, dimension_key: str) -> int | None:
        """The board's working rating of a dimension (or of "overall")."""
        if dimension_key == OVERALL:
            return self.overall
        value = self.ratings.get(dimension_key)
        return None if value is None else int(value)

    def set(self, dimension_key: str, rating: int) -> None:
        if dimension_key == OVERALL:
            self.overall = rating
        else:
            self.ratings = {**self.ratings, dimension_key: rating}


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
    OVERALL = OVERALL

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


def _resolves(appeal: Any, user: Any) -> bool:
    return is_hr(user)


class Appeal(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        UPHELD = "upheld", "Upheld (rating kept)"
        CHANGED = "changed", "Changed"

    OUTCOMES: ClassVar[tuple[str, ...]] = (Status.UPHELD, Status.CHANGED)

    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="appeals")
    dimension_key = models.CharField(max_length=60)
    reason = models.TextField()
    status = FSMField(max_length=20, choices=Status.choices, default=Status.OPEN)
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

    def state_sentence(self) -> str:
        return f"the appeal is {self.get_status_display().lower()}"

    def idle_sentence(self) -> str:
        return "nothing: the appeal is resolved"

    @transition(
        field=status,
        source=Status.OPEN,
        target=Status.UPHELD,
        permission=_resolves,
        custom=step("uphold the rating", "HR"),
    )
    def uphold(self) -> None:
        pass

    @transition(
        field=status,
        source=Status.OPEN,
        target=Status.CHANGED,
        permission=_resolves,
        custom=step("change the rating", "HR"),
    )
    def change(self) -> None:
        pass

    def as_dict(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension_key,
            "status": self.status,
            "before": self.before,
            "after": self.after,
        }


# The process pulse: after acknowledging a finalised review, the engineer may say how well
# they understand how they were evaluated. Process health reports the answers per cycle,
# only for groups of at least MIN_PULSE_GROUP.
PULSE_QUESTIONS = (
    ("explain", "I can explain how I was evaluated"),
    ("criteria", "The criteria for my level are clear"),
    ("evidence", "The evidence I gave was considered"),
)
MIN_PULSE_GROUP = 5


class PulseAnswer(models.Model):
    """One engineer's answers (1 disagree – 5 agree), kept apart from who gave them: no person,
    no review, no time, and a random key, so that nothing orders or links them to the
    receipts."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cycle = models.ForeignKey(ReviewCycle, on_delete=models.PROTECT, related_name="+")
    explain = models.PositiveSmallIntegerField(null=True, blank=True)
    criteria = models.PositiveSmallIntegerField(null=True, blank=True)
    evidence = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(**{f"{key}__isnull": True}) | Q(**{f"{key}__gte": 1, f"{key}__lte": 5}),
                name=f"pulse_{key}_1_to_5",
            )
            for key, _question in PULSE_QUESTIONS
        ]

    def __str__(self) -> str:
        return f"A pulse answer in {self.cycle_id}"


class PulseReceipt(models.Model):
    """That a review's engineer answered the pulse (once), not what they answered."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return f"Pulse answered for review {self.review_id}"
