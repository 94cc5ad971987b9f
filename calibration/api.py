"""Calibration API: sessions, the board, adjustments, analytics, export, appeals, health."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db.models import QuerySet, prefetch_related_objects
from django.db.models.fields.json import KT
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from calibration import selectors, services
from calibration.health import cycle_health
from calibration.models import Adjustment, Appeal, CalibrationSession
from calibration.permissions import can_create_sessions
from core import workflow
from core.actors import acting_user
from core.api import if_match_version, jsonable, users_named, valid_input
from core.errors import Forbidden, ValidationFailed
from core.roles import is_hr
from core.spreadsheets import safe_row
from people.models import Team
from reviews.models import Review
from reviews.selectors import get_cycle_for_user, get_review_for_user

SUMMARY_HEADLINE = ("reviews", "changed", "mean_before", "mean_after")


def with_summary_headline(sessions: QuerySet[CalibrationSession]) -> QuerySet[CalibrationSession]:
    """Sessions with their summary's headline figures read in SQL: the whole summary (every
    review's before and after) grows with the board and no list shows it."""
    # As text, read alike on every database; counts become numbers again in the serializer.
    return sessions.defer("summary").annotate(
        **{f"summary_{key}": KT(f"summary__{key}") for key in SUMMARY_HEADLINE}
    )


class SessionSerializer(serializers.ModelSerializer):
    """A session in a list: its summary is the headline figures only."""

    cycle = serializers.IntegerField(source="cycle_id")
    facilitator = serializers.CharField(source="facilitator.get_username")
    participants = serializers.SerializerMethodField()
    scope = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()

    class Meta:
        model = CalibrationSession
        fields = [
            "id",
            "cycle",
            "name",
            "facilitator",
            "status",
            "version",
            "participants",
            "scope",
            "guidance",
            "opened_at",
            "locked_at",
            "closed_at",
            "summary",
        ]

    def get_participants(self, session: CalibrationSession) -> list[dict[str, str]]:
        return [
            {"username": p.user.get_username(), "role": p.role} for p in session.participants.all()
        ]

    def get_scope(self, session: CalibrationSession) -> dict[str, Any]:
        return {
            "teams": [t.name for t in session.scope_teams.all()],
            "levels": session.scope_levels,
            "managers": [m.get_username() for m in session.scope_managers.all()],
        }

    @extend_schema_field(
        inline_serializer(
            "SessionSummaryHeadline",
            fields={
                # Each null until the session closes.
                "reviews": serializers.IntegerField(allow_null=True),
                "changed": serializers.IntegerField(allow_null=True),
                "mean_before": serializers.CharField(allow_null=True),
                "mean_after": serializers.CharField(allow_null=True),
            },
        )
    )
    def get_summary(self, session: CalibrationSession) -> dict[str, Any]:
        """A closed session's headline figures; its own endpoint has every review's before
        and after, and the reviews in scope that were not calibrated."""
        values: dict[str, Any] = {
            key: getattr(session, f"summary_{key}", None) for key in SUMMARY_HEADLINE
        }
        for count in ("reviews", "changed"):
            value = values[count]
            values[count] = None if value is None else int(value)
        return values


class SessionDetailSerializer(SessionSerializer):
    """One session, with what the requesting user may do to it now (the list leaves that out:
    whether a manager may change ratings is a question per session)."""

    allowed_actions = serializers.SerializerMethodField()
    allowed_now = serializers.SerializerMethodField()

    class Meta(SessionSerializer.Meta):
        fields = [*SessionSerializer.Meta.fields, "allowed_actions", "allowed_now"]

    def get_allowed_actions(self, session: CalibrationSession) -> list[str]:
        """What the requesting user may do to the session now."""
        return workflow.allowed_actions(session, self.context["request"].user)

    def get_allowed_now(self, session: CalibrationSession) -> str:
        return workflow.now_sentence(session)

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_summary(self, session: CalibrationSession) -> dict[str, Any]:
        """Once closed: reviews, changed, mean_before, mean_after, every review's composite
        before and after (rows), and the reviews in scope that were not calibrated."""
        return dict(session.summary)


