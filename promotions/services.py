"""Write paths for promotion cases and their packets.

A promotion is nominated by the engineer's manager, built from evidence already collected in
reviews (no re-entry), submitted to a committee, and decided with written feedback. Packets
are rendered by Celery workers and stored once per distinct content.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from audit import services as audit
from calibration.models import CalibrationSession
from core.actors import User
from core.errors import Conflict, Forbidden, ValidationFailed
from core.markdown import render_markdown
from core.roles import is_hr
from people.models import Engineer
from promotions import events
from promotions.models import ExportJob, PromotionCase, PromotionPacket, ReadinessAxis
from reviews.models import Evidence, ReviewCycle

Status = PromotionCase.Status
Axis = ReadinessAxis.Axis
MIN_WORDS = 4


# ---- who may see what ------------------------------------------------------------------------


def visible_cases_filter(user: Any) -> Q:
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    if is_hr(user):
        return Q()
    own = Q(engineer__user=user) & (Q(status=Status.DECIDED) | Q(shared_with_engineer=True))
    return Q(nominated_by=user) | Q(committee=user) | own


def cases_for_user(user: Any) -> QuerySet[PromotionCase]:
    return (
        PromotionCase.objects.filter(
            pk__in=PromotionCase.objects.filter(visible_cases_filter(user)).values("pk")
        )
        .select_related("engineer__user", "engineer__team", "cycle", "nominated_by", "decided_by")
        .prefetch_related("axes__evidence", "committee")
    )


def get_case_for_user(user: Any, pk: int | str) -> PromotionCase:
    """The case, or 404 both when it is missing and when the user may not see it."""
    if not str(pk).isdigit():
        raise Http404("No such promotion case.")
    case = cases_for_user(user).filter(pk=pk).first()
    if case is None:
        raise Http404("No such promotion case.")
    return case


def can_download_packet(user: Any, case: PromotionCase) -> bool:
    if is_hr(user) or case.nominated_by_id == user.pk:
        return True
    if any(member.pk == user.pk for member in case.committee.all()):
        return True
    return bool(
        case.engineer.user_id == user.pk
        and (case.status == Status.DECIDED or case.shared_with_engineer)
    )


def candidate_evidence(case: PromotionCase) -> QuerySet[Evidence]:
    """The engineer's evidence from this cycle and earlier ones: what a case may cite."""
    return (
        Evidence.objects.filter(
            review__engineer_id=case.engineer_id,
            review__cycle__self_review_ends__lte=case.cycle.self_review_ends,
            withdrawn_at__isnull=True,
        )
        .select_related("review__cycle")
        .order_by("-review__cycle__self_review_ends", "-occurred_on", "pk")
    )


# ---- cases ---------------------------------------------------------------------------------


def _levels(cycle: ReviewCycle) -> list[str]:
    return list(cycle.rubric_version.levels.order_by("order").values_list("code", flat=True))


def _locked(case: PromotionCase) -> PromotionCase:
    return (
        PromotionCase.objects.select_for_update(of=("self",))
        .select_related("engineer__user", "cycle__rubric_version")
        .prefetch_related("axes__evidence__review__cycle", "committee")
        .get(pk=case.pk)
    )


def case_nominate(
    *, actor: User, engineer: Engineer, cycle: ReviewCycle, target_level: str, summary: str = ""
) -> PromotionCase:
    """The engineer's manager opens a case for a higher level of the cycle's rubric."""
    if not engineer.is_managed_by(actor):
        raise Forbidden("Only the engineer's manager can nominate them for promotion.")
    levels = _levels(cycle)
    errors: dict[str, list[str]] = {}
    if target_level not in levels:
        errors["target_level"] = [f"choose one of {', '.join(levels)}"]
    elif engineer.level_code in levels and levels.index(target_level) <= levels.index(
        engineer.level_code
    ):
        errors["target_level"] = [f"must be above the current level {engineer.level_code}"]
    if errors:
        raise ValidationFailed(f"target_level: {errors['target_level'][0]}", errors=errors)
    with transaction.atomic():
        if PromotionCase.objects.filter(engineer=engineer, cycle=cycle).exists():
            raise Conflict(f"{engineer} already has a promotion case in {cycle}.")
        case = PromotionCase.objects.create(
            engineer=engineer,
            cycle=cycle,
            current_level=engineer.level_code,
            target_level=target_level,
            nominated_by=actor,
            summary=summary.strip(),
            summary_html=render_markdown(summary),
        )
        ReadinessAxis.objects.bulk_create(ReadinessAxis(case=case, axis=a) for a in Axis.values)
        audit.record(
            actor=actor,
            action=events.CASE_NOMINATED,
            target=case,
            payload={
                "engineer": str(engineer),
                "from": case.current_level,
                "to": target_level,
                "cycle": cycle.pk,
            },
        )
    return case


