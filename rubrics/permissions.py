"""Who may see and change rubrics.

Released versions (published or retired) are readable by every signed-in user: the weights
behind a score are public. Drafts are visible to HR and to people HR explicitly invited to
review one (a django-guardian object grant, e.g. a dimension owner).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from guardian.shortcuts import get_objects_for_user

from core.roles import is_hr, is_hr_or_system
from rubrics.models import RubricVersion

VIEW_DRAFT_PERMISSION = "rubrics.view_rubricversion"


def can_manage_rubrics(user: Any) -> bool:
    return is_hr_or_system(user)


def visible_versions_filter(user: Any) -> Q:
    """A Q over RubricVersion selecting what `user` may read."""
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    if is_hr(user):
        return Q()
    granted = get_objects_for_user(
        user,
        VIEW_DRAFT_PERMISSION,
        klass=RubricVersion,
        with_superuser=False,
        accept_global_perms=False,
    ).values("pk")
    return Q(status__in=RubricVersion.RELEASED) | Q(pk__in=granted)


def can_view_version(user: Any, version: RubricVersion) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if version.is_released or is_hr(user):
        return True
    return bool(user.has_perm(VIEW_DRAFT_PERMISSION, version))
