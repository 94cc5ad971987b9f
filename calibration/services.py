"""Write paths for calibration: sessions, pre-reads, adjustments, appeals. Each checks the
actor's role and the session's state, runs in one transaction and writes the audit log."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit import services as audit
from audit.registry import Action
from calibration import events
from calibration.models import (
    Adjustment,
    Appeal,
    CalibrationSession,
    Participant,
    PreRead,
    SessionReview,
)
from calibration.permissions import (
    can_adjust,
    can_create_sessions,
    is_facilitator,
    participant_role,
)
from calibration.selectors import in_scope_reviews
from core import readcache
from core.actors import User
from core.errors import Conflict, Forbidden, StaleVersion, ValidationFailed
from core.roles import is_hr
from people.models import Team
from reviews.models import DimensionRating, Review, ReviewCycle, ScoreSnapshot
from reviews.permissions import is_review_owner
from reviews.selectors import with_detail
from reviews.services import snapshot_score
from rubrics.scoring import compute

Status = CalibrationSession.Status
MIN_RATIONALE_WORDS = 4


def _locked_session(session: CalibrationSession) -> CalibrationSession:
    return (
        CalibrationSession.objects.select_for_update(of=("self",))
        .select_related("cycle__rubric_version__scale")
        .prefetch_related("participants")
        .get(pk=session.pk)
    )


def _require_facilitator(actor: User, session: CalibrationSession, what: str) -> None:
    if not is_facilitator(actor, session):
        raise Forbidden(f"Only the facilitator, {session.facilitator}, can {what}.")


def _composite(session: CalibrationSession, ratings: dict[str, int]) -> Decimal | None:
    version = session.cycle.rubric_version
    if not ratings:
        return None
    specs = [d.spec() for d in version.dimensions.all()]
    return compute(dimensions=specs, ratings=ratings, scale=version.scale_spec()).composite


def session_create(
    *,
    actor: User,
    cycle: ReviewCycle,
    name: str,
    facilitator: Any,
    managers: Iterable[Any] = (),
    observers: Iterable[Any] = (),
    teams: Iterable[Team] = (),
    levels: Iterable[str] = (),
    scope_managers: Iterable[Any] = (),
    guidance: dict[str, Any] | None = None,
) -> CalibrationSession:
    """Schedule a session: who runs it, who takes part, which reviews it covers."""
    if not can_create_sessions(actor):
        raise Forbidden("Only HR or a facilitator can schedule calibration sessions.")
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["is required"]
    elif CalibrationSession.objects.filter(cycle=cycle, name=name.strip()).exists():
        errors["name"] = [f"{cycle} already has a session called {name.strip()!r}"]
    if guidance:
        try:
            total = sum(Decimal(str(v)) for v in guidance.values())
        except ArithmeticError:
            total = Decimal(-1)
        if total <= 0 or total > Decimal("1.0001"):
            errors["guidance"] = ["shares per rating must be numbers that add up to at most 1"]
    if errors:
        raise ValidationFailed("; ".join(f"{k}: {v[0]}" for k, v in errors.items()), errors=errors)
    with transaction.atomic():
        session = CalibrationSession.objects.create(
            cycle=cycle,
            name=name.strip(),
            facilitator=facilitator,
            scope_levels=list(levels),
            guidance=guidance or {},
        )
        session.scope_teams.set(list(teams))
        session.scope_managers.set(list(scope_managers))
        Participant.objects.bulk_create(
            [Participant(session=session, user=u, role=Participant.Role.MANAGER) for u in managers]
            + [
                Participant(session=session, user=u, role=Participant.Role.OBSERVER)
                for u in observers
            ]
        )
        audit.record(
            actor=actor,
            action=events.SESSION_SCHEDULED,
            target=session,
            payload={
                "cycle": cycle.pk,
                "name": session.name,
                "facilitator": str(facilitator),
                "managers": [str(u) for u in managers],
                "observers": [str(u) for u in observers],
                "teams": [t.name for t in teams],
                "levels": list(levels),
            },
        )
    return session


def preread_add(*, actor: User, session: CalibrationSession, review: Review, text: str) -> PreRead:
    """A participant leaves a comment on a review before (or during) the session."""
    with transaction.atomic():
        session = _locked_session(session)
        if not (is_facilitator(actor, session) or participant_role(actor, session)):
            raise Forbidden("Only the session's facilitator and participants can leave pre-reads.")
        if session.status in (Status.LOCKED, Status.CLOSED):
            raise Conflict(
                f"{session} is {session.get_status_display().lower()}: no new pre-reads."
            )
        if not in_scope_reviews(session).filter(pk=review.pk).exists():
            raise ValidationFailed(
                "This review is not on the session's board.",
                errors={"review": ["not in this session's scope"]},
            )
        if not text.strip():
            raise ValidationFailed("Write the pre-read.", errors={"text": ["is required"]})
        preread = PreRead.objects.create(
            session=session, review=review, author=actor, text=text.strip()
        )
        audit.record(
            actor=actor,
            action=events.PREREAD_ADDED,
            target=review,
            payload={"session": session.pk, "text": preread.text},
        )
    return preread


def session_open(*, actor: User, session: CalibrationSession) -> CalibrationSession:
    """Open the board: snapshot every in-scope review's ratings and composite."""
    with transaction.atomic():
        session = _locked_session(session)
        _require_facilitator(actor, session, "open the session")
        if session.status != Status.SCHEDULED:
            raise Conflict(
                f"{session} is {session.get_status_display().lower()}; only a scheduled "
                "session can be opened."
            )
        if session.cycle.phase not in (
            ReviewCycle.Phase.MANAGER_REVIEW,
            ReviewCycle.Phase.CALIBRATION,
        ):
            raise Conflict(
                f"{session.cycle} is in {session.cycle.get_phase_display()}: calibration "
                "runs during the manager-review or calibration phase."
            )
        reviews = list(
            in_scope_reviews(session)
            .filter(state=Review.State.MANAGER_SUBMITTED)
            .select_for_update(of=("self",))
            .prefetch_related("ratings")
        )
        busy = SessionReview.objects.filter(review__in=reviews, active=True).select_related(
            "session", "review__engineer__user"
        )
        if busy:
            names = ", ".join(f"{e.review.engineer} ({e.session})" for e in busy[:5])
            raise Conflict(f"Some reviews are already on another open board: {names}.")
        if not reviews:
            raise Conflict("No review in scope has a submitted manager review yet.")
        entries = []
        for review in reviews:
            ratings = {
                r.dimension_key: r.manager_rating
                for r in review.ratings.all()
                if r.manager_rating is not None
            }
            composite = _composite(session, ratings)
            entries.append(
                SessionReview(
                    session=session,
                    review=review,
                    pre_ratings=ratings,
                    ratings=ratings,
                    pre_overall=review.overall_rating,
                    overall=review.overall_rating,
                    pre_composite=composite,
                    composite=composite,
                )
            )
        SessionReview.objects.bulk_create(entries)
        session.open()
        session.opened_at = timezone.now()
        session.version += 1
        session.save(update_fields=["status", "opened_at", "version"])
        audit.record(
            actor=actor,
            action=events.SESSION_OPENED,
            target=session,
            payload={
                "reviews": len(entries),
                "pre": {
                    str(e.review_id): {
                        "ratings": e.pre_ratings,
                        "overall": e.pre_overall,
                        "composite": e.pre_composite,
                    }
                    for e in entries
                },
            },
        )
    return session


