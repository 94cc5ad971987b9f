"""Filters for lists of reviews (django-filter), one set for the API and the pages: by cycle,
team, state and manager, a search by the engineer's name, and sorting."""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.cache import cache

from core import readcache
from core.api import IdFilter
from core.filters import PersonSearchFilter
from core.roles import Role, is_hr, people_with_roles
from core.widgets import QuickSelect
from people.models import Team
from reviews.models import Review
from reviews.selectors import cycles_for_user

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
    o = django_filters.OrderingFilter(fields=SORTS, label="Sort by")

    class Meta:
        model = Review
        fields = ["cycle", "team", "manager", "state", "q"]


PICKERS_SECONDS = 300


def picker_choices(user: Any) -> dict[str, list[tuple[str, str]]]:
    """The cycles (those the user may see), teams and managers the pickers offer, as (id,
    name) pairs. Read once per generation of review data (core.readcache: every write to
    cycles, teams, people or roles moves it) and kept in the cache meanwhile."""
    who = "hr" if is_hr(user) else f"user-{getattr(user, 'pk', 0)}"
    key = f"review-pickers:{readcache.generation()}:{who}"

    def build() -> dict[str, list[tuple[str, str]]]:
        managers = people_with_roles(Role.MANAGER).values_list(
            "pk", "first_name", "last_name", "username"
        )
        return {
            "cycle": [
                (str(pk), name) for pk, name in cycles_for_user(user).values_list("pk", "name")
            ],
            "team": [
                (str(pk), name)
                for pk, name in Team.objects.order_by("name").values_list("pk", "name")
            ],
            "manager": [
                (str(pk), f"{first} {last}".strip() or username)
                for pk, first, last, username in managers
            ],
        }

    choices = cache.get_or_set(key, build, PICKERS_SECONDS)
    return choices if choices is not None else build()


class ReviewPageFilter(ReviewFilter):
    """The same filters on a page, with pickers of the cycles, teams and managers there are."""

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
