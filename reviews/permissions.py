"""Who may see an engineer's profile (and, later, the reviews hanging off it).

Engineers see themselves; managers their direct reports and, read-only, their skip-levels;
HR everyone; anyone else nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from config.roles import is_hr


def visible_engineers_filter(user: Any) -> Q:
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    if is_hr(user):
        return Q()
    return Q(user=user) | Q(manager=user) | Q(manager__engineer__manager=user)


def can_manage_engineer(user: Any, engineer: Any) -> bool:
    """Direct management (rating, nominating) — skip-level managers may only read."""
    return bool(engineer.manager_id == getattr(user, "pk", None))