class SessionInput(serializers.Serializer):
    cycle = serializers.IntegerField()
    name = serializers.CharField(max_length=120)
    facilitator = serializers.CharField(required=False, help_text="Username; default: you.")
    managers = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    observers = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    teams = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    levels = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    scope_managers = serializers.ListField(
        child=serializers.CharField(), required=False, default=list
    )
    guidance = serializers.DictField(
        child=serializers.DecimalField(max_digits=4, decimal_places=3), required=False
    )


class AdjustmentInput(serializers.Serializer):
    review = serializers.IntegerField()
    dimension = serializers.CharField(help_text='A dimension key, or "overall".')
    rating = serializers.IntegerField()
    rationale = serializers.CharField(allow_blank=True)
    evidence = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    counterexample = serializers.CharField(required=False, allow_blank=True, default="")
    version = serializers.IntegerField(required=False, help_text="The review's board version.")


class AdjustmentSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.get_username")
    evidence = serializers.SerializerMethodField()
    dimension = serializers.CharField(source="dimension_key")

    class Meta:
        model = Adjustment
        fields = [
            "id",
            "review",
            "dimension",
            "before",
            "after",
            "rationale",
            "evidence",
            "counterexample",
            "actor",
            "created_at",
        ]

    def get_evidence(self, adjustment: Adjustment) -> list[dict[str, Any]]:
        return [{"id": e.pk, "title": e.title, "url": e.url} for e in adjustment.evidence.all()]


class PreReadInput(serializers.Serializer):
    review = serializers.IntegerField()
    text = serializers.CharField(allow_blank=True)


class AppealInput(serializers.Serializer):
    dimension = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)


APPEAL_OUTCOMES = [(value, Appeal.Status(value).label) for value in Appeal.OUTCOMES]


class AppealResolveInput(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=APPEAL_OUTCOMES)
    resolution = serializers.CharField(allow_blank=True)
    new_rating = serializers.IntegerField(required=False, allow_null=True)


class AppealSerializer(serializers.ModelSerializer):
    dimension = serializers.CharField(source="dimension_key")
    resolved_by = serializers.SerializerMethodField()

    class Meta:
        model = Appeal
        fields = [
            "id",
            "review",
            "dimension",
            "reason",
            "status",
            "before",
            "after",
            "resolution",
            "resolved_by",
            "created_at",
            "resolved_at",
        ]

    def get_resolved_by(self, appeal: Appeal) -> str | None:
        return appeal.resolved_by.get_username() if appeal.resolved_by else None


def _session_response(
    request: Request, session: CalibrationSession, code: int = 200, *, fresh: bool = False
) -> Response:
    """The session as JSON; after a change it is read again (`fresh`: it was just loaded)."""
    if not fresh:
        session = selectors.get_session_for_user(request.user, session.pk)
    prefetch_related_objects([session], "scope_teams", "scope_managers")
    data = SessionDetailSerializer(session, context={"request": request}).data
    return Response(data, status=code, headers={"ETag": f'"{session.version}"'})


class SessionListView(APIView):
    @extend_schema(responses=SessionSerializer(many=True))
    def get(self, request: Request) -> Response:
        sessions = with_summary_headline(
            selectors.sessions_for_user(request.user)
        ).prefetch_related("participants__user", "scope_teams", "scope_managers")
        return Response(SessionSerializer(sessions, many=True, context={"request": request}).data)

    @extend_schema(request=SessionInput, responses={201: SessionDetailSerializer})
    def post(self, request: Request) -> Response:
        if not can_create_sessions(request.user):
            raise Forbidden("Only HR or a facilitator can schedule calibration sessions.")
        data = valid_input(SessionInput, request)
        cycle = get_cycle_for_user(request.user, data["cycle"])
        facilitator = (
            users_named([data["facilitator"]], "facilitator")[0]
            if data.get("facilitator")
            else request.user
        )
        teams = list(Team.objects.filter(pk__in=data["teams"]))
        if len(teams) != len(set(data["teams"])):
            raise ValidationFailed("Unknown team.", errors={"teams": ["unknown team id"]})
        session = services.session_create(
            actor=acting_user(request),
            cycle=cycle,
            name=data["name"],
            facilitator=facilitator,
            managers=users_named(data["managers"], "managers"),
            observers=users_named(data["observers"], "observers"),
            teams=teams,
            levels=data["levels"],
            scope_managers=users_named(data["scope_managers"], "scope_managers"),
            guidance={k: str(v) for k, v in (data.get("guidance") or {}).items()},
        )
        return _session_response(request, session, status.HTTP_201_CREATED)


