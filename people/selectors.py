"""Read paths for the organisation: the engineers and teams a given user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from people.models import Engineer, EngineerQuerySet, Team
from people.permissions import visible_engineers_filter


def engineers_for_user(user: Any) -> EngineerQuerySet:
    return (
        Engineer.objects.filter(visible_engineers_filter(user))
        .select_related("user", "team", "manager")
        .distinct()
    )


def get_engineer_for_user(user: Any, pk: int | str) -> Engineer:
    """The engineer, or 404 both when missing and when the user may not see them."""
    engineer = engineers_for_user(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if engineer is None:
        raise Http404("No such engineer.")
    return engineer


def teams_for_user(user: Any) -> QuerySet[Team]:
    visible = engineers_for_user(user).values("team_id")
    return Team.objects.filter(pk__in=visible).order_by("name")


def organisation_rows() -> list[list[Any]]:
    """Everyone placed in the organisation, in the import's columns (people.org_import), so an
    export is a file HR can edit and import again."""
    rows = Engineer.objects.order_by("team__name", "user__email").values_list(
        "user__email",
        "user__first_name",
        "user__last_name",
        "employee_id",
        "team__name",
        "manager__email",
        "level_code",
        "start_date",
        "user__is_active",
    )
    return [
        [
            email,
            f"{first} {last}".strip(),
            eid,
            team,
            manager or "",
            level,
            start,
            str(active).lower(),
        ]
        for email, first, last, eid, team, manager, level, start, active in rows
    ]
