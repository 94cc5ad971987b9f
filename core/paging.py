"""Paging through lists that grow with the organisation, without counting them whole.

Django's Paginator counts every row of the list to number its pages; at ten thousand
engineers that count is most of the time of HR's first page. `LookaheadPaginator` counts only
as far as the page asked for and a few pages beyond: a longer list says "more than N" and
numbers its pages as far as it has counted, and each page further on counts a little further.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

AHEAD_PAGES = 10


class LookaheadPaginator(Paginator):
    def __init__(self, object_list: QuerySet[Any, Any], per_page: int, number: Any = None) -> None:
        super().__init__(object_list, per_page)
        self.rows = object_list
        try:
            asked = max(int(number), 1)
        except (TypeError, ValueError):
            asked = 1
        self.counted_to = (asked + AHEAD_PAGES) * per_page

    @cached_property
    def count(self) -> int:
        """The rows counted: all of them, or one more than `counted_to` when there are more."""
        # Unordered: which rows come first does not change how many there are.
        return self.rows.order_by()[: self.counted_to + 1].count()

    @property
    def more(self) -> bool:
        """There are rows beyond those counted."""
        return self.count > self.counted_to