class SessionDetailView(APIView):
    @extend_schema(responses=SessionDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return _session_response(
            request, selectors.get_session_for_user(request.user, pk), fresh=True
        )


def _transition(service: Any) -> type[APIView]:
    class TransitionView(APIView):
        @extend_schema(request=None, responses=SessionDetailSerializer)
        def post(self, request: Request, pk: int) -> Response:
            session = selectors.get_session_for_user(request.user, pk)
            return _session_response(request, service(actor=acting_user(request), session=session))

    TransitionView.__name__ = f"{service.__name__.title().replace('_', '')}View"
    return TransitionView


SessionOpenView = _transition(services.session_open)
SessionLockView = _transition(services.session_lock)
SessionUnlockView = _transition(services.session_unlock)
SessionCloseView = _transition(services.session_close)


class AddReviewsInput(serializers.Serializer):
    reviews = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        max_length=10_000,
        help_text="Ids of waiting reviews; default: every waiting review.",
    )


class SessionAddReviewsView(APIView):
    @extend_schema(request=AddReviewsInput, responses=SessionDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = valid_input(AddReviewsInput, request)
        session = selectors.get_session_for_user(request.user, pk)
        services.session_add_reviews(
            actor=acting_user(request), session=session, review_ids=data.get("reviews")
        )
        return _session_response(request, session)


class BoardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class BoardRowSerializer(serializers.Serializer):
    """One review on the board (documentation of the shape; rows are built as plain data)."""

    review = serializers.IntegerField()
    version = serializers.IntegerField(help_text="The entry's version: send it back to adjust.")
    engineer = serializers.CharField()
    team = serializers.CharField()
    team_id = serializers.IntegerField()
    level = serializers.CharField()
    manager = serializers.CharField()
    manager_id = serializers.IntegerField(allow_null=True)
    tenure_band = serializers.CharField()
    state = serializers.CharField()
    self_ratings = serializers.DictField(child=serializers.IntegerField(allow_null=True))
    ratings = serializers.DictField(child=serializers.IntegerField())
    pre_ratings = serializers.DictField(child=serializers.IntegerField(), allow_null=True)
    overall = serializers.IntegerField(allow_null=True)
    growth = serializers.IntegerField(allow_null=True)
    composite = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    pre_composite = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    evidence_count = serializers.IntegerField()
    evidence_by_dimension = serializers.DictField(child=serializers.IntegerField())
    prereads = serializers.ListField(child=serializers.DictField())
    previous_composite = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)


class BoardSerializer(serializers.Serializer):
    session = serializers.IntegerField()
    status = serializers.CharField()
    version = serializers.IntegerField()
    advisory = serializers.BooleanField()
    dimensions = serializers.ListField(child=serializers.DictField())
    count = serializers.IntegerField(help_text="Reviews on the whole board.")
    next = serializers.URLField(allow_null=True, help_text="The next page of rows, if any.")
    previous = serializers.URLField(allow_null=True, help_text="The previous page, if any.")
    rows = BoardRowSerializer(many=True, help_text="This page's rows, in the board's order.")
    waiting = serializers.ListField(child=serializers.DictField())


