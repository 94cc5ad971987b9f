"""A team's scorecard page: the four keys of a period, and their trend as charts."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe

from metrics import charts, selectors
from metrics.forms import PeriodForm
from metrics.permissions import get_team_for_user
from metrics.selectors import TREND_PERIODS

# (attribute, label, unit, what it means)
KEYS = [
    (
        "deployments_per_week",
        "Deployment frequency",
        " / week",
        "Deployments in the period, per week.",
    ),
    (
        "lead_time_hours",
        "Lead time for changes",
        " h",
        "Median of deployment time minus commit time.",
    ),
    ("change_failure_rate", "Change failure rate", "%", "Deployments that caused an incident."),
    ("time_to_restore_hours", "Time to restore", " h", "Median of restored minus opened."),
]


@login_required
def scorecard(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_team_for_user(request.user, pk)
    form = PeriodForm(request.GET or None)
    start, end = form.period()
    periods = selectors.periods_ending(end, (end - start).days + 1, TREND_PERIODS)
    trend = selectors.team_trend(team.pk, periods)
    labels = [f"{p.start:%-d %b}–{p.end:%-d %b %Y}" for p in trend]
    rows = []
    for attribute, label, unit, meaning in KEYS:
        values = [getattr(p, attribute) for p in trend]
        # pygal escapes the labels it writes into the SVG.
        chart = mark_safe(
            charts.trend_chart(
                label, labels, [None if v is None else float(v) for v in values], unit
            )
        )
        rows.append(
            {"label": label, "unit": unit, "meaning": meaning, "values": values, "chart": chart}
        )
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
        },
    )
