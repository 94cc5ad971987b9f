"""A delivery source's token (`Authorization: Bearer <token>`), accepted by the events
endpoints only. The request then acts as the HR person who registered the source."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from metrics.models import DeliverySource
from metrics.services import token_digest


class SourceTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, DeliverySource] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2 or len(parts[1]) > 200:
            raise exceptions.AuthenticationFailed("Send the source's token as `Bearer <token>`.")
        source = (
            DeliverySource.objects.select_related("owner")
            .filter(token_digest=token_digest(parts[1].decode(errors="replace")))
            .first()
        )
        if source is None or not source.is_active or not source.owner.is_active:
            raise exceptions.AuthenticationFailed("Unknown or revoked source token.")
        return source.owner, source

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class SourceTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "metrics.auth.SourceTokenAuthentication"
    name = "sourceToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "A delivery source's token."}
