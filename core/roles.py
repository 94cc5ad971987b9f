"""The four roles, as Django groups. Object-level rules live in each app's permissions.py."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import models

from core.actors import is_system


class Role(models.TextChoices):
    ENGINEER = "engineer", "Engineer"
    MANAGER = "manager", "Manager"
    FACILITATOR = "facilitator", "Facilitator"
    HR = "hr", "HR"
    COMMITTEE = "committee", "Promotion committee member"


def role_names(user: Any) -> frozenset[str]:
    """The user's role names, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_levelset_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._levelset_roles = cached
    return cached


def has_role(user: Any, role: Role) -> bool:
    return role.value in role_names(user)


def is_hr(user: Any) -> bool:
    return has_role(user, Role.HR)


def is_hr_or_system(user: Any) -> bool:
    """HR, or the system user acting for an operator at the command line or a scheduled job:
    who may run the organisation's administrative work."""
    return is_hr(user) or is_system(user)


def people_with_roles(*roles: Role) -> models.QuerySet[Any]:
    """Active people holding any of the roles, by name: the choices of a "who" field."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[role.value for role in roles])
        .distinct()
        .order_by("last_name", "first_name", "username")
        .only("pk", "username", "first_name", "last_name")
    )
