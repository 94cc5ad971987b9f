"""SCIM filters (`userName eq "ana@acme.test"`) over people and teams."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django_scim.filters import GroupFilterQuery, UserFilterQuery

from core.actors import SYSTEM_USERNAME
from people.models import Team


def _team_model() -> type[Team]:
    return Team


class UserFilter(UserFilterQuery):
    attr_map = {
        **UserFilterQuery.attr_map,
        ("emails", "value", None): "email",
        ("emails", None, None): "email",
    }


class GroupFilter(GroupFilterQuery):
    model_getter = _team_model
    attr_map = {("displayName", None, None): "name"}


def exclude_system_user(model: Any) -> Any:
    """The system user (scheduled work) is nobody an identity provider manages."""

    def kwargs(request: HttpRequest, uuid: str | None = None) -> dict[str, Any]:
        return {"username": SYSTEM_USERNAME} if model is get_user_model() else {}

    return kwargs
