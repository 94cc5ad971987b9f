"""Filters every list page and API shares (django-filter): search by a person's name, and
sorting whose descending order is the ascending one reversed."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django_filters.constants import EMPTY_VALUES

MAX_SEARCH_WORDS = 4


def named_by(people: QuerySet[Any], text: str, *, path: str = "") -> QuerySet[Any]:
    """`people` whose person (at `path`, e.g. "engineer__user"; the rows themselves when
    empty) each word of `text` names, in their first name, last name or username. At most
    MAX_SEARCH_WORDS words are used."""
    prefix = f"{path}__" if path else ""
    for word in text.split()[:MAX_SEARCH_WORDS]:
        people = people.filter(
            Q(**{f"{prefix}first_name__icontains": word})
            | Q(**{f"{prefix}last_name__icontains": word})
            | Q(**{f"{prefix}username__icontains": word})
        )
    return people


class PersonSearchFilter(django_filters.CharFilter):
    """Search people by name or username: every word must match the first name, the last
    name or the username of the person at `user_path` (e.g. "engineer__user")."""

    def __init__(self, *args: Any, user_path: str, **kwargs: Any) -> None:
        kwargs.setdefault("label", "Search by name")
        kwargs.setdefault("max_length", 100)
        super().__init__(*args, **kwargs)
        self.user_path = user_path

    def filter(self, qs: QuerySet[Any], value: str) -> QuerySet[Any]:
        return named_by(qs, value or "", path=self.user_path)


class ThoroughOrderingFilter(django_filters.OrderingFilter):
    """Sorting in which ties are broken the same way in both directions, so that a
    descending sort is exactly the ascending one reversed: people with the same last name
    are sorted by first name, and the primary key breaks whatever ties remain."""

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        ordering: list[str] = []
        sign = ""
        for param in value or ():
            if param in EMPTY_VALUES:
                continue
            field = self.get_ordering_value(param)
            sign, name = ("-", field[1:]) if field.startswith("-") else ("", field)
            ordering.append(sign + name)
            if name.endswith("last_name"):
                ordering.append(sign + name.removesuffix("last_name") + "first_name")
        return qs.order_by(*ordering, f"{sign}pk") if ordering else qs
