from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from core.roles import role_names


def roles(request: HttpRequest) -> dict[str, Any]:
    """The signed-in user's role names, so templates can show each persona its own links."""
    return {"roles": role_names(getattr(request, "user", None))}


def page_url(request: HttpRequest) -> dict[str, Any]:
    """After a failed form submission the page is shown again at the form's address; the
    page's own address (where the form was, on this site) lets the browser show that one."""
    if request.method != "POST":
        return {}
    referer = request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return {}
    parts = urlsplit(referer)
    return {"page_url": parts.path + (f"?{parts.query}" if parts.query else "")}
