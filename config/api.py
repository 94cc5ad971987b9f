from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.roles import role_names


class MeView(APIView):
    """Who am I, and which roles do I hold."""

    @extend_schema(
        responses=inline_serializer(
            "Me",
            fields={
                "username": serializers.CharField(),
                "name": serializers.CharField(),
                "roles": serializers.ListField(child=serializers.CharField()),
            },
        )
    )
    def get(self, request: Request) -> Response:
        user: Any = request.user
        return Response(
            {
                "username": user.get_username(),
                "name": user.get_full_name(),
                "roles": sorted(role_names(user)),
            }
        )
