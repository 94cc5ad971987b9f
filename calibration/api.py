"""Calibration API: sessions, the board, adjustments, analytics, export, appeals, health."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import prefetch_related_objects
from django.http import FileResponse, Http404, HttpResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from calibration import analytics, promotions, selectors, services
from calibration.health import cycle_health
from calibration.models import (
    Adjustment,
    Appeal,
    CalibrationSession,
    ExportJob,
    PromotionCase,
    ReadinessAxis,
)
from calibration.permissions import can_create_sessions
from config.errors import Forbidden, ValidationFailed
from config.roles import is_hr
from reviews.models import Review, Team
from reviews.permissions import is_review_owner
from reviews.selectors import get_cycle_for_user, get_engineer_for_user, get_review_for_user


def jsonable(value: Any) -> Any:
    """Decimals as strings, so no precision is lost in transit."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


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


APPEAL_OUTCOMES = [
    (Appeal.Status.UPHELD.value, Appeal.Status.UPHELD.label),
    (Appeal.Status.CHANGED.value, Appeal.Status.CHANGED.label),
]


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


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _users(usernames: list[str], field: str) -> list[Any]:
    users = list(get_user_model().objects.filter(username__in=usernames))
    missing = set(usernames) - {u.get_username() for u in users}
    if missing:
        raise ValidationFailed(
            f"No user called {', '.join(sorted(missing))}.",
            errors={field: [f"unknown: {', '.join(sorted(missing))}"]},
        )
    return users


def _session_response(request: Request, session: CalibrationSession, code: int = 200) -> Response:
    session = selectors.get_session_for_user(request.user, session.pk)
    prefetch_related_objects([session], "scope_teams", "scope_managers")
    return Response(
        SessionSerializer(session).data, status=code, headers={"ETag": f'"{session.version}"'}
    )


class SessionListView(APIView):
    @extend_schema(responses=SessionSerializer(many=True))
    def get(self, request: Request) -> Response:
        sessions = selectors.sessions_for_user(request.user).prefetch_related(
            "participants__user", "scope_teams", "scope_managers"
        )
        return Response(SessionSerializer(sessions, many=True).data)

    @extend_schema(request=SessionInput, responses={201: SessionSerializer})
    def post(self, request: Request) -> Response:
        if not can_create_sessions(request.user):
            raise Forbidden("Only HR or a facilitator can schedule calibration sessions.")
        data = _valid(SessionInput, request)
        cycle = get_cycle_for_user(request.user, data["cycle"])
        facilitator = (
            _users([data["facilitator"]], "facilitator")[0]
            if data.get("facilitator")
            else request.user
        )
        teams = list(Team.objects.filter(pk__in=data["teams"]))
        if len(teams) != len(set(data["teams"])):
            raise ValidationFailed("Unknown team.", errors={"teams": ["unknown team id"]})
        session = services.session_create(
            actor=request.user,
            cycle=cycle,
            name=data["name"],
            facilitator=facilitator,
            managers=_users(data["managers"], "managers"),
            observers=_users(data["observers"], "observers"),
            teams=teams,
            levels=data["levels"],
            scope_managers=_users(data["scope_managers"], "scope_managers"),
            guidance={k: str(v) for k, v in (data.get("guidance") or {}).items()},
        )
        return _session_response(request, session, status.HTTP_201_CREATED)


