"""Your own notifications and preferences over the API. Nobody reads or marks anyone else's."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import limits
from core.actors import acting_user
from core.api import valid_input
from notify import selectors, services
from notify.models import Notification
from notify.registry import MAX_CODE_LENGTH

MAX_IDS = 500  # ids one request may mark read


class NotificationSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(read_only=True)
    unread = serializers.BooleanField(source="is_unread", read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "kind_label",
            "title",
            "body",
            "url",
            "action",
            "created_at",
            "read_at",
            "unread",
        ]
        read_only_fields = fields


class NotificationFilter(django_filters.FilterSet):
    # Only "true" or "false": anything else is a 400, not a silently unfiltered list.
    unread = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="by_unread",
        label="true: only unread; false: only read",
    )

    class Meta:
        model = Notification
        fields = ["unread"]

    def by_unread(self, queryset: Any, name: str, value: str) -> Any:
        return queryset.filter(read_at__isnull=value == "true")


class NotificationListView(generics.ListAPIView):
    """Your notifications, newest first; `?unread=true` for the unread ones only."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    queryset = Notification.objects.none()  # for the schema; each request reads its own

    def get_queryset(self) -> Any:
        return selectors.notifications_for(self.request.user)


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


class UnreadCountView(APIView):
    """How many of your notifications are unread."""

    @extend_schema(responses=UnreadCountSerializer)
    def get(self, request: Request) -> Response:
        return Response({"unread": selectors.unread_count(request.user)})


class MarkReadInput(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=limits.MAX_ID),
        required=False,
        allow_empty=False,
        max_length=MAX_IDS,
    )
    all = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("ids" in attrs) == bool(attrs.get("all")):
            raise serializers.ValidationError('Send either "ids" (a list) or "all": true.')
        return attrs


class MarkReadOutput(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many were unread and now are read.")
    unread = serializers.IntegerField(help_text="How many are still unread.")


class MarkReadView(APIView):
    """Mark your notifications read: `{"ids": [...]}` (at most 500) or `{"all": true}`. Ids
    that are not your notifications mark nothing."""

    @extend_schema(request=MarkReadInput, responses=MarkReadOutput)
    def post(self, request: Request) -> Response:
        data = valid_input(MarkReadInput, request)
        actor = acting_user(request)
        if data.get("all"):
            marked = services.notification_mark_read(actor=actor, all=True)
        else:
            marked = services.notification_mark_read(actor=actor, ids=data["ids"])
        return Response({"marked": marked, "unread": selectors.unread_count(actor)})


class KindSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # the field, not its label
    essential = serializers.BooleanField(help_text="Always on: cannot be switched off.")
    on = serializers.BooleanField()


class PreferencesOutput(serializers.Serializer):
    kinds = KindSerializer(many=True)
    off = serializers.ListField(child=serializers.CharField(), help_text="Kinds switched off.")


class PreferencesInput(serializers.Serializer):
    off = serializers.ListField(
        child=serializers.CharField(max_length=MAX_CODE_LENGTH),
        max_length=MAX_IDS,
        help_text="Exactly the kinds to switch off; every other kind is on.",
    )


def _preferences(user: Any) -> dict[str, Any]:
    kinds = selectors.preferences(user)
    return {"kinds": kinds, "off": [kind["code"] for kind in kinds if not kind["on"]]}


class PreferencesView(APIView):
    """Which kinds of notification you receive. Essential kinds are always on."""

    @extend_schema(responses=PreferencesOutput)
    def get(self, request: Request) -> Response:
        return Response(_preferences(request.user))

    @extend_schema(request=PreferencesInput, responses=PreferencesOutput)
    def put(self, request: Request) -> Response:
        data = valid_input(PreferencesInput, request)
        actor = acting_user(request)
        services.preferences_set(actor=actor, off=set(data["off"]))
        return Response(_preferences(actor))
