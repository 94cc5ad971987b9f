"""The audit log for HR: filterable, read-only, with the chain's status."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit import registry
from audit.models import AuditEvent
from audit.services import ChainReport, chain_status, check_whole_chain
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


def _chain_payload(report: ChainReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "count": report.count,
        "message": report.message,
        "first_bad_seq": report.first_bad_seq,
        "whole_chain_checked_at": report.whole_chain_checked_at,
    }


class ChainStatusView(APIView):
    """GET: the chain's status (the whole chain at most ten minutes ago, the newer events
    now). POST: verify the whole chain now."""

    permission_classes = [IsHR]

    @extend_schema(responses=inline_serializer("ChainStatus", fields={}))
    def get(self, request: Request) -> Response:
        return Response(_chain_payload(chain_status()))

    @extend_schema(request=None, responses=inline_serializer("ChainCheck", fields={}))
    def post(self, request: Request) -> Response:
        return Response(_chain_payload(check_whole_chain()))
