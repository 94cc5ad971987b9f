"""Who may read a team's scorecard: HR, and whoever may see one of the team's engineers (its
members, their managers and skip-level managers). Anyone else gets the 404 of a team that does
not exist."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from core.roles import is_hr
from people.models import Engineer, Team
from people.permissions import visible_engineers_filter


def get_team_for_user(user: Any, pk: int | str) -> Team:
    team = Team.objects.filter(pk=pk).first() if str(pk).isdigit() else None
    if team is None:
        raise Http404("No such team.")
    if is_hr(user) or Engineer.objects.filter(visible_engineers_filter(user), team=team).exists():
        return team
    raise Http404("No such team.")
