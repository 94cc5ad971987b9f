"""The audit log page for HR: the chain's integrity, and every event, filterable down to one
target's history end to end.

The page costs the same at ten thousand events and at a million. Its pickers come from small
sources, never from the log: the registry of action codes, the models events name as targets,
and a search of people as you type. It pages by event number ("newer" / "older", keyset
pagination) instead of by page number, and counts nothing: the newest event's number is how
many events the log holds."""

from __future__ import annotations

import datetime
import functools
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import django_filters
from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import DateInput
from django.forms.renderers import BaseRenderer
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.views.decorators.http import require_GET, require_http_methods

from audit import registry
from audit.api import AuditEventFilter
from audit.models import AuditEvent, AuditEventQuerySet
from audit.selectors import event_page, people_matching
from audit.services import chain_status
from audit.tasks import whole_check_queue
from core import limits
from core.roles import is_hr

PER_PAGE = 50

# The page filters by the same rules as the API (exact actor, a declared action or area,
# exact target) with pickers: a search of people, actions by what they did, the kinds of
# target there are, calendar days.
LABELS = {
    "actor": ("Actor", "Who acted: type a name to search, or a username."),
    "area": ("Area", "Every action of one part of Levelset."),
    "action": ("Action", ""),
    "target_type": ("Target type", "Pick one, or type it (e.g. reviews.review)."),
    "target_id": ("Target id", "With a target type: one target's history."),
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


@functools.cache
def _action_options() -> SafeString:
    """The action picker's options, none chosen: built once (the registry does not change
    while Levelset runs)."""
    return format_html_join(
        "",
        '<optgroup label="{}">{}</optgroup>',
        (
            (area, format_html_join("", '<option value="{}">{}</option>', actions))
            for area, actions in _action_choices()
        ),
    )


class ActionSelect(forms.Select):
    """The action picker: actions grouped by area (<optgroup>), the options built once and
    the chosen one marked, instead of a template rendered per option on every visit."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        options = _action_options()
        chosen = conditional_escape("" if value is None else str(value))
        if chosen:
            marker = format_html('value="{}"', chosen)
            options = SafeString(options.replace(marker, f"{marker} selected", 1))
        final = self.build_attrs(self.attrs, attrs)
        attributes = format_html_join(
            "", ' {}="{}"', ((k, v) for k, v in final.items() if v not in (None, False))
        )
        empty = format_html(
            '<option value=""{}>Any action</option>', "" if chosen else SafeString(" selected")
        )
        return format_html('<select name="{}"{}>{}{}</select>', name, attributes, empty, options)


@functools.cache
def known_target_types() -> SafeString:
    """The target type picker's options: the kinds of object events name as targets
    (`audit.services.record` names a model instance by its label, e.g. `reviews.review`),
    Levelset's own models and the people and groups of Django's sign-in. Read from the code
    once, never from the log; any other type can be typed in."""
    labels = sorted(
        model._meta.label_lower
        for config in apps.get_app_configs()
        if config.label == "auth" or Path(config.path).parent == settings.BASE_DIR
        for model in config.get_models()
    )
    return format_html_join("", '<option value="{}">', ((label,) for label in labels))


def within_bounds(value: datetime.date) -> None:
    problem = limits.date_problem(value)
    if problem:
        raise ValidationError(problem)


def _start_of(day: datetime.date) -> datetime.datetime:
    """The first moment of a calendar day, where Levelset keeps its calendar (TIME_ZONE)."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


class AuditPageFilter(AuditEventFilter):
    area = django_filters.ChoiceFilter(
        choices=lambda: [(a, a) for a in registry.areas()],
        method="by_area",
        empty_label="Every area",
    )
    action = django_filters.ChoiceFilter(
        field_name="action",
        choices=_action_choices,
        empty_label="Any action",
        widget=ActionSelect,
    )
    since = django_filters.DateFilter(
        method="by_first_day", widget=DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(
        method="by_last_day", widget=DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = self.form.fields
        fields["actor"].widget.attrs.update(
            {
                "list": "people",
                "autocomplete": "off",
                "hx-get": reverse("audit:people"),
                "hx-trigger": "input changed delay:250ms",
                "hx-target": "#people",
                "hx-swap": "innerHTML",
            }
        )
        fields["target_type"].widget.attrs["list"] = "target-types"
        for name in ("since", "until"):
            fields[name].validators.append(within_bounds)

    def by_first_day(
        self, queryset: AuditEventQuerySet, name: str, value: datetime.date
    ) -> AuditEventQuerySet:
        return queryset.written_since(_start_of(value))

    def by_last_day(
        self, queryset: AuditEventQuerySet, name: str, value: datetime.date
    ) -> AuditEventQuerySet:
        return queryset.written_before(_start_of(value + datetime.timedelta(days=1)))


def event_row(event: AuditEvent, tampered_seq: int | None) -> SafeString:
    """One event's row of the log. Written in Python: the same row as a template loop would
    write, at a fraction of the cost of fifty rows of template tags and filters."""
    if event.target_type:
        query = f"target_type={quote(event.target_type, safe='/')}"
        query += f"&target_id={quote(str(event.target_id), safe='/')}"
        name = format_html("<br>{}", event.target_repr) if event.target_repr else ""
        target = format_html(
            '<code>{}:{}</code>{}<br><a class="history" href="?{}">history of this target</a>',
            event.target_type,
            event.target_id,
            name,
            query,
        )
    else:
        target = SafeString("—")
    payload = ""
    if event.payload:
        fields = len(event.payload)
        payload = format_html(
            '<details><summary>{} field{}</summary><pre class="payload">{}</pre></details>',
            fields,
            "" if fields == 1 else "s",
            json.dumps(event.payload, indent=1),
        )
    return format_html(
        '\n      <tr id="event-{}"{}>\n        <td>{}</td>\n'
        '        <td class="nowrap">{}</td>\n        <td>{}</td>\n'
        '        <td>{}<br><code class="muted">{}</code></td>\n        <td>{}</td>\n'
        "        <td>{}</td>\n      </tr>\n    ",
        event.seq,
        SafeString(' class="tampered"') if tampered_seq == event.seq else "",
        event.seq,
        timezone.localtime(event.created_at).strftime("%Y-%m-%d %H:%M:%S"),
        event.actor_repr,
        capfirst(registry.sentence(event.action)),
        event.action,
        target,
        payload,
    )


class PageLinkForm(forms.Form):
    """Where a page of events starts: below an event's number (older) or above it (newer)."""

    before = forms.IntegerField(required=False, min_value=1, max_value=limits.MAX_ID)
    after = forms.IntegerField(required=False, min_value=0, max_value=limits.MAX_ID)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("before") is not None and data.get("after") is not None:
            raise ValidationError("A page starts before an event or after one, not both.")
        return data


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
    found = AuditPageFilter(request.GET or None, queryset=AuditEvent.objects.all())
    for name, (label, help_text) in LABELS.items():
        found.form.fields[name].label = label
        found.form.fields[name].help_text = help_text
    link = PageLinkForm(request.GET)
    page = None
    if (not found.is_bound or found.form.is_valid()) and link.is_valid():
        page = event_page(
            found.qs,
            size=PER_PAGE,
            before=link.cleaned_data["before"],
            after=link.cleaned_data["after"],
        )
    # Page links keep the filter; only where the page starts changes.
    query = request.GET.copy()
    for name in ("before", "after", "page"):
        query.pop(name, None)
    return render(
        request,
        "audit/log.html",
        {
            "report": report,
            "form": found.form,
            "link_errors": [e for errors in link.errors.values() for e in errors],
            "page": page,
            "rows": [
                event_row(event, report.first_bad_seq) for event in (page.events if page else [])
            ],
            "query": query.urlencode(),
            "per_page": PER_PAGE,
            "filtered": any(request.GET.get(name) for name in LABELS),
            "target": (request.GET.get("target_type"), request.GET.get("target_id")),
            "target_types": known_target_types(),
        },
        status=200 if page is not None else 400,
    )


class PeopleSearchForm(forms.Form):
    actor = forms.CharField(required=False, max_length=limits.SHORT_TEXT)


@login_required
@require_GET
def people_search(request: HttpRequest) -> HttpResponse:
    """The actor box's suggestions as you type (htmx fills its list): people, not the log."""
    if not is_hr(request.user):
        raise Http404("No such page.")
    search = PeopleSearchForm(request.GET)
    if not search.is_valid():
        return render(request, "audit/_people.html", {"people": []}, status=400)
    found = people_matching(search.cleaned_data["actor"])
    return render(request, "audit/_people.html", {"people": found})
