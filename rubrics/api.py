"""Rubric API: thin views over rubrics.selectors and rubrics.services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import limits
from core.actors import acting_user
from core.api import valid_input
from core.errors import ValidationFailed
from rubrics import selectors, services
from rubrics.diff import diff_documents
from rubrics.document import dump_yaml, version_to_document
from rubrics.scoring import ScoringError, compute

# ---- output serializers -------------------------------------------------------------------


class VersionSummarySerializer(serializers.Serializer):
    number = serializers.IntegerField()
    status = serializers.CharField()
    rationale = serializers.CharField()
    published_at = serializers.DateTimeField(allow_null=True)
    published_by = serializers.SerializerMethodField()
    approved_by = serializers.SerializerMethodField()

    def get_published_by(self, version: Any) -> str | None:
        return version.published_by.get_username() if version.published_by else None

    def get_approved_by(self, version: Any) -> str | None:
        return version.approved_by.get_username() if version.approved_by else None


class RubricListSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    requires_second_approval = serializers.BooleanField()
    published_version = serializers.IntegerField(source="published_number", allow_null=True)
    latest_version = serializers.IntegerField(source="latest_number", allow_null=True)


class GateSerializer(serializers.Serializer):
    below = serializers.IntegerField()
    cap = serializers.DecimalField(max_digits=5, decimal_places=2)


class DimensionSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    weight = serializers.DecimalField(max_digits=7, decimal_places=2)
    weight_percent = serializers.SerializerMethodField()
    gate = serializers.SerializerMethodField()
    owner = serializers.CharField()
    purpose = serializers.CharField()
    limitations = serializers.CharField()
    anti_gaming = serializers.CharField()
    review_cadence = serializers.CharField()
    criteria = serializers.SerializerMethodField()

    def get_weight_percent(self, dimension: Any) -> str:
        total = self.context["total_weight"]
        return str((dimension.weight / total * 100).quantize(Decimal("0.01")))

    def get_gate(self, dimension: Any) -> dict[str, Any] | None:
        if not dimension.has_gate:
            return None
        return {"below": dimension.gate_below, "cap": str(dimension.gate_cap)}

    def get_criteria(self, dimension: Any) -> dict[str, str]:
        return {c.level.code: c.text for c in dimension.criteria.all()}


class VersionDetailSerializer(serializers.Serializer):
    rubric = serializers.CharField(source="rubric.slug")
    name = serializers.CharField(source="rubric.name")
    number = serializers.IntegerField()
    status = serializers.CharField()
    description = serializers.CharField()
    rationale = serializers.CharField()
    published_at = serializers.DateTimeField(allow_null=True)
    scale = serializers.SerializerMethodField()
    levels = serializers.SerializerMethodField()
    dimensions = serializers.SerializerMethodField()

    def get_scale(self, version: Any) -> dict[str, Any]:
        scale = version.scale
        return {
            "min": scale.min_rating,
            "max": scale.max_rating,
            "anchors": {str(point): text for point, text in scale.points()},
        }

    def get_levels(self, version: Any) -> list[dict[str, str]]:
        return [{"code": level.code, "name": level.name} for level in version.levels.all()]

    def get_dimensions(self, version: Any) -> list[dict[str, Any]]:
        dimensions = list(version.dimensions.all())
        total = sum((d.weight for d in dimensions), Decimal(0)) or Decimal(1)
        serializer = DimensionSerializer(dimensions, many=True, context={"total_weight": total})
        return list(serializer.data)


class RubricDetailSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    requires_second_approval = serializers.BooleanField()
    versions = serializers.SerializerMethodField()

    def get_versions(self, rubric: Any) -> Any:
        return VersionSummarySerializer(self.context["versions"], many=True).data


# ---- input serializers --------------------------------------------------------------------


class RationaleInput(serializers.Serializer):
    rationale = serializers.CharField(allow_blank=True, required=False, default="")


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(
        error_messages={"required": "Say why it goes back.", "blank": "Say why it goes back."}
    )


class GrantInput(serializers.Serializer):
    username = serializers.CharField()


class RatingsInput(serializers.Serializer):
    ratings = serializers.DictField(
        child=serializers.JSONField(),
        allow_empty=False,
        error_messages={"empty": 'Give at least one rating, e.g. {{"delivery": 4}}.'},
    )


ScorePreviewOutput = inline_serializer(
    "ScoreBreakdown",
    fields={
        "composite": serializers.CharField(allow_null=True),
        "uncapped": serializers.CharField(allow_null=True),
        "capped": serializers.BooleanField(),
        "advisory": serializers.BooleanField(),
        "formula_version": serializers.CharField(),
        "rubric_version": serializers.IntegerField(),
        "terms": serializers.ListField(child=serializers.DictField()),
        "gates": serializers.ListField(child=serializers.DictField()),
    },
)


def _version_response(version: Any, status_code: int = status.HTTP_200_OK) -> Response:
    version = selectors.with_content(version.__class__.objects.all()).get(pk=version.pk)
    return Response(VersionDetailSerializer(version).data, status=status_code)


# ---- views --------------------------------------------------------------------------------


class RubricListView(APIView):
    @extend_schema(responses=RubricListSerializer(many=True))
    def get(self, request: Request) -> Response:
        rubrics = selectors.rubrics_for_user(request.user)
        return Response(RubricListSerializer(rubrics, many=True).data)

    @extend_schema(
        request=inline_serializer("RubricDocument", fields={"rubric": serializers.SlugField()}),
        responses={201: VersionDetailSerializer},
        description="HR: create a rubric (or a new draft of one) from a rubric document.",
    )
    def post(self, request: Request) -> Response:
        version = services.rubric_import(
            actor=acting_user(request), data=request.data, publish=False
        )
        return _version_response(version, status.HTTP_201_CREATED)


class RubricDetailView(APIView):
    @extend_schema(responses=RubricDetailSerializer)
    def get(self, request: Request, slug: str) -> Response:
        rubric = selectors.get_rubric_for_user(request.user, slug)
        versions = selectors.versions_for_user(request.user, rubric)
        return Response(RubricDetailSerializer(rubric, context={"versions": versions}).data)


class RubricChangelogView(APIView):
    @extend_schema(responses=inline_serializer("Changelog", fields={}))
    def get(self, request: Request, slug: str) -> Response:
        rubric = selectors.get_rubric_for_user(request.user, slug)
        return Response({"rubric": rubric.slug, "entries": changelog_entries(rubric)})


def changelog_entries(rubric: Any) -> list[dict[str, Any]]:
    return [
        {**VersionSummarySerializer(version).data, "changes": changes}
        for version, changes in selectors.changelog(rubric)
    ]


class VersionCreateView(APIView):
    @extend_schema(request=None, responses={201: VersionDetailSerializer})
    def post(self, request: Request, slug: str) -> Response:
        rubric = selectors.get_rubric_for_user(request.user, slug)
        version = services.version_create_draft(actor=acting_user(request), rubric=rubric)
        return _version_response(version, status.HTTP_201_CREATED)


class VersionDetailView(APIView):
    @extend_schema(responses=VersionDetailSerializer)
    def get(self, request: Request, slug: str, number: int) -> Response:
        version = selectors.get_version_for_user(request.user, slug, number)
        return Response(VersionDetailSerializer(version).data)

    @extend_schema(
        request=inline_serializer("RubricDocumentUpdate", fields={}),
        responses=VersionDetailSerializer,
        description="HR: replace a draft's content with a rubric document.",
    )
    def put(self, request: Request, slug: str, number: int) -> Response:
        version = selectors.get_version_for_user(request.user, slug, number)
        version = services.version_update(
            actor=acting_user(request), version=version, data=request.data
        )
        return _version_response(version)


class VersionExportView(APIView):
    @extend_schema(
        responses={
            (200, "application/yaml"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="The version as a rubric document (YAML)."
            )
        }
    )
    def get(self, request: Request, slug: str, number: int) -> HttpResponse:
        version = selectors.get_version_for_user(request.user, slug, number)
        response = HttpResponse(
            dump_yaml(version_to_document(version)), content_type="application/yaml"
        )
        response["Content-Disposition"] = f'attachment; filename="{slug}-v{number}.yaml"'
        return response


class VersionLintView(APIView):
    @extend_schema(responses=inline_serializer("LintResult", fields={}))
    def get(self, request: Request, slug: str, number: int) -> Response:
        version = selectors.get_version_for_user(request.user, slug, number)
        problems = services.version_lint(version=version)
        warnings = services.version_lint_warnings(version=version)
        return Response({"ok": not problems, "problems": problems, "warnings": warnings})


class VersionPublishView(APIView):
    @extend_schema(request=RationaleInput, responses=VersionDetailSerializer)
    def post(self, request: Request, slug: str, number: int) -> Response:
        data = valid_input(RationaleInput, request)
        version = selectors.get_version_for_user(request.user, slug, number)
        version = services.version_publish(
            actor=acting_user(request), version=version, rationale=data["rationale"]
        )
        return _version_response(version)


class VersionApproveView(APIView):
    @extend_schema(request=None, responses=VersionDetailSerializer)
    def post(self, request: Request, slug: str, number: int) -> Response:
        version = selectors.get_version_for_user(request.user, slug, number)
        version = services.version_approve(actor=acting_user(request), version=version)
        return _version_response(version)


class VersionSendBackView(APIView):
    @extend_schema(request=ReasonInput, responses=VersionDetailSerializer)
    def post(self, request: Request, slug: str, number: int) -> Response:
        data = valid_input(ReasonInput, request)
        version = selectors.get_version_for_user(request.user, slug, number)
        version = services.version_send_back(
            actor=acting_user(request), version=version, reason=data["reason"]
        )
        return _version_response(version)


class VersionRetireView(APIView):
    @extend_schema(request=None, responses=VersionDetailSerializer)
    def post(self, request: Request, slug: str, number: int) -> Response:
        version = selectors.get_version_for_user(request.user, slug, number)
        version = services.version_retire(actor=acting_user(request), version=version)
        return _version_response(version)


class VersionGrantView(APIView):
    @extend_schema(request=GrantInput, responses={204: None})
    def post(self, request: Request, slug: str, number: int) -> Response:
        data = valid_input(GrantInput, request)
        version = selectors.get_version_for_user(request.user, slug, number)
        user = get_user_model().objects.filter(username=data["username"]).first()
        if user is None:
            raise ValidationFailed(
                f"No user called {data['username']!r}.", errors={"username": ["no such user"]}
            )
        services.version_grant_draft_access(actor=acting_user(request), version=version, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RubricDiffView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("from", int, required=True),
            OpenApiParameter("to", int, required=True),
        ],
        responses=inline_serializer("RubricDiff", fields={}),
    )
    def get(self, request: Request, slug: str) -> Response:
        errors = {
            name: ["is required: a version number"]
            for name in ("from", "to")
            if limits.as_id(request.query_params.get(name)) is None
        }
        if errors:
            raise ValidationFailed("Give two version numbers, e.g. ?from=1&to=2.", errors=errors)
        old = selectors.get_version_for_user(request.user, slug, request.query_params["from"])
        new = selectors.get_version_for_user(request.user, slug, request.query_params["to"])
        diff = diff_documents(version_to_document(old), version_to_document(new))
        return Response({"rubric": slug, "from": old.number, "to": new.number, **diff})


class ScorePreviewView(APIView):
    @extend_schema(request=RatingsInput, responses=ScorePreviewOutput)
    def post(self, request: Request, slug: str, number: int) -> Response:
        data = valid_input(RatingsInput, request)
        version = selectors.get_version_for_user(request.user, slug, number)
        try:
            breakdown = compute(
                dimensions=version.dimension_specs(),
                ratings=data["ratings"],
                scale=version.scale_spec(),
                rubric_version=version.number,
            )
        except ScoringError as exc:
            errors = {f"ratings.{key}": [message] for key, message in exc.errors.items()}
            raise ValidationFailed(str(exc), errors=errors) from None
        return Response(breakdown.as_dict())
