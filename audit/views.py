"""The audit log page for HR: the chain's integrity, and every event, filterable down to one
target's history end to end."""

from __future__ import annotations

import datetime
import json
from typing import Any

import django_filters
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms import DateInput
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from audit import registry
from audit.api import AuditEventFilter
from audit.models import AuditEvent
from audit.services import chain_status
from audit.tasks import whole_check_queue
from core import limits
from core.roles import is_hr

PER_PAGE = 50

# The page filters by the same rules as the API (exact actor, a declared action or area,
# exact target) with pickers: people who acted, actions by what they did, calendar days.
LABELS = {
    "actor": ("Actor", "Who acted (pick from the list, or type a username)."),
    "area": ("Area", "Every action of one part of Levelset."),
    "action": ("Action", ""),
    "target_type": ("Target type", ""),
    "target_id": ("Target id", ""),
    "since": ("From", "The first day, included."),
    "until": ("To", "The last day, included."),
}


def _action_choices() -> list[tuple[str, Any]]:
    """Actions grouped by area, each named by what it does."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for action in registry.declared():
        grouped.setdefault(action.area.capitalize(), []).append(
            (str(action), action.sentence.capitalize())
        )
    return sorted(grouped.items())


class AuditPageFilter(AuditEventFilter):
    action = django_filters.ChoiceFilter(
        field_name="action", choices=_action_choices, empty_label="Any action"
    )
    target_type = django_filters.ChoiceFilter(
        choices=lambda: [
            (t, t)
            for t in AuditEvent.objects.exclude(target_type="")
            .order_by("target_type")
            .values_list("target_type", flat=True)
            .distinct()
        ],
        empty_label="Any target",
    )
    since = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", widget=DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", widget=DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.form.fields["actor"].widget.attrs["list"] = "actors"
        self.form.fields["area"].empty_label = "Every area"  # type: ignore[attr-defined]
        for name in ("since", "until"):
            self.form.fields[name].validators.append(within_bounds)


def within_bounds(value: datetime.date) -> None:
    problem = limits.date_problem(value)
    if problem:
        raise ValidationError(problem)


def _actors() -> list[str]:
    """People who have acted, for the actor picker (the most recent 500 names)."""
    return list(
        AuditEvent.objects.order_by("actor_repr")
        .values_list("actor_repr", flat=True)
        .distinct()[:MAX_ACTORS]
    )


MAX_ACTORS = 500


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def event_list(request: HttpRequest) -> HttpResponse:
    if not is_hr(request.user):
        raise Http404("No such page.")
    if request.method == "POST":  # "Verify the whole chain now": in the background
        whole_check_queue()
        messages.success(
            request,
            "A check of the whole chain is queued; this page shows its result when it is done.",
        )
        return redirect(request.get_full_path())
    # Read from the stored checks: nothing is verified on a request.
    report = chain_status()
    events = AuditPageFilter(request.GET or None, queryset=AuditEvent.objects.order_by("-seq"))
    for name, (label, help_text) in LABELS.items():
        if name in events.form.fields:
            events.form.fields[name].label = label
            events.form.fields[name].help_text = help_text
    page = Paginator(events.qs, PER_PAGE).get_page(request.GET.get("page"))
    # Page links keep the filter; only the page number changes.
    query = request.GET.copy()
    query.pop("page", None)
    bad_page = None
    if report.first_bad_seq is not None:
        # Newest first: the bad event's page is set by how many events come after it.
        newer = AuditEvent.objects.filter(seq__gt=report.first_bad_seq).count()
        bad_page = newer // PER_PAGE + 1
    filtered = any(request.GET.get(name) for name in LABELS)
    return render(
        request,
        "audit/log.html",
        {
            "report": report,
            "form": events.form,
            "page": page,
            "events": [
                (event, registry.sentence(event.action), json.dumps(event.payload, indent=1))
                for event in page
            ],
            "query": query.urlencode(),
            "filtered": filtered,
            "bad_page": bad_page,
            "target": (request.GET.get("target_type"), request.GET.get("target_id")),
            "actors": _actors(),
        },
    )
