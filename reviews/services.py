"""Write paths for review cycles and reviews: the only code that writes a cycle, a review, its
evidence, its ratings or its score snapshots. Calibration's write-back and appeal decisions
come here too.

Each service takes the acting user, asks the state machine (`core.workflow.require`) whether
that user may take the step now, runs in one transaction, locks what it changes, moves the
review's version on, writes the audit event and tells the read cache.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from audit import services as audit
from audit.models import AuditEvent
from audit.registry import Action
from core import bulk, limits, readcache, workflow
from core.actors import User
from core.errors import Conflict, Forbidden, ValidationFailed
from core.roles import Role, is_hr_or_system, people_with_roles
from notify import services as notify
from people.models import Engineer, Team, Transfer
from reviews import events, notices
from reviews.evidence import (
    EvidenceKind,
    InvalidEvidenceURL,
    PastedLine,
    infer_kind,
    normalise_url,
    parse_pasted_links,
)
from reviews.models import (
    CONFIDENCE_SCALE,
    GROWTH_SCALE,
    DimensionRating,
    Evidence,
    Review,
    ReviewCycle,
    ReviewHandover,
    ScoreSnapshot,
)
from reviews.permissions import read_scopes
from reviews.scores import manager_ratings, score
from reviews.selectors import (
    evidence_counts,
    ratings_by_key,
    reviews_not_done,
    reviews_ready_to_finalise,
    with_detail,
)
from rubrics.models import RubricVersion
from rubrics.scoring import FORMULA_VERSION, ScoringError, compute

Phase = ReviewCycle.Phase
State = Review.State


def allowed_now(review: Review) -> str:
    """One sentence saying what can happen to the review at this point, and who does it."""
    return workflow.now_sentence(review)


# ---- helpers -------------------------------------------------------------------------------


def _locked_review(review: Review) -> Review:
    return with_detail(Review.objects.select_for_update(of=("self",))).get(pk=review.pk)


def _locked_cycle(cycle: ReviewCycle) -> ReviewCycle:
    return ReviewCycle.objects.select_for_update().get(pk=cycle.pk)


def _save(review: Review, *fields: str) -> None:
    """Save the changed fields with the next version (the review's ETag), and tell the read
    cache that this review changed for those who can read it."""
    review.version += 1
    review.save(update_fields=[*fields, "version"])
    readcache.bump(*read_scopes(review))


def _record(actor: User, action: Action, target: Any, **payload: Any) -> AuditEvent:
    return audit.record(actor=actor, action=action, target=target, payload=payload)


def _state_change(actor: User, review: Review, action: Action, before: str, **extra: Any) -> None:
    _record(actor, action, review, before={"state": before}, after={"state": review.state}, **extra)


def _cycle_change(
    actor: User, cycle: ReviewCycle, action: Action, before: str, **extra: Any
) -> AuditEvent:
    readcache.bump()
    return _record(
        actor, action, cycle, before={"phase": before}, after={"phase": cycle.phase}, **extra
    )


def _name(user: Any) -> str:
    return str(user.get_full_name() or user.get_username())


def _day(date: datetime.date) -> str:
    return f"{date.day} {date:%B %Y}"


# ---- whose turn it is ----------------------------------------------------------------------


@dataclass(frozen=True)
class Audience:
    """A group of people with the same work in a cycle's phase, and how they are told."""

    work: str  # "your self-review for 2026 H2"
    todo: str  # what to do, as a sentence ending before the deadline
    url: str
    action: str


def _engineers(cycle: ReviewCycle) -> Audience:
    return Audience(
        work=f"your self-review for {cycle}",
        todo="Add your evidence, rate yourself on each dimension and submit your self-review",
        url=reverse("reviews:list"),
        action="Open your reviews",
    )


def _managers(cycle: ReviewCycle) -> Audience:
    return Audience(
        work=f"your reports' reviews in {cycle}",
        todo="Rate each submitted self-review of your reports and submit your manager reviews",
        url=f"{reverse('reviews:team')}?cycle={cycle.pk}",
        action="Rate your team's reviews",
    )


def whose_turn(cycle: ReviewCycle) -> list[tuple[Audience, list[int]]]:
    """Who can take a review's next step in the cycle's current phase: the engineers who can
    submit their self-review and the managers who can submit theirs (user ids, once each).

    Among the reviews not done for the phase (`reviews_not_done`), the review machine
    decides: it is asked once per kind of review (state, returned or not), never per review,
    so the answer costs one query however many reviews the cycle has.
    """
    rows = (
        reviews_not_done(cycle)
        .order_by()
        .values_list("state", "returned_at", "engineer__user_id", "manager_id")
    )
    asked: dict[tuple[str, bool], tuple[bool, bool]] = {}
    engineers: dict[int, None] = {}
    managers: dict[int, None] = {}
    for state, returned_at, engineer_id, manager_id in rows.iterator(chunk_size=5000):
        returned = returned_at is not None
        if (state, returned) not in asked:
            probe = Review(cycle=cycle, state=state, returned_at=returned_at)
            asked[state, returned] = (
                workflow.is_open(probe, "submit_self"),
                workflow.is_open(probe, "submit_manager"),
            )
        engineer_acts, manager_acts = asked[state, returned]
        if engineer_acts:
            engineers[engineer_id] = None
        if manager_acts and manager_id is not None:
            managers[manager_id] = None
    return [
        (audience, list(people))
        for audience, people in ((_engineers(cycle), engineers), (_managers(cycle), managers))
        if people
    ]


def _phase_audiences(cycle: ReviewCycle) -> list[tuple[Audience, list[int]]]:
    """Everyone with work in the cycle's current phase: whose turn it is on a review and, for
    calibration and finalisation, the people who run them."""
    audiences = whose_turn(cycle)
    by_role = {
        Phase.CALIBRATION: (
            (Role.FACILITATOR, Role.HR),
            Audience(
                work=f"calibration of {cycle}",
                todo="Schedule and run the calibration sessions of the cycle",
                url=reverse("calibration:list"),
                action="Open calibration sessions",
            ),
        ),
        Phase.FINALISATION: (
            (Role.HR,),
            Audience(
                work=f"finalisation of {cycle}",
                todo="Finalise the cycle's reviews that are ready",
                url=reverse("reviews:cycle", args=[cycle.pk]),
                action="Open the cycle",
            ),
        ),
    }
    if cycle.phase in by_role:
        roles, audience = by_role[cycle.phase]
        people = people_with_roles(*roles).order_by().values_list("pk", flat=True)
        audiences.append((audience, list(people)))
    return audiences


def _tell_phase(actor: User, cycle: ReviewCycle, event: AuditEvent, reason: str = "") -> None:
    """Tell everyone with work in the phase the cycle just entered. The audit event is in the
    key: a phase entered again (reopened, then advanced once more) is news again."""
    phase = cycle.get_phase_display()
    deadline = cycle.phase_deadline()
    if deadline is None:
        return  # closed: nobody has work left in it
    if reason:
        kind, what = notices.PHASE_REOPENED, "reopened"
        happened = f"HR reopened the {phase.lower()} phase of {cycle}: {reason}"
    else:
        kind, what = notices.PHASE_OPENED, "opened"
        happened = f"The {phase.lower()} phase of {cycle} opened."
    # A reopened phase has usually ended on paper already: no deadline in the past.
    if deadline >= timezone.localdate():
        when = f"by {_day(deadline)}"
    else:
        when = f"as soon as you can (the phase was due to end on {_day(deadline)})"
    for audience, people in _phase_audiences(cycle):
        notify.tell(
            kind=kind,
            recipients=people,
            not_to=actor,
            key=f"cycle:{cycle.pk}:phase:{cycle.phase}:{what}:{event.pk}",
            title=f"{phase} {what}: {audience.work}",
            body=f"{happened}\n\n{audience.todo} {when}.",
            url=audience.url,
            action=audience.action,
        )


# ---- cycles --------------------------------------------------------------------------------


def cycle_create(
    *,
    actor: User,
    name: str,
    rubric_version: RubricVersion,
    self_review_ends: datetime.date,
    manager_review_ends: datetime.date,
    calibration_ends: datetime.date,
    finalisation_ends: datetime.date,
    teams: Iterable[Team] = (),
) -> ReviewCycle:
    """HR plans a cycle against a published rubric version, for the given teams (or, with
    none, everyone who has a manager)."""
    teams = list(teams)
    if not is_hr_or_system(actor):
        raise Forbidden("Only HR can create review cycles.")
    limits.require_bounded(name=(name, 120))
    limits.require_dates(
        self_review_ends=self_review_ends,
        manager_review_ends=manager_review_ends,
        calibration_ends=calibration_ends,
        finalisation_ends=finalisation_ends,
    )
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["is required"]
    elif ReviewCycle.objects.filter(name=name.strip()).exists():
        errors["name"] = [f"a cycle called {name.strip()!r} already exists"]
    if rubric_version.status != RubricVersion.Status.PUBLISHED:
        errors["rubric_version"] = ["must be a published rubric version"]
    dates = [self_review_ends, manager_review_ends, calibration_ends, finalisation_ends]
    if dates != sorted(dates):
        errors["dates"] = [
            "phases must end in order: self-review, manager, calibration, finalisation"
        ]
    if errors:
        raise ValidationFailed.from_errors(errors, "The cycle cannot be created: ")
    with transaction.atomic():
        cycle = ReviewCycle.objects.create(
            name=name.strip(),
            rubric_version=rubric_version,
            self_review_ends=self_review_ends,
            manager_review_ends=manager_review_ends,
            calibration_ends=calibration_ends,
            finalisation_ends=finalisation_ends,
        )
        cycle.teams.set(teams)
        readcache.bump()
        _record(
            actor,
            events.CYCLE_CREATED,
            cycle,
            name=cycle.name,
            rubric_version=rubric_version.pk,
            teams=sorted(team.slug for team in teams),
        )
    return cycle


def _create_reviews(cycle: ReviewCycle, engineers: Iterable[Engineer]) -> list[Review]:
    existing = set(cycle.reviews.values_list("engineer_id", flat=True))
    return Review.objects.bulk_create(
        Review(
            cycle=cycle,
            engineer=engineer,
            team_id=engineer.team_id,
            level_code=engineer.level_code,
            manager_id=engineer.manager_id,
        )
        for engineer in engineers
        if engineer.pk not in existing
    )


def cycle_open(*, actor: User, cycle: ReviewCycle) -> ReviewCycle:
    """Open the self-review phase: one review per in-scope engineer (those of the cycle's
    teams, or everyone with a manager), with level and manager copied as they are today."""
    with transaction.atomic():
        cycle = _locked_cycle(cycle)
        workflow.require(cycle, "open", actor)
        engineers = Engineer.objects.with_manager()
        team_ids = list(cycle.teams.values_list("pk", flat=True))
        if team_ids:
            engineers = engineers.filter(team_id__in=team_ids)
        created = _create_reviews(cycle, engineers)
        before = cycle.phase
        cycle.open()
        cycle.opened_at = timezone.now()
        cycle.save(update_fields=["phase", "opened_at"])
        event = _cycle_change(actor, cycle, events.CYCLE_OPENED, before, reviews=len(created))
        _tell_phase(actor, cycle, event)
    return cycle


def cycle_add_engineer(*, actor: User, cycle: ReviewCycle, engineer: Engineer) -> Review:
    """A late joiner gets a review in an open cycle."""
    with transaction.atomic():
        cycle = _locked_cycle(cycle)
        workflow.require(cycle, "add_engineer", actor)
        if cycle.reviews.filter(engineer=engineer).exists():
            raise Conflict(f"{engineer} already has a review in {cycle}.")
        if engineer.manager_id is None:
            raise ValidationFailed(
                f"{engineer} has no manager; give them one first.",
                errors={"engineer": ["has no manager"]},
            )
        scope = list(cycle.teams.all())
        if scope and engineer.team not in scope:
            raise ValidationFailed(
                f"{engineer} is in {engineer.team}, which {cycle} does not cover.",
                errors={"engineer": ["is not in a team the cycle covers"]},
            )
        [review] = _create_reviews(cycle, [engineer])
        readcache.bump()
        _record(
            actor,
            events.CYCLE_ENGINEER_ADDED,
            review,
            cycle=cycle.pk,
            engineer=engineer.pk,
            level=review.level_code,
        )
    return review


def cycle_advance(*, actor: User, cycle: ReviewCycle) -> ReviewCycle:
    """Move the cycle to its next phase."""
    with transaction.atomic():
        cycle = _locked_cycle(cycle)
        workflow.require(cycle, "advance", actor)
        before = cycle.phase
        cycle.advance()
        cycle.save(update_fields=["phase"])
        event = _cycle_change(actor, cycle, events.CYCLE_ADVANCED, before)
        _tell_phase(actor, cycle, event)
    return cycle


def cycle_reopen(*, actor: User, cycle: ReviewCycle, reason: str) -> ReviewCycle:
    """Move the cycle back to its previous phase, with a reason (e.g. to let late
    self-reviews in). Reviews keep their states; the previous phase's steps open again."""
    with transaction.atomic():
        cycle = _locked_cycle(cycle)
        workflow.require(cycle, "reopen", actor)
        limits.require_bounded(reason=(reason, limits.TEXT))
        if len(reason.split()) < 3:
            raise ValidationFailed(
                "Say in a sentence why the phase reopens.",
                errors={"reason": ["say in a sentence (three words or more) why it reopens"]},
            )
        before = cycle.phase
        cycle.reopen()
        cycle.save(update_fields=["phase"])
        event = _cycle_change(actor, cycle, events.CYCLE_REOPENED, before, reason=reason.strip())
        _tell_phase(actor, cycle, event, reason=reason.strip())
    return cycle


def _in_days(days: int) -> str:
    return "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"


def cycle_send_reminders(*, actor: User, today: datetime.date) -> int:
    """Remind everyone whose turn it is in a running cycle (`whose_turn`): once when the
    phase ends within `LEVELSET_REMINDER_DAYS` days, and once more when its end date has
    passed. The keys name the cycle, the phase and the reminder, so running this twice (or
    every day) tells nobody twice, and someone who has done their part is no longer asked.
    Returns how many reminders were sent.

    Queries do not grow with the people reminded: one for the cycles, and per cycle one for
    its reviews not done and one bulk notice per group.
    """
    if not is_hr_or_system(actor):
        raise Forbidden("Only HR can send reminders.")
    sent = 0
    with transaction.atomic():
        for cycle in ReviewCycle.objects.filter(phase__in=ReviewCycle.RUNNING).order_by("pk"):
            deadline = cycle.phase_deadline()
            days_left = (deadline - today).days
            if days_left > settings.LEVELSET_REMINDER_DAYS:
                continue
            phase = cycle.get_phase_display()
            for audience, people in whose_turn(cycle):
                if days_left < 0:
                    kind, what = notices.PHASE_OVERDUE, "overdue"
                    title = f"Overdue: {audience.work}"
                    body = (
                        f"The {phase.lower()} phase of {cycle} ended on {_day(deadline)}, and "
                        f"{audience.work} is not done yet.\n\n{audience.todo} as soon as you "
                        "can: the cycle waits for it."
                    )
                else:
                    kind, what = notices.PHASE_DUE, "due"
                    title = f"Due {_in_days(days_left)}: {audience.work}"
                    body = (
                        f"The {phase.lower()} phase of {cycle} ends on {_day(deadline)}.\n\n"
                        f"{audience.todo} by then."
                    )
                sent += notify.tell(
                    kind=kind,
                    recipients=people,
                    key=f"cycle:{cycle.pk}:phase:{cycle.phase}:{what}",
                    title=title,
                    body=body,
                    url=audience.url,
                    action=audience.action,
                )
    return sent


# ---- evidence ------------------------------------------------------------------------------


def _dimension_keys(review: Review) -> list[str]:
    return [d.key for d in review.cycle.rubric_version.dimensions.all()]


def _clean_dimensions(review: Review, dimensions: Iterable[str]) -> list[str]:
    known = _dimension_keys(review)
    chosen = list(dict.fromkeys(dimensions))
    unknown = [key for key in chosen if key not in known]
    if unknown:
        raise ValidationFailed(
            f"Unknown dimension {', '.join(unknown)}; choose from {', '.join(known)}.",
            errors={"dimensions": [f"unknown: {', '.join(unknown)}"]},
        )
    return [key for key in known if key in chosen]


def _clean_kind(kind: str | None) -> None:
    if kind and kind not in EvidenceKind.values:
        raise ValidationFailed(
            f"Unknown kind {kind!r}.",
            errors={"kind": [f"choose from {', '.join(EvidenceKind.values)}"]},
        )


def _title_from_url(url: str) -> str:
    parts = url.split("/")
    host = parts[2]
    tail = [p for p in parts[3:] if p][-4:]
    return f"{host}/{'/'.join(tail)}"[:200] if tail else host


def _evidence_payload(item: Evidence) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "url": item.url,
        "title": item.title,
        "occurred_on": item.occurred_on,
        "contribution": item.contribution,
        "dimensions": item.dimensions,
    }


