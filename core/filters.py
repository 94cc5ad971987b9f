"""Filters every list page and API shares (django-filter): search by a person's name."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet

MAX_SEARCH_WORDS = 4


class PersonSearchFilter(django_filters.CharFilter):
    """Search people by name or username: every word must match the first name, the last
    name or the username of the person at `user_path` (e.g. "engineer__user")."""

    def __init__(self, *args: Any, user_path: str, **kwargs: Any) -> None:
        kwargs.setdefault("label", "Search by name")
        kwargs.setdefault("max_length", 100)
        super().__init__(*args, **kwargs)
        self.user_path = user_path

    def filter(self, qs: QuerySet[Any], value: str) -> QuerySet[Any]:
        for word in (value or "").split()[:MAX_SEARCH_WORDS]:
            qs = qs.filter(
                Q(**{f"{self.user_path}__first_name__icontains": word})
                | Q(**{f"{self.user_path}__last_name__icontains": word})
                | Q(**{f"{self.user_path}__username__icontains": word})
            )
        return qs
