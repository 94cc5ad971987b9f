"""Promotions API: cases, readiness axes, decisions, packet exports and downloads."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404, HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from calibration.selectors import get_session_for_user
from core import workflow
from core.actors import acting_user
from core.api import users_named, valid_input
from people.selectors import get_engineer_for_user
from promotions import selectors
from promotions import services as promotions
from promotions.models import ExportJob, PromotionCase, ReadinessAxis
from reviews.selectors import get_cycle_for_user


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
    allowed_actions = serializers.SerializerMethodField()
    committee = serializers.SerializerMethodField()

    class Meta:
        model = PromotionCase
        fields = [
            "id",
            "engineer",
            "cycle",
            "current_level",
            "target_level",
            "nominated_by",
            "committee",
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
            "allowed_actions",
        ]

    def get_committee(self, case: PromotionCase) -> list[str]:
        return sorted(member.get_username() for member in case.committee.all())

    def get_problems(self, case: PromotionCase) -> dict[str, list[str]]:
        """What the case still lacks before it can be submitted (empty once submitted)."""
        if not workflow.is_open(case, "submit"):
            return {}
        return promotions.submission_problems(case)

    def get_allowed_actions(self, case: PromotionCase) -> list[str]:
        """What the requesting user may do to the case now."""
        request = self.context.get("request")
        return workflow.allowed_actions(case, request.user) if request is not None else []


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
        if not job.is_done:
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


def _case_response(
    request: Request, case: PromotionCase, code: int = 200, *, fresh: bool = False
) -> Response:
    if not fresh:  # after a write: read it again, with what the serializer needs
        case = selectors.get_case_for_user(request.user, case.pk)
    return Response(CaseSerializer(case, context={"request": request}).data, status=code)


class CaseListView(generics.ListAPIView):
    """The cases you may see, newest first, a page at a time (`?page=`; 50 a page): `count`,
    `next`, `previous` and `results`."""

    serializer_class = CaseSerializer  # paged as every list is (settings.REST_FRAMEWORK)
    queryset = PromotionCase.objects.none()  # for the schema; each request reads its own

    def get_queryset(self) -> Any:
        return selectors.cases_for_user(self.request.user).order_by("-created_at", "-pk")

    @extend_schema(request=NominateInput, responses={201: CaseSerializer})
    def post(self, request: Request) -> Response:
        data = valid_input(NominateInput, request)
        engineer = get_engineer_for_user(request.user, data["engineer"])
        cycle = get_cycle_for_user(request.user, data["cycle"])
        case = promotions.case_nominate(
            actor=acting_user(request),
            engineer=engineer,
            cycle=cycle,
            target_level=data["target_level"],
            summary=data["summary"],
        )
        return _case_response(request, case, status.HTTP_201_CREATED)


class CaseDetailView(APIView):
    @extend_schema(responses=CaseSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return _case_response(request, selectors.get_case_for_user(request.user, pk), fresh=True)

    @extend_schema(request=CaseUpdateInput, responses=CaseSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        data = valid_input(CaseUpdateInput, request)
        case = selectors.get_case_for_user(request.user, pk)
        case = promotions.case_update(
            actor=acting_user(request), case=case, summary=data.get("summary")
        )
        return _case_response(request, case)


class AxisView(APIView):
    @extend_schema(request=AxisInput, responses=CaseSerializer)
    def put(self, request: Request, pk: int, axis: str) -> Response:
        data = valid_input(AxisInput, request)
        case = selectors.get_case_for_user(request.user, pk)
        case = promotions.case_update(
            actor=acting_user(request),
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
        data = valid_input(SubmitInput, request)
        case = selectors.get_case_for_user(request.user, pk)
        committee = users_named(data["committee"], "committee")
        return _case_response(
            request,
            promotions.case_submit(actor=acting_user(request), case=case, committee=committee),
        )


class CaseDecideView(APIView):
    @extend_schema(request=DecideInput, responses=CaseSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = valid_input(DecideInput, request)
        case = selectors.get_case_for_user(request.user, pk)
        return _case_response(
            request,
            promotions.case_decide(
                actor=acting_user(request),
                case=case,
                outcome=data["outcome"],
                feedback=data["feedback"],
            ),
        )


class CaseShareView(APIView):
    @extend_schema(request=None, responses=CaseSerializer)
    def post(self, request: Request, pk: int) -> Response:
        case = selectors.get_case_for_user(request.user, pk)
        return _case_response(request, promotions.case_share(actor=acting_user(request), case=case))


class PacketExportView(APIView):
    @extend_schema(request=None, responses={202: JobSerializer})
    def post(self, request: Request, pk: int) -> Response:
        case = selectors.get_case_for_user(request.user, pk)
        job = promotions.export_request(actor=acting_user(request), case=case)
        job.refresh_from_db()
        body = {**JobSerializer(job).data, "status_url": f"/api/exports/{job.id}/"}
        return Response(
            body, status=status.HTTP_202_ACCEPTED, headers={"Location": f"/api/exports/{job.id}/"}
        )


class ExportStatusView(APIView):
    @extend_schema(responses=JobSerializer)
    def get(self, request: Request, job_id: str) -> Response:
        return Response(JobSerializer(selectors.get_job_for_user(request.user, job_id)).data)


class ExportArchiveView(APIView):
    @extend_schema(responses={(200, "application/zip"): bytes})
    def get(self, request: Request, job_id: str) -> FileResponse:
        job = selectors.get_job_for_user(request.user, job_id)
        if not job.is_done or not job.archive:
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
        case = selectors.get_case_for_user(request.user, pk)
        if not case.may_read_packet(request.user):
            raise Http404("No such packet.")
        packet = case.packets.order_by("-created_at").first()
        if packet is None:
            raise Http404("No packet has been exported for this case yet.")
        etag = f'"{packet.sha256}"'
        if request.META.get("HTTP_IF_NONE_MATCH") == etag:
            return HttpResponse(status=304, headers={"ETag": etag})
        promotions.record_download(actor=acting_user(request), case=case, packet=packet)
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
                    actor=acting_user(request), cycle=get_cycle_for_user(request.user, pk)
                )
            else:
                job = promotions.export_batch_request(
                    actor=acting_user(request), session=get_session_for_user(request.user, pk)
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
