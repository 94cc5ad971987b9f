"""Reads of a person's own notifications and preferences."""

from __future__ import annotations

from typing import Any

from notify import registry
from notify.models import Notification, NotificationQuerySet, OptOut


def notifications_for(user: Any, *, unread_only: bool = False) -> NotificationQuerySet:
    """The person's own notifications, newest first (nobody reads anyone else's)."""
    notifications = Notification.objects.for_recipient(user)
    if unread_only:
        notifications = notifications.unread()
    return notifications.newest_first()


def unread_count(user: Any) -> int:
    return Notification.objects.for_recipient(user).unread().count()


def switched_off(user: Any) -> set[str]:
    """The declared kinds the person switched off."""
    codes = OptOut.objects.filter(user=user).values_list("kind", flat=True)
    return {code for code in codes if registry.get(code) is not None}


def preferences(user: Any) -> list[dict[str, Any]]:
    """Every declared kind, whether it is on for the person, and whether it can be switched
    off at all."""
    off = switched_off(user)
    return [
        {
            "code": str(kind),
            "label": kind.label,
            "essential": kind.essential,
            "on": kind.essential or str(kind) not in off,
        }
        for kind in registry.all_kinds()
    ]
