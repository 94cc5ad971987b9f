"""The audit log for HR: filterable, read-only, with the chain's status.

The list of events costs the same at ten thousand events and at a million: it pages by
cursor over `seq` (newest first), never counts the log, and each filter reads an index that
ends in `seq` (audit.models.AuditEventQuerySet)."""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit import registry
from audit.models import AuditEvent, AuditEventQuerySet, ChainCheck
from audit.services import ChainStatus, chain_status
from audit.tasks import whole_check_queue
from core.api import DateTimeFilter
from core.limits import MAX_ID
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

    def to_representation(self, event: AuditEvent) -> dict[str, Any]:
        # A page holds fifty events: each is one dict, not a field object per value (the
        # fields above still describe each value, for the schema). The same values as the
        # fields would give (tests/test_audit_filters.py holds the two to each other).
        return {
            "seq": event.seq,
            "created_at": self.fields["created_at"].to_representation(event.created_at),
            "actor": event.actor_repr,
            "action": event.action,
            "sentence": registry.sentence(event.action),
            "target_type": event.target_type,
            "target_id": event.target_id,
            "target_repr": event.target_repr,
            "payload": event.payload,
            "prev_hash": event.prev_hash,
            "hash": event.hash,
        }

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


class AuditEventFilterForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("target_id")
            and not data.get("target_type")
            and "target_type" not in self.errors
        ):
            # Ids repeat across kinds of object: an id alone names no one target.
            self.add_error("target_id", "needs target_type: an id names a target of one type")
        return data


# The longest values the columns hold: a longer one can match nothing, and is refused.
ACTOR_LENGTH = AuditEvent._meta.get_field("actor_repr").max_length
TARGET_TYPE_LENGTH = AuditEvent._meta.get_field("target_type").max_length
TARGET_ID_LENGTH = AuditEvent._meta.get_field("target_id").max_length


class AuditEventFilter(django_filters.FilterSet):
    """Filters by an actor, by the declared action codes (one action, or every action of an
    area: both checked against the registry), by a target (its type, and its id), and by the
    moment written."""

    actor = django_filters.CharFilter(field_name="actor_repr", max_length=ACTOR_LENGTH)
    area = django_filters.ChoiceFilter(
        choices=lambda: [(a, a) for a in registry.areas()], method="by_area"
    )
    action = django_filters.ChoiceFilter(field_name="action", choices=registry.choices)
    target_type = django_filters.CharFilter(max_length=TARGET_TYPE_LENGTH)
    target_id = django_filters.CharFilter(max_length=TARGET_ID_LENGTH)
    since = DateTimeFilter(method="by_since", help_text="Events written at or after.")
    until = DateTimeFilter(method="by_until", help_text="Events written before.")

    class Meta:
        model = AuditEvent
        fields = ["actor", "area", "action", "target_type", "target_id", "since", "until"]
        form = AuditEventFilterForm

    def by_area(self, queryset: AuditEventQuerySet, name: str, value: str) -> AuditEventQuerySet:
        return queryset.in_area(value)

    def by_since(
        self, queryset: AuditEventQuerySet, name: str, value: datetime.datetime
    ) -> AuditEventQuerySet:
        return queryset.written_since(value)

    def by_until(
        self, queryset: AuditEventQuerySet, name: str, value: datetime.datetime
    ) -> AuditEventQuerySet:
        return queryset.written_before(value)


class EventCursorPagination(CursorPagination):
    """Newest first, a page at a time, each page found from the last one's `seq` (a cursor in
    the `next` and `previous` links): no count, no OFFSET. A cursor this API did not give is
    a 400 naming it."""

    ordering = "-seq"
    problem = "not a cursor this API gave: follow the `next` and `previous` links"

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            cursor = None
        else:
            if cursor is None:
                return None
            # `seq` is unique, so the cursors given never carry an offset.
            position = None if cursor.position is None else str(cursor.position)
            if cursor.offset == 0 and (
                position is None
                or (position.isascii() and position.isdigit() and int(position) <= MAX_ID)
            ):
                return cursor
        raise exceptions.ValidationError({"cursor": [self.problem]})


class AuditEventListView(generics.ListAPIView):
    """The log's events, newest first, a page at a time: follow `next` for older events and
    `previous` for newer ones."""

    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    pagination_class = EventCursorPagination
    permission_classes = [IsHR]
    queryset = AuditEvent.objects.all()


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
