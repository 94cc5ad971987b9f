"""Read paths for promotions: the cases a user may see, the evidence a case may cite, export
jobs, and the cases of a batch export."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet
from django.http import Http404

from calibration.models import CalibrationSession
from core.api import is_uuid
from core.filters import named_by
from core.roles import is_hr
from people.models import Engineer
from promotions.models import ExportJob, PromotionCase
from promotions.permissions import (
    committee_seat_filter,
    may_sit,
    roles_of,
    visible_cases_filter,
    with_role_flags,
)
from reviews.models import Evidence, ReviewCycle


def cases_for_user(user: Any) -> QuerySet[PromotionCase]:
    # Seven tables at most in one query: past eight, PostgreSQL spends longer choosing how to
    # join them than reading the rows (planning took 10 ms of a 12 ms list).
    return (
        PromotionCase.objects.filter(visible_cases_filter(user))
        .select_related("engineer__user", "cycle__rubric_version__scale", "nominated_by")
        .prefetch_related(
            # Of each item's review only its cycle is asked (`spans_two_periods`): joined to
            # the item, one query instead of three.
            Prefetch(
                "axes__evidence",
                queryset=Evidence.objects.select_related("review").only(
                    *(f.name for f in Evidence._meta.concrete_fields), "review__cycle"
                ),
            ),
            "committee",
        )
    )


def case_rows_for_user(user: Any) -> QuerySet[PromotionCase]:
    """The cases a user may see, with only what the list shows."""
    return (
        PromotionCase.objects.filter(visible_cases_filter(user))
        .select_related("engineer__user", "cycle")
        .defer("summary", "summary_html", "feedback")
        .order_by("-cycle__self_review_ends", "engineer__user__last_name", "pk")
    )


def case_cycles_for_user(user: Any) -> QuerySet[ReviewCycle]:
    """The cycles of the cases a user may see: what the case list may be filtered by."""
    visible = PromotionCase.objects.filter(visible_cases_filter(user)).values("cycle_id")
    return ReviewCycle.objects.filter(pk__in=visible).only("pk", "name")


def nominees_for(user: Any) -> QuerySet[Engineer]:
    """Whom `user` may nominate: their direct reports (whom every access rule lets them see)."""
    return Engineer.objects.reporting_to(user).select_related("user")


def get_case_for_user(user: Any, pk: int | str) -> PromotionCase:
    """The case, or 404 both when it is missing and when the user may not see it."""
    if not str(pk).isdigit():
        raise Http404("No such promotion case.")
    case = cases_for_user(user).filter(pk=pk).first()
    if case is None:
        raise Http404("No such promotion case.")
    return case


def candidate_evidence(case: PromotionCase) -> QuerySet[Evidence]:
    """The engineer's evidence from this cycle and earlier ones: what a case may cite."""
    return (
        Evidence.objects.active()
        .filter(
            review__engineer_id=case.engineer_id,
            review__cycle__self_review_ends__lte=case.cycle.self_review_ends,
        )
        .select_related("review__cycle")
        .order_by("-review__cycle__self_review_ends", "-occurred_on", "pk")
    )


SUGGESTED = 10  # people a committee search suggests at once


def _candidates(case: PromotionCase, levels: list[str]) -> QuerySet[Any]:
    """The people `committee_seat_filter` admits, by name, each with the flags of the roles
    that seat them: one query, however many people hold those roles. Never the engineer or
    the nominating manager."""
    return (
        with_role_flags(get_user_model().objects.all())
        .filter(committee_seat_filter(case, levels))
        .exclude(pk__in=[case.engineer.user_id, case.nominated_by_id])
        .select_related("engineer")
        .only("pk", "username", "first_name", "last_name", "engineer__level_code")
        .order_by("last_name", "first_name", "username")
    )


def _seated(case: PromotionCase, levels: list[str], people: Iterable[Any]) -> list[Any]:
    """The rows `may_sit` admits: the rule itself, asked of rows already read."""
    return [
        person
        for person in people
        if may_sit(
            roles_of(person),
            getattr(getattr(person, "engineer", None), "level_code", None),
            case,
            levels,
        )
    ]


def _levels(case: PromotionCase) -> list[str]:
    return list(case.cycle.rubric_version.levels.order_by("order").values_list("code", flat=True))


def committee_candidates(case: PromotionCase) -> list[Any]:
    """Everyone who may sit on this case's committee, by name."""
    levels = _levels(case)
    return _seated(case, levels, _candidates(case, levels))


def committee_suggestions(case: PromotionCase, text: str) -> list[Any]:
    """Up to SUGGESTED people who may sit on this case's committee and whom each word of
    `text` names (in a first name, last name or username): the committee search."""
    if not text.split():
        return []
    levels = _levels(case)
    people = named_by(_candidates(case, levels), text)
    return _seated(case, levels, people[:SUGGESTED])


def committee_members(case: PromotionCase, usernames: list[str]) -> tuple[list[Any], list[str]]:
    """The people with these usernames who may sit on this case's committee, in the order
    given, and the usernames given of anyone else (unknown, or not eligible)."""
    if not usernames:
        return [], []
    levels = _levels(case)
    found = {
        person.get_username(): person
        for person in _seated(
            case, levels, _candidates(case, levels).filter(username__in=usernames)
        )
    }
    return [found[n] for n in usernames if n in found], [n for n in usernames if n not in found]


def get_job_for_user(user: Any, job_id: str) -> ExportJob:
    """An export job, for HR or whoever asked for it; 404 for anyone else."""
    job = (
        ExportJob.objects.filter(pk=job_id).select_related("case").first()
        if is_uuid(job_id)
        else None
    )
    if job is None or not (is_hr(user) or job.requested_by_id == getattr(user, "pk", None)):
        raise Http404("No such export.")
    return job


def batch_cases(
    *, cycle: ReviewCycle | None = None, session: CalibrationSession | None = None
) -> QuerySet[PromotionCase]:
    """The cases of a cycle, or of the reviews on a calibration session's board."""
    cases = PromotionCase.objects.select_related("engineer__user").order_by(
        "engineer__user__last_name", "pk"
    )
    if session is not None:
        return cases.filter(
            cycle_id=session.cycle_id, engineer__reviews__session_entries__session=session
        ).distinct()
    assert cycle is not None
    return cases.filter(cycle=cycle)


def batch_jobs(user: Any) -> QuerySet[ExportJob]:
    """HR's batch exports (ZIPs of a cycle's or a session's packets), newest first."""
    if not is_hr(user):
        return ExportJob.objects.none()
    return (
        ExportJob.objects.filter(case__isnull=True)
        .select_related("cycle", "session", "requested_by")
        .order_by("-created_at")
    )
