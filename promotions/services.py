"""Write paths for promotion cases and their packet exports.

A promotion is nominated by the engineer's manager, built from evidence already collected in
reviews (no re-entry), submitted to a committee, and decided with written feedback. Each
service asks the case's state machine whether the actor may act now, runs in one
transaction and writes the audit log; packet renders are queued to Celery on commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit import services as audit
from audit.registry import Action
from calibration.models import CalibrationSession
from core import limits, workflow
from core.actors import User
from core.errors import Conflict, Forbidden, ValidationFailed
from core.markdown import render_markdown
from core.roles import is_hr
from notify import services as notify
from people.models import Engineer
from promotions import events, notices
from promotions.models import ExportJob, PromotionCase, PromotionPacket, ReadinessAxis
from promotions.permissions import can_sit_on_committee
from promotions.selectors import batch_cases, candidate_evidence
from promotions.tasks import export_batch, export_packet
from reviews.models import Evidence, ReviewCycle

Axis = ReadinessAxis.Axis
MIN_WORDS = 4


def _record(actor: User, action: Action, target: Any, **payload: Any) -> None:
    audit.record(actor=actor, action=action, target=target, payload=payload)


def _name(user: Any) -> str:
    return str(user.get_full_name() or user.get_username())


def _tell_case(
    actor: User,
    case: PromotionCase,
    *,
    kind: str,
    recipients: Iterable[int],
    what: str,
    title: str,
    body: str,
    action: str,
) -> None:
    """Tell people (not the one who acted) about a case, linking to its page. A case is
    submitted, decided and shared once each, so what happened names the event."""
    notify.tell(
        kind=kind,
        recipients=recipients,
        not_to=actor,
        key=f"case:{case.pk}:{what}",
        title=title,
        body=body,
        url=reverse("promotions:case", args=[case.pk]),
        action=action,
    )


def _levels(cycle: ReviewCycle) -> list[str]:
    return list(cycle.rubric_version.levels.order_by("order").values_list("code", flat=True))


def _locked(case: PromotionCase) -> PromotionCase:
    return (
        PromotionCase.objects.select_for_update(of=("self",))
        .select_related("engineer__user", "cycle__rubric_version__scale", "nominated_by")
        .prefetch_related("axes__evidence__review__cycle", "committee")
        .get(pk=case.pk)
    )


def case_nominate(
    *, actor: User, engineer: Engineer, cycle: ReviewCycle, target_level: str, summary: str = ""
) -> PromotionCase:
    """The engineer's manager opens a case for a higher level of the cycle's rubric."""
    if not engineer.is_managed_by(actor):
        raise Forbidden("Only the engineer's manager can nominate them for promotion.")
    limits.require_bounded(summary=(summary, limits.LONG_TEXT))
    levels = _levels(cycle)
    errors: dict[str, list[str]] = {}
    if target_level not in levels:
        errors["target_level"] = [f"choose one of {', '.join(levels)}"]
    elif engineer.level_code in levels and levels.index(target_level) <= levels.index(
        engineer.level_code
    ):
        errors["target_level"] = [f"must be above the current level {engineer.level_code}"]
    if errors:
        raise ValidationFailed.from_errors(errors)
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
        _record(
            actor,
            events.CASE_NOMINATED,
            case,
            engineer=str(engineer),
            to=target_level,
            cycle=cycle.pk,
            **{"from": case.current_level},
        )
    return case


def _axis_state(row: ReadinessAxis) -> dict[str, Any]:
    return {
        "rating": row.rating,
        "narrative": row.narrative,
        "evidence": sorted(e.pk for e in row.evidence.all()),
    }


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
    """The nominating manager edits the summary or one readiness axis of a draft case.
    Readiness is rated on the cycle's rubric scale."""
    with transaction.atomic():
        case = _locked(case)
        workflow.require(case, "edit", actor)
        limits.require_bounded(
            summary=(summary, limits.LONG_TEXT), narrative=(narrative, limits.LONG_TEXT)
        )
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        if axis is not None and axis not in Axis.values:
            raise ValidationFailed(
                f"Unknown axis {axis!r}.",
                errors={"axis": [f"choose one of {', '.join(Axis.values)}"]},
            )
        scale = case.cycle.rubric_version.scale
        if rating is not None and (problem := scale.problem(rating)) is not None:
            raise ValidationFailed(f"rating: {problem}", errors={"rating": [problem]})
        if summary is not None:
            before["summary"], after["summary"] = case.summary, summary.strip()
            case.summary, case.summary_html = summary.strip(), render_markdown(summary)
            case.save(update_fields=["summary", "summary_html"])
        if axis is not None:
            row = next(a for a in case.axes.all() if a.axis == axis)
            before[axis] = _axis_state(row)
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
            after[axis] = {**_axis_state(row), "evidence": sorted(e.pk for e in row.evidence.all())}
        if before != after:
            _record(actor, events.CASE_EDITED, case, before=before, after=after)
    return case


