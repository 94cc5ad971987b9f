"""Write paths for calibration: sessions, pre-reads, adjustments, appeals.

Each asks the session's (or the appeal's) state machine whether the actor may act now, runs
in one transaction and writes the audit log. Calibration never writes a review: putting
reviews on a board, writing a closed board's ratings back and changing a rating on appeal
are the review services' (reviews.services), which check the review's own state.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit import services as audit
from audit.registry import Action
from calibration import events, notices
from calibration.models import (
    PULSE_QUESTIONS,
    Adjustment,
    Appeal,
    CalibrationSession,
    Participant,
    PreRead,
    PulseAnswer,
    PulseReceipt,
    SessionReview,
)
from calibration.permissions import (
    can_create_sessions,
    can_facilitate,
    can_observe,
    can_take_part_as_manager,
)
from calibration.selectors import waiting_reviews
from core import limits, readcache, workflow
from core.actors import User
from core.errors import Conflict, Forbidden, StaleVersion, ValidationFailed
from core.roles import Role, people_with_roles
from notify import services as notify
from people.models import Team
from reviews import services as reviews
from reviews.models import Review, ReviewCycle
from reviews.scores import manager_ratings
from reviews.selectors import with_detail
from rubrics.models import Dimension
from rubrics.scoring import compute, mean_score

Status = CalibrationSession.Status
MIN_RATIONALE_WORDS = 4
MIN_RATIONALE_CHARACTERS = 20


PULSE_KEYS = tuple(key for key, _question in PULSE_QUESTIONS)


def _locked_session(session: CalibrationSession) -> CalibrationSession:
    return (
        CalibrationSession.objects.select_for_update(of=("self",))
        .select_related("cycle__rubric_version__scale", "facilitator")
        .prefetch_related("participants", "scope_teams", "scope_managers")
        .get(pk=session.pk)
    )


def _record(actor: User, action: Action, target: Any, **payload: Any) -> None:
    audit.record(actor=actor, action=action, target=target, payload=payload)


def _name(user: Any) -> str:
    return str(user.get_full_name() or user.get_username())


def _seated(session: CalibrationSession) -> list[int]:
    """The facilitator and the participants, as `_locked_session` prefetched them."""
    return [session.facilitator_id, *(p.user_id for p in session.participants.all())]


def _tell_session(
    actor: User,
    session: CalibrationSession,
    kind: str,
    what: str,
    body: str,
    *,
    people: list[int] | None = None,
    key: str = "",
) -> None:
    """Tell the session's facilitator and participants (not the one who acted) that the
    session changed, linking to it. `key` defaults to what happened: each happens once."""
    people = _seated(session) if people is None else people
    notify.tell(
        kind=kind,
        recipients=people,
        not_to=actor,
        key=f"session:{session.pk}:{key or what}",
        title=f"Calibration session '{session}' {what}",
        body=body,
        url=reverse("calibration:detail", args=[session.pk]),
        action="Open the session",
    )


def _composite(session: CalibrationSession, ratings: dict[str, int]) -> Decimal | None:
    version = session.cycle.rubric_version
    if not ratings:
        return None
    specs = [d.spec() for d in version.dimensions.all()]
    return compute(dimensions=specs, ratings=ratings, scale=version.scale_spec()).composite


def _is_sentence(text: str) -> bool:
    text = text.strip()
    return len(text.split()) >= MIN_RATIONALE_WORDS and len(text) >= MIN_RATIONALE_CHARACTERS


def _seat_problems(
    facilitator: Any, managers: list[Any], observers: list[Any]
) -> dict[str, list[str]]:
    """Only facilitators (or HR) run sessions; only managers take part; only managers and HR
    read along."""
    errors: dict[str, list[str]] = {}
    if not can_facilitate(facilitator):
        errors["facilitator"] = [f"{facilitator} is not a facilitator or in HR"]
    not_managers = [str(u) for u in managers if not can_take_part_as_manager(u)]
    if not_managers:
        errors["managers"] = [f"not managers: {', '.join(not_managers)}"]
    not_observers = [str(u) for u in observers if not can_observe(u)]
    if not_observers:
        errors["observers"] = [f"only HR and managers observe: {', '.join(not_observers)}"]
    return errors


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
    managers, observers = list(managers), list(observers)
    errors = _seat_problems(facilitator, managers, observers) | limits.text_problems(
        {"name": (name, 120)}
    )
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
        raise ValidationFailed.from_errors(errors)
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
        _record(
            actor,
            events.SESSION_SCHEDULED,
            session,
            cycle=cycle.pk,
            name=session.name,
            facilitator=str(facilitator),
            managers=[str(u) for u in managers],
            observers=[str(u) for u in observers],
            teams=[t.name for t in teams],
            levels=list(levels),
        )
        _tell_session(
            actor,
            session,
            notices.SESSION_INVITED,
            "scheduled: you are invited",
            f"{_name(actor)} scheduled the calibration session '{session}' for {cycle} and "
            "seated you in it. Read the reviews in its scope and leave your pre-reads before "
            "the board opens; the facilitator opens it during the manager-review or "
            "calibration phase.",
            people=[facilitator.pk, *(u.pk for u in managers), *(u.pk for u in observers)],
            key="invited",
        )
    return session


def preread_add(*, actor: User, session: CalibrationSession, review: Review, text: str) -> PreRead:
    """A participant leaves a comment on a review before (or during) the session."""
    with transaction.atomic():
        session = _locked_session(session)
        workflow.require(session, "add_preread", actor)
        limits.require_bounded(text=(text, limits.TEXT))
        if not session.scoped_reviews().filter(pk=review.pk).exists():
            raise ValidationFailed(
                "This review is not on the session's board.",
                errors={"review": ["not on this board"]},
            )
        if not text.strip():
            raise ValidationFailed("Write the pre-read.", errors={"text": ["is required"]})
        preread = PreRead.objects.create(
            session=session, review=review, author=actor, text=text.strip()
        )
        _record(actor, events.PREREAD_ADDED, review, session=session.pk, text=preread.text)
    return preread


def _board_entries(
    actor: User, session: CalibrationSession, candidates: Iterable[Review]
) -> list[SessionReview]:
    """Put reviews on the board: the review services move each to "on a calibration board"
    (refusing any that cannot be), and the board keeps a snapshot of its ratings."""
    locked = reviews.review_calibration_start(
        actor=actor, reviews=candidates, board=session.board_label
    )
    entries = []
    for review in locked:
        ratings = manager_ratings(review)
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
    return SessionReview.objects.bulk_create(entries)


def _snapshot_payload(entries: list[SessionReview]) -> dict[str, Any]:
    return {
        str(e.review_id): {
            "ratings": e.pre_ratings,
            "overall": e.pre_overall,
            "composite": e.pre_composite,
        }
        for e in entries
    }


def session_open(*, actor: User, session: CalibrationSession) -> CalibrationSession:
    """Open the board: every in-scope review with a submitted manager review goes on it,
    with a snapshot of its ratings and composite."""
    with transaction.atomic():
        session = _locked_session(session)
        workflow.require(session, "open", actor)
        candidates = list(waiting_reviews(session))
        if not candidates:
            raise Conflict(
                "No review in scope is waiting for calibration: none has a submitted manager "
                "review that is not already on a board."
            )
        entries = _board_entries(actor, session, candidates)
        before = session.status
        session.open()
        session.opened_at = timezone.now()
        session.version += 1
        session.save(update_fields=["status", "opened_at", "version"])
        _record(
            actor,
            events.SESSION_OPENED,
            session,
            before={"status": before},
            after={"status": session.status},
            reviews=len(entries),
            pre=_snapshot_payload(entries),
        )
        _tell_session(
            actor,
            session,
            notices.SESSION_OPENED,
            "opened",
            f"The board of '{session}' is open with {len(entries)} review(s). Compare the "
            "ratings and propose changes, each with a rationale and evidence, until the "
            "facilitator locks the session.",
        )
    return session


def session_add_reviews(
    *, actor: User, session: CalibrationSession, review_ids: Iterable[int] | None = None
) -> list[SessionReview]:
    """Add reviews that became ready after the session opened (all waiting ones, or those
    named) to the open board, each with its snapshot."""
    with transaction.atomic():
        session = _locked_session(session)
        workflow.require(session, "add_reviews", actor)
        waiting = waiting_reviews(session)
        if review_ids is not None:
            wanted = set(review_ids)
            waiting = waiting.filter(pk__in=wanted)
            if waiting.count() != len(wanted):
                raise ValidationFailed(
                    "Only reviews in scope that wait for calibration can be added.",
                    errors={"reviews": ["not waiting for this board"]},
                )
        candidates = list(waiting)
        if not candidates:
            raise Conflict("No review in scope is waiting to join the board.")
        entries = _board_entries(actor, session, candidates)
        session.version += 1
        session.save(update_fields=["version"])
        _record(
            actor,
            events.SESSION_REVIEW_ADDED,
            session,
            reviews=[e.review_id for e in entries],
            pre=_snapshot_payload(entries),
        )
    return entries


def session_lock(*, actor: User, session: CalibrationSession) -> CalibrationSession:
    return _simple_transition(actor, session, "lock", events.SESSION_LOCKED)


def session_unlock(*, actor: User, session: CalibrationSession) -> CalibrationSession:
    return _simple_transition(actor, session, "unlock", events.SESSION_UNLOCKED)


def _simple_transition(
    actor: User, session: CalibrationSession, name: str, action: Action
) -> CalibrationSession:
    with transaction.atomic():
        session = _locked_session(session)
        workflow.require(session, name, actor)
        before = session.status
        getattr(session, name)()
        session.locked_at = timezone.now() if name == "lock" else None
        session.version += 1
        session.save(update_fields=["status", "locked_at", "version"])
        _record(actor, action, session, before={"status": before}, after={"status": session.status})
        if name == "lock":
            # Locked, unlocked and locked again is news again: the board's version is in the key.
            _tell_session(
                actor,
                session,
                notices.SESSION_LOCKED,
                "locked",
                f"{_name(actor)} locked the board of '{session}': its ratings no longer change "
                "unless the facilitator unlocks it. Nothing is needed from you; read the board "
                "to see where it landed.",
                key=f"locked:{session.version}",
            )
    return session


def adjustment_problems(
    session: CalibrationSession,
    entry: SessionReview,
    *,
    dimension_key: str,
    rating: Any,
    rationale: str,
    evidence: list[Any],
    wanted: set[int],
    counterexample: str,
) -> dict[str, list[str]]:
    """Every reason a calibration change cannot be made, at once.

    A change needs a rationale of at least a sentence. Raising a rating needs evidence of
    this review tagged to that dimension (any of its evidence for the overall rating);
    lowering needs evidence or a documented counterexample. A change to the same value is
    no change.
    """
    version = session.cycle.rubric_version
    dimensions = {d.key: d.name for d in version.dimensions.all()}
    errors: dict[str, list[str]] = limits.text_problems(
        {"rationale": (rationale, limits.TEXT), "counterexample": (counterexample, limits.TEXT)}
    )
    if errors:
        return errors
    if dimension_key != Adjustment.OVERALL and dimension_key not in dimensions:
        errors["dimension"] = [f"choose one of {', '.join(dimensions)} or overall"]
        return errors
    if (problem := version.scale.problem(rating)) is not None:
        errors["rating"] = [problem]
        return errors
    before = entry.current(dimension_key)
    if before == rating:
        errors["rating"] = [f"is already {rating}: a change must change the rating"]
    if not _is_sentence(rationale):
        errors["rationale"] = ["give at least a sentence saying why the rating changes"]
    if wanted - {e.pk for e in evidence}:
        errors["evidence"] = ["pick evidence items of this review (not withdrawn)"]
        return errors
    raising = before is None or rating > before
    if dimension_key == Adjustment.OVERALL:
        supporting, what = evidence, "evidence of this review"
    else:
        supporting = [e for e in evidence if dimension_key in e.dimensions]
        what = f"evidence of this review tagged to {dimensions[dimension_key]}"
    if raising:
        if not supporting:
            errors["evidence"] = [f"raising a rating needs {what}"]
        if counterexample.strip():
            errors["counterexample"] = ["a counterexample supports lowering a rating only"]
    elif not supporting and not counterexample.strip():
        errors["evidence"] = [f"lowering a rating needs {what}, or a documented counterexample"]
    return errors


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
        workflow.require(session, "adjust", actor)
        if review.is_owned_by(actor):
            raise Forbidden("Nobody calibrates their own review.")
        entry = (
            SessionReview.objects.select_for_update()
            .select_related("review__engineer")
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
        wanted = set(evidence_ids)
        evidence = list(review.evidence.active().filter(pk__in=list(wanted)))
        errors = adjustment_problems(
            session,
            entry,
            dimension_key=dimension_key,
            rating=rating,
            rationale=rationale,
            evidence=evidence,
            wanted=wanted,
            counterexample=counterexample,
        )
        if errors:
            raise ValidationFailed.from_errors(errors, "The change needs: ")
        before = entry.current(dimension_key)
        entry.set(dimension_key, rating)
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
        _record(
            actor,
            events.ADJUSTMENT_MADE,
            review,
            session=session.pk,
            session_name=session.name,
            dimension=dimension_key,
            before=before,
            after=rating,
            rationale=adjustment.rationale,
            evidence=[{"id": e.pk, "title": e.title, "url": e.url} for e in evidence],
            counterexample=adjustment.counterexample,
            composite=entry.composite,
        )
    return adjustment


def session_close(*, actor: User, session: CalibrationSession) -> CalibrationSession:
    """Write the calibrated ratings back through the review services (each review becomes
    calibrated, with a new score snapshot) and keep a before/after summary.

    Nothing is skipped silently: while reviews in scope wait to join the board the session
    does not close, and the summary names every review in scope that was not calibrated,
    with its state.
    """
    with transaction.atomic():
        session = _locked_session(session)
        workflow.require(session, "close", actor)
        waiting = list(waiting_reviews(session).select_related("engineer__user"))
        if waiting:
            names = ", ".join(str(r.engineer) for r in waiting[:5])
            more = f" and {len(waiting) - 5} more" if len(waiting) > 5 else ""
            raise Conflict(
                f"{len(waiting)} review(s) in scope became ready after the session opened and "
                f"wait to join the board ({names}{more}). Add them to the board first: they "
                "can be closed unchanged.",
                extra={"waiting": [r.pk for r in waiting]},
            )
        entries = list(
            SessionReview.objects.filter(session=session, active=True).select_related(
                "review__engineer__user"
            )
        )
        written = reviews.review_calibrate(
            actor=actor,
            results={
                e.review_id: reviews.Calibrated(ratings=e.ratings, overall=e.overall)
                for e in entries
            },
            board=session.board_label,
        )
        for entry in entries:
            entry.active = False
        SessionReview.objects.bulk_update(entries, ["active"])
        rows = [
            {
                "review": e.review_id,
                "engineer": str(e.review.engineer),
                "before": e.pre_composite,
                "after": written[e.review_id]["after"]["composite"],
                "changed": e.pre_ratings != e.ratings or e.pre_overall != e.overall,
            }
            for e in entries
        ]
        on_board = {e.review_id for e in entries}
        left_out = [
            {"review": pk, "engineer": str(r_engineer), "state": state}
            for pk, r_engineer, state in (
                (r.pk, r.engineer, r.state)
                for r in session.scoped_reviews()
                .exclude(pk__in=on_board)
                .select_related("engineer__user")
            )
        ]
        before = [r["before"] for r in rows if r["before"] is not None]
        after = [r["after"] for r in rows if r["after"] is not None]
        mean_before, mean_after = mean_score(before), mean_score(after)
        session.close()
        session.closed_at = timezone.now()
        session.version += 1
        session.summary = {
            "reviews": len(rows),
            "changed": sum(1 for r in rows if r["changed"]),
            "mean_before": None if mean_before is None else str(mean_before),
            "mean_after": None if mean_after is None else str(mean_after),
            "rows": [{**r, "before": str(r["before"]), "after": str(r["after"])} for r in rows],
            "not_calibrated": left_out,
        }
        session.save(update_fields=["status", "closed_at", "version", "summary"])
        _record(
            actor,
            events.SESSION_CLOSED,
            session,
            **{k: v for k, v in session.summary.items() if k != "rows"},
        )
        summary = session.summary
        _tell_session(
            actor,
            session,
            notices.SESSION_CLOSED,
            "closed",
            f"{_name(actor)} closed '{session}' and wrote its ratings back to the reviews: "
            f"{summary['changed']} of {summary['reviews']} review(s) changed. The session's "
            "summary shows each review before and after.",
        )
    return session


def appeal_create(*, actor: User, review: Review, dimension_key: str, reason: str) -> Appeal:
    """After finalisation, the engineer appeals one rating, with a reason."""
    with transaction.atomic():
        review = with_detail(Review.objects.select_for_update(of=("self",))).get(pk=review.pk)
        workflow.require(review, "appeal", actor)
        keys = [d.key for d in review.cycle.rubric_version.dimensions.all()]
        errors = limits.text_problems({"reason": (reason, limits.TEXT)})
        if dimension_key not in keys:
            errors["dimension"] = [f"choose one of {', '.join(keys)}"]
        if not _is_sentence(reason):
            errors["reason"] = ["say in at least a sentence why the rating is wrong"]
        if errors:
            raise ValidationFailed.from_errors(errors)
        if review.appeals.filter(dimension_key=dimension_key, status=Appeal.Status.OPEN).exists():
            raise Conflict("This rating already has an open appeal.")
        current = manager_ratings(review).get(dimension_key)
        appeal = Appeal.objects.create(
            review=review, dimension_key=dimension_key, reason=reason.strip(), before=current
        )
        _record(
            actor,
            events.APPEAL_OPENED,
            review,
            appeal=appeal.pk,
            dimension=dimension_key,
            rating=current,
            reason=appeal.reason,
        )
        engineer = _name(review.engineer.user)
        dimension = next(
            d.name for d in review.cycle.rubric_version.dimensions.all() if d.key == dimension_key
        )
        hr = people_with_roles(Role.HR).order_by().values_list("pk", flat=True)
        notify.tell(
            kind=notices.APPEAL_OPENED,
            recipients=hr,
            not_to=actor,
            key=f"appeal:{appeal.pk}:opened",
            title=f"{engineer} appealed their {dimension} rating",
            body=(
                f"{engineer} appealed their {dimension} rating ({current}) in {review.cycle}:"
                f"\n\n{appeal.reason}\n\nRead the evidence tagged to the dimension, then "
                "uphold the rating or change it, with your rationale."
            ),
            url=reverse("calibration:appeal", args=[appeal.pk]),
            action="Resolve the appeal",
        )
    return appeal


def appeal_resolve(
    *, actor: User, appeal: Appeal, outcome: str, resolution: str, new_rating: int | None = None
) -> Appeal:
    """HR upholds the rating or changes it, with a rationale. A change goes through the
    review services: the review's version moves on and its score is snapshotted."""
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update().select_related("review").get(pk=appeal.pk)
        if outcome not in Appeal.OUTCOMES:
            raise ValidationFailed(
                "outcome: must be upheld or changed", errors={"outcome": ["upheld or changed"]}
            )
        step = "change" if outcome == Appeal.Status.CHANGED else "uphold"
        workflow.require(appeal, step, actor)
        errors = limits.text_problems({"resolution": (resolution, limits.TEXT)})
        if not _is_sentence(resolution):
            errors["resolution"] = ["give at least a sentence of rationale"]
        if outcome == Appeal.Status.CHANGED:
            if new_rating is None:
                errors["new_rating"] = ["give the new rating"]
            elif new_rating == appeal.before:
                errors["new_rating"] = [
                    f"is the current rating ({new_rating}); to keep it, uphold the appeal"
                ]
        if errors:
            raise ValidationFailed.from_errors(errors)
        if outcome == Appeal.Status.CHANGED:
            assert new_rating is not None
            reviews.rating_change_on_appeal(
                actor=actor,
                review=appeal.review,
                dimension_key=appeal.dimension_key,
                rating=new_rating,
                appeal=appeal.pk,
                reason=resolution.strip(),
            )
        getattr(appeal, step)()
        appeal.resolution = resolution.strip()
        appeal.resolved_by = actor
        appeal.resolved_at = timezone.now()
        appeal.after = new_rating if outcome == Appeal.Status.CHANGED else appeal.before
        appeal.save()
        _record(
            actor,
            events.APPEAL_RESOLVED,
            appeal.review,
            appeal=appeal.pk,
            dimension=appeal.dimension_key,
            outcome=outcome,
            before=appeal.before,
            after=appeal.after,
            resolution=appeal.resolution,
        )
        review = appeal.review
        dimension = (
            Dimension.objects.filter(
                version_id=review.cycle.rubric_version_id, key=appeal.dimension_key
            )
            .values_list("name", flat=True)
            .first()
            or appeal.dimension_key
        )
        if outcome == Appeal.Status.CHANGED:
            decision = f"changed the rating from {appeal.before} to {appeal.after}"
        else:
            decision = f"kept the rating at {appeal.before}"
        notify.tell(
            kind=notices.APPEAL_RESOLVED,
            recipients=[review.engineer.user_id],
            key=f"appeal:{appeal.pk}:resolved",
            title=f"Your appeal on {review.cycle} was decided",
            body=(
                f"HR {decision} on your appeal of the {dimension} rating:\n\n"
                f"{appeal.resolution}\n\nYour review's calibration history shows the appeal "
                "and its outcome."
            ),
            url=reverse("calibration:review-history", args=[review.pk]),
            action="Open your calibration history",
        )
    return appeal


