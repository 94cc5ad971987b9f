"""Access to notifications: each belongs to its recipient alone."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404

from notify.models import Notification


def get_notification_for_user(user: Any, pk: int) -> Notification:
    """The user's own notification; a 404 alike for one that is missing and anyone else's."""
    return get_object_or_404(Notification.objects.for_recipient(user), pk=pk)
