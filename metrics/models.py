"""Delivery events, in the manner of DORA's Four Keys: changes (commits), deployments (which
changes they shipped) and incidents (which deployment caused them). Each carries a team and a
service, never a person: the four keys are team-level context, invisible to scoring.

An event is known by its service and its id: sent again, it changes nothing."""

from __future__ import annotations

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
