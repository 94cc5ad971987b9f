"""Who may see a calibration session, and who may schedule one.

HR sees every session (observers are read-only); the facilitator runs it; invited managers
take part. Anyone else — including a manager who was not invited — gets a 404. What each of
them may do in a session is declared with its state machine (calibration.models).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from calibration.models import CalibrationSession, Participant
from core.roles import Role, has_role, is_hr
from core.visibility import reachable


def visible_sessions_filter(user: Any) -> Q:
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    if is_hr(user):
        return Q()
    return reachable(
        CalibrationSession.objects.filter(facilitator=user).values("pk"),
        Participant.objects.filter(user=user).values("session_id"),
    )


def can_create_sessions(user: Any) -> bool:
    return is_hr(user) or has_role(user, Role.FACILITATOR)


def can_facilitate(user: Any) -> bool:
    """Who may be seated as a session's facilitator."""
    return is_hr(user) or has_role(user, Role.FACILITATOR)


def can_take_part_as_manager(user: Any) -> bool:
    return has_role(user, Role.MANAGER)


def can_observe(user: Any) -> bool:
    return is_hr(user) or has_role(user, Role.MANAGER)
