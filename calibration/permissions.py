"""Who may see and act on a calibration session.

HR sees every session (observers are read-only); the facilitator runs it; invited managers
take part. Anyone else — including a manager who was not invited — gets a 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from calibration.models import CalibrationSession, Participant
from core.roles import Role, has_role, is_hr


def visible_sessions_filter(user: Any) -> Q:
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    if is_hr(user):
        return Q()
    return Q(facilitator=user) | Q(participants__user=user)


def can_create_sessions(user: Any) -> bool:
    return is_hr(user) or has_role(user, Role.FACILITATOR)


def is_facilitator(user: Any, session: CalibrationSession) -> bool:
    return bool(session.facilitator_id == getattr(user, "pk", None))


def participant_role(user: Any, session: CalibrationSession) -> str | None:
    for participant in session.participants.all():
        if participant.user_id == getattr(user, "pk", None):
            return str(participant.role)
    return None


def can_adjust(user: Any, session: CalibrationSession) -> bool:
    return is_facilitator(user, session) or (
        participant_role(user, session) == Participant.Role.MANAGER
    )