def evidence_add(
    *,
    actor: User,
    review: Review,
    url: str,
    title: str = "",
    kind: str | None = None,
    occurred_on: datetime.date | None = None,
    contribution: str = "",
    dimensions: Iterable[str] = (),
) -> Evidence:
    """The engineer adds one evidence link to their open self-review. Never fetched."""
    limits.require_bounded(
        title=(title, limits.SHORT_TEXT), contribution=(contribution, limits.TEXT)
    )
    limits.require_dates(occurred_on=occurred_on)
    with transaction.atomic():
        review = _locked_review(review)
        workflow.require(review, "edit_self_review", actor)
        try:
            url = normalise_url(url)
        except InvalidEvidenceURL as exc:
            raise ValidationFailed(str(exc), errors={"url": [str(exc)]}) from None
        _clean_kind(kind)
        if review.evidence.active().filter(url=url).exists():
            raise ValidationFailed(
                "This link is already evidence on this review.",
                errors={"url": ["already on this review"]},
            )
        item = Evidence.objects.create(
            review=review,
            url=url,
            kind=kind or infer_kind(url),
            title=(title or "").strip()[:200] or _title_from_url(url),
            occurred_on=occurred_on,
            contribution=(contribution or "").strip(),
            dimensions=_clean_dimensions(review, dimensions),
        )
        review.evidence_count += 1
        _save(review, "evidence_count")
        # Evidence is part of the review: the review's history shows it.
        _record(
            actor, events.EVIDENCE_ADDED, review, evidence=item.pk, after=_evidence_payload(item)
        )
    return item


