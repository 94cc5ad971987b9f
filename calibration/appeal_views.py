"""HR's appeals inbox: every appeal, open ones first, filterable by status and cycle, and one
appeal's page with what HR needs to decide (the rating, the engineer's reason, the evidence
tagged to the dimension) and the form that upholds or changes it."""

from __future__ import annotations

import django_filters
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from calibration import selectors, services
from calibration.forms import AppealResolveForm
from calibration.models import Appeal
from core import workflow
from core.actors import acting_user
from core.errors import DomainError
from core.filters import PersonSearchFilter
from core.forms import add_service_errors, posted
from core.roles import is_hr
from reviews.models import ReviewCycle
from rubrics.models import Dimension

PER_PAGE = 25


class AppealFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Appeal.Status.choices, empty_label="Any status")
    cycle = django_filters.ModelChoiceFilter(
        field_name="review__cycle", queryset=ReviewCycle.objects.all(), empty_label="Any cycle"
    )
    q = PersonSearchFilter(user_path="review__engineer__user", label="Engineer")

    class Meta:
        model = Appeal
        fields = ["status", "cycle", "q"]


def _dimension_names(version_ids: set[int]) -> dict[tuple[int, str], str]:
    return {
        (version_id, key): name
        for version_id, key, name in Dimension.objects.filter(
            version_id__in=version_ids
        ).values_list("version_id", "key", "name")
    }


@login_required
def appeal_list(request: HttpRequest) -> HttpResponse:
    if not is_hr(request.user):
        raise Http404("No such page.")
    open_first = Case(
        When(status=Appeal.Status.OPEN, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    appeals = selectors.appeals_for_user(request.user).order_by(open_first, "-created_at", "-pk")
    found = AppealFilter(request.GET or None, queryset=appeals)
    page = Paginator(found.qs, PER_PAGE).get_page(request.GET.get("page"))
    names = _dimension_names({a.review.cycle.rubric_version_id for a in page})
    rows = [
        (a, names.get((a.review.cycle.rubric_version_id, a.dimension_key), a.dimension_key))
        for a in page
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "calibration/appeals.html",
        {"filter": found, "page": page, "rows": rows, "query": query.urlencode()},
    )


@login_required
def appeal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not is_hr(request.user):
        raise Http404("No such appeal.")
    appeal = selectors.get_appeal_for_user(request.user, pk)
    review = appeal.review
    version = review.cycle.rubric_version
    form = AppealResolveForm(posted(request), scale=version.scale)
    if request.method == "POST" and form.is_valid():
        try:
            services.appeal_resolve(
                actor=acting_user(request),
                appeal=appeal,
                outcome=form.cleaned_data["outcome"],
                new_rating=form.cleaned_data["new_rating"],
                resolution=form.cleaned_data["resolution"],
            )
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Appeal resolved; the engineer sees the resolution.")
            return redirect("calibration:appeal", pk=appeal.pk)
    dimension = version.dimensions.filter(key=appeal.dimension_key).first()
    anchors = dict(version.scale.points())
    return render(
        request,
        "calibration/appeal.html",
        {
            "appeal": appeal,
            "review": review,
            "dimension": dimension,
            "evidence": [
                e for e in selectors.review_evidence(review) if appeal.dimension_key in e.dimensions
            ],
            "form": form,
            "can_resolve": bool(workflow.allowed_actions(appeal, request.user)),
            "before_anchor": anchors.get(appeal.before or 0, ""),
            "after_anchor": anchors.get(appeal.after or 0, ""),
        },
        status=400 if form.errors else 200,
    )
