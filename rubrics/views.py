"""Rubric pages: browse a rubric's levels × dimensions, weights, governance and changelog."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe

from rubrics import selectors
from rubrics.charts import _weights_chart as weights_chart_of
from rubrics.diff import diff_documents
from rubrics.permissions import can_manage_rubrics


@login_required
def rubric_list(request: HttpRequest) -> HttpResponse:
    rubrics = selectors.rubrics_for_user(request.user)
    return render(request, "rubrics/list.html", {"rubrics": rubrics})


@login_required
def rubric_detail(request: HttpRequest, slug: str) -> HttpResponse:
    versions = selectors.visible_versions_of(request.user, slug)
    version = selectors.chosen_version(versions, request.GET.get("version") or None)
    content = selectors.matrix(version)
    return render(
        request,
        "rubrics/detail.html",
        {
            "rubric": version.rubric,
            "version": version,
            "versions": versions,
            "levels": content.levels,
            "matrix": content.rows,
            "scale_points": version.scale.points(),
            "weights_svg": mark_safe(
                weights_chart_of(version.number, [(d.name, d.weight) for d, _ in content.rows])
            ),
            "changelog": selectors.changelog_of(versions),
            "can_manage": can_manage_rubrics(request.user),
        },
    )


@login_required
def rubric_diff(request: HttpRequest, slug: str) -> HttpResponse:
    versions = selectors.visible_versions_of(request.user, slug)
    default_to = versions[-1].number
    default_from = versions[-2].number if len(versions) > 1 else default_to
    try:
        from_number = int(request.GET.get("from", default_from))
        to_number = int(request.GET.get("to", default_to))
    except ValueError:
        raise Http404("No such version.") from None
    old = selectors.chosen_version(versions, from_number)
    new = selectors.chosen_version(versions, to_number)
    old_document, new_document = selectors.documents([old, new])
    return render(
        request,
        "rubrics/diff.html",
        {
            "rubric": new.rubric,
            "versions": versions,
            "old": old,
            "new": new,
            "diff": diff_documents(old_document, new_document),
        },
    )
