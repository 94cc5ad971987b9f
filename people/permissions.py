"""Who may see an engineer's profile: themselves, their manager and, read-only, their manager's
manager; HR everyone; anyone else nobody. Acting on an engineer (rating, nominating) is for
their direct manager only (`Engineer.is_managed_by`)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from core.roles import is_hr


def visible_engineers_filter(user: Any) -> Q:
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    if is_hr(user):
        return Q()
    return Q(user=user) | Q(manager=user) | Q(manager__engineer__manager=user)
