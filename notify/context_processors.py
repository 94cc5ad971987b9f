from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import HttpRequest

from notify.selectors import unread_count


class Unread:
    """The signed-in person's unread count, read (one query) only when a page shows it: a
    fragment or a page without the navigation costs nothing."""

    def __init__(self, user: Any) -> None:
        self._user = user

    @cached_property
    def count(self) -> int:
        return unread_count(self._user)


def unread(request: HttpRequest) -> dict[str, Any]:
    """`unread_notifications.count` for the navigation; nothing at all for anonymous visitors."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": Unread(user)}
