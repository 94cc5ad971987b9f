"""Versioned rubrics. A version's content is frozen the moment it leaves draft.

Immutability is enforced on every write path Django offers: `Model.save`/`delete`,
`QuerySet.update`/`delete`/`bulk_create`/`bulk_update`. Only the lifecycle fields of a version
(status and its timestamps/approvers) may change after publication.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, transition

from core.roles import is_hr_or_system
from core.workflow import step
from rubrics.scoring import DimensionSpec, ScaleSpec

KEY_VALIDATOR = RegexValidator(
    r"^[a-z][a-z0-9_]*$", "Use lower-case letters, digits and underscores, starting with a letter."
)


def _manages_rubrics(version: Any, user: Any) -> bool:
    return is_hr_or_system(user)


def _approves(version: Any, user: Any) -> bool:
    """A second HR user: never the one who submitted the version that awaits approval."""
    awaiting = version.status == RubricVersion.Status.PENDING_APPROVAL
    submitter = version.submitted_by_id == getattr(user, "pk", None)
    return is_hr_or_system(user) and not (awaiting and submitter)


class RubricVersionFrozen(Exception):
    """Raised on any attempt to change a version (or its content) that has left draft."""


class Rubric(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    requires_second_approval = models.BooleanField(
        default=False, help_text="Publishing needs a second HR user's approval."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RubricVersionQuerySet(models.QuerySet["RubricVersion"]):
    def published(self) -> RubricVersionQuerySet:
        return self.filter(status=RubricVersion.Status.PUBLISHED)

    def released(self) -> RubricVersionQuerySet:
        """Versions that were ever live: readable by every signed-in user."""
        return self.filter(status__in=RubricVersion.RELEASED)

    def frozen(self) -> RubricVersionQuerySet:
        return self.exclude(status=RubricVersion.Status.DRAFT)

    def update(self, **kwargs: Any) -> int:
        if set(kwargs) - RubricVersion.LIFECYCLE_FIELDS and self.frozen().exists():
            raise RubricVersionFrozen("Published rubric versions cannot be changed.")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        if self.frozen().exists():
            raise RubricVersionFrozen("Published rubric versions cannot be deleted.")
        return super().delete()


class RubricVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PENDING_APPROVAL = "pending_approval", "Awaiting approval"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    RELEASED: ClassVar[tuple[str, ...]] = (Status.PUBLISHED, Status.RETIRED)
    LIFECYCLE_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"status", "published_at", "published_by", "approved_by", "retired_at"}
    )

    rubric = models.ForeignKey(Rubric, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = FSMField(default=Status.DRAFT, choices=Status.choices)
    description = models.TextField(blank=True)
    rationale = models.TextField(blank=True, help_text="Why this version exists.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    objects = RubricVersionQuerySet.as_manager()

    class Meta:
        ordering = ["rubric", "number"]
        constraints = [
            models.UniqueConstraint(fields=["rubric", "number"], name="rubric_version_number"),
            models.UniqueConstraint(
                fields=["rubric"],
                condition=Q(status="published"),
                name="rubric_one_published_version",
            ),
            models.UniqueConstraint(
                fields=["rubric"],
                condition=Q(status__in=["draft", "pending_approval"]),
                name="rubric_one_open_draft",
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1), name="rubric_version_number_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rubric} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            stored = RubricVersion.objects.filter(pk=self.pk).values_list("status", flat=True)
            stored_status = stored.first()
            update_fields = kwargs.get("update_fields")
            # Once a version leaves draft its content is frozen; only its lifecycle moves.
            if stored_status not in (None, self.Status.DRAFT) and (
                update_fields is None or set(update_fields) - self.LIFECYCLE_FIELDS
            ):
                raise RubricVersionFrozen(f"{self} is {stored_status}: it cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if RubricVersion.objects.filter(pk=self.pk).frozen().exists():
            raise RubricVersionFrozen(f"{self} is not a draft: it cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_released(self) -> bool:
        return self.status in self.RELEASED

    # ---- the version machine (core.workflow asks it) ----------------------------------------

    def state_sentence(self) -> str:
        return f"{self} is {self.get_status_display().lower()}"

    def idle_sentence(self) -> str:
        return "nothing: a retired version stays as it is, for the record"

    @transition(
        field=status,
        source=Status.DRAFT,
        target=None,
        permission=_manages_rubrics,
        custom=step("edit the draft (only drafts change)", "HR"),
    )
    def edit(self) -> None:
        pass

    @transition(
        field=status,
        source=Status.DRAFT,
        target=Status.PENDING_APPROVAL,
        permission=_manages_rubrics,
        custom=step("submit the version for a second HR approval", "HR", hidden=True),
    )
    def submit_for_approval(self) -> None:
        pass

    @transition(
        field=status,
        source=Status.PENDING_APPROVAL,
        target=Status.DRAFT,
        permission=_manages_rubrics,
        custom=step("send the version back to draft", "a second HR user"),
    )
    def send_back(self) -> None:
        pass

    @transition(
        field=status,
        source=Status.PENDING_APPROVAL,
        target=None,
        permission=_approves,
        custom=step("approve the version", "a second HR user"),
    )
    def approve(self) -> None:
        pass

    @transition(
        field=status,
        source=[Status.DRAFT, Status.PENDING_APPROVAL],
        target=Status.PUBLISHED,
        permission=_manages_rubrics,
        custom=step("publish the version", "HR"),
    )
    def publish(self) -> None:
        pass

    @transition(
        field=status,
        source=Status.PUBLISHED,
        target=Status.RETIRED,
        permission=_manages_rubrics,
        custom=step("retire the version", "HR"),
    )
    def retire(self) -> None:
        pass

    # Plain-data views of this version, for the pure scoring engine and the linter.
    def scale_spec(self) -> ScaleSpec:
        return self.scale.spec()

    def dimension_specs(self) -> list[DimensionSpec]:
        return [d.spec() for d in self.dimensions.all()]


class VersionContentQuerySet(models.QuerySet[Any]):
    """Refuses bulk writes that would touch the content of a frozen version."""

    def _touches_frozen(self) -> bool:
        lookup = self.model.VERSION_LOOKUP
        return self.exclude(**{f"{lookup}__status": RubricVersion.Status.DRAFT}).exists()

    def update(self, **kwargs: Any) -> int:
        if self._touches_frozen():
            raise RubricVersionFrozen("Content of a published rubric version cannot be changed.")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        if self._touches_frozen():
            raise RubricVersionFrozen("Content of a published rubric version cannot be deleted.")
        return super().delete()

    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> list[Any]:
        objs = list(objs)
        version_ids = {obj.owning_version_id() for obj in objs}
        if RubricVersion.objects.filter(pk__in=version_ids).frozen().exists():
            raise RubricVersionFrozen("Content cannot be added to a published rubric version.")
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> int:
        objs = list(objs)
        if self.filter(pk__in=[o.pk for o in objs])._touches_frozen():
            raise RubricVersionFrozen("Content of a published rubric version cannot be changed.")
        return super().bulk_update(objs, *args, **kwargs)


class VersionContent(models.Model):
    """Base for rows that belong to one rubric version and freeze with it."""

    VERSION_LOOKUP: ClassVar[str] = "version"

    objects = VersionContentQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._check_draft()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        self._check_draft()
        return super().delete(*args, **kwargs)

    def owning_version_id(self) -> int:
        return self.version_id  # type: ignore[attr-defined,no-any-return]

    def _check_draft(self) -> None:
        version_id = self.owning_version_id()
        if RubricVersion.objects.filter(pk=version_id).frozen().exists():
            raise RubricVersionFrozen("Content of a published rubric version cannot be changed.")


class RatingScale(VersionContent):
    version = models.OneToOneField(RubricVersion, on_delete=models.CASCADE, related_name="scale")
    min_rating = models.PositiveSmallIntegerField(default=1)
    max_rating = models.PositiveSmallIntegerField(default=5)
    anchors = models.JSONField(default=dict, help_text='Anchor text per point: {"1": "..."}')

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(min_rating__lt=models.F("max_rating")), name="scale_min_below_max"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.min_rating}–{self.max_rating}"

    def spec(self) -> ScaleSpec:
        return ScaleSpec(minimum=self.min_rating, maximum=self.max_rating)

    @property
    def midpoint(self) -> Decimal:
        return self.spec().midpoint

    def problem(self, value: Any) -> str | None:
        """Why `value` is not a rating on this scale, or None when it is one."""
        return self.spec().problem(value)

    def points(self) -> list[tuple[int, str]]:
        return [
            (point, self.anchors.get(str(point), ""))
            for point in range(self.min_rating, self.max_rating + 1)
        ]


class Level(VersionContent):
    version = models.ForeignKey(RubricVersion, on_delete=models.CASCADE, related_name="levels")
    order = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["version", "order"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="level_code_per_version"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Dimension(VersionContent):
    version = models.ForeignKey(RubricVersion, on_delete=models.CASCADE, related_name="dimensions")
    order = models.PositiveSmallIntegerField()
    key = models.CharField(max_length=60, validators=[KEY_VALIDATOR])
    name = models.CharField(max_length=120)
    weight = models.DecimalField(max_digits=7, decimal_places=2)
    gate_below = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="A rating below this caps the composite."
    )
    gate_cap = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    owner = models.CharField(max_length=200, blank=True)
    purpose = models.TextField(blank=True)
    limitations = models.TextField(blank=True)
    anti_gaming = models.TextField(blank=True)
    review_cadence = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["version", "order"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="dimension_key_per_version"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="dimension_weight_positive"),
            models.CheckConstraint(
                condition=Q(gate_below__isnull=True, gate_cap__isnull=True)
                | Q(gate_below__isnull=False, gate_cap__isnull=False),
                name="dimension_gate_complete",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_gate(self) -> bool:
        return self.gate_below is not None

    def spec(self) -> DimensionSpec:
        return DimensionSpec(
            key=self.key,
            name=self.name,
            weight=self.weight,
            gate_below=self.gate_below,
            gate_cap=self.gate_cap,
        )


class Criterion(VersionContent):
    VERSION_LOOKUP = "dimension__version"

    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="criteria")
    level = models.ForeignKey(Level, on_delete=models.CASCADE, related_name="criteria")
    text = models.TextField()

    class Meta:
        ordering = ["dimension__order", "level__order"]
        constraints = [
            models.UniqueConstraint(fields=["dimension", "level"], name="criterion_per_cell"),
        ]

    def __str__(self) -> str:
        return f"{self.dimension.key} × {self.level.code}"

    def owning_version_id(self) -> int:
        return self.dimension.version_id
