"""Filters for lists of reviews (django-filter), one set for the API and the pages: by cycle,
team, state and manager, a search by the engineer's name, and sorting."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms

from core.api import IdFilter
from core.filters import PersonSearchFilter
from core.roles import Role, people_with_roles
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


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.get_username()


class PersonChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = PersonChoiceField


class ReviewPageFilter(ReviewFilter):
    """The same filters on a page: pickers of the cycles, teams and managers there are."""

    cycle = django_filters.ModelChoiceFilter(
        field_name="cycle", queryset=None, empty_label="Every cycle", widget=QuickSelect
    )
    team = django_filters.ModelChoiceFilter(
        field_name="team",
        queryset=Team.objects.order_by("name"),
        empty_label="Every team",
        widget=QuickSelect,
    )
    manager = PersonChoiceFilter(
        field_name="manager",
        queryset=people_with_roles(Role.MANAGER),
        empty_label="Every manager",
        widget=QuickSelect,
    )
    state = django_filters.ChoiceFilter(
        choices=Review.State.choices, empty_label="Any state", widget=QuickSelect
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["cycle"].queryset = (  # type: ignore[attr-defined]
            cycles_for_user(user).select_related(None).only("pk", "name")
        )
