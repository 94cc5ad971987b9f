"""Filters for lists of reviews (django-filter), one set for the API and the pages: by cycle,
team, state and manager, a search by the engineer's name, and sorting."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import django_filters
from django.core.cache import cache
from django.db.models import QuerySet

from core import limits, readcache
from core.api import IdFilter
from core.filters import PersonSearchFilter, ThoroughOrderingFilter
from core.roles import Role, is_hr, people_with_roles
from core.widgets import LONGEST_PICKER, ChosenCheckbox, SearchInput
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


# A picker list holds at most this many entries; one more than LONGEST_PICKER says "too many
# to offer: search instead", without reading (or caching) the whole organisation.
HELD = LONGEST_PICKER + 1


def _everything() -> dict[str, list[tuple[str, str]]]:
    """HR's pickers: every cycle, team and manager there is (teams and managers up to HELD)."""
    managers = people_with_roles(Role.MANAGER).values_list(
        "pk", "first_name", "last_name", "username"
    )[:HELD]
    return {
        "cycle": [(str(pk), name) for pk, name in ReviewCycle.objects.values_list("pk", "name")],
        "team": [
            (str(pk), name)
            for pk, name in Team.objects.order_by("name").values_list("pk", "name")[:HELD]
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
        "team": [(str(pk), name) for pk, name in sorted(teams.items(), key=lambda t: t[1])][:HELD],
        "manager": [
            (str(pk), _person(first, last, username))
            for pk, (last, first, username) in sorted(managers.items(), key=lambda m: m[1])
        ][:HELD],
    }


def picker_choices(user: Any) -> dict[str, list[tuple[str, str]]]:
    """The cycles, teams and managers the pickers offer, as (id, name) pairs (teams and
    managers up to HELD: more make the picker a search): HR's are every one there is; anyone
    else's those of the reviews they may see, so that no one is offered (or shown the names
    of) teams and managers beyond their reach. Read once per generation
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


def chosen_choice(user: Any, name: str, value: Any) -> list[tuple[str, str]]:
    """The team or manager (`name`) whose id is `value`, as the one choice of a picker that
    became a search, labelled with its name; none when it is not one `user` could pick: HR
    any team and any manager, anyone else those of the reviews they may see."""
    if not str(value or "").isdigit() or int(value) > limits.MAX_ID:
        return []
    pk = int(value)
    found: QuerySet[Any, str]
    if name == "team":
        if is_hr(user):
            found = Team.objects.filter(pk=pk).values_list("name", flat=True)
        else:
            found = (
                Review.objects.filter(visible_reviews_filter(user), team_id=pk)
                .order_by()
                .values_list("team__name", flat=True)
            )
        return [(str(pk), f"Team: {team}") for team in found[:1]]
    if is_hr(user):
        people = (
            people_with_roles(Role.MANAGER)
            .filter(pk=pk)
            .values_list("first_name", "last_name", "username")
        )
    else:
        people = (
            Review.objects.filter(visible_reviews_filter(user), manager_id=pk)
            .order_by()
            .values_list("manager__first_name", "manager__last_name", "manager__username")
        )
    return [(str(pk), f"Manager: {_person(*names)}") for names in people[:1]]


# Each picker that may become a search, and the filter searching it by name.
SEARCHED_BY = {"team": "team_name", "manager": "manager_name"}
ORDER = ("cycle", "team_name", "team", "manager_name", "manager", "state", "q", "o")


class ReviewPageFilter(ReviewFilter):
    """The same filters on a page, with pickers of the cycles, teams and managers of the
    reviews the viewer may see; a team or manager picker longer than a screenful becomes a
    search by name."""

    cycle = django_filters.ChoiceFilter(
        field_name="cycle_id", choices=[], empty_label="Every cycle"
    )
    team = django_filters.ChoiceFilter(field_name="team_id", choices=[], empty_label="Every team")
    manager = django_filters.ChoiceFilter(
        field_name="manager_id", choices=[], empty_label="Every manager"
    )
    state = django_filters.ChoiceFilter(choices=Review.State.choices, empty_label="Any state")
    # Used in place of the team and manager pickers when those would be too long to offer.
    team_name = django_filters.CharFilter(
        field_name="team__name",
        lookup_expr="icontains",
        label="Team",
        max_length=100,
        widget=SearchInput(attrs={"placeholder": "Part of a team's name"}),
    )
    manager_name = PersonSearchFilter(
        user_path="manager",
        label="Manager",
        widget=SearchInput(attrs={"placeholder": "Part of a manager's name"}),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        for name in ("cycle", "team", "manager"):
            # Read when the picker is shown or a value checked, not for a page without one.
            self.filters[name].extra["choices"] = lambda name=name: self.pickers[name]

    @cached_property
    def pickers(self) -> dict[str, list[tuple[str, str]]]:
        """`picker_choices`, read once for the page (each picker and each check of a value
        would otherwise ask the cache again)."""
        return picker_choices(self.user)

    def get_form_class(self) -> Any:
        """Each of the team and manager pickers, when it would offer more than a screenful,
        becomes a search by name beside the one value chosen by id (`?team=<id>`, as other
        pages link), shown by its name; otherwise the search is not offered. Decided when the
        form is first needed, so that a page without one reads no picker."""
        for name, search in SEARCHED_BY.items():
            if len(self.pickers[name]) > LONGEST_PICKER:
                value = self.data.get(name) if self.data else None
                self.filters[name].extra.update(
                    choices=lambda name=name, value=value: chosen_choice(self.user, name, value),
                    widget=ChosenCheckbox,
                    empty_label=None,
                )
            else:
                del self.filters[search]
        ordered = {name: self.filters.pop(name) for name in ORDER if name in self.filters}
        self.filters.update(ordered)
        return super().get_form_class()
