"""The audit log for HR: filterable, read-only, with the chain's status."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit import registry
from audit.models import AuditEvent, ChainCheck
from audit.services import ChainStatus, chain_status
from audit.tasks import whole_check_queue
from core.api import DateTimeFilter
from core.roles import is_hr


class IsHR(BasePermission):
    message = "Only HR can read the audit log."

    def has_permission(self, request: Any, view: Any) -> bool:
        return is_hr(request.user)


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_repr")
    sentence = serializers.SerializerMethodField()

    def get_sentence(self, event: AuditEvent) -> str:
        """What the action did, in words (from the registry of action codes)."""
        return registry.sentence(event.action)

    class Meta:
        model = AuditEvent
        fields = [
            "seq",
            "created_at",
            "actor",
            "action",
            "sentence",
            "target_type",
            "target_id",
            "target_repr",
            "payload",
            "prev_hash",
            "hash",
        ]


class AuditEventFilter(django_filters.FilterSet):
    """Filters by the declared action codes (one action, or every action of an area), never
    by matching strings."""

    actor = django_filters.CharFilter(field_name="actor_repr")
    area = django_filters.ChoiceFilter(
        choices=lambda: [(a, a) for a in registry.areas()], method="by_area"
    )
    action = django_filters.ChoiceFilter(field_name="action", choices=registry.choices)
    target_type = django_filters.CharFilter()
    target_id = django_filters.CharFilter()
    since = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = DateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ["actor", "area", "action", "target_type", "target_id", "since", "until"]

    def by_area(self, queryset: Any, name: str, value: str) -> Any:
        return queryset.filter(action__in=registry.in_area(value))


class AuditEventListView(generics.ListAPIView):
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    permission_classes = [IsHR]
    queryset = AuditEvent.objects.order_by("-seq")


def _chain_payload(chain: ChainStatus) -> dict[str, Any]:
    job = chain.job
    return {
        "ok": chain.ok,
        "verified": chain.verified,
        "count": chain.count,
        "message": chain.message,
        "first_bad_seq": chain.first_bad_seq,
        "whole_chain_checked_at": chain.whole_chain_checked_at,
        "new_events_checked_at": chain.new_events_checked_at,
        "events_since_check": chain.arrived,
        "whole_check": (
            None if job is None else {"id": job.pk, "state": job.state, "count": job.count}
        ),
    }


class WholeCheckSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=ChainCheck.State.choices)
    count = serializers.IntegerField(help_text="Events verified so far.")


class ChainStatusSerializer(serializers.Serializer):
    ok = serializers.BooleanField(allow_null=True, help_text="Null until the first check.")
    verified = serializers.BooleanField(help_text="Whether the chain was ever checked.")
    count = serializers.IntegerField(help_text="Events the last check verified.")
    message = serializers.CharField()
    first_bad_seq = serializers.IntegerField(allow_null=True)
    whole_chain_checked_at = serializers.DateTimeField(allow_null=True)
    new_events_checked_at = serializers.DateTimeField(
        allow_null=True, help_text="When the last check (of the newest events or whole) ended."
    )
    events_since_check = serializers.IntegerField(
        help_text="Events appended after the last event verified (checked within a minute)."
    )
    whole_check = WholeCheckSerializer(
        allow_null=True, help_text="A whole check queued or under way."
    )


class ChainStatusView(APIView):
    """GET: the chain's status as the last checks found it (the newest events are verified
    every minute, the whole chain every hour, in the background; nothing is verified on the
    request). POST: queue a check of the whole chain now (202, with the check's state)."""

    permission_classes = [IsHR]

    @extend_schema(responses=ChainStatusSerializer)
    def get(self, request: Request) -> Response:
        return Response(_chain_payload(chain_status()))

    @extend_schema(request=None, responses={202: WholeCheckSerializer})
    def post(self, request: Request) -> Response:
        return Response(whole_check_queue(), status=status.HTTP_202_ACCEPTED)
