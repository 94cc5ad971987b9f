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
from core.errors import ValidationFailed
from people import services
from people.org_import import COLUMNS, MAX_BYTES, ImportPlan


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


class ImportInputSerializer(serializers.Serializer):
    """The file as an upload (multipart `file`) or as text (`content`), in CSV or JSON."""

    file = serializers.FileField(required=False, max_length=255)
    content = serializers.CharField(required=False, max_length=MAX_BYTES, trim_whitespace=False)
    format = serializers.ChoiceField(choices=["csv", "json"], required=False)
    dry_run = serializers.BooleanField(default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        upload, content = attrs.get("file"), attrs.get("content")
        if (upload is None) == (content is None):
            raise serializers.ValidationError(
                {"file": ["Send the file as `file` (multipart) or as `content` (text), not both."]}
            )
        if upload is not None:
            if upload.size > MAX_BYTES:
                raise serializers.ValidationError(
                    {"file": [f"The file is {upload.size:,} bytes; at most {MAX_BYTES:,}."]}
                )
            attrs["content"] = upload.read()
            attrs.setdefault("format", "json" if upload.name.endswith(".json") else "csv")
        attrs.setdefault("format", "csv")
        return attrs


class ChangeSerializer(serializers.Serializer):
    kind = serializers.CharField()
    line = serializers.IntegerField()
    email = serializers.CharField()
    name = serializers.CharField()
    before = serializers.CharField()
    after = serializers.CharField()


class ImportResultSerializer(serializers.Serializer):
    applied = serializers.BooleanField()
    rows = serializers.IntegerField()
    counts = serializers.DictField(child=serializers.IntegerField())
    new_teams = serializers.ListField(child=serializers.CharField())
    unchanged = serializers.IntegerField()
    not_in_file = serializers.IntegerField()
    changes = ChangeSerializer(many=True)


def _problems(plan: ImportPlan) -> ValidationFailed:
    errors: dict[str, list[str]] = {}
    for problem in plan.problems:
        where = f"line {problem.line}" if problem.line else "file"
        errors.setdefault(f"{where}.{problem.column}" if problem.column else where, []).append(
            problem.message
        )
    return ValidationFailed.from_errors(
        errors, intro=f"The file has {len(plan.problems)} problem(s); nothing was written. "
    )


class OrganisationImportView(APIView):
    """Import the organisation (HR): CSV or JSON with the columns
    `email,name,employee_id,team,manager_email,level,start_date,active`. With `dry_run` the
    changes are listed and nothing is written; otherwise all of it is applied, or nothing."""

    @extend_schema(
        request={
            "multipart/form-data": ImportInputSerializer,
            "application/json": ImportInputSerializer,
        },
        responses=ImportResultSerializer,
        description=f"Columns: {','.join(COLUMNS)}.",
    )
    def post(self, request: Request) -> Response:
        data = ImportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        plan = services.org_import(
            actor=acting_user(request),
            data=data.validated_data["content"],
            fmt=data.validated_data["format"],
            dry_run=data.validated_data["dry_run"],
        )
        if not plan.ok:
            raise _problems(plan)
        applied = not data.validated_data["dry_run"] and bool(plan.changes or plan.new_teams)
        return Response(
            ImportResultSerializer(
                {
                    "applied": applied,
                    **plan.summary(),
                    "changes": [c.as_dict() for c in plan.changes],
                }
            ).data
        )