class SessionDetailView(APIView):
    @extend_schema(responses=SessionSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return _session_response(request, selectors.get_session_for_user(request.user, pk))


def _transition(service: Any) -> type[APIView]:
    class TransitionView(APIView):
        @extend_schema(request=None, responses=SessionSerializer)
        def post(self, request: Request, pk: int) -> Response:
            session = selectors.get_session_for_user(request.user, pk)
            return _session_response(request, service(actor=request.user, session=session))

    TransitionView.__name__ = f"{service.__name__.title().replace('_', '')}View"
    return TransitionView


SessionOpenView = _transition(services.session_open)
SessionLockView = _transition(services.session_lock)
SessionUnlockView = _transition(services.session_unlock)
SessionCloseView = _transition(services.session_close)


class BoardView(APIView):
    @extend_schema(responses=inline_serializer("Board", fields={}))
    def get(self, request: Request, pk: int) -> Response:
        session = selectors.get_session_for_user(request.user, pk)
        rows, version = selectors.board_rows(session)
        return Response(
            {
                "session": session.pk,
                "status": session.status,
                "version": session.version,
                "advisory": True,
                "dimensions": [{"key": d.key, "name": d.name} for d in version.dimensions.all()],
                "rows": jsonable(rows),
            },
            headers={"ETag": f'"{session.version}"'},
        )


def board_analytics(session: CalibrationSession, *, for_hr: bool = False) -> dict[str, Any]:
    rows, version = selectors.board_rows(session, detail=False, hr_attribute=for_hr)
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
        return Response(board_analytics(session, for_hr=is_hr(request.user)))


class AdjustmentListView(APIView):
    @extend_schema(responses=AdjustmentSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        session = selectors.get_session_for_user(request.user, pk)
        adjustments = session.adjustments.select_related("actor").prefetch_related("evidence")
        return Response(AdjustmentSerializer(adjustments, many=True).data)

    @extend_schema(request=AdjustmentInput, responses={201: AdjustmentSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(AdjustmentInput, request)
        session = selectors.get_session_for_user(request.user, pk)
        review = Review.objects.filter(pk=data["review"], cycle_id=session.cycle_id).first()
        if review is None:
            raise ValidationFailed(
                "This review is not on the session's board.",
                errors={"review": ["not on this board"]},
            )
        expected = data.get("version")
        if_match = (
            request.META.get("HTTP_IF_MATCH", "").strip().strip('"').removeprefix("W/").strip('"')
        )
        if if_match:
            if not if_match.isdigit():
                raise ValidationFailed(
                    "If-Match must be the review's board version.",
                    errors={"If-Match": ["must be a number"]},
                )
            expected = int(if_match)
        adjustment = services.adjustment_make(
            actor=request.user,
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
        data = _valid(PreReadInput, request)
        session = selectors.get_session_for_user(request.user, pk)
        review = Review.objects.filter(pk=data["review"], cycle_id=session.cycle_id).first()
        if review is None:
            raise ValidationFailed(
                "This review is not in the session's cycle.",
                errors={"review": ["not in this cycle"]},
            )
        preread = services.preread_add(
            actor=request.user, session=session, review=review, text=data["text"]
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
            export_csv(session),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="calibration-{session.pk}.csv"'},
        )


def export_csv(session: CalibrationSession) -> str:
    """One row per review: ratings before and after, and who changed what, when and why."""
    rows, version = selectors.board_rows(session)
    keys = [d.key for d in version.dimensions.all()]
    changes: dict[int, list[str]] = {}
    for a in session.adjustments.select_related("actor").prefetch_related("evidence"):
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
    return out.getvalue()


class CalibrationHistoryView(APIView):
    """A review's calibration history; the engineer sees it once the review is finalised."""

    @extend_schema(responses=inline_serializer("CalibrationHistory", fields={}))
    def get(self, request: Request, pk: int) -> Response:
        review = get_review_for_user(request.user, pk)
        if is_review_owner(request.user, review) and review.state not in (
            Review.State.FINALIZED,
            Review.State.ACKNOWLEDGED,
        ):
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
        data = _valid(AppealInput, request)
        review = get_review_for_user(request.user, pk)
        appeal = services.appeal_create(
            actor=request.user,
            review=review,
            dimension_key=data["dimension"],
            reason=data["reason"],
        )
        return Response(AppealSerializer(appeal).data, status=status.HTTP_201_CREATED)


class AppealListView(APIView):
    @extend_schema(responses=AppealSerializer(many=True))
    def get(self, request: Request) -> Response:
        appeals = Appeal.objects.select_related("resolved_by")
        if not is_hr(request.user):
            appeals = appeals.filter(
                review__in=Review.objects.filter(engineer__user_id=request.user.pk or 0)
            )
        return Response(AppealSerializer(appeals, many=True).data)


class AppealResolveView(APIView):
    @extend_schema(request=AppealResolveInput, responses=AppealSerializer)
    def post(self, request: Request, pk: int) -> Response:
        if not is_hr(request.user):
            raise Http404("No such appeal.")
        data = _valid(AppealResolveInput, request)
        appeal = Appeal.objects.filter(pk=pk).first()
        if appeal is None:
            raise Http404("No such appeal.")
        appeal = services.appeal_resolve(
            actor=request.user,
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


# ---- promotions ----------------------------------------------------------------------------


class AxisSerializer(serializers.ModelSerializer):
    evidence = serializers.SerializerMethodField()

    class Meta:
        model = ReadinessAxis
        fields = ["axis", "rating", "narrative", "narrative_html", "evidence"]

    def get_evidence(self, axis: ReadinessAxis) -> list[dict[str, Any]]:
        return [{"id": e.pk, "title": e.title, "url": e.url} for e in axis.evidence.all()]


class CaseSerializer(serializers.ModelSerializer):
    engineer = serializers.CharField(source="engineer.__str__")
    cycle = serializers.IntegerField(source="cycle_id")
    nominated_by = serializers.CharField(source="nominated_by.get_username")
    axes = AxisSerializer(many=True)
    problems = serializers.SerializerMethodField()

    class Meta:
        model = PromotionCase
        fields = [
            "id",
            "engineer",
            "cycle",
            "current_level",
            "target_level",
            "nominated_by",
            "status",
            "summary",
            "summary_html",
            "axes",
            "outcome",
            "feedback",
            "shared_with_engineer",
            "submitted_at",
            "decided_at",
            "problems",
        ]

    def get_problems(self, case: PromotionCase) -> dict[str, list[str]]:
        return (
            promotions.submission_problems(case)
            if case.status == PromotionCase.Status.DRAFT
            else {}
        )


class JobSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "status",
            "message",
            "total",
            "done",
            "download_url",
            "created_at",
            "updated_at",
        ]

    def get_download_url(self, job: ExportJob) -> str | None:
        if job.status != ExportJob.Status.DONE:
            return None
        if job.case_id:
            return f"/api/promotions/{job.case_id}/packet.pdf"
        return f"/api/exports/{job.id}/archive.zip"


class NominateInput(serializers.Serializer):
    engineer = serializers.IntegerField()
    cycle = serializers.IntegerField()
    target_level = serializers.CharField()
    summary = serializers.CharField(required=False, allow_blank=True, default="")


class CaseUpdateInput(serializers.Serializer):
    summary = serializers.CharField(required=False, allow_blank=True)


class AxisInput(serializers.Serializer):
    rating = serializers.IntegerField(required=False, allow_null=True)
    narrative = serializers.CharField(required=False, allow_blank=True)
    evidence = serializers.ListField(child=serializers.IntegerField(), required=False)


class SubmitInput(serializers.Serializer):
    committee = serializers.ListField(child=serializers.CharField(), required=False, default=list)


class DecideInput(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=PromotionCase.Outcome.choices)
    feedback = serializers.CharField(allow_blank=True)


def _case_response(request: Request, case: PromotionCase, code: int = 200) -> Response:
    case = promotions.get_case_for_user(request.user, case.pk)
    return Response(CaseSerializer(case).data, status=code)


class CaseListView(APIView):
    @extend_schema(responses=CaseSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(CaseSerializer(promotions.cases_for_user(request.user), many=True).data)

    @extend_schema(request=NominateInput, responses={201: CaseSerializer})
    def post(self, request: Request) -> Response:
        data = _valid(NominateInput, request)
        engineer = get_engineer_for_user(request.user, data["engineer"])
        cycle = get_cycle_for_user(request.user, data["cycle"])
        case = promotions.case_nominate(
            actor=request.user,
            engineer=engineer,
            cycle=cycle,
            target_level=data["target_level"],
            summary=data["summary"],
        )
        return _case_response(request, case, status.HTTP_201_CREATED)


class CaseDetailView(APIView):
    @extend_schema(responses=CaseSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return _case_response(request, promotions.get_case_for_user(request.user, pk))

    @extend_schema(request=CaseUpdateInput, responses=CaseSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        data = _valid(CaseUpdateInput, request)
        case = promotions.get_case_for_user(request.user, pk)
        case = promotions.case_update(actor=request.user, case=case, summary=data.get("summary"))
        return _case_response(request, case)


class AxisView(APIView):
    @extend_schema(request=AxisInput, responses=CaseSerializer)
    def put(self, request: Request, pk: int, axis: str) -> Response:
        data = _valid(AxisInput, request)
        case = promotions.get_case_for_user(request.user, pk)
        case = promotions.case_update(
            actor=request.user,
            case=case,
            axis=axis,
            rating=data.get("rating"),
            narrative=data.get("narrative"),
            evidence_ids=data.get("evidence"),
        )
        return _case_response(request, case)


class CaseSubmitView(APIView):
    @extend_schema(request=SubmitInput, responses=CaseSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(SubmitInput, request)
        case = promotions.get_case_for_user(request.user, pk)
        committee = _users(data["committee"], "committee")
        return _case_response(
            request, promotions.case_submit(actor=request.user, case=case, committee=committee)
        )


class CaseDecideView(APIView):
    @extend_schema(request=DecideInput, responses=CaseSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(DecideInput, request)
        case = promotions.get_case_for_user(request.user, pk)
        return _case_response(
            request,
            promotions.case_decide(
                actor=request.user, case=case, outcome=data["outcome"], feedback=data["feedback"]
            ),
        )


class CaseShareView(APIView):
    @extend_schema(request=None, responses=CaseSerializer)
    def post(self, request: Request, pk: int) -> Response:
        case = promotions.get_case_for_user(request.user, pk)
        return _case_response(request, promotions.case_share(actor=request.user, case=case))


class PacketExportView(APIView):
    @extend_schema(request=None, responses={202: JobSerializer})
    def post(self, request: Request, pk: int) -> Response:
        case = promotions.get_case_for_user(request.user, pk)
        job = promotions.export_request(actor=request.user, case=case)
        job.refresh_from_db()
        body = {**JobSerializer(job).data, "status_url": f"/api/exports/{job.id}/"}
        return Response(
            body, status=status.HTTP_202_ACCEPTED, headers={"Location": f"/api/exports/{job.id}/"}
        )


def _job_for_user(user: Any, job_id: str) -> ExportJob:
    job = (
        ExportJob.objects.filter(pk=job_id).select_related("case").first()
        if _is_uuid(job_id)
        else None
    )
    if job is None or not (is_hr(user) or job.requested_by_id == user.pk):
        raise Http404("No such export.")
    return job


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


class ExportStatusView(APIView):
    @extend_schema(responses=JobSerializer)
    def get(self, request: Request, job_id: str) -> Response:
        return Response(JobSerializer(_job_for_user(request.user, job_id)).data)


class ExportArchiveView(APIView):
    @extend_schema(responses={(200, "application/zip"): bytes})
    def get(self, request: Request, job_id: str) -> FileResponse:
        job = _job_for_user(request.user, job_id)
        if job.status != ExportJob.Status.DONE or not job.archive:
            raise Http404("The export is not ready.")
        return FileResponse(
            open(job.archive, "rb"),
            as_attachment=True,
            filename=f"packets-{job.id}.zip",
            content_type="application/zip",
        )


class PacketDownloadView(APIView):
    @extend_schema(responses={(200, "application/pdf"): bytes})
    def get(self, request: Request, pk: int) -> HttpResponse | FileResponse:
        case = promotions.get_case_for_user(request.user, pk)
        if not promotions.can_download_packet(request.user, case):
            raise Http404("No such packet.")
        packet = case.packets.order_by("-created_at").first()
        if packet is None:
            raise Http404("No packet has been exported for this case yet.")
        etag = f'"{packet.sha256}"'
        if request.META.get("HTTP_IF_NONE_MATCH") == etag:
            return HttpResponse(status=304, headers={"ETag": etag})
        promotions.record_download(actor=request.user, case=case, packet=packet)
        response = FileResponse(
            open(packet.path, "rb"),  # noqa: SIM115 - FileResponse closes it
            content_type="application/pdf",
            filename=f"promotion-packet-{case.pk}.pdf",
        )
        response["ETag"] = etag
        return response


def _batch_view(kind: str) -> type[APIView]:
    class BatchExportView(APIView):
        @extend_schema(request=None, responses={202: JobSerializer})
        def post(self, request: Request, pk: int) -> Response:
            if kind == "cycle":
                job = promotions.export_batch_request(
                    actor=request.user, cycle=get_cycle_for_user(request.user, pk)
                )
            else:
                job = promotions.export_batch_request(
                    actor=request.user, session=selectors.get_session_for_user(request.user, pk)
                )
            job.refresh_from_db()
            return Response(
                {**JobSerializer(job).data, "status_url": f"/api/exports/{job.id}/"},
                status=status.HTTP_202_ACCEPTED,
            )

    BatchExportView.__name__ = f"{kind.title()}BatchExportView"
    return BatchExportView


CycleBatchExportView = _batch_view("cycle")
SessionBatchExportView = _batch_view("session")
