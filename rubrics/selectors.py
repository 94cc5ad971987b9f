"""Read paths for rubrics: what a given user may see, with the queries spelled out."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.http import Http404

from core import limits
from rubrics.diff import diff_documents
from rubrics.document import version_to_document
from rubrics.models import Criterion, Dimension, Level, Rubric, RubricVersion
from rubrics.permissions import visible_versions_filter
from rubrics.scoring import DimensionSpec, ScaleSpec


def rubrics_for_user(user: Any) -> QuerySet[Rubric]:
    """Rubrics with at least one version the user may read, annotated for listing."""
    visible = visible_versions_filter(user)
    version_q = Q(versions__in=RubricVersion.objects.filter(visible))
    return (
        Rubric.objects.filter(version_q)
        .annotate(
            visible_versions=Count("versions", filter=version_q, distinct=True),
            published_number=Max(
                "versions__number", filter=Q(versions__status=RubricVersion.Status.PUBLISHED)
            ),
            latest_number=Max("versions__number", filter=version_q),
        )
        .order_by("name")
    )


def get_rubric_for_user(user: Any, slug: str) -> Rubric:
    rubric = rubrics_for_user(user).filter(slug=slug).first()
    if rubric is None:
        raise Http404("No such rubric.")
    return rubric


def versions_for_user(user: Any, rubric: Rubric) -> QuerySet[RubricVersion]:
    return (
        RubricVersion.objects.filter(rubric=rubric)
        .filter(visible_versions_filter(user))
        .select_related("rubric", "published_by", "approved_by", "submitted_by")
        .order_by("number")
    )


def with_content(queryset: QuerySet[RubricVersion]) -> QuerySet[RubricVersion]:
    """Everything a version's page, export, diff or score needs, in a fixed number of queries."""
    return queryset.select_related("rubric", "scale").prefetch_related(
        "levels",
        Prefetch(
            "dimensions",
            queryset=Dimension.objects.order_by("order").prefetch_related(
                Prefetch("criteria", queryset=Criterion.objects.select_related("level"))
            ),
        ),
    )


@dataclass(frozen=True)
class VersionData:
    """A rubric version's content as plain data: what scoring and its explanation read."""

    rubric: str
    number: int
    scale: ScaleSpec
    dimensions: tuple[DimensionSpec, ...]
    levels: tuple[str, ...]
    criteria: Mapping[tuple[str, str], str]  # (dimension key, level code) → criterion text


# Released content never changes (the models refuse every write), so it is loaded once per
# process. The key carries the creation time: a database rebuilt with reused ids is not
# mistaken for the one read before.
_VERSION_DATA: dict[tuple[int, datetime.datetime], VersionData] = {}


def version_data(version: RubricVersion) -> VersionData:
    key = (version.pk, version.created_at)
    data = _VERSION_DATA.get(key)
    if data is not None:
        return data
    loaded = with_content(RubricVersion.objects.filter(pk=version.pk)).get()
    data = VersionData(
        rubric=loaded.rubric.slug,
        number=loaded.number,
        scale=loaded.scale_spec(),
        dimensions=tuple(loaded.dimension_specs()),
        levels=tuple(level.code for level in loaded.levels.all()),
        criteria={
            (dimension.key, criterion.level.code): criterion.text
            for dimension in loaded.dimensions.all()
            for criterion in dimension.criteria.all()
        },
    )
    if loaded.is_released:  # a version awaiting approval can still go back to draft
        _VERSION_DATA[key] = data
    return data


def get_version_for_user(user: Any, slug: str, number: int | str) -> RubricVersion:
    """The version, or 404 both when it is missing and when the user may not see it."""
    wanted = limits.as_id(number)
    if wanted is None:
        raise Http404("No such version.")
    version = (
        with_content(RubricVersion.objects.filter(visible_versions_filter(user)))
        .filter(rubric__slug=slug, number=wanted)
        .first()
    )
    if version is None:
        raise Http404("No such version.")
    return version


def default_version_for_user(user: Any, rubric: Rubric) -> RubricVersion:
    """The live version if there is one, else the newest the user may see."""
    versions = versions_for_user(user, rubric)
    chosen = versions.filter(status=RubricVersion.Status.PUBLISHED).first() or versions.last()
    if chosen is None:
        raise Http404("No such version.")
    return get_version_for_user(user, rubric.slug, chosen.number)


def changelog(rubric: Rubric) -> list[tuple[RubricVersion, list[str]]]:
    """Released versions, newest first, each with the sentences saying what it changed."""
    versions = list(
        with_content(RubricVersion.objects.filter(rubric=rubric).released())
        .select_related("published_by", "approved_by")
        .order_by("-number")
    )
    documents = [version_to_document(v) for v in versions]
    entries = []
    for index, version in enumerate(versions):
        if index + 1 < len(documents):
            changes = diff_documents(documents[index + 1], documents[index])["summary"]
        else:
            changes = ["First published version."]
        entries.append((version, changes))
    return entries


def live_version(rubric: Rubric) -> RubricVersion | None:
    """The published version of a rubric, with its content, or None."""
    return (
        with_content(rubric.versions.filter(status=RubricVersion.Status.PUBLISHED))
        .order_by("-number")
        .first()
    )


def level_codes_in_use() -> set[str] | None:
    """The level codes of every published rubric version, or None while none is published
    (an organisation may be loaded before its first rubric)."""
    codes = set(
        Level.objects.filter(version__status=RubricVersion.Status.PUBLISHED).values_list(
            "code", flat=True
        )
    )
    return codes or None