def evidence_paste(*, actor: User, review: Review, text: str) -> list[dict[str, Any]]:
    """Several links, one per line: each line becomes an item or is refused with its reason.

    Every accepted line is saved whole; a refused line saves nothing.
    """
    results: list[dict[str, Any]] = []
    if text.count("\n") >= limits.MAX_PASTE_LINES or len(text) > limits.MAX_PASTE_LINES * 2_100:
        raise ValidationFailed(
            f"Paste at most {limits.MAX_PASTE_LINES} links at a time.",
            errors={"text": [f"has more than {limits.MAX_PASTE_LINES} lines"]},
        )
    with transaction.atomic():
        review = _locked_review(review)
        workflow.require(review, "edit_self_review", actor)
        existing = set(review.evidence.active().values_list("url", flat=True))
        lines: list[PastedLine] = parse_pasted_links(text)
        if not lines:
            raise ValidationFailed(
                "Paste at least one link, one per line.", errors={"text": ["is empty"]}
            )
        created: list[Evidence] = []
        for line in lines:
            entry: dict[str, Any] = {"line": line.line, "input": line.raw}
            if not line.ok:
                entry.update(accepted=False, error=line.error)
            elif line.url in existing:
                entry.update(accepted=False, error="Already evidence on this review.")
            else:
                assert line.url is not None and line.kind is not None
                item = Evidence.objects.create(
                    review=review, url=line.url, kind=line.kind, title=_title_from_url(line.url)
                )
                existing.add(line.url)
                created.append(item)
                entry.update(
                    accepted=True,
                    evidence=item.pk,
                    kind=item.kind,
                    kind_label=item.get_kind_display(),
                    url=item.url,
                )
            results.append(entry)
        if created:
            review.evidence_count += len(created)
            _save(review, "evidence_count")
            _record(
                actor,
                events.EVIDENCE_PASTED,
                review,
                added=[{"evidence": i.pk, **_evidence_payload(i)} for i in created],
                refused=[r for r in results if not r["accepted"]],
            )
    return results