def pulse_answer(*, actor: User, review: Review, answers: dict[str, int | None]) -> None:
    """The engineer's answers to the process pulse, once per review, after acknowledging it.
    Stored without any link to the engineer or the review: a receipt records only that the
    review's pulse was answered."""
    with transaction.atomic():
        review = Review.objects.select_for_update().get(pk=review.pk)
        if review.engineer.user_id != actor.pk:
            raise Forbidden("Only the engineer whose review it is answers its pulse.")
        if review.state != Review.State.ACKNOWLEDGED:
            raise Conflict("The pulse opens once you have acknowledged your finalised review.")
        if PulseReceipt.objects.filter(review=review).exists():
            raise Conflict("You have answered this review's pulse already.")
        errors = {
            key: ["must be 1 (disagree) to 5 (agree), or left out"]
            for key, value in answers.items()
            if value is not None and not (isinstance(value, int) and 1 <= value <= 5)
        }
        errors |= {
            key: ["is not a question of the pulse"] for key in answers if key not in PULSE_KEYS
        }
        if errors:
            raise ValidationFailed.from_errors(errors)
        if all(answers.get(key) is None for key in PULSE_KEYS):
            raise ValidationFailed(
                "Answer at least one question, or leave the pulse.",
                errors={"explain": ["answer at least one question"]},
            )
        PulseReceipt.objects.create(review=review)
        PulseAnswer.objects.create(
            cycle_id=review.cycle_id, **{k: answers.get(k) for k in PULSE_KEYS}
        )
        readcache.bump(readcache.cycle_scope(review.cycle_id))
        _record(actor, events.PULSE_ANSWERED, review)
