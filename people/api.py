"""API tokens, issued and revoked by their owner: stored hashed, shown once, expiring."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.actors import acting_user
from people import services


class TokenSerializer(serializers.ModelSerializer):
    """A token as listed: the first characters that name it, never the token itself."""

    class Meta:
        model = AuthToken
        fields = ["token_key", "created", "expiry"]


def live_tokens(user: Any) -> Any:
    return AuthToken.objects.filter(user=user, expiry__gt=timezone.now()).order_by("-created")


class TokenListView(APIView):
    @extend_schema(responses=TokenSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(TokenSerializer(live_tokens(request.user), many=True).data)

    @extend_schema(
        request=None,
        responses={
            201: inline_serializer(
                "IssuedToken",
                fields={
                    "token": serializers.CharField(),
                    "token_key": serializers.CharField(),
                    "expiry": serializers.DateTimeField(),
                },
            )
        },
    )
    def post(self, request: Request) -> Response:
        instance, token = services.token_issue(actor=acting_user(request))
        return Response(
            {"token": token, "token_key": instance.token_key, "expiry": instance.expiry},
            status=status.HTTP_201_CREATED,
        )


class TokenDetailView(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, token_key: str) -> Response:
        services.token_revoke(actor=acting_user(request), token_key=token_key)
        return Response(status=status.HTTP_204_NO_CONTENT)