def recount_evidence(review_ids: Iterable[int]) -> None:
    """Set the stored evidence count of these reviews from their evidence: for evidence
    written in bulk, outside the services above (the benchmark's organisations)."""
    active = (
        Evidence.objects.active()
        .filter(review=OuterRef("pk"))
        .order_by()
        .values("review")
        .annotate(n=Count("pk"))
        .values("n")
    )
    Review.objects.filter(pk__in=list(review_ids)).update(
        evidence_count=Coalesce(Subquery(active), 0)
    )


EDITABLE_EVIDENCE_FIELDS = frozenset({"title", "kind", "occurred_on", "contribution", "dimensions"})


def evidence_update(*, actor: User, evidence: Evidence, **changes: Any) -> Evidence:
    """Edit an evidence item while the self-review is open."""
    limits.require_bounded(
        title=(changes.get("title"), limits.SHORT_TEXT),
        contribution=(changes.get("contribution"), limits.TEXT),
    )
    limits.require_dates(occurred_on=changes.get("occurred_on"))
    unknown = set(changes) - EDITABLE_EVIDENCE_FIELDS
    if unknown:
        raise ValidationFailed(
            f"Cannot change {', '.join(sorted(unknown))}.",
            errors={k: ["cannot be changed"] for k in sorted(unknown)},
        )
    with transaction.atomic():
        review = _locked_review(evidence.review)
        workflow.require(review, "edit_self_review", actor)
        item = Evidence.objects.select_for_update().get(pk=evidence.pk)
        if item.is_withdrawn:
            raise Conflict("This evidence was withdrawn; add it again instead.")
        before = _evidence_payload(item)
        _clean_kind(changes.get("kind"))
        if "kind" in changes and not changes["kind"]:
            changes["kind"] = item.kind
        if "dimensions" in changes:
            changes["dimensions"] = _clean_dimensions(review, changes["dimensions"])
        if "title" in changes:
            changes["title"] = (changes["title"] or "").strip()[:200] or item.title
        for field, value in changes.items():
            setattr(item, field, value)
        item.save(update_fields=list(changes))
        after = _evidence_payload(item)
        if after != before:
            _save(review)
            _record(
                actor, events.EVIDENCE_EDITED, review, evidence=item.pk, before=before, after=after
            )
    return item


def evidence_withdraw(*, actor: User, evidence: Evidence, reason: str = "") -> Evidence:
    """Withdraw evidence: it stays on record (never deleted), marked withdrawn with a reason."""
    limits.require_bounded(reason=(reason, limits.TEXT))
    with transaction.atomic():
        review = _locked_review(evidence.review)
        workflow.require(review, "withdraw_evidence", actor)
        item = Evidence.objects.select_for_update().get(pk=evidence.pk)
        if item.is_withdrawn:
            raise Conflict("This evidence is already withdrawn.")
        if review.withdrawal_needs_reason and not reason.strip():
            raise ValidationFailed(
                "Say why you withdraw evidence from a submitted review.",
                errors={"reason": ["is required once the review was submitted"]},
            )
        item.withdrawn_at = timezone.now()
        item.withdrawn_reason = reason.strip()
        item.save(update_fields=["withdrawn_at", "withdrawn_reason"])
        review.evidence_count -= 1
        _save(review, "evidence_count")
        _record(
            actor,
            events.EVIDENCE_WITHDRAWN,
            review,
            evidence=item.pk,
            title=item.title,
            reason=item.withdrawn_reason,
        )
    return item