def session_lock(*, actor: User, session: CalibrationSession) -> CalibrationSession:
    return _simple_transition(actor, session, "lock", events.SESSION_LOCKED)


def session_unlock(*, actor: User, session: CalibrationSession) -> CalibrationSession:
    return _simple_transition(actor, session, "unlock", events.SESSION_UNLOCKED)


def _simple_transition(
    actor: User, session: CalibrationSession, name: str, action: Action
) -> CalibrationSession:
    with transaction.atomic():
        session = _locked_session(session)
        _require_facilitator(actor, session, f"{name} the session")
        allowed = {"lock": Status.OPEN, "unlock": Status.LOCKED}[name]
        if session.status != allowed:
            raise Conflict(
                f"{session} is {session.get_status_display().lower()}; only an "
                f"{allowed} session can be {name}ed."
            )
        before = session.status
        getattr(session, name)()
        session.locked_at = timezone.now() if name == "lock" else None
        session.version += 1
        session.save(update_fields=["status", "locked_at", "version"])
        audit.record(
            actor=actor,
            action=action,
            target=session,
            payload={"before": {"status": before}, "after": {"status": session.status}},
        )
    return session


def adjustment_make(
    *,
    actor: User,
    session: CalibrationSession,
    review: Review,
    dimension_key: str,
    rating: int,
    rationale: str,
    evidence_ids: Iterable[int] = (),
    counterexample: str = "",
    expected_version: int | None = None,
) -> Adjustment:
    """Change one rating (or the overall rating) on the board, with a rationale and evidence
    (or a documented counterexample). A stale `expected_version` is refused with the current
    state, so two people editing one review never lose an update."""
    with transaction.atomic():
        session = _locked_session(session)
        if not can_adjust(actor, session):
            raise Forbidden("Only the facilitator and participating managers can change ratings.")
        if session.status == Status.LOCKED:
            raise Conflict(
                f"{session} is locked: no change is possible until the facilitator unlocks it."
            )
        if session.status != Status.OPEN:
            raise Conflict(
                f"{session} is {session.get_status_display().lower()}: ratings change "
                "only while it is open."
            )
        if Review.objects.filter(pk=review.pk, engineer__user_id=actor.pk).exists():
            raise Forbidden("Nobody calibrates their own review.")
        entry = (
            SessionReview.objects.select_for_update()
            .select_related("review")
            .filter(session=session, review=review)
            .first()
        )
        if entry is None:
            raise ValidationFailed(
                "This review is not on the session's board.",
                errors={"review": ["not on this board"]},
            )
        if expected_version is not None and expected_version != entry.version:
            raise StaleVersion(
                f"This review changed since you loaded it (you had version {expected_version}, "
                f"it is now {entry.version}). Reload and apply your change again.",
                extra={
                    "current": {
                        "version": entry.version,
                        "ratings": entry.ratings,
                        "overall": entry.overall,
                        "composite": entry.composite,
                    }
                },
            )
        version = session.cycle.rubric_version
        keys = [d.key for d in version.dimensions.all()]
        scale = version.scale
        errors: dict[str, list[str]] = {}
        if dimension_key != Adjustment.OVERALL and dimension_key not in keys:
            errors["dimension"] = [f"choose one of {', '.join(keys)} or overall"]
        if (
            isinstance(rating, bool)
            or not isinstance(rating, int)
            or not scale.min_rating <= rating <= scale.max_rating
        ):
            errors["rating"] = [
                f"must be a whole number on the scale {scale.min_rating}–{scale.max_rating}"
            ]
        if len(rationale.split()) < MIN_RATIONALE_WORDS:
            errors["rationale"] = ["give at least a sentence saying why the rating changes"]
        evidence = list(
            review.evidence.filter(pk__in=list(evidence_ids), withdrawn_at__isnull=True)
        )
        wanted = set(evidence_ids)
        if wanted - {e.pk for e in evidence}:
            errors["evidence"] = ["pick evidence items of this review (not withdrawn)"]
        elif not evidence and not counterexample.strip():
            errors["evidence"] = [
                "pick at least one evidence item of this review, or document a counterexample"
            ]
        if errors:
            raise ValidationFailed(
                "The change needs: " + "; ".join(f"{k}: {v[0]}" for k, v in errors.items()),
                errors=errors,
            )
        if dimension_key == Adjustment.OVERALL:
            before = entry.overall
            entry.overall = rating
        else:
            before = entry.ratings.get(dimension_key)
            entry.ratings = {**entry.ratings, dimension_key: rating}
        entry.composite = _composite(session, entry.ratings)
        entry.version += 1
        entry.save(update_fields=["ratings", "overall", "composite", "version"])
        session.version += 1
        session.save(update_fields=["version"])
        adjustment = Adjustment.objects.create(
            session=session,
            review=review,
            dimension_key=dimension_key,
            before=before,
            after=rating,
            rationale=rationale.strip(),
            counterexample=counterexample.strip(),
            actor=actor,
        )
        adjustment.evidence.set(evidence)
        audit.record(
            actor=actor,
            action=events.ADJUSTMENT_MADE,
            target=review,
            payload={
                "session": session.pk,
                "session_name": session.name,
                "dimension": dimension_key,
                "before": before,
                "after": rating,
                "rationale": adjustment.rationale,
                "evidence": [{"id": e.pk, "title": e.title, "url": e.url} for e in evidence],
                "counterexample": adjustment.counterexample,
                "composite": entry.composite,
            },
        )
    return adjustment


