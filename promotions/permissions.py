"""Who may see a promotion case: the nominating manager, the committee and HR; the engineer
once it is decided or shared. Anyone else gets a 404. What each may do is declared with the
case's state machine (promotions.models.PromotionCase)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef, Q, QuerySet

from core.roles import Role, is_hr, role_names
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


def may_sit(
    roles: frozenset[str], level_code: str | None, case: PromotionCase, levels: list[str]
) -> bool:
    """Who may decide a case, from a person's role names and own level (`level_code`, None
    without a profile): HR, the committee members HR appoints (the committee role), and
    managers whose own level is above the engineer's (`levels`: the cycle's level codes, in
    order). Never the engineer or the nominating manager (`PromotionCase.may_decide`)."""
    if Role.HR.value in roles or Role.COMMITTEE.value in roles:
        return True
    if Role.MANAGER.value not in roles or level_code is None:
        return False
    if level_code not in levels or case.current_level not in levels:
        return False
    return levels.index(level_code) > levels.index(case.current_level)


def can_sit_on_committee(user: Any, case: PromotionCase, levels: list[str]) -> bool:
    """`may_sit` for one user (their roles, and their profile's level if they manage)."""
    roles = role_names(user)
    profile = getattr(user, "engineer", None) if Role.MANAGER.value in roles else None
    return may_sit(roles, getattr(profile, "level_code", None), case, levels)


def committee_seat_filter(case: PromotionCase, levels: list[str]) -> Q:
    """`may_sit` as a filter on users annotated by `with_role_flags`, so a search of
    candidates is cut to its first few rows in the database."""
    current = levels.index(case.current_level) if case.current_level in levels else None
    above = levels[current + 1 :] if current is not None else []
    return (
        Q(holds_hr=True)
        | Q(holds_committee=True)
        | Q(holds_manager=True, engineer__level_code__in=above)
    )


ROLE_FLAGS = {"holds_hr": Role.HR, "holds_committee": Role.COMMITTEE, "holds_manager": Role.MANAGER}


def with_role_flags(users: QuerySet[Any]) -> QuerySet[Any]:
    """Users with a flag per role that decides a committee seat, read in the same query."""
    return users.annotate(
        **{
            flag: Exists(Group.objects.filter(user=OuterRef("pk"), name=role.value))
            for flag, role in ROLE_FLAGS.items()
        }
    )


def roles_of(user: Any) -> frozenset[str]:
    """The role names of a user read through `with_role_flags`."""
    return frozenset(role.value for flag, role in ROLE_FLAGS.items() if getattr(user, flag))
