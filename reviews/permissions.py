"""Who may see reviews — the one rule, used by every list, page and API.

Engineers see their own; managers their direct reports' and, read-only, their skip-levels';
HR everyone's; anyone else nothing. "Manager" is the manager recorded on the review when the
cycle opened, so a later reorg does not move old reviews. Who may act on a review is declared
with its state machine (reviews.models.Review).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, IntegerField, OuterRef, Q, Value

from core.readcache import cycle_scope
from core.requestmemo import remembered
from core.roles import is_hr, is_hr_or_system
from people.models import Engineer
from reviews.models import Review, ReviewHandover


def visible_reviews_filter(user: Any) -> Q:
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    if is_hr(user):
        return Q()
    own, reports, handed_over = _reach(user)
    # Plain values, each answered from its own index (as in people.permissions).
    return (
        Q(engineer_id__in=own)
        | Q(manager_id__in=[user.pk, *reports])
        # Handed over after a move: the previous manager and the new one both read it.
        | Q(pk__in=handed_over)
    )


def _reach(user: Any) -> tuple[list[int], list[int], list[int]]:
    """The user's own engineer profile, the users reporting to them directly who are recorded
    as the manager of a review (the skip-level reviews), and the reviews handed over to or from
    them: one query of indexed lookups, once per page. (Listing every report would make
    PostgreSQL expect a hundred reviews for each, and read the whole table.)"""
    return remembered(("review-reach", user.pk), lambda: _read_reach(user))


def _read_reach(user: Any) -> tuple[list[int], list[int], list[int]]:
    own, report, handover = (Value(kind, output_field=IntegerField()) for kind in range(3))
    engineers = Engineer.objects.order_by()
    rows = (
        engineers.filter(user=user)
        .values_list(own, "pk")
        .union(
            engineers.filter(manager=user)
            .filter(Exists(Review.objects.filter(manager_id=OuterRef("user_id"))))
            .values_list(report, "user_id"),
            ReviewHandover.objects.filter(Q(from_manager=user) | Q(to_manager=user))
            .order_by()
            .values_list(handover, "review_id"),
            all=True,
        )
    )
    found: tuple[list[int], list[int], list[int]] = ([], [], [])
    for kind, pk in rows:
        found[kind].append(pk)
    return found


def read_scopes(review: Review) -> list[str]:
    """The read-cache scopes (core.readcache) a change to `review` moves: the review itself,
    its cycle's figures, HR's view and the view of each person the rule above lets read it —
    its engineer, its manager, their manager, and the managers it was handed over between.
    One query."""
    readers = (
        Engineer.objects.filter(pk=review.engineer_id)
        .order_by()
        .values_list("user_id")
        .union(
            Engineer.objects.filter(user_id=review.manager_id or 0)
            .order_by()
            .values_list("manager_id"),
            ReviewHandover.objects.filter(review=review).order_by().values_list("from_manager_id"),
            ReviewHandover.objects.filter(review=review).order_by().values_list("to_manager_id"),
            all=True,
        )
    )
    people: set[int] = {pk for (pk,) in readers if pk is not None}
    if review.manager_id is not None:
        people.add(review.manager_id)
    return [
        f"review:{review.pk}",
        cycle_scope(review.cycle_id),
        "hr",
        *(f"person:{pk}" for pk in sorted(people)),
    ]


def can_see_manager_ratings(user: Any, review: Any) -> bool:
    """The engineer sees the manager's ratings once the manager has submitted them."""
    return manager_ratings_visible(user, review.engineer.user_id, review.state)


def manager_ratings_visible(user: Any, engineer_user_id: int, state: str) -> bool:
    """`can_see_manager_ratings` for a review read as plain values (the reviews list)."""
    is_owner = engineer_user_id == getattr(user, "pk", None)
    return not is_owner or Review.state_has_manager_submission(state)


def can_manage_cycles(user: Any) -> bool:
    return is_hr_or_system(user)
