"""Calibration API: sessions, the board, adjustments, analytics, export, appeals, health."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db.models import prefetch_related_objects
from django.http import Http404, HttpResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from calibration import analytics, selectors, services
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


class SessionSerializer(serializers.ModelSerializer):
    cycle = serializers.IntegerField(source="cycle_id")
    facilitator = serializers.CharField(source="facilitator.get_username")
    participants = serializers.SerializerMethodField()
    scope = serializers.SerializerMethodField()

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
        sessions = selectors.sessions_for_user(request.user).prefetch_related(
            "participants__user", "scope_teams", "scope_managers"
        )
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


class BoardView(APIView):
    @extend_schema(responses=inline_serializer("Board", fields={}))
    def get(self, request: Request, pk: int) -> Response:
        session = selectors.get_session_for_user(request.user, pk)
        rows, version = selectors.board_rows(session, viewer=request.user)
        return Response(
            {
                "session": session.pk,
                "status": session.status,
                "version": session.version,
                "advisory": True,
                "dimensions": [{"key": d.key, "name": d.name} for d in version.dimensions.all()],
                "rows": jsonable(rows),
                "waiting": [
                    {"review": r.pk, "engineer": str(r.engineer)}
                    for r in selectors.waiting_reviews(session).select_related("engineer__user")
                ]
                if session.has_board and session.closed_at is None
                else [],
            },
            headers={"ETag": f'"{session.version}"'},
        )


def board_analytics(session: CalibrationSession, *, viewer: Any) -> dict[str, Any]:
    rows, version = selectors.board_rows(
        session, viewer=viewer, detail=False, hr_attribute=is_hr(viewer)
    )
    scale = version.scale
    # The analytics return JSON-ready values (decimals already as strings).
    return {
        "distribution": analytics.distribution(
            rows,
            scale_min=scale.min_rating,
            scale_max=scale.max_rating,
            guidance=session.guidance,
        ),
        "skew": analytics.manager_skew(rows),
        "outliers": analytics.outliers(rows, midpoint=scale.midpoint),
        "nine_box": analytics.nine_box(rows),
        "groups": analytics.groups(rows),
    }


class AnalyticsView(APIView):
    @extend_schema(responses=inline_serializer("Analytics", fields={}))
    def get(self, request: Request, pk: int) -> Response:
        session = selectors.get_session_for_user(request.user, pk)
        return Response(board_analytics(session, viewer=request.user))


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
        return HttpResponse(
            export_csv(session, viewer=request.user),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="calibration-{session.pk}.csv"'},
        )


def export_csv(session: CalibrationSession, *, viewer: Any) -> str:
    """One row per review: ratings before and after, and who changed what, when and why."""
    rows, version = selectors.board_rows(session, viewer=viewer)
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
