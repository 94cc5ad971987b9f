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

from django.db import transaction
from django.utils import timezone

from audit import services as audit
from audit.registry import Action
from core import limits, readcache, workflow
from core.actors import User
from core.errors import Conflict, Forbidden, ValidationFailed
from core.roles import is_hr_or_system
from people.models import Engineer, Team
from reviews import events
from reviews.evidence import (
    EvidenceKind,
    InvalidEvidenceURL,
    PastedLine,
    infer_kind,
    normalise_url,
    parse_pasted_links,
)
from reviews.models import (
    GROWTH_SCALE,
    DimensionRating,
    Evidence,
    Review,
    ReviewCycle,
    ScoreSnapshot,
)
from reviews.scores import manager_ratings, score
from reviews.selectors import (
    evidence_counts,
    ratings_by_key,
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
    cache that review data changed."""
    review.version += 1
    review.save(update_fields=[*fields, "version"])
    readcache.bump()


def _record(actor: User, action: Action, target: Any, **payload: Any) -> None:
    audit.record(actor=actor, action=action, target=target, payload=payload)


def _state_change(actor: User, review: Review, action: Action, before: str, **extra: Any) -> None:
    _record(actor, action, review, before={"state": before}, after={"state": review.state}, **extra)


def _cycle_change(
    actor: User, cycle: ReviewCycle, action: Action, before: str, **extra: Any
) -> None:
    readcache.bump()
    _record(actor, action, cycle, before={"phase": before}, after={"phase": cycle.phase}, **extra)


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
        _cycle_change(actor, cycle, events.CYCLE_OPENED, before, reviews=len(created))
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
        _cycle_change(actor, cycle, events.CYCLE_ADVANCED, before)
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
        _cycle_change(actor, cycle, events.CYCLE_REOPENED, before, reason=reason.strip())
    return cycle


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
        _save(review)
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
            _save(review)
            _record(
                actor,
                events.EVIDENCE_PASTED,
                review,
                added=[{"evidence": i.pk, **_evidence_payload(i)} for i in created],
                refused=[r for r in results if not r["accepted"]],
            )
    return results


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
        _save(review)
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
    *, actor: User, review: Review, overall: int | None, growth: int | None
) -> Review:
    """The manager's overall rating and growth/scope rating (for the calibration 9-box)."""
    with transaction.atomic():
        review = _locked_review(review)
        workflow.require(review, "rate", actor)
        errors: dict[str, list[str]] = {}
        if overall is not None and (problem := review.cycle.rubric_version.scale.problem(overall)):
            errors["overall_rating"] = [problem]
        if growth is not None and (problem := GROWTH_SCALE.problem(growth)):
            errors["growth_rating"] = [f"{problem} (1 low – 5 high)"]
        if errors:
            raise ValidationFailed.from_errors(errors)
        before = {"overall": review.overall_rating, "growth": review.growth_rating}
        after = {"overall": overall, "growth": growth}
        if before != after:
            review.overall_rating, review.growth_rating = overall, growth
            _save(review, "overall_rating", "growth_rating")
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


def review_finalize(*, actor: User, review: Review) -> Review:
    """HR finalises a review. A review on a calibration board that is not closed cannot be:
    the refusal names the board."""
    with transaction.atomic():
        review = _locked_review(review)
        workflow.require(review, "finalize", actor)
        before = review.state
        review.finalize()
        review.finalized_at = timezone.now()
        _save(review, "state", "finalized_at")
        _state_change(actor, review, events.FINALIZED, before)
    return review


def cycle_finalize_ready(*, actor: User, cycle: ReviewCycle) -> list[Review]:
    """HR finalises, at once, every review of the cycle that is ready (manager review
    submitted or calibrated, and on no open board); the others stay as they are."""
    if not is_hr_or_system(actor):
        raise Forbidden("Only HR can finalise reviews.")
    with transaction.atomic():
        return [
            review_finalize(actor=actor, review=review)
            for review in reviews_ready_to_finalise(cycle)
        ]


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
    out in batched inserts.
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
        ScoreSnapshot.objects.bulk_create(snapshots, batch_size=1000)
        _record(actor, events.CYCLE_SCORES_RECOMPUTED, cycle, snapshots=len(snapshots))
    return len(snapshots)