# ---- ratings -------------------------------------------------------------------------------


def _validate_rating_values(
    review: Review, ratings: Mapping[str, Mapping[str, Any]]
) -> dict[str, list[str]]:
    scale = review.cycle.rubric_version.scale
    known = _dimension_keys(review)
    errors: dict[str, list[str]] = limits.text_problems(
        {
            f"ratings.{key}": (entry.get(field), limits.TEXT)
            for key, entry in ratings.items()
            if isinstance(entry, Mapping)
            for field in ("justification", "counterexample")
        }
    )
    for key, entry in ratings.items():
        if key not in known:
            errors[f"ratings.{key}"] = [f"unknown dimension; choose from {', '.join(known)}"]
            continue
        if not isinstance(entry, Mapping):
            errors[f"ratings.{key}"] = ['give {"rating": <int>, "justification": "..."}']
            continue
        value = entry.get("rating")
        if value is not None and (problem := scale.problem(value)) is not None:
            errors[f"ratings.{key}"] = [problem]
    return errors


def _rating_rows(review: Review, keys: Iterable[str]) -> dict[str, DimensionRating]:
    rows = ratings_by_key(review)
    missing = [DimensionRating(review=review, dimension_key=k) for k in keys if k not in rows]
    for row in DimensionRating.objects.bulk_create(missing):
        rows[row.dimension_key] = row
    return rows


def _away_from_midpoint(review: Review, value: int | None) -> bool:
    return value is not None and Decimal(value) != review.cycle.rubric_version.scale.midpoint


def self_rating_problems(
    review: Review, ratings: Mapping[str, Mapping[str, Any]]
) -> dict[str, list[str]]:
    """A self rating away from the scale's midpoint needs a justification (evidence stays
    encouraged, and shows beside it)."""
    names = {d.key: d.name for d in review.cycle.rubric_version.dimensions.all()}
    midpoint = review.cycle.rubric_version.scale.midpoint
    return {
        f"ratings.{key}": [
            f"{names[key]} rated {entry.get('rating')}, away from the midpoint "
            f"{midpoint.normalize()}, needs a justification"
        ]
        for key, entry in ratings.items()
        if _away_from_midpoint(review, entry.get("rating"))
        and not str(entry.get("justification") or "").strip()
    }


def rating_set_self(
    *, actor: User, review: Review, ratings: Mapping[str, Mapping[str, Any]]
) -> Review:
    """The engineer's own ratings: {key: {"rating": int|None, "justification": str}}."""
    with transaction.atomic():
        review = _locked_review(review)
        workflow.require(review, "edit_self_review", actor)
        errors = _validate_rating_values(review, ratings) or self_rating_problems(review, ratings)
        if errors:
            raise ValidationFailed.from_errors(errors)
        rows = _rating_rows(review, ratings)
        changes = {}
        for key, entry in ratings.items():
            row = rows[key]
            before = {"rating": row.self_rating, "justification": row.self_justification}
            row.self_rating = entry.get("rating")
            row.self_justification = str(entry.get("justification") or "").strip()
            after = {"rating": row.self_rating, "justification": row.self_justification}
            if before != after:
                row.save(update_fields=["self_rating", "self_justification", "updated_at"])
                changes[key] = {"before": before, "after": after}
        if changes:
            _save(review)
            _record(actor, events.SELF_RATINGS_CHANGED, review, changes=changes)
    return Review.objects.get(pk=review.pk)


def evidence_rule_problems(
    review: Review, ratings: Mapping[str, Mapping[str, Any]]
) -> dict[str, list[str]]:
    """DESIGN principle 3: a manager rating away from the midpoint needs a justification and
    at least one evidence item tagged to that dimension (or, for a low rating, a documented
    counterexample). Returns {"ratings.<key>": [what is missing]}."""
    midpoint = review.cycle.rubric_version.scale.midpoint
    counts = evidence_counts(review)
    names = {d.key: d.name for d in review.cycle.rubric_version.dimensions.all()}
    problems: dict[str, list[str]] = {}
    for key, entry in ratings.items():
        value = entry.get("rating")
        if value is None or not _away_from_midpoint(review, value):
            continue
        low = Decimal(value) < midpoint
        missing = []
        if not str(entry.get("justification") or "").strip():
            missing.append("a justification")
        has_counterexample = bool(str(entry.get("counterexample") or "").strip())
        if not counts.get(key) and not (low and has_counterexample):
            missing.append(
                f"an evidence item tagged to {names[key]}" + (" or a counterexample" if low else "")
            )
        if missing:
            problems[f"ratings.{key}"] = [
                f"{names[key]} rated {value}, away from the midpoint {midpoint.normalize()}, "
                f"needs {' and '.join(missing)}"
            ]
    return problems


def snapshot_score(review: Review, reason: str) -> ScoreSnapshot:
    ratings = manager_ratings(review)
    breakdown = score(review, ratings)
    return ScoreSnapshot.objects.create(
        review=review,
        rubric_version=review.cycle.rubric_version,
        formula_version=FORMULA_VERSION,
        ratings=ratings,
        breakdown=breakdown.as_dict(),
        composite=breakdown.composite,
        reason=reason,
    )


# The manager's fields of a rating row, as the audit log names them.
MANAGER_FIELDS = {
    "rating": "manager_rating",
    "justification": "manager_justification",
    "counterexample": "counterexample",
}


