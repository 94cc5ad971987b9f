"""Who may see an engineer's profile: themselves, their manager and, read-only, their manager's
manager; HR everyone; anyone else nobody. Acting on an engineer (rating, nominating) is for
their direct manager only (`Engineer.is_managed_by`)."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q

from core.roles import is_hr
from people.models import Engineer


def visible_engineers_filter(user: Any) -> Q:
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    if is_hr(user):
        return Q()
    # The reports who manage someone, read first: a rule written with plain values is answered
    # from the indexes, where the same rule as an OR across joined tables or subqueries makes
    # PostgreSQL read every engineer in the organisation, for a list of one.
    managers = Engineer.objects.filter(manager=user).filter(
        Exists(Engineer.objects.filter(manager_id=OuterRef("user_id")))
    )
    return Q(user_id=user.pk) | Q(
        manager_id__in=[user.pk, *managers.values_list("user_id", flat=True)]
    )
