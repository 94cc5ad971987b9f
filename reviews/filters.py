"""Filters for lists of reviews (django-filter), one set for the API and the pages: by cycle,
team, state and manager, a search by the engineer's name, and sorting."""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.cache import cache

from core import readcache
from core.api import IdFilter
from core.filters import PersonSearchFilter, ThoroughOrderingFilter
from core.roles import Role, is_hr, people_with_roles
from core.widgets import QuickSelect
from people.models import Team
from reviews.models import Review, ReviewCycle
from reviews.permissions import visible_reviews_filter

SORTS = (
    ("engineer__user__last_name", "name"),
    ("team__name", "team"),
    ("cycle__self_review_ends", "cycle"),
    ("level_code", "level"),
    ("state", "state"),
    ("evidence_count", "evidence"),
)


class ReviewFilter(django_filters.FilterSet):
    cycle = IdFilter(field_name="cycle_id")
    team = IdFilter(field_name="team_id")
    manager = IdFilter(field_name="manager_id")
    state = django_filters.ChoiceFilter(choices=Review.State.choices)
    q = PersonSearchFilter(user_path="engineer__user", label="Engineer")
    o = ThoroughOrderingFilter(fields=SORTS, label="Sort by")

    class Meta:
        model = Review
        fields = ["cycle", "team", "manager", "state", "q"]


PICKERS_SECONDS = 300


def _person(first: str, last: str, username: str) -> str:
    return f"{first} {last}".strip() or username


def _everything() -> dict[str, list[tuple[str, str]]]:
    """HR's pickers: every cycle, team and manager there is."""
    managers = people_with_roles(Role.MANAGER).values_list(
        "pk", "first_name", "last_name", "username"
    )
    return {
        "cycle": [(str(pk), name) for pk, name in ReviewCycle.objects.values_list("pk", "name")],
        "team": [
            (str(pk), name) for pk, name in Team.objects.order_by("name").values_list("pk", "name")
        ],
        "manager": [(str(pk), _person(*names)) for pk, *names in managers],
    }


def _in_reach(user: Any) -> dict[str, list[tuple[str, str]]]:
    """The cycles, teams and managers of the reviews `user` may see, from one query over
    those reviews (each part of the visibility rule is answered from an index), so that a
    manager's pickers cost what their few reviews cost, whatever the organisation's size."""
    rows = (
        Review.objects.filter(visible_reviews_filter(user))
        .order_by()
        .values_list(
            "cycle_id",
            "cycle__name",
            "cycle__self_review_ends",
            "team_id",
            "team__name",
            "manager_id",
            "manager__first_name",
            "manager__last_name",
            "manager__username",
        )
        .distinct()
    )
    cycles: dict[int, tuple[Any, ...]] = {}
    teams: dict[int, str] = {}
    managers: dict[int, tuple[str, str, str]] = {}
    for cycle, cycle_name, ends, team, team_name, manager, first, last, username in rows:
        cycles[cycle] = (ends, cycle_name)
        teams[team] = team_name
        if manager is not None:
            managers[manager] = (last, first, username)
    # The orders of HR's pickers: cycles latest first, teams and people by name.
    by_cycle = sorted(cycles.items(), key=lambda item: item[1][1])
    by_cycle.sort(key=lambda item: item[1][0], reverse=True)
    return {
        "cycle": [(str(pk), name) for pk, (_ends, name) in by_cycle],
        "team": [(str(pk), name) for pk, name in sorted(teams.items(), key=lambda t: t[1])],
        "manager": [
            (str(pk), _person(first, last, username))
            for pk, (last, first, username) in sorted(managers.items(), key=lambda m: m[1])
        ],
    }


def picker_choices(user: Any) -> dict[str, list[tuple[str, str]]]:
    """The cycles, teams and managers the pickers offer, as (id, name) pairs: HR's are every
    one there is; anyone else's those of the reviews they may see, so that no one is offered
    (or shown the names of) teams and managers beyond their reach. Read once per generation
    of what they show (core.readcache: every write to cycles, teams, people or roles moves the
    organisation's; a write to a review moves the views of those who may read it) and kept in
    the cache meanwhile."""
    if is_hr(user):
        who, scopes, build = "hr", [], _everything
    else:
        pk = getattr(user, "pk", 0)
        who, scopes = f"user-{pk}", [f"person:{pk}"]
        build = lambda: _in_reach(user)  # noqa: E731
    current = ".".join(map(str, readcache.generations(readcache.EVERYTHING, *scopes)))
    key = f"review-pickers:{current}:{who}"
    choices = cache.get_or_set(key, build, PICKERS_SECONDS)
    return choices if choices is not None else build()


class ReviewPageFilter(ReviewFilter):
    """The same filters on a page, with pickers of the cycles, teams and managers of the
    reviews the viewer may see."""

    cycle = django_filters.ChoiceFilter(
        field_name="cycle_id", choices=[], empty_label="Every cycle", widget=QuickSelect
    )
    team = django_filters.ChoiceFilter(
        field_name="team_id", choices=[], empty_label="Every team", widget=QuickSelect
    )
    manager = django_filters.ChoiceFilter(
        field_name="manager_id", choices=[], empty_label="Every manager", widget=QuickSelect
    )
    state = django_filters.ChoiceFilter(
        choices=Review.State.choices, empty_label="Any state", widget=QuickSelect
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("cycle", "team", "manager"):
            # Read when the picker is shown or a value checked, not for a page without one.
            self.filters[name].extra["choices"] = lambda name=name: picker_choices(user)[name]