def session_close(*, actor: User, session: CalibrationSession) -> CalibrationSession:
    """Write the calibrated ratings to the reviews (state calibrated), store the post
    snapshot and a before/after summary."""
    with transaction.atomic():
        session = _locked_session(session)
        _require_facilitator(actor, session, "close the session")
        if session.status not in (Status.OPEN, Status.LOCKED):
            raise Conflict(
                f"{session} is {session.get_status_display().lower()}; only an open or "
                "locked session can be closed."
            )
        entries = list(SessionReview.objects.filter(session=session, active=True))
        review_ids = [e.review_id for e in entries]
        reviews = {
            r.pk: r
            for r in with_detail(
                Review.objects.filter(pk__in=review_ids).select_for_update(of=("self",))
            )
        }
        rows = {
            (r.review_id, r.dimension_key): r
            for r in DimensionRating.objects.filter(review_id__in=review_ids)
        }
        changed_rows = []
        summary: list[dict[str, Any]] = []
        for entry in entries:
            review = reviews[entry.review_id]
            for key, value in entry.ratings.items():
                row = rows.get((review.pk, key))
                if row is not None and row.manager_rating != value:
                    row.manager_rating = value
                    changed_rows.append(row)
            review.overall_rating = entry.overall
            review.calibrate()
            review.version += 1
            review.save(update_fields=["overall_rating", "state", "version"])
            entry.active = False
            # Each review's own trail shows the write-back, not just the session's.
            audit.record(
                actor=actor,
                action=events.LEGACY_REVIEW_CALIBRATED,
                target=review,
                payload={
                    "session": session.pk,
                    "before": {
                        "ratings": entry.pre_ratings,
                        "overall": entry.pre_overall,
                        "composite": entry.pre_composite,
                    },
                    "after": {
                        "ratings": entry.ratings,
                        "overall": entry.overall,
                        "composite": entry.composite,
                    },
                },
            )
            summary.append(
                {
                    "review": review.pk,
                    "engineer": str(review.engineer),
                    "before": entry.pre_composite,
                    "after": entry.composite,
                    "changed": entry.pre_ratings != entry.ratings
                    or entry.pre_overall != entry.overall,
                }
            )
        DimensionRating.objects.bulk_update(changed_rows, ["manager_rating"])
        SessionReview.objects.bulk_update(entries, ["active"])
        for review in reviews.values():
            review._prefetched_objects_cache.pop("ratings", None)  # type: ignore[attr-defined]
            snapshot_score(review, ScoreSnapshot.Reason.CALIBRATION)
        readcache.bump()
        session.close()
        session.closed_at = timezone.now()
        session.version += 1
        before = [s["before"] for s in summary if s["before"] is not None]
        after = [s["after"] for s in summary if s["after"] is not None]
        session.summary = {
            "reviews": len(summary),
            "changed": sum(1 for s in summary if s["changed"]),
            "mean_before": str(sum(before) / len(before)) if before else None,
            "mean_after": str(sum(after) / len(after)) if after else None,
            "rows": [{**s, "before": str(s["before"]), "after": str(s["after"])} for s in summary],
        }
        session.save(update_fields=["status", "closed_at", "version", "summary"])
        audit.record(
            actor=actor,
            action=events.SESSION_CLOSED,
            target=session,
            payload={k: v for k, v in session.summary.items() if k != "rows"},
        )
    return session


