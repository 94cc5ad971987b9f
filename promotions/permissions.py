"""Who may see a promotion case: the nominating manager, the committee and HR; the engineer
once it is decided or shared. Anyone else gets a 404. What each may do is declared with the
case's state machine (promotions.models.PromotionCase)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from core.roles import Role, has_role, is_hr
from core.visibility import reachable
from promotions.models import PromotionCase


def visible_cases_filter(user: Any) -> Q:
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    if is_hr(user):
        return Q()
    cases = PromotionCase.objects.values("pk")
    return reachable(
        cases.filter(nominated_by=user),
        PromotionCase.committee.through.objects.filter(user=user).values("promotioncase_id"),
        cases.filter(engineer__user=user).filter(
            Q(status=PromotionCase.Status.DECIDED) | Q(shared_with_engineer=True)
        ),
    )


def can_sit_on_committee(user: Any, case: PromotionCase, levels: list[str]) -> bool:
    """Who may decide a case: HR, the committee members HR appoints (the committee role), and
    managers whose own level is above the engineer's (`levels`: the cycle's level codes, in
    order). Never the engineer or the nominating manager (`PromotionCase.may_decide`)."""
    if is_hr(user) or has_role(user, Role.COMMITTEE):
        return True
    profile = getattr(user, "engineer", None) if has_role(user, Role.MANAGER) else None
    if profile is None or profile.level_code not in levels or case.current_level not in levels:
        return False
    return levels.index(profile.level_code) > levels.index(case.current_level)
