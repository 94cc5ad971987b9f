"""Governance of metrics: the records, their reviews and sign-offs (services), and the calendar
of what is due (selectors)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit import services as audit
from core.actors import User
from core.errors import Conflict, Forbidden, ValidationFailed
from core.roles import is_hr, is_hr_or_system
from metrics import events, notices
from metrics.models import (
    HARM_ANSWERS,
    HARM_QUESTIONS,
    MONTHS,
    TEAM_METRICS,
    Cadence,
    Function,
    GovernanceReview,
    GovernedMetric,
    months_after,
)
from notify import services as notify
from rubrics.models import Rubric, RubricVersion
from rubrics.services import version_create_draft


def subjects() -> list[tuple[str, str]]:
    """What may be governed: each team metric, and each dimension of a published rubric."""
    found = [(f"team:{key}", f"Team · {name}") for key, name in TEAM_METRICS.items()]
    for version in (
        RubricVersion.objects.filter(status=RubricVersion.Status.PUBLISHED)
        .select_related("rubric")
        .prefetch_related("dimensions")
    ):
        for dimension in version.dimensions.all():
            found.append(
                (
                    f"dimension:{version.rubric.slug}:{dimension.key}",
                    f"{version.rubric.name} · {dimension.name}",
                )
            )
    return found


def governed_metric_create(
    *,
    actor: User,
    subject: str,
    owner: Any,
    functions: list[str],
    purpose: str,
    hypothesis: str,
    limitations: str,
    anti_gaming: str,
    baseline: Decimal | None,
    target_low: Decimal,
    target_high: Decimal,
    cadence: str,
) -> GovernedMetric:
    """HR sets out how a metric is governed. The target is a range, never a single quota."""
    if not is_hr_or_system(actor):
        raise Forbidden("Only HR sets out how a metric is governed.")
    names = dict(subjects())
    errors: dict[str, list[str]] = {}
    if subject not in names:
        errors["subject"] = ["is not a team metric or a dimension of a published rubric"]
    unknown = [f for f in functions if f not in Function.values]
    if not functions or unknown:
        errors["functions"] = [f"choose one or more of {', '.join(Function.values)}"]
    if not purpose.strip():
        errors["purpose"] = ["say what the metric is for"]
    if not hypothesis.strip():
        errors["hypothesis"] = ["say what the metric should predict"]
    if target_low >= target_high:
        errors["target_high"] = ["must be above the low end: a range, never a single quota"]
    if cadence not in Cadence.values:
        errors["cadence"] = [f"must be one of {', '.join(Cadence.values)}"]
    if errors:
        raise ValidationFailed.from_errors(errors)
    with transaction.atomic():
        if GovernedMetric.objects.filter(subject=subject).exists():
            raise ValidationFailed(
                f"{names[subject]} is governed already.", errors={"subject": ["governed already"]}
            )
        metric = GovernedMetric.objects.create(
            subject=subject,
            name=names[subject],
            owner=owner,
            functions=sorted(set(functions)),
            purpose=purpose.strip(),
            hypothesis=hypothesis.strip(),
            limitations=limitations.strip(),
            anti_gaming=anti_gaming.strip(),
            baseline=baseline,
            target_low=target_low,
            target_high=target_high,
            cadence=cadence,
            governed_since=timezone.localdate(),
        )
        audit.record(
            actor=actor,
            action=events.METRIC_GOVERNED,
            target=metric,
            payload={"subject": subject, "owner": owner.username, "cadence": cadence},
        )
    return metric


def _sign(review: GovernanceReview, actor: User) -> list[str]:
    """Add the signatures `actor` may give (owner, HR); which were added."""
    added = []
    now = timezone.now()
    if review.owner_signed_at is None and actor.pk == review.metric.owner_id:
        review.owner_signed_at = now
        added.append("owner")
    if review.hr_signed_at is None and is_hr(actor):
        review.hr_signed_at, review.hr_signed_by = now, actor
        added.append("hr")
    return added


def governance_review_record(
    *,
    actor: User,
    metric: GovernedMetric,
    kind: str,
    findings: str,
    decision: str,
    harm: dict[str, str] | None = None,
) -> GovernanceReview:
    """The metric's owner or HR records a review, signing it as who they are; the other
    signs it off (`governance_review_sign`). A harm review answers every harm question."""
    if actor.pk != metric.owner_id and not is_hr(actor):
        raise Forbidden("Only the metric's owner or HR records its reviews.")
    harm = harm or {}
    errors: dict[str, list[str]] = {}
    if kind not in GovernanceReview.Kind.values:
        errors["kind"] = ["must be metric or harm"]
    if decision not in GovernanceReview.Decision.values:
        errors["decision"] = ["must be keep, change or retire"]
    if not findings.strip():
        errors["findings"] = ["say what the review found"]
    if kind == GovernanceReview.Kind.HARM:
        for key, _question in HARM_QUESTIONS:
            if harm.get(key) not in HARM_ANSWERS:
                errors[f"harm.{key}"] = [f"answer {', '.join(HARM_ANSWERS)}"]
    elif harm:
        errors["harm"] = ["only a harm review answers the harm questions"]
    if errors:
        raise ValidationFailed.from_errors(errors)
    with transaction.atomic():
        metric = GovernedMetric.objects.select_for_update().get(pk=metric.pk)
        if metric.retired_at is not None:
            raise Conflict(f"{metric.name} was retired; it is reviewed no more.")
        review = GovernanceReview(
            metric=metric,
            kind=kind,
            findings=findings.strip(),
            harm=harm if kind == GovernanceReview.Kind.HARM else {},
            decision=decision,
            recorded_by=actor,
        )
        signed = _sign(review, actor)
        review.save()
        audit.record(
            actor=actor,
            action=events.GOVERNANCE_REVIEW_RECORDED,
            target=review,
            payload={
                "metric": metric.subject,
                "kind": kind,
                "decision": decision,
                "signed": signed,
            },
        )
        if review.signed_off:
            _decide(actor, review)
    return review


def governance_review_sign(*, actor: User, review: GovernanceReview) -> GovernanceReview:
    """The owner or HR signs off a recorded review; once both have, its decision acts: a
    retired metric joins the pruning log, a change to a dimension starts the rubric's next
    draft."""
    with transaction.atomic():
        review = (
            GovernanceReview.objects.select_for_update().select_related("metric").get(pk=review.pk)
        )
        if review.signed_off:
            raise Conflict("This review is signed off already.")
        signed = _sign(review, actor)
        if not signed:
            raise Forbidden(
                "The metric's owner and HR sign off its reviews: you have signed, or may not."
            )
        review.save(update_fields=["owner_signed_at", "hr_signed_at", "hr_signed_by"])
        audit.record(
            actor=actor,
            action=events.GOVERNANCE_REVIEW_SIGNED,
            target=review,
            payload={"metric": review.metric.subject, "signed": signed},
        )
        if review.signed_off:
            _decide(actor, review)
    return review


def _decide(actor: User, review: GovernanceReview) -> None:
    metric = review.metric
    if review.decision == GovernanceReview.Decision.RETIRE:
        metric.retired_at = timezone.now()
        metric.save(update_fields=["retired_at"])
        audit.record(
            actor=actor,
            action=events.METRIC_RETIRED,
            target=metric,
            payload={"subject": metric.subject, "why": review.findings[:200]},
        )
    elif review.decision == GovernanceReview.Decision.CHANGE and metric.subject.startswith(
        "dimension:"
    ):
        rubric = Rubric.objects.get(slug=metric.subject.split(":")[1])
        if (
            is_hr(actor)
            and not rubric.versions.filter(
                status__in=[RubricVersion.Status.DRAFT, RubricVersion.Status.PENDING_APPROVAL]
            ).exists()
        ):
            version_create_draft(actor=actor, rubric=rubric)


@dataclass
class Due:
    metric: GovernedMetric
    last: GovernanceReview | None  # the last signed-off review
    pending: list[GovernanceReview]  # recorded, waiting for a signature
    due: datetime.date

    @property
    def overdue(self) -> bool:
        return self.due < timezone.localdate()


def calendar_of_reviews() -> list[Due]:
    """Every governed metric not retired, with its last review and when the next is due, most
    urgent first (two queries)."""
    metrics = list(GovernedMetric.objects.filter(retired_at__isnull=True).select_related("owner"))
    reviews: dict[int, list[GovernanceReview]] = {m.pk: [] for m in metrics}
    for review in GovernanceReview.objects.filter(metric__in=metrics).select_related(
        "recorded_by", "hr_signed_by"
    ):
        reviews[review.metric_id].append(review)
    rows = []
    for metric in metrics:
        done = [r for r in reviews[metric.pk] if r.signed_off]
        last = done[0] if done else None
        since = last.recorded_at.date() if last else metric.governed_since
        rows.append(
            Due(
                metric=metric,
                last=last,
                pending=[r for r in reviews[metric.pk] if not r.signed_off],
                due=months_after(since, MONTHS[Cadence(metric.cadence)]),
            )
        )
    return sorted(rows, key=lambda row: (row.due, row.metric.name))


def pruning_log() -> list[tuple[GovernedMetric, GovernanceReview | None]]:
    """The retired metrics, newest first, each with the review that retired it."""
    retired = list(GovernedMetric.objects.filter(retired_at__isnull=False).order_by("-retired_at"))
    why = {
        r.metric_id: r
        for r in GovernanceReview.objects.filter(
            metric__in=retired, decision=GovernanceReview.Decision.RETIRE
        ).order_by("recorded_at")
    }
    return [(metric, why.get(metric.pk)) for metric in retired]


def tell_overdue_owners() -> int:
    """Tell each overdue metric's owner, once per due date. Returns how many were told."""
    told = 0
    for row in calendar_of_reviews():
        if row.overdue:
            told += notify.tell(
                kind=notices.GOVERNANCE_OVERDUE,
                recipients=[row.metric.owner],
                key=f"governance:{row.metric.pk}:overdue:{row.due.isoformat()}",
                title=f"{row.metric.name}: its governance review was due on {row.due:%-d %b %Y}",
                body=(
                    "Review the metric (or run a harm review), record the decision and sign it "
                    "off with HR."
                ),
                url="/metrics/governance/",
                action="Open governance",
            )
    return told