class BoardView(APIView):
    """The board a page at a time (`?page=`, `?page_size=` up to 200; 50 by default), in the
    board's order: team, then the engineer's last name. `count` is the whole board's size;
    the analytics endpoint covers the whole board."""

    @extend_schema(
        responses=BoardSerializer,
        parameters=[
            OpenApiParameter("page", int, description="A page number, from 1."),
            OpenApiParameter("page_size", int, description="Rows per page: 50, at most 200."),
        ],
    )
    def get(self, request: Request, pk: int) -> Response:
        session = selectors.get_session_for_user(request.user, pk)
        summary = selectors.board_summary(session, viewer=request.user)
        order = summary["order"]
        paginator = BoardPagination()
        page = paginator.paginate_queryset(order, request, view=self) or []
        rows, version = selectors.board_rows(
            session, viewer=request.user, reviews=[review_id for review_id, _name in page]
        )
        return Response(
            {
                "session": session.pk,
                "status": session.status,
                "version": session.version,
                "advisory": True,
                "dimensions": [{"key": d.key, "name": d.name} for d in version.dimensions.all()],
                "count": len(order),
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "rows": jsonable(rows),
                "waiting": [
                    {"review": w["review"], "engineer": w["engineer"]} for w in summary["waiting"]
                ],
            },
            headers={"ETag": f'"{session.version}"'},
        )


def board_analytics(session: CalibrationSession, *, viewer: Any) -> dict[str, Any]:
    """The whole board's analytics, read afresh (the endpoint serves them from the cache)."""
    return selectors.board_analytics(session, viewer=viewer)


class AnalyticsView(APIView):
    @extend_schema(responses=inline_serializer("Analytics", fields={}))
    def get(self, request: Request, pk: int) -> Response:
        session = selectors.get_session_for_user(request.user, pk)
        return Response(selectors.board_summary(session, viewer=request.user)["analytics"])