def case_update(
    *,
    actor: User,
    case: PromotionCase,
    summary: str | None = None,
    axis: str | None = None,
    rating: int | None = None,
    narrative: str | None = None,
    evidence_ids: Iterable[int] | None = None,
) -> PromotionCase:
    """The nominating manager edits the summary or one readiness axis of a draft case."""
    with transaction.atomic():
        case = _locked(case)
        if case.nominated_by_id != actor.pk:
            raise Forbidden("Only the nominating manager edits the case.")
        if case.status != Status.DRAFT:
            raise Conflict("The case was submitted; it can no longer change.")
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        if summary is not None:
            before["summary"], after["summary"] = case.summary, summary.strip()
            case.summary, case.summary_html = summary.strip(), render_markdown(summary)
            case.save(update_fields=["summary", "summary_html"])
        if axis is not None:
            if axis not in Axis.values:
                raise ValidationFailed(
                    f"Unknown axis {axis!r}.",
                    errors={"axis": [f"choose one of {', '.join(Axis.values)}"]},
                )
            row = next(a for a in case.axes.all() if a.axis == axis)
            before[axis] = {
                "rating": row.rating,
                "narrative": row.narrative,
                "evidence": sorted(e.pk for e in row.evidence.all()),
            }
            if rating is not None and not 1 <= rating <= 5:
                raise ValidationFailed("rating: must be 1–5", errors={"rating": ["must be 1–5"]})
            if rating is not None:
                row.rating = rating
            if narrative is not None:
                row.narrative, row.narrative_html = narrative.strip(), render_markdown(narrative)
            row.save()
            if evidence_ids is not None:
                wanted = set(evidence_ids)
                allowed = list(candidate_evidence(case).filter(pk__in=wanted))
                if len(allowed) != len(wanted):
                    raise ValidationFailed(
                        "Pick evidence from the engineer's reviews (this cycle or earlier).",
                        errors={"evidence": ["some items are not the engineer's evidence"]},
                    )
                row.evidence.set(allowed)
            after[axis] = {
                "rating": row.rating,
                "narrative": row.narrative,
                "evidence": sorted(evidence_ids)
                if evidence_ids is not None
                else before[axis]["evidence"],
            }
        audit.record(
            actor=actor,
            action=events.CASE_EDITED,
            target=case,
            payload={"before": before, "after": after},
        )
    return case


def submission_problems(case: PromotionCase) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for row in case.axes.all():
        evidence = list(row.evidence.all())
        missing = []
        if not evidence:
            missing.append("at least one evidence item")
        if len(row.narrative.split()) < MIN_WORDS:
            missing.append("a narrative")
        if row.axis == Axis.CONSISTENCY and evidence:
            periods = {e.review.cycle_id for e in evidence}
            if len(periods) < 2:
                missing.append("evidence from at least two review periods")
        if missing:
            problems[f"axes.{row.axis}"] = [
                f"{row.get_axis_display()} needs {' and '.join(missing)}"
            ]
    return problems


def case_submit(
    *, actor: User, case: PromotionCase, committee: Iterable[Any] = ()
) -> PromotionCase:
    """Submit to the committee once every axis has a narrative and evidence (consistency
    across at least two review periods)."""
    with transaction.atomic():
        case = _locked(case)
        if case.nominated_by_id != actor.pk:
            raise Forbidden("Only the nominating manager submits the case.")
        if case.status != Status.DRAFT:
            raise Conflict("The case was already submitted.")
        problems = submission_problems(case)
        if problems:
            raise ValidationFailed(
                "The case is not ready: " + "; ".join(m[0] for m in problems.values()),
                errors=problems,
            )
        case.submit()
        case.submitted_at = timezone.now()
        case.save(update_fields=["status", "submitted_at"])
        members = list(committee)
        if members:
            case.committee.add(*members)
        audit.record(
            actor=actor,
            action=events.CASE_SUBMITTED,
            target=case,
            payload={"committee": [str(m) for m in members]},
        )
    return case


def case_decide(*, actor: User, case: PromotionCase, outcome: str, feedback: str) -> PromotionCase:
    """The committee (or HR) decides, with written feedback to the engineer."""
    with transaction.atomic():
        case = _locked(case)
        if not (is_hr(actor) or any(m.pk == actor.pk for m in case.committee.all())):
            raise Forbidden("Only the committee or HR decides a promotion.")
        if case.status != Status.SUBMITTED:
            raise Conflict("Only a submitted case can be decided.")
        errors: dict[str, list[str]] = {}
        if outcome not in PromotionCase.Outcome.values:
            errors["outcome"] = ["must be promoted or not_yet"]
        if len(feedback.split()) < MIN_WORDS:
            errors["feedback"] = ["write the engineer at least a sentence of feedback"]
        if errors:
            raise ValidationFailed(
                "; ".join(f"{k}: {v[0]}" for k, v in errors.items()), errors=errors
            )
        case.decide()
        case.outcome, case.feedback = outcome, feedback.strip()
        case.decided_by, case.decided_at = actor, timezone.now()
        case.save(update_fields=["status", "outcome", "feedback", "decided_by", "decided_at"])
        audit.record(
            actor=actor,
            action=events.CASE_DECIDED,
            target=case,
            payload={"outcome": outcome, "feedback": case.feedback},
        )
    return case


