"""The metrics API: delivery events in (from a source's token or from HR), the sources, and a
team's scorecard out."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from knox.auth import TokenAuthentication
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import limits
from core.actors import acting_user
from core.errors import Forbidden, ValidationFailed
from core.roles import is_hr
from metrics import intake, selectors, services
from metrics.auth import SourceTokenAuthentication
from metrics.forms import PeriodForm
from metrics.models import INDICATORS, DeliverySource
from metrics.permissions import get_team_for_user

NOTE = "Team-level context. Never an input to an individual's score."


class IngestedSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    new = serializers.IntegerField()
    known = serializers.IntegerField(help_text="Sent before: they changed nothing.")


class DeliveryEventSerializer(serializers.Serializer):
    """One event, for the schema: the view reads the list itself (metrics.intake)."""

    kind = serializers.ChoiceField(choices=intake.KINDS)
    team = serializers.CharField(max_length=limits.SHORT_TEXT, help_text="Its slug or name.")
    service = serializers.CharField(max_length=100)
    id = serializers.CharField(max_length=200)
    at = serializers.DateTimeField(required=False, help_text="Commit or deployment time.")
    changes = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=1000
    )
    opened_at = serializers.DateTimeField(required=False)
    restored_at = serializers.DateTimeField(required=False)
    deployment = serializers.CharField(
        max_length=200, required=False, help_text="The id of the deployment that caused it."
    )


def _source(request: Request) -> DeliverySource | None:
    return request.auth if isinstance(request.auth, DeliverySource) else None


class EventsView(APIView):
    """Delivery events (changes, deployments, incidents), as a JSON list, from a source's
    token or from HR. An event sent again changes nothing. Fields naming a person are refused:
    the four keys are team-level only."""

    authentication_classes = [SourceTokenAuthentication, TokenAuthentication, SessionAuthentication]

    @extend_schema(
        request=DeliveryEventSerializer(many=True),
        responses={201: IngestedSerializer},
        description=f"At most {intake.MAX_EVENTS:,} events per request.",
    )
    def post(self, request: Request) -> Response:
        events = intake.parse_events(request.data)
        done = services.events_ingest(
            actor=acting_user(request), events=events, source=_source(request)
        )
        return Response(
            IngestedSerializer(done).data,
            status=status.HTTP_201_CREATED,
        )


class EventsImportInput(serializers.Serializer):
    file = serializers.FileField(max_length=255)

    def validate_file(self, upload: Any) -> str:
        if upload.size > limits.MAX_UPLOAD_BYTES:
            raise serializers.ValidationError(
                f"The file is {upload.size:,} bytes; at most {limits.MAX_UPLOAD_BYTES:,}."
            )
        try:
            return str(upload.read().decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            raise serializers.ValidationError("The file must be UTF-8 text (CSV).") from exc


class EventsImportView(APIView):
    """The same events as a CSV file (multipart `file`): a header naming the fields (kind,
    team, service, id, at, changes, opened_at, restored_at, deployment); a deployment's
    changes separated by spaces or semicolons. All of it, or nothing."""

    authentication_classes = EventsView.authentication_classes

    @extend_schema(
        request={"multipart/form-data": EventsImportInput},
        responses={201: IngestedSerializer},
    )
    def post(self, request: Request) -> Response:
        data = EventsImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        events = intake.parse_events(intake.events_from_csv(data.validated_data["file"]))
        done = services.events_ingest(
            actor=acting_user(request), events=events, source=_source(request)
        )
        return Response(IngestedSerializer(done).data, status=status.HTTP_201_CREATED)


class SourceSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username")

    class Meta:
        model = DeliverySource
        fields = ["id", "name", "owner", "created_at", "last_used_at", "revoked_at"]


class SourceInput(serializers.Serializer):
    name = serializers.CharField(max_length=80)


def _hr_only(request: Request) -> None:
    if not is_hr(request.user):
        raise Forbidden("Only HR may manage delivery event sources.")


class SourceListView(APIView):
    @extend_schema(responses=SourceSerializer(many=True))
    def get(self, request: Request) -> Response:
        _hr_only(request)
        sources = DeliverySource.objects.select_related("owner")
        return Response(SourceSerializer(sources, many=True).data)

    @extend_schema(
        request=SourceInput,
        responses={
            201: inline_serializer(
                "NewSource",
                fields={
                    "source": SourceSerializer(),
                    "token": serializers.CharField(help_text="Shown this once."),
                },
            )
        },
    )
    def post(self, request: Request) -> Response:
        data = SourceInput(data=request.data)
        data.is_valid(raise_exception=True)
        source, token = services.source_create(
            actor=acting_user(request), name=data.validated_data["name"]
        )
        return Response(
            {"source": SourceSerializer(source).data, "token": token},
            status=status.HTTP_201_CREATED,
        )


class SourceRevokeView(APIView):
    @extend_schema(request=None, responses=SourceSerializer)
    def post(self, request: Request, pk: int) -> Response:
        source = DeliverySource.objects.filter(pk=pk).first() if is_hr(request.user) else None
        if source is None:
            raise Http404("No such source.")
        source = services.source_revoke(actor=acting_user(request), source=source)
        return Response(SourceSerializer(source).data)


class FourKeysSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    deployments = serializers.IntegerField()
    deployments_per_week = serializers.DecimalField(max_digits=12, decimal_places=2)
    failed_deployments = serializers.IntegerField()
    change_failure_rate = serializers.DecimalField(
        max_digits=5, decimal_places=2, allow_null=True, help_text="Percent of deployments."
    )
    changes_measured = serializers.IntegerField()
    lead_time_hours = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, help_text="Median."
    )
    incidents_restored = serializers.IntegerField()
    time_to_restore_hours = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, help_text="Median."
    )


class LeadingSerializer(serializers.Serializer):
    """A period's leading indicators: each the median of its measurements (null: none)."""

    start = serializers.DateField()
    end = serializers.DateField()
    cycle_time_hours = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    first_review_time_hours = serializers.DecimalField(
        max_digits=16, decimal_places=2, allow_null=True
    )
    pr_size_lines = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    wip_items = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)