def case_save(
    *, actor: User, case: PromotionCase, summary: str, axes: Mapping[str, Mapping[str, Any]]
) -> PromotionCase:
    """The nominating manager saves the whole draft at once: the summary and every axis
    ({axis: {rating, narrative, evidence_ids}}). A problem anywhere leaves all of it as it
    was, each problem named by its axis ("scope.rating")."""
    with transaction.atomic():
        case = case_update(actor=actor, case=case, summary=summary)
        errors: dict[str, list[str]] = {}
        for axis, change in axes.items():
            try:
                case_update(actor=actor, case=case, axis=axis, **change)
            except ValidationFailed as exc:
                errors |= {f"{axis}.{key}": messages for key, messages in exc.errors.items()}
        if errors:
            raise ValidationFailed.from_errors(errors, "The case was not saved: ")
    return case


def spans_two_periods(evidence: Iterable[Evidence]) -> bool:
    """Consistency is shown by distinct items from at least two review periods: the same
    link entered in two cycles is one piece of work, not two."""
    items = list(evidence)
    return any(
        a.review.cycle_id != b.review.cycle_id and a.url != b.url
        for i, a in enumerate(items)
        for b in items[i + 1 :]
    )


def submission_problems(case: PromotionCase) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for row in case.axes.all():
        evidence = list(row.evidence.all())
        missing = []
        if not evidence:
            missing.append("at least one evidence item")
        if len(row.narrative.split()) < MIN_WORDS:
            missing.append("a narrative")
        if row.axis == Axis.CONSISTENCY and evidence and not spans_two_periods(evidence):
            missing.append("distinct evidence from at least two review periods")
        if missing:
            problems[f"axes.{row.axis}"] = [
                f"{row.get_axis_display()} needs {' and '.join(missing)}"
            ]
    return problems


def committee_problems(case: PromotionCase, members: list[Any]) -> dict[str, list[str]]:
    """A committee has at least one member: HR, appointed committee members or managers above
    the engineer's level; never the engineer or the nominating manager."""
    if not members:
        return {"committee": ["name at least one member"]}
    own = [str(m) for m in members if case.is_about(m) or case.is_nominator(m)]
    if own:
        return {
            "committee": [
                f"{', '.join(own)} cannot decide this case (nobody decides their own "
                "promotion or their own nomination)"
            ]
        }
    levels = _levels(case.cycle)
    others = [str(m) for m in members if not can_sit_on_committee(m, case, levels)]
    if others:
        return {
            "committee": [
                "a committee is made of HR, appointed committee members and managers above "
                f"{case.current_level}; not {', '.join(others)}"
            ]
        }
    return {}


def case_submit(*, actor: User, case: PromotionCase, committee: Iterable[Any]) -> PromotionCase:
    """Submit to a committee once every axis has a narrative and evidence (consistency from
    at least two review periods)."""
    with transaction.atomic():
        case = _locked(case)
        workflow.require(case, "submit", actor)
        members = list(committee)
        problems = submission_problems(case) | committee_problems(case, members)
        if problems:
            raise ValidationFailed(
                "The case is not ready: " + "; ".join(m[0] for m in problems.values()),
                errors=problems,
            )
        case.submit()
        case.submitted_at = timezone.now()
        case.save(update_fields=["status", "submitted_at"])
        case.committee.set(members)
        _record(actor, events.CASE_SUBMITTED, case, committee=[str(m) for m in members])
        engineer = _name(case.engineer.user)
        _tell_case(
            actor,
            case,
            kind=notices.CASE_SUBMITTED,
            recipients=[m.pk for m in members],
            what="submitted",
            title=f"Promotion case for {engineer} waits for your committee",
            body=(
                f"{_name(actor)} submitted the case for promoting {engineer} from "
                f"{case.current_level} to {case.target_level} in {case.cycle}, and seated you "
                "on its committee. Read the packet and its evidence, then decide the case with "
                "written feedback to the engineer."
            ),
            action="Open the case",
        )
    return case


