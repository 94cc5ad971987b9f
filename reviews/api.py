"""Reviews API: thin views — input serializer, access helper, one service, output serializer."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Count
from django.http import HttpResponseBase
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import limits, readcache, workflow
from core.actors import acting_user
from core.api import valid_input
from core.errors import Forbidden, ValidationFailed
from core.roles import is_hr
from people.models import Team
from people.selectors import get_engineer_for_user
from reviews import selectors, services
from reviews.evidence import EvidenceKind
from reviews.filters import ReviewFilter
from reviews.models import Evidence, Review, ReviewCycle, TeamMetrics
from reviews.permissions import (
    can_manage_cycles,
    can_see_manager_ratings,
    manager_ratings_visible,
)
from reviews.scores import score_payload
from reviews.tasks import recompute_cycle_scores
from rubrics.models import RubricVersion
from rubrics.scoring import ScoringError

# ---- output --------------------------------------------------------------------------------


class CycleSummarySerializer(serializers.ModelSerializer):
    """A cycle as the list shows it: how many teams it covers, not which (hundreds, in a large
    organisation); one cycle's answer names them."""

    rubric = serializers.CharField(source="rubric_version.rubric.slug")
    rubric_version = serializers.IntegerField(source="rubric_version.number")
    team_count = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = ReviewCycle
        fields = [
            "id",
            "name",
            "phase",
            "rubric",
            "rubric_version",
            "self_review_ends",
            "manager_review_ends",
            "calibration_ends",
            "finalisation_ends",
            "team_count",
            "opened_at",
            "allowed_actions",
        ]

    def get_team_count(self, cycle: ReviewCycle) -> int:
        """How many teams the cycle covers; 0: everyone who has a manager."""
        counted = getattr(cycle, "team_count", None)
        return int(counted) if counted is not None else len(cycle.teams.all())

    def get_allowed_actions(self, cycle: ReviewCycle) -> list[str]:
        """What the requesting user may do to the cycle now (its phase machine's steps)."""
        request = self.context.get("request")
        return workflow.allowed_actions(cycle, request.user) if request is not None else []


class CycleSerializer(CycleSummarySerializer):
    """One cycle, with the teams it covers (slugs)."""

    teams: serializers.SlugRelatedField[Team] = serializers.SlugRelatedField(
        slug_field="slug", many=True, read_only=True
    )

    class Meta(CycleSummarySerializer.Meta):
        fields = [
            *CycleSummarySerializer.Meta.fields[:-3],
            "teams",
            *CycleSummarySerializer.Meta.fields[-3:],
        ]


class EvidenceSerializer(serializers.ModelSerializer):
    withdrawn = serializers.BooleanField(source="is_withdrawn")
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Evidence
        fields = [
            "id",
            "kind",
            "url",
            "title",
            "occurred_on",
            "contribution",
            "dimensions",
            "created_at",
            "withdrawn",
            "withdrawn_reason",
            "warnings",
        ]


def _person(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"username": user.get_username(), "name": user.get_full_name()}


class ReviewSerializer(serializers.ModelSerializer):
    engineer = serializers.SerializerMethodField()
    team = serializers.SerializerMethodField()
    manager = serializers.SerializerMethodField()
    level = serializers.CharField(source="level_code")
    cycle = serializers.IntegerField(source="cycle_id")
    ratings = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = [
            "id",
            "cycle",
            "engineer",
            "team",
            "level",
            "manager",
            "state",
            "version",
            "overall_rating",
            "growth_rating",
            "evidence_count",
            "ratings",
            "self_submitted_at",
            "manager_submitted_at",
            "finalized_at",
            "acknowledged_at",
        ]

    def get_engineer(self, review: Review) -> dict[str, Any] | None:
        return {"id": review.engineer_id, **(_person(review.engineer.user) or {})}

    def get_team(self, review: Review) -> dict[str, Any]:
        return {"id": review.team_id, "name": review.team.name}

    def get_manager(self, review: Review) -> dict[str, Any] | None:
        return _person(review.manager)

    def to_representation(self, review: Review) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(review)
        if not can_see_manager_ratings(self.context["request"].user, review):
            # The manager's holistic ratings are theirs until they submit, like the others.
            data["overall_rating"] = data["growth_rating"] = None
        return data

    def get_ratings(self, review: Review) -> list[dict[str, Any]]:
        show_manager = can_see_manager_ratings(self.context["request"].user, review)
        detailed = self.context.get("detailed", False)
        out = []
        for rating in review.ratings.all():
            entry: dict[str, Any] = {
                "dimension": rating.dimension_key,
                "self_rating": rating.self_rating,
                "manager_rating": rating.manager_rating if show_manager else None,
            }
            if detailed:
                entry["self_justification"] = rating.self_justification
                entry["manager_justification"] = (
                    rating.manager_justification if show_manager else ""
                )
                entry["counterexample"] = rating.counterexample if show_manager else ""
            out.append(entry)
        return out


