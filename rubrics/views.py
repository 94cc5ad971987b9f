"""Rubric pages: browse a rubric's levels × dimensions, weights, governance and changelog."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe

from rubrics import selectors
from rubrics.charts import weights_chart
from rubrics.diff import diff_documents
from rubrics.document import version_to_document
from rubrics.permissions import can_manage_rubrics


@login_required
def rubric_list(request: HttpRequest) -> HttpResponse:
    rubrics = selectors.rubrics_for_user(request.user)
    return render(request, "rubrics/list.html", {"rubrics": rubrics})


@login_required
def rubric_detail(request: HttpRequest, slug: str) -> HttpResponse:
    rubric = selectors.get_rubric_for_user(request.user, slug)
    number = request.GET.get("version")
    if number:
        version = selectors.get_version_for_user(request.user, slug, number)
    else:
        version = selectors.default_version_for_user(request.user, rubric)
    levels = list(version.levels.all())
    dimensions = list(version.dimensions.all())
    # The levels × dimensions matrix: one row per dimension, one cell per level.
    matrix = []
    for dimension in dimensions:
        by_level = {c.level_id: c.text for c in dimension.criteria.all()}
        matrix.append((dimension, [by_level.get(level.pk, "") for level in levels]))
    return render(
        request,
        "rubrics/detail.html",
        {
            "rubric": rubric,
            "version": version,
            "versions": selectors.versions_for_user(request.user, rubric),
            "levels": levels,
            "matrix": matrix,
            "scale_points": version.scale.points(),
            "weights_svg": mark_safe(weights_chart(version)),
            "changelog": selectors.changelog(rubric),
            "can_manage": can_manage_rubrics(request.user),
        },
    )


@login_required
def rubric_diff(request: HttpRequest, slug: str) -> HttpResponse:
    rubric = selectors.get_rubric_for_user(request.user, slug)
    versions = list(selectors.versions_for_user(request.user, rubric))
    if len(versions) < 1:
        raise Http404("No such version.")
    default_to = versions[-1].number
    default_from = versions[-2].number if len(versions) > 1 else default_to
    try:
        from_number = int(request.GET.get("from", default_from))
        to_number = int(request.GET.get("to", default_to))
    except ValueError:
        raise Http404("No such version.") from None
    old = selectors.get_version_for_user(request.user, slug, from_number)
    new = selectors.get_version_for_user(request.user, slug, to_number)
    return render(
        request,
        "rubrics/diff.html",
        {
            "rubric": rubric,
            "versions": versions,
            "old": old,
            "new": new,
            "diff": diff_documents(version_to_document(old), version_to_document(new)),
        },
    )