class AdjustmentListView(APIView):
    @extend_schema(responses=AdjustmentSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        session = selectors.get_session_for_user(request.user, pk)
        adjustments = selectors.adjustments_for(session, viewer=request.user)
        return Response(AdjustmentSerializer(adjustments, many=True).data)

    @extend_schema(request=AdjustmentInput, responses={201: AdjustmentSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = valid_input(AdjustmentInput, request)
        session = selectors.get_session_for_user(request.user, pk)
        review = Review.objects.filter(pk=data["review"], cycle_id=session.cycle_id).first()
        if review is None:
            raise ValidationFailed(
                "This review is not on the session's board.",
                errors={"review": ["not on this board"]},
            )
        expected = data.get("version")
        if_match = if_match_version(request)
        if if_match is not None:
            expected = if_match
        adjustment = services.adjustment_make(
            actor=acting_user(request),
            session=session,
            review=review,
            dimension_key=data["dimension"],
            rating=data["rating"],
            rationale=data["rationale"],
            evidence_ids=data["evidence"],
            counterexample=data["counterexample"],
            expected_version=expected,
        )
        entry = session.board.get(review=review)
        return Response(
            AdjustmentSerializer(adjustment).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": f'"{entry.version}"'},
        )


class PreReadView(APIView):
    @extend_schema(request=PreReadInput, responses={201: inline_serializer("PreRead", fields={})})
    def post(self, request: Request, pk: int) -> Response:
        data = valid_input(PreReadInput, request)
        session = selectors.get_session_for_user(request.user, pk)
        review = Review.objects.filter(pk=data["review"], cycle_id=session.cycle_id).first()
        if review is None:  # the same answer as a review of the cycle out of scope
            raise ValidationFailed(
                "This review is not on the session's board.",
                errors={"review": ["not on this board"]},
            )
        preread = services.preread_add(
            actor=acting_user(request), session=session, review=review, text=data["text"]
        )
        return Response(
            {"id": preread.pk, "review": review.pk, "text": preread.text},
            status=status.HTTP_201_CREATED,
        )


class ExportView(APIView):
    @extend_schema(responses={(200, "text/csv"): str})
    def get(self, request: Request, pk: int) -> HttpResponse:
        session = selectors.get_session_for_user(request.user, pk)
        key = selectors.board_state_key(session, viewer=request.user)
        return HttpResponse(
            selectors.kept(key, "csv", lambda: export_csv(session, viewer=request.user)),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="calibration-{session.pk}.csv"'},
        )


def export_csv(session: CalibrationSession, *, viewer: Any) -> str:
    """One row per review: ratings before and after, and who changed what, when and why."""
    # Ratings before and after and the people: no self ratings, pre-reads or evidence.
    rows, version = selectors.board_rows(
        session, viewer=viewer, detail=False, before=True, evidence=False, previous=False
    )
    keys = [d.key for d in version.dimensions.all()]
    changes: dict[int, list[str]] = {}
    for a in selectors.adjustments_for(session, viewer=viewer):
        evidence = (
            ", ".join(e.url for e in a.evidence.all()) or f"counterexample: {a.counterexample}"
        )
        changes.setdefault(a.review_id, []).append(
            f"{a.created_at:%Y-%m-%d %H:%M} {a.actor.get_username()}: {a.dimension_key} "
            f"{a.before}→{a.after} — {a.rationale} [{evidence}]"
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "review",
            "engineer",
            "team",
            "level",
            "manager",
            *(f"{k}_before" for k in keys),
            *(f"{k}_after" for k in keys),
            "overall_after",
            "composite_before",
            "composite_after",
            "changes",
        ]
    )
    for row in rows:
        before = row["pre_ratings"] or row["ratings"]
        writer.writerow(
            safe_row(
                [
                    row["review"],
                    row["engineer"],
                    row["team"],
                    row["level"],
                    row["manager"],
                    *(before.get(k, "") for k in keys),
                    *(row["ratings"].get(k, "") for k in keys),
                    row["overall"] if row["overall"] is not None else "",
                    row["pre_composite"] if row["pre_composite"] is not None else row["composite"],
                    row["composite"] if row["composite"] is not None else "",
                    " | ".join(changes.get(row["review"], [])),
                ]
            )
        )
    return out.getvalue()


class CalibrationHistoryView(APIView):
    """A review's calibration history; the engineer sees it once the review is finalised."""

    @extend_schema(responses=inline_serializer("CalibrationHistory", fields={}))
    def get(self, request: Request, pk: int) -> Response:
        review = get_review_for_user(request.user, pk)
        if review.is_owned_by(request.user) and not review.is_final:
            return Response(
                {
                    "review": review.pk,
                    "visible": False,
                    "events": [],
                    "message": "Your calibration history is shown once the review is finalised.",
                }
            )
        events = selectors.calibration_history(review)
        return Response(
            {
                "review": review.pk,
                "visible": True,
                "events": [
                    {"at": e.created_at, "actor": e.actor_repr, "action": e.action, **e.payload}
                    for e in events
                ],
            }
        )


class AppealCreateView(APIView):
    @extend_schema(request=AppealInput, responses={201: AppealSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = valid_input(AppealInput, request)
        review = get_review_for_user(request.user, pk)
        appeal = services.appeal_create(
            actor=acting_user(request),
            review=review,
            dimension_key=data["dimension"],
            reason=data["reason"],
        )
        return Response(AppealSerializer(appeal).data, status=status.HTTP_201_CREATED)


class AppealListView(APIView):
    @extend_schema(responses=AppealSerializer(many=True))
    def get(self, request: Request) -> Response:
        appeals = selectors.appeals_for_user(request.user)
        return Response(AppealSerializer(appeals, many=True).data)


class AppealResolveView(APIView):
    @extend_schema(request=AppealResolveInput, responses=AppealSerializer)
    def post(self, request: Request, pk: int) -> Response:
        if not is_hr(request.user):  # before validation: an engineer sees their own, no more
            raise Http404("No such appeal.")
        data = valid_input(AppealResolveInput, request)
        appeal = selectors.get_appeal_for_user(request.user, pk)
        appeal = services.appeal_resolve(
            actor=acting_user(request),
            appeal=appeal,
            outcome=data["outcome"],
            resolution=data["resolution"],
            new_rating=data.get("new_rating"),
        )
        return Response(AppealSerializer(appeal).data)


class CycleHealthView(APIView):
    @extend_schema(responses=inline_serializer("CycleHealth", fields={}))
    def get(self, request: Request, pk: int) -> Response:
        if not is_hr(request.user):
            raise Http404("No such cycle.")
        return Response(jsonable(cycle_health(get_cycle_for_user(request.user, pk))))