def case_decide(*, actor: User, case: PromotionCase, outcome: str, feedback: str) -> PromotionCase:
    """The committee (or HR) decides, with written feedback to the engineer."""
    with transaction.atomic():
        case = _locked(case)
        workflow.require(case, "decide", actor)
        errors = limits.text_problems({"feedback": (feedback, limits.TEXT)})
        if outcome not in PromotionCase.Outcome.values:
            errors["outcome"] = ["must be promoted or not_yet"]
        if len(feedback.split()) < MIN_WORDS:
            errors["feedback"] = ["write the engineer at least a sentence of feedback"]
        if errors:
            raise ValidationFailed.from_errors(errors)
        case.decide()
        case.outcome, case.feedback = outcome, feedback.strip()
        case.decided_by, case.decided_at = actor, timezone.now()
        case.save(update_fields=["status", "outcome", "feedback", "decided_by", "decided_at"])
        _record(actor, events.CASE_DECIDED, case, outcome=outcome, feedback=case.feedback)
        engineer = _name(case.engineer.user)
        _tell_case(
            actor,
            case,
            kind=notices.CASE_DECIDED,
            recipients=[case.nominated_by_id],
            what="decided",
            title=f"Promotion case for {engineer} decided: {case.get_outcome_display()}",
            body=(
                f"The committee decided the case for promoting {engineer} to "
                f"{case.target_level}: {case.get_outcome_display()}. Its feedback:\n\n"
                f"{case.feedback}\n\nTalk it through with {engineer}, and share the packet "
                "with them if you have not yet."
            ),
            action="Open the case",
        )
    return case


def case_share(*, actor: User, case: PromotionCase) -> PromotionCase:
    with transaction.atomic():
        case = _locked(case)
        workflow.require(case, "share", actor)
        if not case.shared_with_engineer:
            case.shared_with_engineer = True
            case.save(update_fields=["shared_with_engineer"])
            _record(actor, events.CASE_SHARED, case)
            _tell_case(
                actor,
                case,
                kind=notices.CASE_SHARED,
                recipients=[case.engineer.user_id],
                what="shared",
                title="Your promotion case was shared with you",
                body=(
                    f"{_name(actor)} shared your promotion case ({case.current_level} to "
                    f"{case.target_level}, {case.cycle}) with you. You can read it and "
                    "download its packet."
                ),
                action="Open your promotion case",
            )
    return case


# ---- packet exports ----------------------------------------------------------------------------


def export_request(*, actor: User, case: PromotionCase) -> ExportJob:
    """Queue a packet export; the job reports queued → rendering → done or failed."""
    workflow.require(case, "export", actor)
    with transaction.atomic():
        job = ExportJob.objects.create(case=case, requested_by=actor)
        _record(actor, events.PACKET_REQUESTED, case, job=str(job.id))
        transaction.on_commit(lambda: export_packet.delay(str(job.id)))
    return job


def export_batch_request(
    *, actor: User, cycle: ReviewCycle | None = None, session: CalibrationSession | None = None
) -> ExportJob:
    """Queue one ZIP of every packet of a cycle or a calibration session (HR)."""
    if not is_hr(actor):
        raise Forbidden("Only HR exports packets in bulk.")
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
        _record(
            actor, events.PACKET_BATCH_REQUESTED, session or cycle, job=str(job.id), cases=total
        )
        transaction.on_commit(lambda: export_batch.delay(str(job.id)))
    return job


def record_download(*, actor: User, case: PromotionCase, packet: PromotionPacket) -> None:
    _record(actor, events.PACKET_DOWNLOADED, case, sha256=packet.sha256)