def case_share(*, actor: User, case: PromotionCase) -> PromotionCase:
    with transaction.atomic():
        case = _locked(case)
        if not (is_hr(actor) or case.nominated_by_id == actor.pk):
            raise Forbidden("Only the nominating manager or HR shares the packet.")
        case.shared_with_engineer = True
        case.save(update_fields=["shared_with_engineer"])
        audit.record(actor=actor, action=events.CASE_SHARED, target=case, payload={})
    return case


# ---- packets ---------------------------------------------------------------------------------


def packets_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "packets"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file and rename: a crash never leaves half a PDF behind."""
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
        handle.write(data)
        temporary = handle.name
    os.replace(temporary, path)


def packet_store(*, case: PromotionCase) -> PromotionPacket:
    """Render the case's packet and store it once per distinct content (idempotent)."""
    from promotions.packets import render_packet_html, render_packet_pdf

    html = render_packet_html(case)
    content_hash = hashlib.sha256(html.encode()).hexdigest()
    existing = PromotionPacket.objects.filter(case=case, content_hash=content_hash).first()
    if existing is not None:
        return existing
    pdf, pages = render_packet_pdf(
        html, title=f"Promotion packet — {case.engineer}", author=str(case.nominated_by)
    )
    sha256 = hashlib.sha256(pdf).hexdigest()
    path = packets_dir() / f"{sha256}.pdf"
    _write_atomically(path, pdf)
    try:
        with transaction.atomic():
            return PromotionPacket.objects.create(
                case=case,
                content_hash=content_hash,
                sha256=sha256,
                path=str(path),
                pages=pages,
                size=len(pdf),
            )
    except IntegrityError:
        # Another worker stored the same content first (e.g. a redelivered task): keep theirs.
        return PromotionPacket.objects.get(case=case, content_hash=content_hash)


def export_request(*, actor: User, case: PromotionCase) -> ExportJob:
    """Queue a packet export; the job reports queued → rendering → done or failed."""
    if not can_download_packet(actor, case):
        raise Forbidden("You may not export this packet.")
    from promotions.tasks import export_packet

    with transaction.atomic():
        job = ExportJob.objects.create(case=case, requested_by=actor)
        audit.record(
            actor=actor,
            action=events.PACKET_REQUESTED,
            target=case,
            payload={"job": str(job.id)},
        )
        transaction.on_commit(lambda: export_packet.delay(str(job.id)))
    return job


def batch_cases(
    *, cycle: ReviewCycle | None = None, session: CalibrationSession | None = None
) -> QuerySet[PromotionCase]:
    cases = PromotionCase.objects.select_related("engineer__user").order_by(
        "engineer__user__last_name", "pk"
    )
    if session is not None:
        return cases.filter(
            cycle_id=session.cycle_id, engineer__reviews__session_entries__session=session
        ).distinct()
    assert cycle is not None
    return cases.filter(cycle=cycle)


def export_batch_request(
    *, actor: User, cycle: ReviewCycle | None = None, session: CalibrationSession | None = None
) -> ExportJob:
    """Queue one ZIP of every packet of a cycle or a calibration session (HR)."""
    if not is_hr(actor):
        raise Forbidden("Only HR exports packets in bulk.")
    from promotions.tasks import export_batch

    total = batch_cases(cycle=cycle, session=session).count()
    if not total:
        raise Conflict("There is no promotion case to export.")
    with transaction.atomic():
        job = ExportJob.objects.create(
            cycle=cycle or (session.cycle if session else None),
            session=session,
            total=total,
            requested_by=actor,
        )
        audit.record(
            actor=actor,
            action=events.PACKET_BATCH_REQUESTED,
            target=session or cycle,
            payload={"job": str(job.id), "cases": total},
        )
        transaction.on_commit(lambda: export_batch.delay(str(job.id)))
    return job


def write_archive(packets: list[tuple[PromotionCase, PromotionPacket]], path: Path) -> Path:
    """A ZIP of packets, one PDF per case, named after the engineer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".zip") as handle:
        with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
            for case, packet in packets:
                name = f"{case.engineer.user.get_username()}-{case.target_level}-{case.pk}.pdf"
                archive.write(packet.path, arcname=name)
        temporary = handle.name
    os.replace(temporary, path)
    return path


def record_download(*, actor: User, case: PromotionCase, packet: PromotionPacket) -> None:
    audit.record(
        actor=actor,
        action=events.PACKET_DOWNLOADED,
        target=case,
        payload={"sha256": packet.sha256},
    )
