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
        # Lists sort by team name: walked in order, a page of them reads a page of rows.
        indexes = [models.Index(fields=["name"], name="team_name")]

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
    # The HR system's identifier: an organisation import matches people by it before e-mail.
    employee_id = models.CharField(max_length=64, blank=True, default="")
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
            models.UniqueConstraint(
                fields=["employee_id"],
                condition=~Q(employee_id=""),
                name="engineer_employee_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    def is_managed_by(self, user: Any) -> bool:
        """Direct management (rating, nominating); skip-level managers may only read."""
        return bool(self.manager_id is not None and self.manager_id == getattr(user, "pk", None))


class Transfer(models.Model):
    """A move of an engineer to another team, manager or level, kept for history. Reviews
    already opened keep what they were opened with; the engineer's current manager rates what
    is still open, and the manager recorded on a review keeps reading it."""

    class Source(models.TextChoices):
        HR = "hr", "Changed by HR"
        IMPORT = "import", "Organisation import"
        SCIM = "scim", "Identity provider (SCIM)"

    engineer = models.ForeignKey(Engineer, on_delete=models.PROTECT, related_name="transfers")
    at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=Source.choices)
    from_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    to_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    from_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    to_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    from_level = models.CharField(max_length=20)
    to_level = models.CharField(max_length=20)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["engineer", "-at"], name="transfer_engineer_at")]

    def __str__(self) -> str:
        return f"{self.engineer} moved {self.at:%Y-%m-%d}"