def appeal_create(*, actor: User, review: Review, dimension_key: str, reason: str) -> Appeal:
    """After finalisation, the engineer appeals one rating, with a reason."""
    with transaction.atomic():
        review = with_detail(Review.objects.select_for_update(of=("self",))).get(pk=review.pk)
        if not is_review_owner(actor, review):
            raise Forbidden("Only the engineer can appeal their own rating.")
        if review.state not in (Review.State.FINALIZED, Review.State.ACKNOWLEDGED):
            raise Conflict("Ratings can be appealed once the review is finalised.")
        keys = [d.key for d in review.cycle.rubric_version.dimensions.all()]
        errors = {}
        if dimension_key not in keys:
            errors["dimension"] = [f"choose one of {', '.join(keys)}"]
        if len(reason.split()) < MIN_RATIONALE_WORDS:
            errors["reason"] = ["say in at least a sentence why the rating is wrong"]
        if errors:
            raise ValidationFailed(
                "; ".join(f"{k}: {v[0]}" for k, v in errors.items()), errors=errors
            )
        if review.appeals.filter(dimension_key=dimension_key, status=Appeal.Status.OPEN).exists():
            raise Conflict("This rating already has an open appeal.")
        current = next(
            (r.manager_rating for r in review.ratings.all() if r.dimension_key == dimension_key),
            None,
        )
        appeal = Appeal.objects.create(
            review=review, dimension_key=dimension_key, reason=reason.strip(), before=current
        )
        audit.record(
            actor=actor,
            action=events.APPEAL_OPENED,
            target=review,
            payload={
                "appeal": appeal.pk,
                "dimension": dimension_key,
                "rating": current,
                "reason": appeal.reason,
            },
        )
    return appeal