class ReviewDetailSerializer(ReviewSerializer):
    evidence = EvidenceSerializer(many=True)
    allowed_now = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta(ReviewSerializer.Meta):
        fields = [
            *ReviewSerializer.Meta.fields,
            "manager_confidence",
            "returned_reason",
            "returned_at",
            "calibration_board",
            "evidence",
            "allowed_now",
            "allowed_actions",
        ]

    def to_representation(self, review: Review) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(review)
        if review.engineer.user_id == self.context["request"].user.pk:
            # The manager's confidence is a signal about the process, not to the engineer.
            data["manager_confidence"] = None
        return data

    def get_allowed_now(self, review: Review) -> str:
        """What can happen to the review now, and who does it, in one sentence."""
        return services.allowed_now(review)

    def get_allowed_actions(self, review: Review) -> list[str]:
        """The steps the requesting user may take now (names of the review's transitions)."""
        return workflow.allowed_actions(review, self.context["request"].user)


class TeamMetricsSerializer(serializers.ModelSerializer):
    cycle = serializers.CharField(source="cycle.name")
    cycle_id = serializers.IntegerField()

    class Meta:
        model = TeamMetrics
        fields = [
            "cycle_id",
            "cycle",
            "deployment_frequency",
            "deployment_frequency_unit",
            "lead_time",
            "lead_time_unit",
            "change_failure_rate",
            "time_to_restore",
            "time_to_restore_unit",
        ]


# ---- input ---------------------------------------------------------------------------------


class CycleInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    rubric = serializers.SlugField()
    rubric_version = serializers.IntegerField()
    self_review_ends = serializers.DateField()
    manager_review_ends = serializers.DateField()
    calibration_ends = serializers.DateField()
    finalisation_ends = serializers.DateField()
    teams = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Team.objects.all(),
        many=True,
        required=False,
        help_text="The teams the cycle covers (slugs); none: everyone who has a manager.",
    )


class EngineerInput(serializers.Serializer):
    engineer = serializers.IntegerField()


class EvidenceInput(serializers.Serializer):
    url = serializers.CharField(max_length=4000)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=EvidenceKind.choices, required=False, allow_null=True)
    occurred_on = serializers.DateField(required=False, allow_null=True)
    contribution = serializers.CharField(required=False, allow_blank=True, default="")
    dimensions = serializers.ListField(child=serializers.CharField(), required=False, default=list)


class EvidenceUpdateInput(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    kind = serializers.ChoiceField(choices=EvidenceKind.choices, required=False)
    occurred_on = serializers.DateField(required=False, allow_null=True)
    contribution = serializers.CharField(required=False, allow_blank=True)
    dimensions = serializers.ListField(child=serializers.CharField(), required=False)


class PasteInput(serializers.Serializer):
    text = serializers.CharField(
        error_messages={"blank": "Paste at least one link, one per line."}, trim_whitespace=False
    )


class RatingEntry(serializers.Serializer):
    rating = serializers.IntegerField(allow_null=True, required=False)
    justification = serializers.CharField(allow_blank=True, required=False, default="")
    counterexample = serializers.CharField(allow_blank=True, required=False, default="")


class ReviewRatingsInput(serializers.Serializer):
    ratings = serializers.DictField(child=RatingEntry(), allow_empty=False)
    overall_rating = serializers.IntegerField(required=False, allow_null=True)
    growth_rating = serializers.IntegerField(required=False, allow_null=True)
    manager_confidence = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="How sure the manager is of the overall rating, 1–5 (reported in aggregate).",
    )


class ReviewReasonInput(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, required=False, default="")


class WhatIfInput(serializers.Serializer):
    ratings = serializers.DictField(
        child=serializers.JSONField(allow_null=True),
        allow_empty=False,
        help_text='{dimension: rating, or null for "not rated"}; every other rating is kept.',
    )