def rating_set_manager(
    *, actor: User, review: Review, ratings: Mapping[str, Mapping[str, Any]]
) -> Review:
    """The manager's ratings: {key: {"rating", "justification", "counterexample"}}, with the
    evidence rule enforced per dimension. A change stores a new score snapshot."""
    with transaction.atomic():
        review = _locked_review(review)
        workflow.require(review, "rate", actor)
        errors = _validate_rating_values(review, ratings) or evidence_rule_problems(review, ratings)
        if errors:
            raise ValidationFailed.from_errors(errors)
        rows = _rating_rows(review, ratings)
        changes = {}
        for key, entry in ratings.items():
            row = rows[key]
            before = {name: getattr(row, field) for name, field in MANAGER_FIELDS.items()}
            row.manager_rating = entry.get("rating")
            row.manager_justification = str(entry.get("justification") or "").strip()
            row.counterexample = str(entry.get("counterexample") or "").strip()
            after = {name: getattr(row, field) for name, field in MANAGER_FIELDS.items()}
            if before != after:
                row.save(update_fields=[*MANAGER_FIELDS.values(), "updated_at"])
                changes[key] = {"before": before, "after": after}
        if changes:
            _save(review)
            review = with_detail(Review.objects.all()).get(pk=review.pk)
            snapshot = snapshot_score(review, ScoreSnapshot.Reason.MANAGER_RATING)
            _record(
                actor,
                events.MANAGER_RATINGS_CHANGED,
                review,
                changes=changes,
                composite=snapshot.composite,
            )
    return review


def rating_set_overall(
    *,
    actor: User,
    review: Review,
    overall: int | None,
    growth: int | None,
    confidence: int | None = None,
) -> Review:
    """The manager's overall rating, growth/scope rating (for the calibration 9-box) and how
    confident they are in the overall rating (1–5; process health reports it in aggregate)."""
    with transaction.atomic():
        review = _locked_review(review)
        workflow.require(review, "rate", actor)
        errors: dict[str, list[str]] = {}
        if overall is not None and (problem := review.cycle.rubric_version.scale.problem(overall)):
            errors["overall_rating"] = [problem]
        if growth is not None and (problem := GROWTH_SCALE.problem(growth)):
            errors["growth_rating"] = [f"{problem} (1 low – 5 high)"]
        if confidence is not None and (problem := CONFIDENCE_SCALE.problem(confidence)):
            errors["manager_confidence"] = [f"{problem} (1 not sure – 5 sure)"]
        if errors:
            raise ValidationFailed.from_errors(errors)
        before = {
            "overall": review.overall_rating,
            "growth": review.growth_rating,
            "confidence": review.manager_confidence,
        }
        after = {"overall": overall, "growth": growth, "confidence": confidence}
        if before != after:
            review.overall_rating, review.growth_rating = overall, growth
            review.manager_confidence = confidence
            _save(review, "overall_rating", "growth_rating", "manager_confidence")
            _record(actor, events.OVERALL_RATING_CHANGED, review, before=before, after=after)
    return review


# ---- transitions ---------------------------------------------------------------------------


def _require_every_dimension_rated(review: Review, field: str) -> None:
    rated = {k for k, r in ratings_by_key(review).items() if getattr(r, field) is not None}
    missing = [d.name for d in review.cycle.rubric_version.dimensions.all() if d.key not in rated]
    if missing:
        raise ValidationFailed(
            f"Rate every dimension before submitting; missing: {', '.join(missing)}.",
            errors={"ratings": [f"missing: {', '.join(missing)}"]},
        )


def review_submit_self(*, actor: User, review: Review) -> Review:
    with transaction.atomic():
        review = _locked_review(review)
        workflow.require(review, "submit_self", actor)
        _require_every_dimension_rated(review, "self_rating")
        before = review.state
        review.submit_self()
        review.self_submitted_at = timezone.now()
        review.returned_at, review.returned_reason = None, ""
        _save(review, "state", "self_submitted_at", "returned_at", "returned_reason")
        _state_change(actor, review, events.SELF_SUBMITTED, before)
        engineer, cycle = _name(review.engineer.user), review.cycle
        # The version is in the key: a self-review submitted again after a return is news.
        notify.tell(
            kind=notices.REVIEW_WAITING,
            recipients=[review.manager_id],
            not_to=actor,
            key=f"review:{review.pk}:self_submitted:{review.version}",
            title=f"{engineer}'s self-review is waiting for you",
            body=(
                f"{engineer} submitted their self-review for {cycle}. Read it, then rate each "
                f"dimension and submit your manager review by {_day(cycle.manager_review_ends)}"
                " (or return it to them, saying what should change)."
            ),
            url=reverse("reviews:rate", args=[review.pk]),
            action="Rate the review",
        )
    return review


def review_return(*, actor: User, review: Review, reason: str) -> Review:
    """The manager sends a submitted self-review back to the engineer, saying what should
    change; the engineer sees the reason and can edit again until they resubmit."""
    with transaction.atomic():
        review = _locked_review(review)
        workflow.require(review, "return_to_engineer", actor)
        limits.require_bounded(reason=(reason, limits.TEXT))
        if not reason.strip():
            raise ValidationFailed("Say what should change.", errors={"reason": ["is required"]})
        before = review.state
        review.return_to_engineer()
        review.returned_at, review.returned_reason = timezone.now(), reason.strip()
        _save(review, "state", "returned_at", "returned_reason")
        _state_change(actor, review, events.RETURNED, before, reason=review.returned_reason)
        # The version is in the key: a second return of the same review is news again.
        notify.tell(
            kind=notices.SELF_REVIEW_RETURNED,
            recipients=[review.engineer.user_id],
            not_to=actor,
            key=f"review:{review.pk}:returned:{review.version}",
            title="Your self-review was returned",
            body=(
                f"{_name(actor)} returned your self-review for {review.cycle} and asks for "
                f"changes:\n\n{review.returned_reason}\n\nChange your self-review, then "
                "submit it again."
            ),
            url=reverse("reviews:detail", args=[review.pk]),
            action="Open your self-review",
        )
    return review


def review_submit_manager(*, actor: User, review: Review) -> Review:
    with transaction.atomic():
        review = _locked_review(review)
        workflow.require(review, "submit_manager", actor)
        _require_every_dimension_rated(review, "manager_rating")
        before = review.state
        review.submit_manager()
        review.manager_submitted_at = timezone.now()
        _save(review, "state", "manager_submitted_at")
        _state_change(
            actor,
            review,
            events.MANAGER_SUBMITTED,
            before,
            composite=score(review, manager_ratings(review)).composite,
        )
    return review


