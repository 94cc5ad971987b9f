"""Sorting on list pages: a descending sort is exactly the ascending one reversed, even where
people share a last name or a whole name."""

from __future__ import annotations

import django_filters
import pytest
from django.contrib.auth import get_user_model

from core.filters import ThoroughOrderingFilter
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class PeopleFilter(django_filters.FilterSet):
    o = ThoroughOrderingFilter(fields=(("last_name", "name"),))

    class Meta:
        model = get_user_model()
        fields: list[str] = []


def sorted_by(order: str) -> list[str]:
    people = get_user_model().objects.all()
    return [u.username for u in PeopleFilter({"o": order}, queryset=people).qs]


def test_descending_is_ascending_reversed_through_ties() -> None:
    # Created in an order that sorts neither by first name nor by key alone.
    for username, first in [("o1", "Olivia"), ("a1", "Ana"), ("z", "Zed"), ("a2", "Ana")]:
        UserFactory(username=username, first_name=first, last_name="Shaffer")
    UserFactory(username="b", first_name="Bo", last_name="Adams")

    ascending = sorted_by("name")
    assert ascending == ["b", "a1", "a2", "o1", "z"]
    assert sorted_by("-name") == list(reversed(ascending))