def _leading(
    periods: list[selectors.Period], medians: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    return [
        {
            "start": start,
            "end": end,
            **{f"{name}_{unit}": found.get(name) for name, (_label, unit) in INDICATORS.items()},
        }
        for (start, end), found in zip(periods, medians, strict=True)
    ]


class ScorecardView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "start", datetime.date, description="First day (default: 4 weeks ago)."
            ),
            OpenApiParameter("end", datetime.date, description="Last day (default: today)."),
        ],
        responses=inline_serializer(
            "Scorecard",
            fields={
                "team": inline_serializer(
                    "ScorecardTeam",
                    fields={"id": serializers.IntegerField(), "name": serializers.CharField()},
                ),
                "note": serializers.CharField(),
                "keys": FourKeysSerializer(),
                "leading": LeadingSerializer(
                    many=True,
                    help_text="Leading indicators per period, oldest first (the four keys lag).",
                ),
                "trend": FourKeysSerializer(
                    many=True,
                    help_text="Periods of the same length, oldest first; the last is `keys`.",
                ),
            },
        ),
    )
    def get(self, request: Request, pk: int) -> Response:
        team = get_team_for_user(request.user, pk)
        form = PeriodForm(request.query_params)
        if not form.is_valid():
            raise ValidationFailed.from_errors(
                {name: [str(e) for e in errors] for name, errors in form.errors.items()}
            )
        periods = form.periods()
        trend = selectors.team_trend(team.pk, periods)
        leading = _leading(periods, selectors.team_indicators(team.pk, periods))
        return Response(
            {
                "team": {"id": team.pk, "name": team.name},
                "note": NOTE,
                "keys": FourKeysSerializer(trend[-1]).data,
                "trend": FourKeysSerializer(trend, many=True).data,
                "leading": LeadingSerializer(leading, many=True).data,
            }
        )