def appeal_resolve(
    *, actor: User, appeal: Appeal, outcome: str, resolution: str, new_rating: int | None = None
) -> Appeal:
    """HR upholds the rating or changes it, with a rationale."""
    if not is_hr(actor):
        raise Forbidden("Only HR can resolve appeals.")
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update().get(pk=appeal.pk)
        if appeal.status != Appeal.Status.OPEN:
            raise Conflict("This appeal is already resolved.")
        review = with_detail(Review.objects.select_for_update(of=("self",))).get(
            pk=appeal.review_id
        )
        scale = review.cycle.rubric_version.scale
        errors: dict[str, list[str]] = {}
        if outcome not in (Appeal.Status.UPHELD, Appeal.Status.CHANGED):
            errors["outcome"] = ["must be upheld or changed"]
        if len(resolution.split()) < MIN_RATIONALE_WORDS:
            errors["resolution"] = ["give at least a sentence of rationale"]
        if outcome == Appeal.Status.CHANGED and (
            new_rating is None or not scale.min_rating <= new_rating <= scale.max_rating
        ):
            errors["new_rating"] = [f"give the new rating, {scale.min_rating}–{scale.max_rating}"]
        if errors:
            raise ValidationFailed(
                "; ".join(f"{k}: {v[0]}" for k, v in errors.items()), errors=errors
            )
        appeal.status = outcome
        appeal.resolution = resolution.strip()
        appeal.resolved_by = actor
        appeal.resolved_at = timezone.now()
        appeal.after = new_rating if outcome == Appeal.Status.CHANGED else appeal.before
        appeal.save()
        if outcome == Appeal.Status.CHANGED:
            DimensionRating.objects.filter(
                review=review, dimension_key=appeal.dimension_key
            ).update(manager_rating=new_rating)
            review = with_detail(Review.objects.all()).get(pk=review.pk)
            snapshot_score(review, ScoreSnapshot.Reason.APPEAL)
            readcache.bump()
        audit.record(
            actor=actor,
            action=events.APPEAL_RESOLVED,
            target=review,
            payload={
                "appeal": appeal.pk,
                "dimension": appeal.dimension_key,
                "outcome": outcome,
                "before": appeal.before,
                "after": appeal.after,
                "resolution": appeal.resolution,
            },
        )
    return appeal
