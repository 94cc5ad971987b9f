"""The SCIM bearer token: an API token of an HR account."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django_scim import constants
from django_scim.middleware import SCIMAuthCheckMiddleware
from knox.auth import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from core.roles import is_hr


class ScimTokenMiddleware(SCIMAuthCheckMiddleware):
    """Signs the request in from `Authorization: Bearer <API token>`; HR accounts only."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.partition(" ")
        user = _token_user(token.strip()) if scheme.lower() == "bearer" else None
        if user is not None:
            request.user = user
        else:
            error = {
                "schemas": [constants.SchemaURI.ERROR],
                "status": 401,
                "detail": "Send an HR API token as Authorization: Bearer <token>.",
            }
            response = HttpResponse(
                json.dumps(error),
                status=401,
                content_type=constants.SCIM_CONTENT_TYPE,
            )
            response["WWW-Authenticate"] = 'Bearer realm="Levelset SCIM"'
            return response
        return None


def _token_user(token: str) -> Any:
    if not token or len(token) > 200:
        return None
    try:
        user, _ = TokenAuthentication().authenticate_credentials(token.encode())
    except AuthenticationFailed:
        return None
    return user if is_hr(user) else None
