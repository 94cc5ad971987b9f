"""A team's scorecard page: the four keys of a period, and their trend as charts."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from core.actors import acting_user
from core.errors import DomainError
from core.forms import add_service_errors, posted
from core.roles import is_hr
from metrics import charts, selectors
from metrics import governance as gov
from metrics.forms import GovernanceReviewForm, GovernedMetricForm, PeriodForm
from metrics.models import INDICATORS, GovernanceReview, GovernedMetric
from metrics.permissions import get_team_for_user

# (attribute, governed subject, label, unit, what it means)
KEYS = [
    (
        "deployments_per_week",
        "team:deployment_frequency",
        "Deployment frequency",
        " / week",
        "Deployments in the period, per week.",
    ),
    (
        "lead_time_hours",
        "team:lead_time",
        "Lead time for changes",
        " h",
        "Median of deployment time minus commit time.",
    ),
    (
        "change_failure_rate",
        "team:change_failure_rate",
        "Change failure rate",
        "%",
        "Deployments that caused an incident.",
    ),
    (
        "time_to_restore_hours",
        "team:time_to_restore",
        "Time to restore",
        " h",
        "Median of restored minus opened.",
    ),
]


def _against(value: Any, metric: GovernedMetric | None) -> str:
    """Where a value stands against its governed target range."""
    if metric is None or value is None:
        return ""
    if value < metric.target_low:
        return "below the range"
    if value > metric.target_high:
        return "above the range"
    return "within the range"


@login_required
def scorecard(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_team_for_user(request.user, pk)
    form = PeriodForm(request.GET or None)
    periods = form.periods()
    trend = selectors.team_trend(team.pk, periods)
    labels = [f"{p.start:%-d %b}–{p.end:%-d %b %Y}" for p in trend]
    governed = {
        m.subject: m
        for m in GovernedMetric.objects.filter(
            subject__in=[key[1] for key in KEYS], retired_at__isnull=True
        )
    }
    rows = []
    for attribute, subject, label, unit, meaning in KEYS:
        values = [getattr(p, attribute) for p in trend]
        # pygal escapes the labels it writes into the SVG.
        chart = mark_safe(
            charts.trend_chart(
                label, labels, [None if v is None else float(v) for v in values], unit
            )
        )
        metric = governed.get(subject)
        rows.append(
            {
                "label": label,
                "unit": unit,
                "meaning": meaning,
                "values": values,
                "chart": chart,
                "governed": metric,
                "against": _against(values[-1], metric),
            }
        )
    medians = selectors.team_indicators(team.pk, periods)
    leading = [
        (label, unit, [found.get(name) for found in medians])
        for name, (label, unit) in INDICATORS.items()
        if any(found.get(name) is not None for found in medians)
    ]
    return render(
        request,
        "metrics/scorecard.html",
        {
            "team": team,
            "form": form,
            "current": trend[-1],
            "trend": trend,
            "labels": labels,
            "rows": rows,
            "leading": leading,
        },
    )


def _hr_only(request: HttpRequest) -> None:
    if not is_hr(request.user):
        raise Http404("No such page.")


@login_required
def governance(request: HttpRequest) -> HttpResponse:
    """HR: what governance is due and overdue, each metric's last review and its decision,
    reviews waiting for a signature, the pruning log; and a metric to govern."""
    _hr_only(request)
    form = GovernedMetricForm(posted(request), subjects=gov.subjects())
    if request.method == "POST" and form.is_valid():
        try:
            data = form.cleaned_data
            gov.governed_metric_create(
                actor=acting_user(request),
                subject=data["subject"],
                owner=data["owner"],
                functions=data["functions"],
                purpose=data["purpose"],
                hypothesis=data["hypothesis"],
                limitations=data["limitations"],
                anti_gaming=data["anti_gaming"],
                baseline=data["baseline"],
                target_low=data["target_low"],
                target_high=data["target_high"],
                cadence=data["cadence"],
            )
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, "The metric is governed: its first review is on the calendar."
            )
            return redirect("metrics:governance")
    rows = gov.calendar_of_reviews()
    return render(
        request,
        "metrics/governance.html",
        {
            "rows": rows,
            "overdue": sum(row.overdue for row in rows),
            "pruned": gov.pruning_log(),
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def governance_review(request: HttpRequest, pk: int) -> HttpResponse:
    """The metric's owner or HR records a review (or a harm review) with its decision."""
    metric = GovernedMetric.objects.filter(pk=pk, retired_at__isnull=True).first()
    if metric is None or not (is_hr(request.user) or metric.owner_id == request.user.pk):
        raise Http404("No such metric.")
    form = GovernanceReviewForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            gov.governance_review_record(
                actor=acting_user(request),
                metric=metric,
                kind=form.cleaned_data["kind"],
                findings=form.cleaned_data["findings"],
                decision=form.cleaned_data["decision"],
                harm=form.harm(),
            )
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, "Review recorded; it acts once the owner and HR signed it off."
            )
            return redirect("metrics:governance" if is_hr(request.user) else "reviews:list")
    return render(
        request,
        "metrics/governance_review.html",
        {"metric": metric, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def governance_sign(request: HttpRequest, pk: int) -> HttpResponse:
    review = GovernanceReview.objects.select_related("metric").filter(pk=pk).first()
    if review is None or not (is_hr(request.user) or review.metric.owner_id == request.user.pk):
        raise Http404("No such review.")
    try:
        gov.governance_review_sign(actor=acting_user(request), review=review)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Signed off.")
    return redirect("metrics:governance" if is_hr(request.user) else "reviews:list")


@login_required
def rubric_governance(request: HttpRequest, slug: str) -> HttpResponse:
    """HR: the rubric's dimensions overdue (or soon due) their governance review, as a notice
    the rubric page fetches when it loads."""
    _hr_only(request)
    prefix = f"dimension:{slug}:"
    rows = [row for row in gov.calendar_of_reviews() if row.metric.subject.startswith(prefix)]
    return render(
        request,
        "metrics/_rubric_governance.html",
        {"overdue": [row for row in rows if row.overdue], "governed": len(rows)},
    )
