"""Write paths for review cycles and reviews. Each takes the acting user, checks the role and
phase, runs in one transaction, locks what it changes and writes the audit log."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit import services as audit
from audit.registry import Action
from core import readcache
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
from reviews.models import DimensionRating, Evidence, Review, ReviewCycle, ScoreSnapshot
from reviews.permissions import is_review_manager, is_review_owner
from reviews.scores import manager_ratings, score
from reviews.selectors import evidence_counts, ratings_by_key, with_detail
from rubrics.models import RubricVersion
from rubrics.scoring import FORMULA_VERSION, ScoringError, compute

Phase = ReviewCycle.Phase
State = Review.State


# ---- helpers -------------------------------------------------------------------------------


def _require_hr(actor: User, what: str) -> None:
    if not is_hr_or_system(actor):
        raise Forbidden(f"Only HR can {what}.")


def _locked_review(review: Review) -> Review:
    return with_detail(Review.objects.select_for_update(of=("self",))).get(pk=review.pk)


def _bump(review: Review, *fields: str) -> None:
    """Save the changed fields with the next version (the review's ETag), and tell the read
    cache that review data changed."""
    review.version += 1
    review.save(update_fields=[*fields, "version"])
    readcache.bump()


def allowed_now(review: Review) -> str:
    """One sentence saying what can happen to the review at this point."""
    phase = review.cycle.phase
    if review.state == State.DRAFT:
        if phase == Phase.SELF_REVIEW:
            return "the engineer can add evidence, rate and submit the self-review"
        return (
            "nothing until the self-review phase opens"
            if phase == Phase.PLANNED
            else ("HR can reopen the self-review phase; the self-review was not submitted in time")
        )
    if review.state == State.SELF_SUBMITTED:
        if phase == Phase.MANAGER_REVIEW:
            return "the manager can rate, submit, or return the self-review to the engineer"
        if phase == Phase.SELF_REVIEW:
            return "the manager can return the self-review; rating opens in the manager phase"
        return "the manager review was not submitted in time; HR decides the next step"
    if review.state == State.MANAGER_SUBMITTED:
        return "calibration, then HR finalises the review"
    if review.state == State.CALIBRATED:
        return "HR finalises the review"
    if review.state == State.FINALIZED:
        return "the engineer can acknowledge the review or appeal a rating"
    return "nothing: the review is acknowledged and closed"


def _conflict(review: Review, attempted: str) -> Conflict:
    return Conflict(
        f"Cannot {attempted}: the review is '{review.get_state_display()}' and the cycle is in "
        f"'{review.cycle.get_phase_display()}'. Now {allowed_now(review)}."
    )


def _require_state(
    review: Review, attempted: str, *, states: Iterable[str], phases: Iterable[str]
) -> None:
    if review.state not in set(states) or review.cycle.phase not in set(phases):
        raise _conflict(review, attempted)


def _require_owner(actor: User, review: Review, attempted: str) -> None:
    if not is_review_owner(actor, review):
        raise Forbidden(f"Only {review.engineer} can {attempted}.")


def _require_manager(actor: User, review: Review, attempted: str) -> None:
    if not is_review_manager(actor, review):
        raise Forbidden(f"Only the engineer's manager on this review can {attempted}.")


def _transition_event(
    actor: User, review: Review, action: Action, before: str, **extra: Any
) -> None:
    audit.record(
        actor=actor,
        action=action,
        target=review,
        payload={"before": {"state": before}, "after": {"state": review.state}, **extra},
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
) -> ReviewCycle:
    """HR plans a cycle against a published rubric version."""
    _require_hr(actor, "create review cycles")
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
        raise ValidationFailed(
            "The cycle cannot be created: " + "; ".join(f"{k}: {v[0]}" for k, v in errors.items()),
            errors=errors,
        )
    with transaction.atomic():
        cycle = ReviewCycle.objects.create(
            name=name.strip(),
            rubric_version=rubric_version,
            self_review_ends=self_review_ends,
            manager_review_ends=manager_review_ends,
            calibration_ends=calibration_ends,
            finalisation_ends=finalisation_ends,
        )
        readcache.bump()
        audit.record(
            actor=actor,
            action=events.CYCLE_CREATED,
            target=cycle,
            payload={"name": cycle.name, "rubric_version": rubric_version.pk},
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


def cycle_open(
    *, actor: User, cycle: ReviewCycle, teams: Iterable[Team] | None = None
) -> ReviewCycle:
    """Open the self-review phase: one review per in-scope engineer (everyone with a manager,
    or the given teams), with level and manager copied as they are today."""
    _require_hr(actor, "open review cycles")
    with transaction.atomic():
        cycle = ReviewCycle.objects.select_for_update().get(pk=cycle.pk)
        if cycle.phase != Phase.PLANNED:
            raise Conflict(f"{cycle} is already open ({cycle.get_phase_display()}).")
        engineers = Engineer.objects.filter(manager__isnull=False)
        if teams is not None:
            engineers = engineers.filter(team__in=list(teams))
        created = _create_reviews(cycle, engineers)
        cycle.phase = Phase.SELF_REVIEW
        cycle.opened_at = timezone.now()
        cycle.save(update_fields=["phase", "opened_at"])
        readcache.bump()
        audit.record(
            actor=actor,
            action=events.CYCLE_OPENED,
            target=cycle,
            payload={"reviews": len(created), "phase": cycle.phase},
        )
    return cycle


def cycle_add_engineer(*, actor: User, cycle: ReviewCycle, engineer: Engineer) -> Review:
    """A late joiner gets a review in an open cycle."""
    _require_hr(actor, "add engineers to a cycle")
    with transaction.atomic():
        cycle = ReviewCycle.objects.select_for_update().get(pk=cycle.pk)
        if cycle.phase in (Phase.PLANNED, Phase.CLOSED):
            raise Conflict(f"{cycle} is {cycle.get_phase_display().lower()}: open it first.")
        if cycle.reviews.filter(engineer=engineer).exists():
            raise Conflict(f"{engineer} already has a review in {cycle}.")
        [review] = _create_reviews(cycle, [engineer])
        readcache.bump()
        audit.record(
            actor=actor,
            action=events.CYCLE_ENGINEER_ADDED,
            target=review,
            payload={"cycle": cycle.pk, "engineer": engineer.pk, "level": review.level_code},
        )
    return review


def cycle_advance(*, actor: User, cycle: ReviewCycle) -> ReviewCycle:
    """Move the cycle to its next phase."""
    _require_hr(actor, "move a cycle to its next phase")
    with transaction.atomic():
        cycle = ReviewCycle.objects.select_for_update().get(pk=cycle.pk)
        if cycle.phase == Phase.PLANNED:
            raise Conflict(f"{cycle} is planned: open it to start the self-review phase.")
        nxt = cycle.next_phase
        if nxt is None:
            raise Conflict(f"{cycle} is closed.")
        before = cycle.phase
        cycle.phase = nxt
        cycle.save(update_fields=["phase"])
        readcache.bump()
        audit.record(
            actor=actor,
            action=events.CYCLE_ADVANCED,
            target=cycle,
            payload={"before": {"phase": before}, "after": {"phase": nxt}},
        )
    return cycle


# ---- evidence ------------------------------------------------------------------------------

SELF_REVIEW_OPEN: dict[str, list[str]] = {"states": [State.DRAFT], "phases": [Phase.SELF_REVIEW]}


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
    with transaction.atomic():
        review = _locked_review(review)
        _require_owner(actor, review, "add evidence to this review")
        _require_state(review, "add evidence", **SELF_REVIEW_OPEN)
        try:
            url = normalise_url(url)
        except InvalidEvidenceURL as exc:
            raise ValidationFailed(str(exc), errors={"url": [str(exc)]}) from None
        if kind and kind not in EvidenceKind.values:
            raise ValidationFailed(
                f"Unknown kind {kind!r}.",
                errors={"kind": [f"choose from {', '.join(EvidenceKind.values)}"]},
            )
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
        _bump(review)
        audit.record(
            actor=actor,
            action=events.EVIDENCE_ADDED,
            target=review,  # evidence is part of the review: its history shows it
            payload={"evidence": item.pk, "after": _evidence_payload(item)},
        )
    return item


def evidence_paste(*, actor: User, review: Review, text: str) -> list[dict[str, Any]]:
    """Several links, one per line: each line becomes an item or is refused with its reason.

    Every accepted line is saved whole; a refused line saves nothing.
    """
    results: list[dict[str, Any]] = []
    with transaction.atomic():
        review = _locked_review(review)
        _require_owner(actor, review, "add evidence to this review")
        _require_state(review, "add evidence", **SELF_REVIEW_OPEN)
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
            _bump(review)
            audit.record(
                actor=actor,
                action=events.EVIDENCE_PASTED,
                target=review,
                payload={
                    "added": [{"evidence": i.pk, **_evidence_payload(i)} for i in created],
                    "refused": [r for r in results if not r["accepted"]],
                },
            )
    return results


def evidence_update(*, actor: User, evidence: Evidence, **changes: Any) -> Evidence:
    """Edit an evidence item while the self-review is open."""
    allowed = {"title", "kind", "occurred_on", "contribution", "dimensions"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(
            f"Cannot change {', '.join(sorted(unknown))}.",
            errors={k: ["cannot be changed"] for k in unknown},
        )
    with transaction.atomic():
        review = _locked_review(evidence.review)
        _require_owner(actor, review, "edit this evidence")
        _require_state(review, "edit evidence", **SELF_REVIEW_OPEN)
        item = Evidence.objects.select_for_update().get(pk=evidence.pk)
        if item.is_withdrawn:
            raise Conflict("This evidence was withdrawn; add it again instead.")
        before = _evidence_payload(item)
        if "kind" in changes and changes["kind"] not in EvidenceKind.values:
            raise ValidationFailed(
                f"Unknown kind {changes['kind']!r}.",
                errors={"kind": [f"choose from {', '.join(EvidenceKind.values)}"]},
            )
        if "dimensions" in changes:
            changes["dimensions"] = _clean_dimensions(review, changes["dimensions"])
        if "title" in changes:
            changes["title"] = (changes["title"] or "").strip()[:200] or item.title
        for field, value in changes.items():
            setattr(item, field, value)
        item.save(update_fields=list(changes))
        _bump(review)
        audit.record(
            actor=actor,
            action=events.EVIDENCE_EDITED,
            target=review,
            payload={"evidence": item.pk, "before": before, "after": _evidence_payload(item)},
        )
    return item


def evidence_withdraw(*, actor: User, evidence: Evidence, reason: str = "") -> Evidence:
    """Withdraw evidence: it stays on record (never deleted), marked withdrawn with a reason."""
    with transaction.atomic():
        review = _locked_review(evidence.review)
        _require_owner(actor, review, "withdraw this evidence")
        if review.state in (State.FINALIZED, State.ACKNOWLEDGED):
            raise _conflict(review, "withdraw evidence from a finalised review")
        item = Evidence.objects.select_for_update().get(pk=evidence.pk)
        if item.is_withdrawn:
            raise Conflict("This evidence is already withdrawn.")
        if review.state != State.DRAFT and not reason.strip():
            raise ValidationFailed(
                "Say why you withdraw evidence from a submitted review.",
                errors={"reason": ["is required once the review was submitted"]},
            )
        item.withdrawn_at = timezone.now()
        item.withdrawn_reason = reason.strip()
        item.save(update_fields=["withdrawn_at", "withdrawn_reason"])
        _bump(review)
        audit.record(
            actor=actor,
            action=events.EVIDENCE_WITHDRAWN,
            target=review,
            payload={"evidence": item.pk, "title": item.title, "reason": item.withdrawn_reason},
        )
    return item


# ---- ratings -------------------------------------------------------------------------------


def _validate_rating_values(
    review: Review, ratings: Mapping[str, Mapping[str, Any]]
) -> dict[str, list[str]]:
    scale = review.cycle.rubric_version.scale
    known = _dimension_keys(review)
    errors: dict[str, list[str]] = {}
    for key, entry in ratings.items():
        if key not in known:
            errors[f"ratings.{key}"] = [f"unknown dimension; choose from {', '.join(known)}"]
            continue
        if not isinstance(entry, Mapping):
            errors[f"ratings.{key}"] = ['give {"rating": <int>, "justification": "..."}']
            continue
        value = entry.get("rating")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            errors[f"ratings.{key}"] = ["rating must be a whole number"]
        elif not scale.min_rating <= value <= scale.max_rating:
            errors[f"ratings.{key}"] = [
                f"rating {value} is outside the scale {scale.min_rating}–{scale.max_rating}"
            ]
    return errors


def _rating_rows(review: Review, keys: Iterable[str]) -> dict[str, DimensionRating]:
    rows = ratings_by_key(review)
    missing = [DimensionRating(review=review, dimension_key=k) for k in keys if k not in rows]
    for row in DimensionRating.objects.bulk_create(missing):
        rows[row.dimension_key] = row
    return rows


def rating_set_self(
    *, actor: User, review: Review, ratings: Mapping[str, Mapping[str, Any]]
) -> Review:
    """The engineer's own ratings: {key: {"rating": int|None, "justification": str}}."""
    with transaction.atomic():
        review = _locked_review(review)
        _require_owner(actor, review, "self-rate this review")
        _require_state(review, "change self ratings", **SELF_REVIEW_OPEN)
        errors = _validate_rating_values(review, ratings)
        if errors:
            raise ValidationFailed(_message(errors), errors=errors)
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
            _bump(review)
            audit.record(
                actor=actor,
                action=events.SELF_RATINGS_CHANGED,
                target=review,
                payload={"changes": changes},
            )
    return Review.objects.get(pk=review.pk)


def evidence_rule_problems(
    review: Review, ratings: Mapping[str, Mapping[str, Any]]
) -> dict[str, list[str]]:
    """DESIGN principle 3: a manager rating away from the midpoint needs a justification and
    at least one evidence item tagged to that dimension (or, for a low rating, a documented
    counterexample). Returns {"ratings.<key>": [what is missing]}."""
    scale = review.cycle.rubric_version.scale
    midpoint = scale.midpoint
    counts = evidence_counts(review)
    names = {d.key: d.name for d in review.cycle.rubric_version.dimensions.all()}
    problems: dict[str, list[str]] = {}
    for key, entry in ratings.items():
        value = entry.get("rating")
        if value is None or Decimal(value) == midpoint:
            continue
        missing = []
        if not str(entry.get("justification") or "").strip():
            missing.append("a justification")
        has_evidence = counts.get(key, 0) > 0
        has_counterexample = bool(str(entry.get("counterexample") or "").strip())
        if not has_evidence and not (Decimal(value) < midpoint and has_counterexample):
            missing.append(
                f"an evidence item tagged to {names[key]}"
                + (" or a counterexample" if Decimal(value) < midpoint else "")
            )
        if missing:
            problems[f"ratings.{key}"] = [
                f"{names[key]} rated {value}, away from the midpoint {midpoint.normalize()}, "
                f"needs {' and '.join(missing)}"
            ]
    return problems


def _message(errors: Mapping[str, list[str]]) -> str:
    return "; ".join(f"{path}: {messages[0]}" for path, messages in errors.items())


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


def rating_set_manager(
    *, actor: User, review: Review, ratings: Mapping[str, Mapping[str, Any]]
) -> Review:
    """The manager's ratings: {key: {"rating", "justification", "counterexample"}}, with the
    evidence rule enforced per dimension. A change stores a new score snapshot."""
    with transaction.atomic():
        review = _locked_review(review)
        _require_manager(actor, review, "rate this review")
        _require_state(
            review,
            "change manager ratings",
            states=[State.SELF_SUBMITTED],
            phases=[Phase.MANAGER_REVIEW],
        )
        errors = _validate_rating_values(review, ratings) or evidence_rule_problems(review, ratings)
        if errors:
            raise ValidationFailed(_message(errors), errors=errors)
        rows = _rating_rows(review, ratings)
        changes = {}
        for key, entry in ratings.items():
            row = rows[key]
            before = {
                "rating": row.manager_rating,
                "justification": row.manager_justification,
                "counterexample": row.counterexample,
            }
            row.manager_rating = entry.get("rating")
            row.manager_justification = str(entry.get("justification") or "").strip()
            row.counterexample = str(entry.get("counterexample") or "").strip()
            after = {
                "rating": row.manager_rating,
                "justification": row.manager_justification,
                "counterexample": row.counterexample,
            }
            if before != after:
                row.save(
                    update_fields=[
                        "manager_rating",
                        "manager_justification",
                        "counterexample",
                        "updated_at",
                    ]
                )
                changes[key] = {"before": before, "after": after}
        if changes:
            _bump(review)
            review = with_detail(Review.objects.all()).get(pk=review.pk)
            snapshot = snapshot_score(review, ScoreSnapshot.Reason.MANAGER_RATING)
            audit.record(
                actor=actor,
                action=events.MANAGER_RATINGS_CHANGED,
                target=review,
                payload={"changes": changes, "composite": snapshot.composite},
            )
    return review


def rating_set_overall(
    *, actor: User, review: Review, overall: int | None, growth: int | None
) -> Review:
    """The manager's overall rating and growth/scope rating (for the calibration 9-box)."""
    with transaction.atomic():
        review = _locked_review(review)
        _require_manager(actor, review, "rate this review")
        _require_state(
            review,
            "change the overall rating",
            states=[State.SELF_SUBMITTED],
            phases=[Phase.MANAGER_REVIEW],
        )
        scale = review.cycle.rubric_version.scale
        errors: dict[str, list[str]] = {}
        if overall is not None and not scale.min_rating <= overall <= scale.max_rating:
            errors["overall_rating"] = [
                f"must be on the scale {scale.min_rating}–{scale.max_rating}"
            ]
        if growth is not None and not 1 <= growth <= 5:
            errors["growth_rating"] = ["must be 1 (low) to 5 (high)"]
        if errors:
            raise ValidationFailed(_message(errors), errors=errors)
        before = {"overall": review.overall_rating, "growth": review.growth_rating}
        review.overall_rating, review.growth_rating = overall, growth
        _bump(review, "overall_rating", "growth_rating")
        audit.record(
            actor=actor,
            action=events.OVERALL_RATING_CHANGED,
            target=review,
            payload={"before": before, "after": {"overall": overall, "growth": growth}},
        )
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
        _require_owner(actor, review, "submit this self-review")
        _require_state(review, "submit the self-review", **SELF_REVIEW_OPEN)
        _require_every_dimension_rated(review, "self_rating")
        before = review.state
        review.submit_self()
        review.self_submitted_at = timezone.now()
        _bump(review, "state", "self_submitted_at")
        _transition_event(actor, review, events.SELF_SUBMITTED, before)
    return review


def review_return(*, actor: User, review: Review, reason: str) -> Review:
    """The manager sends a submitted self-review back to the engineer for changes."""
    with transaction.atomic():
        review = _locked_review(review)
        _require_manager(actor, review, "return this self-review")
        _require_state(
            review,
            "return the self-review",
            states=[State.SELF_SUBMITTED],
            phases=[Phase.SELF_REVIEW, Phase.MANAGER_REVIEW],
        )
        if not reason.strip():
            raise ValidationFailed("Say what should change.", errors={"reason": ["is required"]})
        before = review.state
        review.return_to_engineer()
        if review.cycle.phase != Phase.SELF_REVIEW:
            # The engineer needs an open self-review phase to edit; the return says so.
            reason = f"{reason.strip()} (self-review edits reopen when HR reopens the phase)"
        _bump(review, "state")
        _transition_event(actor, review, events.RETURNED, before, reason=reason.strip())
    return review


def review_submit_manager(*, actor: User, review: Review) -> Review:
    with transaction.atomic():
        review = _locked_review(review)
        _require_manager(actor, review, "submit this review")
        _require_state(
            review,
            "submit the manager review",
            states=[State.SELF_SUBMITTED],
            phases=[Phase.MANAGER_REVIEW],
        )
        _require_every_dimension_rated(review, "manager_rating")
        before = review.state
        review.submit_manager()
        review.manager_submitted_at = timezone.now()
        _bump(review, "state", "manager_submitted_at")
        _transition_event(
            actor,
            review,
            events.MANAGER_SUBMITTED,
            before,
            composite=score(review, manager_ratings(review)).composite,
        )
    return review


def review_finalize(*, actor: User, review: Review) -> Review:
    _require_hr(actor, "finalise reviews")
    with transaction.atomic():
        review = _locked_review(review)
        _require_state(
            review,
            "finalise the review",
            states=[State.MANAGER_SUBMITTED, State.CALIBRATED],
            phases=[Phase.FINALISATION],
        )
        before = review.state
        review.finalize()
        review.finalized_at = timezone.now()
        _bump(review, "state", "finalized_at")
        _transition_event(actor, review, events.FINALIZED, before)
    return review


def review_acknowledge(*, actor: User, review: Review) -> Review:
    with transaction.atomic():
        review = _locked_review(review)
        _require_owner(actor, review, "acknowledge this review")
        _require_state(
            review,
            "acknowledge the review",
            states=[State.FINALIZED],
            phases=[Phase.FINALISATION, Phase.CLOSED],
        )
        before = review.state
        review.acknowledge()
        review.acknowledged_at = timezone.now()
        _bump(review, "state", "acknowledged_at")
        _transition_event(actor, review, events.ACKNOWLEDGED, before)
    return review


# ---- bulk ----------------------------------------------------------------------------------


def cycle_recompute_scores(*, actor: User, cycle: ReviewCycle) -> int:
    """Store a fresh snapshot for every manager-rated review of the cycle, in bulk.

    Queries do not grow with the number of reviews: ratings come in one query, snapshots go
    out in batched inserts.
    """
    _require_hr(actor, "recompute scores")
    version = (
        RubricVersion.objects.select_related("scale")
        .prefetch_related("dimensions")
        .get(pk=cycle.rubric_version_id)
    )
    dimensions, scale = version.dimension_specs(), version.scale_spec()
    ratings: dict[int, dict[str, int | None]] = {}
    for review_id, key, value in (
        DimensionRating.objects.filter(Q(review__cycle=cycle) & Q(manager_rating__isnull=False))
        .values_list("review_id", "dimension_key", "manager_rating")
        .iterator(chunk_size=5000)
    ):
        ratings.setdefault(review_id, {})[key] = value
    snapshots = []
    for review_id, values in ratings.items():
        try:
            breakdown = compute(
                dimensions=dimensions, ratings=values, scale=scale, rubric_version=version.number
            )
        except ScoringError:
            continue  # a rating for a dimension the version no longer has: left as it was
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
        audit.record(
            actor=actor,
            action=events.CYCLE_SCORES_RECOMPUTED,
            target=cycle,
            payload={"snapshots": len(snapshots)},
        )
    return len(snapshots)