def _detail(
    request: Request, review: Review, code: int = status.HTTP_200_OK, *, fresh: bool = False
) -> Response:
    """The review as JSON; after a change it is read again (`fresh`: it was just loaded)."""
    if not fresh:
        review = selectors.get_review_for_user(request.user, review.pk)
    data = ReviewDetailSerializer(review, context={"request": request, "detailed": True}).data
    return Response(data, status=code, headers={"ETag": f'"{review.version}"'})


# ---- cycles --------------------------------------------------------------------------------


class CycleListView(APIView):
    @extend_schema(responses=CycleSummarySerializer(many=True))
    def get(self, request: Request) -> Response:
        cycles = selectors.cycles_for_user(request.user).annotate(team_count=Count("teams"))
        return Response(
            CycleSummarySerializer(cycles, many=True, context={"request": request}).data
        )

    @extend_schema(request=CycleInput, responses={201: CycleSerializer})
    def post(self, request: Request) -> Response:
        if not can_manage_cycles(request.user):  # before validation: say "not yours" first
            raise Forbidden("Only HR can create review cycles.")
        data = valid_input(CycleInput, request)
        version = RubricVersion.objects.filter(
            rubric__slug=data.pop("rubric"), number=data.pop("rubric_version")
        ).first()
        if version is None:
            raise ValidationFailed(
                "No such rubric version.", errors={"rubric_version": ["not found"]}
            )
        cycle = services.cycle_create(actor=acting_user(request), rubric_version=version, **data)
        return Response(
            CycleSerializer(cycle, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class CycleDetailView(APIView):
    @extend_schema(responses=CycleSerializer)
    def get(self, request: Request, pk: int) -> Response:
        cycle = selectors.get_cycle_for_user(request.user, pk)
        return Response(CycleSerializer(cycle, context={"request": request}).data)


class CycleOpenView(APIView):
    @extend_schema(request=None, responses=CycleSerializer)
    def post(self, request: Request, pk: int) -> Response:
        cycle = selectors.get_cycle_for_user(request.user, pk)
        return Response(
            CycleSerializer(
                services.cycle_open(actor=acting_user(request), cycle=cycle),
                context={"request": request},
            ).data
        )


class CycleAdvanceView(APIView):
    @extend_schema(request=None, responses=CycleSerializer)
    def post(self, request: Request, pk: int) -> Response:
        cycle = selectors.get_cycle_for_user(request.user, pk)
        return Response(
            CycleSerializer(
                services.cycle_advance(actor=acting_user(request), cycle=cycle),
                context={"request": request},
            ).data
        )


class CycleAddEngineerView(APIView):
    @extend_schema(request=EngineerInput, responses={201: ReviewDetailSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = valid_input(EngineerInput, request)
        cycle = selectors.get_cycle_for_user(request.user, pk)
        engineer = get_engineer_for_user(request.user, data["engineer"])
        review = services.cycle_add_engineer(
            actor=acting_user(request), cycle=cycle, engineer=engineer
        )
        return _detail(request, review, status.HTTP_201_CREATED)


class CycleReopenView(APIView):
    @extend_schema(request=ReviewReasonInput, responses=CycleSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = valid_input(ReviewReasonInput, request)
        cycle = selectors.get_cycle_for_user(request.user, pk)
        cycle = services.cycle_reopen(
            actor=acting_user(request), cycle=cycle, reason=data["reason"]
        )
        return Response(CycleSerializer(cycle, context={"request": request}).data)


class CycleRecomputeView(APIView):
    @extend_schema(request=None, responses={202: inline_serializer("Queued", fields={})})
    def post(self, request: Request, pk: int) -> Response:
        cycle = selectors.get_cycle_for_user(request.user, pk)
        workflow.require(cycle, "recompute", request.user)
        result = recompute_cycle_scores.delay(cycle.pk, request.user.pk)
        return Response({"task": result.id}, status=status.HTTP_202_ACCEPTED)


# ---- reviews -------------------------------------------------------------------------------


_timestamp = serializers.DateTimeField().to_representation


def _name(first: str, last: str) -> str:
    return f"{first} {last}".strip()  # what User.get_full_name() gives


def review_list_item(
    row: dict[str, Any], ratings: list[dict[str, Any]], viewer: Any
) -> dict[str, Any]:
    """One review of the list, read from plain rows, in `ReviewSerializer`'s shape.

    The list builds its items by hand: through the serializer, model instances and per-field
    calls took most of the endpoint's time. A test holds the two to the same output.
    """
    show_manager = manager_ratings_visible(viewer, row["engineer__user_id"], row["state"])
    manager = row["manager__username"]
    return {
        "id": row["id"],
        "cycle": row["cycle_id"],
        "engineer": {
            "id": row["engineer_id"],
            "username": row["engineer__user__username"],
            "name": _name(row["engineer__user__first_name"], row["engineer__user__last_name"]),
        },
        "team": {"id": row["team_id"], "name": row["team__name"]},
        "level": row["level_code"],
        "manager": None
        if manager is None
        else {
            "username": manager,
            "name": _name(row["manager__first_name"], row["manager__last_name"]),
        },
        "state": row["state"],
        "version": row["version"],
        "overall_rating": row["overall_rating"] if show_manager else None,
        "growth_rating": row["growth_rating"] if show_manager else None,
        "evidence_count": row["evidence_count"],
        "ratings": [
            {
                "dimension": rating["dimension_key"],
                "self_rating": rating["self_rating"],
                "manager_rating": rating["manager_rating"] if show_manager else None,
            }
            for rating in ratings
        ],
        **{
            field: None if row[field] is None else _timestamp(row[field])
            for field in (
                "self_submitted_at",
                "manager_submitted_at",
                "finalized_at",
                "acknowledged_at",
            )
        },
    }


class ReviewListView(generics.ListAPIView):
    serializer_class = ReviewSerializer  # the documented shape of each item
    filterset_class = ReviewFilter

    def get_queryset(self) -> Any:
        return selectors.review_list_rows(self.request.user)

    # A cached read is the rendered JSON itself, not a Response to render.
    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:  # type: ignore[override]
        user = request.user
        mine = "hr" if is_hr(user) else f"person:{user.pk}"
        return readcache.cached_json(request, "list", self.page_data, shows=[mine])

    def page_data(self) -> Any:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None  # the list is always paginated
        ratings = selectors.ratings_by_review([row["id"] for row in page])
        items = [review_list_item(row, ratings[row["id"]], self.request.user) for row in page]
        return self.get_paginated_response(items).data


class ReviewDetailView(APIView):
    @extend_schema(responses=ReviewDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return _detail(request, selectors.get_review_for_user(request.user, pk), fresh=True)


class EvidenceListView(APIView):
    @extend_schema(responses=EvidenceSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        review = selectors.get_review_for_user(request.user, pk)
        return Response(EvidenceSerializer(review.evidence.all(), many=True).data)

    @extend_schema(request=EvidenceInput, responses={201: EvidenceSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = valid_input(EvidenceInput, request)
        review = selectors.get_review_for_user(request.user, pk)
        item = services.evidence_add(actor=acting_user(request), review=review, **data)
        return Response(EvidenceSerializer(item).data, status=status.HTTP_201_CREATED)


class EvidencePasteView(APIView):
    @extend_schema(request=PasteInput, responses=inline_serializer("PasteResult", fields={}))
    def post(self, request: Request, pk: int) -> Response:
        data = valid_input(PasteInput, request)
        review = selectors.get_review_for_user(request.user, pk)
        results = services.evidence_paste(
            actor=acting_user(request), review=review, text=data["text"]
        )
        accepted = sum(1 for r in results if r["accepted"])
        return Response(
            {"accepted": accepted, "refused": len(results) - accepted, "lines": results},
            status=status.HTTP_201_CREATED if accepted else status.HTTP_400_BAD_REQUEST,
        )


def _evidence_for(request: Request, pk: int, evidence_pk: int) -> Evidence:
    review = selectors.get_review_for_user(request.user, pk)
    item = next((e for e in review.evidence.all() if e.pk == int(evidence_pk)), None)
    if item is None:
        from django.http import Http404

        raise Http404("No such evidence.")
    return item


class EvidenceDetailView(APIView):
    @extend_schema(request=EvidenceUpdateInput, responses=EvidenceSerializer)
    def patch(self, request: Request, pk: int, evidence_pk: int) -> Response:
        data = valid_input(EvidenceUpdateInput, request, partial=True)
        item = _evidence_for(request, pk, evidence_pk)
        item = services.evidence_update(actor=acting_user(request), evidence=item, **data)
        return Response(EvidenceSerializer(item).data)


class EvidenceWithdrawView(APIView):
    @extend_schema(request=ReviewReasonInput, responses=EvidenceSerializer)
    def post(self, request: Request, pk: int, evidence_pk: int) -> Response:
        data = valid_input(ReviewReasonInput, request)
        item = _evidence_for(request, pk, evidence_pk)
        item = services.evidence_withdraw(
            actor=acting_user(request), evidence=item, reason=data["reason"]
        )
        return Response(EvidenceSerializer(item).data)


class SelfRatingsView(APIView):
    @extend_schema(request=ReviewRatingsInput, responses=ReviewDetailSerializer)
    def put(self, request: Request, pk: int) -> Response:
        data = valid_input(ReviewRatingsInput, request)
        review = selectors.get_review_for_user(request.user, pk)
        review = services.rating_set_self(
            actor=acting_user(request), review=review, ratings=data["ratings"]
        )
        return _detail(request, review)


class ManagerRatingsView(APIView):
    @extend_schema(request=ReviewRatingsInput, responses=ReviewDetailSerializer)
    def put(self, request: Request, pk: int) -> Response:
        data = valid_input(ReviewRatingsInput, request)
        review = selectors.get_review_for_user(request.user, pk)
        with transaction.atomic():
            review = services.rating_set_manager(
                actor=acting_user(request), review=review, ratings=data["ratings"]
            )
            if {"overall_rating", "growth_rating", "manager_confidence"} & set(data):
                review = services.rating_set_overall(
                    actor=acting_user(request),
                    review=review,
                    overall=data.get("overall_rating", review.overall_rating),
                    growth=data.get("growth_rating", review.growth_rating),
                    confidence=data.get("manager_confidence", review.manager_confidence),
                )
        return _detail(request, review)


def _transition(service: Any, with_reason: bool = False) -> type[APIView]:
    class TransitionView(APIView):
        @extend_schema(
            request=ReviewReasonInput if with_reason else None, responses=ReviewDetailSerializer
        )
        def post(self, request: Request, pk: int) -> Response:
            review = selectors.get_review_for_user(request.user, pk)
            kwargs = (
                {"reason": valid_input(ReviewReasonInput, request)["reason"]} if with_reason else {}
            )
            review = service(actor=acting_user(request), review=review, **kwargs)
            return _detail(request, review)

    TransitionView.__name__ = f"{service.__name__.title().replace('_', '')}View"
    return TransitionView


SubmitSelfView = _transition(services.review_submit_self)
ReturnView = _transition(services.review_return, with_reason=True)
SubmitManagerView = _transition(services.review_submit_manager)
FinalizeView = _transition(services.review_finalize)
AcknowledgeView = _transition(services.review_acknowledge)


class ScoreView(APIView):
    @extend_schema(responses=inline_serializer("ReviewScore", fields={}))
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        def build() -> dict[str, Any]:
            review = selectors.get_review_for_score(request.user, pk)
            return score_payload(review, viewer=request.user)

        return readcache.cached_json(request, "score", build, shows=[f"review:{pk}"])


class WhatIfView(APIView):
    @extend_schema(request=WhatIfInput, responses=inline_serializer("ReviewWhatIf", fields={}))
    def post(self, request: Request, pk: int) -> Response:
        data = valid_input(WhatIfInput, request)
        review = selectors.get_review_for_score(request.user, pk)
        try:
            payload = score_payload(review, viewer=request.user, what_if=data["ratings"])
        except ScoringError as exc:
            errors = {f"ratings.{key}": [message] for key, message in exc.errors.items()}
            raise ValidationFailed(str(exc), errors=errors) from None
        return Response(payload)


class TeamMetricsView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("cycle", int, description="Only this cycle's figures.")],
        responses=inline_serializer(
            "TeamMetricsPage",
            fields={
                "team": inline_serializer(
                    "TeamRef",
                    fields={"id": serializers.IntegerField(), "name": serializers.CharField()},
                ),
                "note": serializers.CharField(),
                "metrics": TeamMetricsSerializer(many=True),
            },
        ),
    )
    def get(self, request: Request, pk: int) -> Response:
        team = selectors.get_team_for_user(request.user, pk)
        cycle = request.query_params.get("cycle")
        metrics = selectors.team_metrics(team)
        if cycle:
            cycle_id = limits.as_id(cycle)
            if cycle_id is None:
                raise ValidationFailed(
                    "cycle must be a cycle id.", errors={"cycle": ["must be a cycle id"]}
                )
            metrics = metrics.filter(cycle_id=cycle_id)
        return Response(
            {
                "team": {"id": team.pk, "name": team.name},
                "note": "Team-level context. Never an input to an individual's score.",
                "metrics": TeamMetricsSerializer(metrics, many=True).data,
            }
        )
