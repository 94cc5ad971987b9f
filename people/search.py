"""Searches by name for the pickers too long to offer whole (a form naming people or teams
across the organisation): up to SUGGESTED people holding given roles, or teams, whose name
holds what was typed. htmx fills the suggestions in as a list of checkboxes posted under the
form's field; without JavaScript the same address is a page listing the matches."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core import limits
from core.filters import named_by
from core.roles import Role, has_role, is_hr, people_with_roles
from people.models import Team

SUGGESTED = 10
TICKED = 200  # ticked suggestions kept across searches, at most
FIELD_NAME = re.compile(r"^[a-z][a-z_]{0,39}$")


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=limits.SHORT_TEXT)
    role = forms.MultipleChoiceField(required=False, choices=Role.choices)
    field = forms.RegexField(regex=FIELD_NAME, required=False)


def may_search(user: Any) -> bool:
    """Who schedules calibration sessions (HR and facilitators), the only forms searching the
    whole organisation's names."""
    return is_hr(user) or has_role(user, Role.FACILITATOR)


def people_named(text: str, roles: list[Role]) -> QuerySet[Any]:
    """Active people holding any of `roles` whom each word of `text` names."""
    return named_by(people_with_roles(*roles), text) if text.split() else people_with_roles().none()


def teams_named(text: str) -> QuerySet[Team]:
    """Teams whose name holds `text`, by name."""
    text = text.strip()
    return (
        Team.objects.filter(name__icontains=text).order_by("name", "pk")
        if text
        else Team.objects.none()
    )


def _search(request: HttpRequest, field: str) -> dict[str, Any]:
    """What is asked: the text, the roles searched, and the form field the suggestions are
    posted under (`field` unless named). 404 for anyone who may not search."""
    if not may_search(request.user):
        raise Http404("No such page.")
    form = SearchForm(request.GET)
    if not form.is_valid():
        raise BadRequest(form.errors.as_text())
    return {
        "text": form.cleaned_data["q"].strip(),
        "roles": [Role(value) for value in form.cleaned_data["role"]] or [Role.MANAGER],
        "field": form.cleaned_data["field"] or field,
    }


def _answer(request: HttpRequest, found: dict[str, Any]) -> HttpResponse:
    template = "people/_found.html" if getattr(request, "htmx", False) else "people/search.html"
    return render(request, template, found)


@login_required
@require_GET
def person_search(request: HttpRequest) -> HttpResponse:
    """People by name: those already ticked (still holding the roles) first, then up to
    SUGGESTED more. Their usernames are what the form's field takes."""
    asked = _search(request, "people")
    ticked_names = request.GET.getlist(asked["field"])[:TICKED]
    ticked = list(people_with_roles(*asked["roles"]).filter(username__in=ticked_names))
    kept = {person.pk for person in ticked}
    found = [p for p in people_named(asked["text"], asked["roles"])[:SUGGESTED] if p.pk not in kept]
    choices = [
        (
            person.get_username(),
            person.get_full_name() or person.get_username(),
            person.get_username(),
        )
        for person in [*ticked, *found]
    ]
    return _answer(
        request,
        {
            **asked,
            "choices": choices,
            "ticked": {person.get_username() for person in ticked},
            "what": "people",
        },
    )


@login_required
@require_GET
def team_search(request: HttpRequest) -> HttpResponse:
    """Teams by name: those already ticked first, then up to SUGGESTED more. Each is posted by
    its slug, which names one team even where two share a name."""
    asked = _search(request, "teams")
    ticked_slugs = request.GET.getlist(asked["field"])[:TICKED]
    ticked = list(Team.objects.filter(slug__in=ticked_slugs).order_by("name", "pk"))
    kept = {team.pk for team in ticked}
    found = [t for t in teams_named(asked["text"])[:SUGGESTED] if t.pk not in kept]
    return _answer(
        request,
        {
            **asked,
            "choices": [(team.slug, team.name, team.slug) for team in [*ticked, *found]],
            "ticked": {team.slug for team in ticked},
            "what": "teams",
        },
    )
