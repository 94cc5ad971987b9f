from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from core.roles import role_names


def roles(request: HttpRequest) -> dict[str, Any]:
    """The signed-in user's role names, so templates can show each persona its own links."""
    return {"roles": role_names(getattr(request, "user", None))}