def _finalize(actor: User, review: Review) -> Review:
    with transaction.atomic():
        review = _locked_review(review)
        workflow.require(review, "finalize", actor)
        before = review.state
        review.finalize()
        review.finalized_at = timezone.now()
        _save(review, "state", "finalized_at")
        _state_change(actor, review, events.FINALIZED, before)
    return review


def _tell_finalised(
    actor: User, cycle: ReviewCycle, engineers: list[int], url: str, action: str
) -> None:
    """A review is finalised once, and an engineer has one review per cycle: the cycle in the
    key makes it one notice per review, whether finalised alone or with the whole cycle."""
    notify.tell(
        kind=notices.REVIEW_FINALISED,
        recipients=engineers,
        not_to=actor,
        key=f"cycle:{cycle.pk}:review_finalised",
        title=f"Your review for {cycle} was finalised",
        body=(
            f"HR finalised your review for {cycle}. Read your ratings and how your score is "
            "built, then acknowledge the review. If you think a rating is wrong, you can "
            "appeal it, with your reason, from the review's calibration history."
        ),
        url=url,
        action=action,
    )


def review_finalize(*, actor: User, review: Review) -> Review:
    """HR finalises a review. A review on a calibration board that is not closed cannot be:
    the refusal names the board."""
    with transaction.atomic():
        review = _finalize(actor, review)
        _tell_finalised(
            actor,
            review.cycle,
            [review.engineer.user_id],
            reverse("reviews:detail", args=[review.pk]),
            "Open your review",
        )
    return review


def cycle_finalize_ready(*, actor: User, cycle: ReviewCycle) -> list[Review]:
    """HR finalises, at once, every review of the cycle that is ready (manager review
    submitted or calibrated, and on no open board); the others stay as they are. Their
    engineers are told at once."""
    if not is_hr_or_system(actor):
        raise Forbidden("Only HR can finalise reviews.")
    with transaction.atomic():
        finalised = [_finalize(actor, review) for review in reviews_ready_to_finalise(cycle)]
        if finalised:
            _tell_finalised(
                actor,
                cycle,
                [r.engineer.user_id for r in finalised],
                reverse("reviews:list"),
                "Open your reviews",
            )
    return finalised


def review_acknowledge(*, actor: User, review: Review) -> Review:
    with transaction.atomic():
        review = _locked_review(review)
        workflow.require(review, "acknowledge", actor)
        before = review.state
        review.acknowledge()
        review.acknowledged_at = timezone.now()
        _save(review, "state", "acknowledged_at")
        _state_change(actor, review, events.ACKNOWLEDGED, before)
    return review


# ---- calibration and appeals -----------------------------------------------------------------


@dataclass(frozen=True)
class Calibrated:
    """What a calibration board decided for one review."""

    ratings: Mapping[str, int]
    overall: int | None


def _locked_reviews(review_ids: Iterable[int]) -> list[Review]:
    return list(
        with_detail(Review.objects.select_for_update(of=("self",)))
        .filter(pk__in=list(review_ids))
        .order_by("pk")
    )


def review_calibration_start(*, actor: User, reviews: Iterable[Review], board: str) -> list[Review]:
    """Put manager-submitted reviews on a calibration board (named `board`): until it
    closes, nobody can finalise them. All or nothing; returns the reviews as locked."""
    locked = _locked_reviews(r.pk for r in reviews)
    for review in locked:
        workflow.require(review, "start_calibration", actor)
    for review in locked:
        before = review.state
        review.start_calibration()
        review.calibration_board = board[:200]
        _save(review, "state", "calibration_board")
        _state_change(actor, review, events.CALIBRATION_STARTED, before, board=board)
    return locked


def review_calibrate(
    *, actor: User, results: Mapping[int, Calibrated], board: str
) -> dict[int, dict[str, Any]]:
    """Write a closed board's ratings back: manager ratings and overall rating as calibrated,
    state calibrated, a new score snapshot and an audit event with before and after per
    review. All or nothing; returns {review id: {"before", "after"}} (composites included)."""
    locked = _locked_reviews(results)
    if len(locked) != len(results):
        raise Conflict("Some reviews on the board no longer exist.")
    for review in locked:
        workflow.require(review, "calibrate", actor)
    rows = {
        (r.review_id, r.dimension_key): r
        for r in DimensionRating.objects.filter(review_id__in=list(results))
    }
    changed_rows: list[DimensionRating] = []
    written: dict[int, dict[str, Any]] = {}
    for review in locked:
        result = results[review.pk]
        before_ratings = manager_ratings(review)
        for key, value in result.ratings.items():
            row = rows.get((review.pk, key))
            if row is None:
                row = DimensionRating.objects.create(review=review, dimension_key=key)
            if row.manager_rating != value:
                row.manager_rating = value
                changed_rows.append(row)
        written[review.pk] = {
            "before": {
                "ratings": before_ratings,
                "overall": review.overall_rating,
                "composite": score(review, before_ratings).composite,
            }
        }
        before_state = review.state
        review.calibrate()
        review.overall_rating = result.overall
        review.calibration_board = ""
        _save(review, "state", "overall_rating", "calibration_board")
        written[review.pk]["before_state"] = before_state
    DimensionRating.objects.bulk_update(changed_rows, ["manager_rating"])
    for review in _locked_reviews(results):
        snapshot = snapshot_score(review, ScoreSnapshot.Reason.CALIBRATION)
        entry = written[review.pk]
        entry["after"] = {
            "ratings": manager_ratings(review),
            "overall": review.overall_rating,
            "composite": snapshot.composite,
        }
        _state_change(
            actor,
            review,
            events.CALIBRATED,
            entry.pop("before_state"),
            board=board,
            ratings={"before": entry["before"], "after": entry["after"]},
        )
    return written


