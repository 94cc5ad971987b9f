"""The organisation: teams and engineer profiles (team, level code, manager, start date).

The tables keep the names they were created with (`reviews_team`, `reviews_engineer`): the
models moved here without copying a row.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q


class Team(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)

    class Meta:
        db_table = "reviews_team"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EngineerQuerySet(models.QuerySet["Engineer"]):
    def reporting_to(self, user: Any) -> EngineerQuerySet:
        """Direct reports of `user`."""
        return self.filter(manager=user)

    def with_manager(self) -> EngineerQuerySet:
        """Engineers who have a manager: the people a review cycle covers."""
        return self.filter(manager__isnull=False)


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
    hr_attribute = models.CharField(
        max_length=80,
        blank=True,
        help_text=(
            "An HR-managed attribute (settings.LEVELSET_HR_ATTRIBUTE_LABEL names it) compared in "
            "calibration analytics like team and level. Visible to HR only."
        ),
    )

    objects = EngineerQuerySet.as_manager()

    class Meta:
        db_table = "reviews_engineer"
        ordering = ["team__name", "user__last_name", "user__first_name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(manager=models.F("user")), name="engineer_not_own_manager"
            ),
        ]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    def is_managed_by(self, user: Any) -> bool:
        """Direct management (rating, nominating); skip-level managers may only read."""
        return bool(self.manager_id is not None and self.manager_id == getattr(user, "pk", None))
