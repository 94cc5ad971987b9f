"""The audit log page for HR: the chain's integrity, and every event, filterable down to one
target's history end to end."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from audit import registry
from audit.api import AuditEventFilter
from audit.models import AuditEvent
from audit.services import chain_status, check_whole_chain
from core.roles import is_hr

PER_PAGE = 50

# The page filters by the same rules as the API (exact actor, a declared action or area,
# exact target); only the labels are the page's own.
LABELS = {
    "actor": ("Actor", "A username, exactly."),
    "area": ("Area", "Every action of one part of Levelset."),
    "action": ("Action", ""),
    "target_type": ("Target type", "e.g. reviews.review"),
    "target_id": ("Target id", ""),
    "since": ("Since", "ISO date-time, e.g. 2026-11-01T00:00"),
    "until": ("Until", "ISO date-time"),
}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def event_list(request: HttpRequest) -> HttpResponse:
    if not is_hr(request.user):
        raise Http404("No such page.")
    if request.method == "POST":  # "Verify the whole chain now"
        report = check_whole_chain()
        messages.success(request, f"The whole chain was verified: {report.message}.")
        return redirect(request.get_full_path())
    report = chain_status()
    events = AuditEventFilter(request.GET or None, queryset=AuditEvent.objects.order_by("-seq"))
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
        },
    )