def rating_change_on_appeal(
    *, actor: User, review: Review, dimension_key: str, rating: int, appeal: int, reason: str
) -> Review:
    """HR changes a finalised manager rating because an appeal succeeded."""
    with transaction.atomic():
        review = _locked_review(review)
        workflow.require(review, "change_on_appeal", actor)
        if dimension_key not in _dimension_keys(review):
            raise ValidationFailed(
                f"Unknown dimension {dimension_key!r}.", errors={"dimension": ["unknown"]}
            )
        if (problem := review.cycle.rubric_version.scale.problem(rating)) is not None:
            raise ValidationFailed(problem, errors={"new_rating": [problem]})
        row = _rating_rows(review, [dimension_key])[dimension_key]
        before = row.manager_rating
        if before == rating:
            return review
        row.manager_rating = rating
        row.save(update_fields=["manager_rating", "updated_at"])
        _save(review)
        review = with_detail(Review.objects.all()).get(pk=review.pk)
        snapshot = snapshot_score(review, ScoreSnapshot.Reason.APPEAL)
        _record(
            actor,
            events.RATING_CHANGED_ON_APPEAL,
            review,
            appeal=appeal,
            dimension=dimension_key,
            before=before,
            after=rating,
            reason=reason,
            composite=snapshot.composite,
        )
    return review


# ---- bulk ----------------------------------------------------------------------------------


def _latest_snapshots(cycle: ReviewCycle) -> dict[int, tuple[Any, ...]]:
    """Each review's latest stored score, as the tuple a recomputation would store."""
    latest: dict[int, tuple[Any, ...]] = {}
    for review_id, version_id, formula, ratings, composite in (
        ScoreSnapshot.objects.filter(review__cycle=cycle)
        .order_by("review_id", "-created_at", "-pk")
        .values_list("review_id", "rubric_version_id", "formula_version", "ratings", "composite")
        .iterator(chunk_size=5000)
    ):
        latest.setdefault(review_id, (version_id, formula, ratings, composite))
    return latest


def cycle_recompute_scores(*, actor: User, cycle: ReviewCycle) -> int:
    """Bring every manager-rated review's stored score up to date with the cycle's rubric
    version and the current formula, in bulk. Idempotent: a review whose latest snapshot
    already holds the same score gets no new one, so running it twice stores nothing twice.

    Queries do not grow with the number of reviews: ratings come in one query, snapshots go
    out in one COPY on PostgreSQL (batched inserts elsewhere: core.bulk).
    """
    workflow.require(cycle, "recompute", actor)
    version = (
        RubricVersion.objects.select_related("scale")
        .prefetch_related("dimensions")
        .get(pk=cycle.rubric_version_id)
    )
    dimensions, scale = version.dimension_specs(), version.scale_spec()
    ratings: dict[int, dict[str, int]] = {}
    for review_id, key, value in (
        DimensionRating.objects.filter(review__cycle=cycle, manager_rating__isnull=False)
        .values_list("review_id", "dimension_key", "manager_rating")
        .iterator(chunk_size=5000)
    ):
        if value is not None:
            ratings.setdefault(review_id, {})[key] = value
    latest = _latest_snapshots(cycle)
    snapshots = []
    for review_id, values in ratings.items():
        try:
            breakdown = compute(
                dimensions=dimensions, ratings=values, scale=scale, rubric_version=version.number
            )
        except ScoringError:
            continue  # a rating for a dimension the version no longer has: left as it was
        current = (version.pk, FORMULA_VERSION, values, breakdown.composite)
        if latest.get(review_id) == current:
            continue
        snapshots.append(
            ScoreSnapshot(
                review_id=review_id,
                rubric_version=version,
                formula_version=FORMULA_VERSION,
                ratings=values,
                breakdown=breakdown.as_dict(),
                composite=breakdown.composite,
                reason=ScoreSnapshot.Reason.RECOMPUTE,
            )
        )
    with transaction.atomic():
        bulk.insert_all(snapshots)
        _record(actor, events.CYCLE_SCORES_RECOMPUTED, cycle, snapshots=len(snapshots))
    if snapshots:
        readcache.bump()  # scores are read across cycles (a board's previous composites)
    return len(snapshots)


def reviews_follow_transfers(*, actor: User, transfers: Iterable[Transfer]) -> list[ReviewHandover]:
    """Engineers moved to another manager: their reviews in running cycles follow. A review
    its manager has not rated yet moves to the new manager, who rates it; one already rated
    stays with the manager who rated it. Both managers keep reading it (ReviewHandover), and
    team and level stay what the review was opened with."""
    moves = {t.engineer_id: t for t in transfers if t.from_manager_id != t.to_manager_id}
    if not moves:
        return []
    reviews = list(
        Review.objects.select_for_update(of=("self",))
        .filter(engineer_id__in=list(moves), cycle__phase__in=ReviewCycle.RUNNING)
        .exclude(state__in=Review.FINAL)
    )
    handovers = []
    moved = []
    for review in reviews:
        transfer = moves[review.engineer_id]
        rater_moved = review.state in Review.BEFORE_MANAGER
        handovers.append(
            ReviewHandover(
                review=review,
                transfer=transfer,
                from_manager_id=review.manager_id,
                to_manager_id=transfer.to_manager_id,
                rater_moved=rater_moved,
                at=transfer.at,
            )
        )
        if rater_moved:
            review.manager_id = transfer.to_manager_id
            review.version += 1
            moved.append(review)
    Review.objects.bulk_update(moved, ["manager", "version"])
    ReviewHandover.objects.bulk_create(handovers)
    names = dict(
        Engineer.objects.filter(pk__in=[r.engineer_id for r in moved]).values_list(
            "pk", "user__first_name"
        )
    )
    for review in moved:
        name = names.get(review.engineer_id) or "An engineer"
        notify.tell(
            kind=notices.REVIEW_HANDED_OVER,
            recipients=[review.manager_id],
            key=f"review:{review.pk}:handed_over:{review.version}",
            title=f"{name}'s review is now yours to rate",
            body=(
                f"{name} now reports to you, so their review in a running cycle moved to you: "
                "you rate it when its self-review is submitted. Their previous manager can still "
                "read it."
            ),
            url=reverse("reviews:detail", args=[review.pk]),
            action="Open the review",
        )
    for handover in handovers:
        _record(
            actor,
            events.HANDED_OVER,
            handover.review,
            from_manager=handover.from_manager_id,
            to_manager=handover.to_manager_id,
            rater_moved=handover.rater_moved,
        )
    if handovers:
        readcache.bump()
    return handovers
