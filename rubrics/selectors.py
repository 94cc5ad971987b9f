"""Read paths for rubrics: what a given user may see, with the queries spelled out."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Prefetch, Q, QuerySet, prefetch_related_objects
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


def visible_versions_of(user: Any, slug: str) -> list[RubricVersion]:
    """The versions of a rubric the user may read, oldest first, each with its rubric, scale
    and the people who released it: one query for a rubric's pages. 404 when there is none."""
    versions = list(
        RubricVersion.objects.filter(rubric__slug=slug)
        .filter(visible_versions_filter(user))
        .select_related("rubric", "scale", "published_by", "approved_by", "submitted_by")
        .order_by("number")
    )
    if not versions:
        raise Http404("No such rubric.")
    return versions


def chosen_version(versions: list[RubricVersion], number: int | str | None) -> RubricVersion:
    """Among a rubric's visible versions: the one numbered, else the live one, else the
    newest. 404 for a number that is not among them."""
    if number is not None:
        wanted = limits.as_id(number)
        found = [v for v in versions if v.number == wanted]
        if not found:
            raise Http404("No such version.")
        return found[0]
    live = [v for v in versions if v.status == RubricVersion.Status.PUBLISHED]
    return live[0] if live else versions[-1]


def load_content(versions: list[RubricVersion]) -> None:
    """Read the levels, dimensions and criteria of versions already loaded (three queries)."""
    prefetch_related_objects(
        versions,
        "levels",
        Prefetch(
            "dimensions",
            queryset=Dimension.objects.order_by("order").prefetch_related(
                Prefetch("criteria", queryset=Criterion.objects.select_related("level"))
            ),
        ),
    )


def _key(version: RubricVersion) -> tuple[int, datetime.datetime]:
    return (version.pk, version.created_at)


_CONTENT: dict[tuple[int, datetime.datetime], tuple[list[Level], list[Dimension]]] = {}


def attach_content(version: RubricVersion) -> None:
    """Give a version already loaded its levels and its dimensions with their criteria, as
    `load_content` does. A released version's are read once per process and shared between
    requests: nothing writes them (the models refuse every write to released content)."""
    content = _CONTENT.get(_key(version))
    if content is None:
        load_content([version])
        if version.is_released:
            _CONTENT[_key(version)] = (list(version.levels.all()), list(version.dimensions.all()))
        return
    levels, dimensions = content
    cache: dict[str, Any] = version.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, rows in (("levels", levels), ("dimensions", dimensions)):
        loaded = getattr(version, name).all()
        loaded._result_cache, loaded._prefetch_done = list(rows), True
        cache[name] = loaded


@dataclass(frozen=True)
class Matrix:
    """A version's levels, and its dimensions each with the criterion text per level (in
    level order, "" where there is none): what a rubric's page lays out."""

    levels: tuple[Level, ...]
    rows: tuple[tuple[Dimension, tuple[str, ...]], ...]


_MATRICES: dict[tuple[int, datetime.datetime], Matrix] = {}


def matrix(version: RubricVersion) -> Matrix:
    """The version's matrix; a released version's is read once per process (its content
    never changes)."""
    found = _MATRICES.get(_key(version))
    if found is not None:
        return found
    load_content([version])
    levels = tuple(version.levels.all())
    rows = []
    for dimension in version.dimensions.all():
        by_level = {c.level_id: c.text for c in dimension.criteria.all()}
        rows.append((dimension, tuple(by_level.get(level.pk, "") for level in levels)))
    built = Matrix(levels=levels, rows=tuple(rows))
    if version.is_released:
        _MATRICES[_key(version)] = built
    return built


# The documents of released versions: their content never changes, so each is built once per
# process, keyed as _VERSION_DATA. The rubric's own fields (which may be edited) are taken from
# the rubric as read on each use.
_RELEASED_DOCUMENTS: dict[tuple[int, datetime.datetime], dict[str, Any]] = {}


def documents(versions: list[RubricVersion]) -> list[dict[str, Any]]:
    """Each version's canonical document (as `version_to_document`), reading the content of
    released versions only the first time a process needs it. Each version needs its rubric
    and scale loaded."""
    missing = [v for v in versions if not v.is_released or _key(v) not in _RELEASED_DOCUMENTS]
    if missing:
        load_content(missing)  # those whose content is loaded already are skipped
    result = []
    for version in versions:
        cached = _RELEASED_DOCUMENTS.get(_key(version)) if version.is_released else None
        if cached is None:
            document = version_to_document(version)
            if version.is_released:
                _RELEASED_DOCUMENTS[_key(version)] = document
        else:
            rubric = version.rubric
            document = {
                **cached,
                "rubric": rubric.slug,
                "name": rubric.name,
                "requires_second_approval": rubric.requires_second_approval,
            }
        result.append(document)
    return result


def changelog_of(versions: list[RubricVersion]) -> list[tuple[RubricVersion, list[str]]]:
    """The released versions among `versions` (oldest first, as loaded by
    `visible_versions_of`), newest first, each with the sentences saying what it changed."""
    released = [v for v in reversed(versions) if v.is_released]
    docs = documents(released)
    entries = []
    for index, version in enumerate(released):
        if index + 1 < len(docs):
            changes = diff_documents(docs[index + 1], docs[index])["summary"]
        else:
            changes = ["First published version."]
        entries.append((version, changes))
    return entries


def changelog(rubric: Rubric) -> list[tuple[RubricVersion, list[str]]]:
    """Released versions, newest first, each with the sentences saying what it changed."""
    versions = list(
        RubricVersion.objects.filter(rubric=rubric)
        .released()
        .select_related("rubric", "scale", "published_by", "approved_by")
        .order_by("number")
    )
    return changelog_of(versions)


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
