"""The organisation: teams and engineer profiles."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q


class Team(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EngineerQuerySet(models.QuerySet["Engineer"]):
    def reporting_to(self, user: Any) -> EngineerQuerySet:
        return self.filter(manager=user)

    def skip_level_of(self, user: Any) -> EngineerQuerySet:
        return self.filter(manager__engineer__manager=user)


class Engineer(models.Model):
    """A person's place in the organisation: team, level code and manager."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="engineer"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="engineers")
    level_code = models.CharField(max_length=20)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="direct_reports",
    )
    start_date = models.DateField()

    objects = EngineerQuerySet.as_manager()

    class Meta:
        ordering = ["team__name", "user__last_name", "user__first_name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(manager=models.F("user")), name="engineer_not_own_manager"
            ),
        ]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()
