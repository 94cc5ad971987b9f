"""Delivery events, in the manner of DORA's Four Keys: changes (commits), deployments (which
changes they shipped) and incidents (which deployment caused them). Each carries a team and a
service, never a person: the four keys are team-level context, invisible to scoring.

An event is known by its service and its id: sent again, it changes nothing."""

from __future__ import annotations

import calendar
import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q

from people.models import Team

ID_LENGTH = 200
SERVICE_LENGTH = 100


class DeliverySource(models.Model):
    """A system that sends delivery events (a CI pipeline, an incident tool), with a token of
    its own. It acts for the HR person who registered it: if they stop being HR, or the source
    is revoked, its token stops working. Only a digest of the token is kept."""

    name = models.CharField(max_length=80, unique=True)
    token_digest = models.CharField(max_length=64, unique=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class _Event(models.Model):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    service = models.CharField(max_length=SERVICE_LENGTH)
    external_id = models.CharField(max_length=ID_LENGTH)
    # Who sent it: a source, or (null) a person through the API or a CSV file.
    source = models.ForeignKey(
        DeliverySource, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.service}/{self.external_id}"


class Change(_Event):
    committed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "external_id"], name="change_per_service")
        ]
        indexes = [models.Index(fields=["team", "committed_at"], name="change_team_time")]


class Deployment(_Event):
    deployed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service", "external_id"], name="deployment_per_service"
            )
        ]
        indexes = [models.Index(fields=["team", "deployed_at"], name="deployment_team_time")]


class DeploymentChange(models.Model):
    """A change a deployment shipped, by the change's id; `change` is filled in as soon as
    both are known, whichever arrived first."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="shipped")
    change_ref = models.CharField(max_length=ID_LENGTH)
    change = models.ForeignKey(
        Change, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "change_ref"], name="deployment_change_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["change_ref"], condition=Q(change__isnull=True), name="shipped_unresolved"
            )
        ]

    def __str__(self) -> str:
        return f"{self.deployment} shipped {self.change_ref}"


class Incident(_Event):
    opened_at = models.DateTimeField()
    restored_at = models.DateTimeField(null=True, blank=True)
    # The id of the deployment that caused it, in the same service (empty: none known).
    deployment_ref = models.CharField(max_length=ID_LENGTH, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "external_id"], name="incident_per_service"),
            models.CheckConstraint(
                condition=Q(restored_at__isnull=True) | Q(restored_at__gte=models.F("opened_at")),
                name="incident_restored_after_opened",
            ),
        ]
        indexes = [
            models.Index(fields=["team", "opened_at"], name="incident_team_time"),
            models.Index(fields=["service", "deployment_ref"], name="incident_cause"),
        ]


# Leading indicators a team may send beside the four keys (which lag): each a measurement at a
# time, summarised per period by its median. Name → (label, unit).
INDICATORS = {
    "cycle_time": ("Cycle time", "hours"),
    "first_review_time": ("Time to first review", "hours"),
    "pr_size": ("Pull request size", "lines"),
    "wip": ("Work in progress", "items"),
}


class Indicator(_Event):
    """One measurement of a team's leading indicator (a merged pull request's cycle time, a
    day's work in progress...), never a person's."""

    name = models.CharField(max_length=30, choices=[(k, v[0]) for k, v in INDICATORS.items()])
    value = models.DecimalField(max_digits=14, decimal_places=2)
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service", "external_id"], name="indicator_per_service"
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="indicator_not_negative"),
        ]
        indexes = [models.Index(fields=["team", "name", "at"], name="indicator_team_time")]


# ---- governance ------------------------------------------------------------------------------
# Every metric is governed: a record per governed metric (a rubric dimension or one of a team's
# four keys) with its owner, purpose, hypothesis, limitations, anti-gaming notes, baseline,
# target range and review cadence; and the reviews of it (a metric review, or a harm review
# asking whether it causes avoidance, collaboration breakdowns, fear of visibility or gaming),
# each with a decision, signed off by the owner and by HR. A metric is due a review a cadence
# after its last signed-off review (or after it was first governed), and overdue past that day.

# A metric's subject: "team:<key>" for a team metric, "dimension:<rubric>:<key>" for a rubric
# dimension.
TEAM_METRICS = {
    "deployment_frequency": "Deployment frequency",
    "lead_time": "Lead time for changes",
    "change_failure_rate": "Change failure rate",
    "time_to_restore": "Time to restore",
}
HARM_QUESTIONS = (
    ("avoidance", "Does it make people avoid work that matters (on-call, risky fixes, mentoring)?"),
    ("collaboration", "Does it break down collaboration (hoarding work or credit)?"),
    ("visibility", "Does it make people afraid to be seen (hiding incidents or mistakes)?"),
    ("gaming", "Has anyone been seen gaming it?"),
)
HARM_ANSWERS = ("no", "unsure", "yes")


class Cadence(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    HALF_YEARLY = "half_yearly", "Half-yearly"


MONTHS = {Cadence.MONTHLY: 1, Cadence.QUARTERLY: 3, Cadence.HALF_YEARLY: 6}


class Function(models.TextChoices):
    ENGINEERING = "engineering", "Engineering"
    PRODUCT = "product", "Product"
    PEOPLE = "people", "People"


def months_after(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later (the month's last day where it has fewer days)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


class GovernedMetric(models.Model):
    subject = models.CharField(max_length=200, unique=True)
    name = models.CharField(max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    functions = models.JSONField(default=list)  # of Function values: who is represented
    purpose = models.TextField()
    hypothesis = models.TextField(help_text="What the metric should predict.")
    limitations = models.TextField(blank=True)
    anti_gaming = models.TextField(blank=True)
    baseline = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    target_low = models.DecimalField(max_digits=12, decimal_places=2)
    target_high = models.DecimalField(max_digits=12, decimal_places=2)
    cadence = models.CharField(max_length=20, choices=Cadence.choices)
    governed_since = models.DateField()
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(target_low__lte=models.F("target_high")), name="target_range_ordered"
            ),
            models.CheckConstraint(
                condition=Q(cadence__in=[c.value for c in Cadence]), name="cadence_known"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class GovernanceReview(models.Model):
    class Kind(models.TextChoices):
        METRIC = "metric", "Metric review"
        HARM = "harm", "Harm review"

    class Decision(models.TextChoices):
        KEEP = "keep", "Keep"
        CHANGE = "change", "Change"
        RETIRE = "retire", "Retire"

    metric = models.ForeignKey(GovernedMetric, on_delete=models.PROTECT, related_name="reviews")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    findings = models.TextField()
    harm = models.JSONField(default=dict)  # a harm review's answers: question key → answer
    decision = models.CharField(max_length=10, choices=Decision.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    owner_signed_at = models.DateTimeField(null=True, blank=True)
    hr_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    hr_signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-recorded_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.metric}"

    @property
    def signed_off(self) -> bool:
        return self.owner_signed_at is not None and self.hr_signed_at is not None
