"""Who may see a promotion case: the nominating manager, the committee and HR; the engineer
once it is decided or shared. Anyone else gets a 404. What each may do is declared with the
case's state machine (promotions.models.PromotionCase)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from core.roles import Role, has_role, is_hr
from promotions.models import PromotionCase


def visible_cases_filter(user: Any) -> Q:
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    if is_hr(user):
        return Q()
    own = Q(engineer__user=user) & (
        Q(status=PromotionCase.Status.DECIDED) | Q(shared_with_engineer=True)
    )
    return Q(nominated_by=user) | Q(committee=user) | own


def can_sit_on_committee(user: Any) -> bool:
    """Committees are made of managers, facilitators and HR."""
    return is_hr(user) or has_role(user, Role.MANAGER) or has_role(user, Role.FACILITATOR)
