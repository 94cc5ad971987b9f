"""Who may see reviews — the one rule, used by every list, page and API.

Engineers see their own; managers their direct reports' and, read-only, their skip-levels';
HR everyone's; anyone else nothing. "Manager" is the manager recorded on the review when the
cycle opened, so a later reorg does not move old reviews. Who may act on a review is declared
with its state machine (reviews.models.Review).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from core.roles import is_hr, is_hr_or_system
from reviews.models import Review, ReviewHandover


def visible_reviews_filter(user: Any) -> Q:
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    if is_hr(user):
        return Q()
    return (
        Q(engineer__user=user)
        | Q(manager=user)
        | Q(manager__engineer__manager=user)
        # Handed over after a move: the previous manager and the new one both read it.
        | Q(pk__in=handed_over_to(user))
    )


def handed_over_to(user: Any) -> Any:
    return ReviewHandover.objects.filter(Q(from_manager=user) | Q(to_manager=user)).values(
        "review_id"
    )


def can_see_manager_ratings(user: Any, review: Any) -> bool:
    """The engineer sees the manager's ratings once the manager has submitted them."""
    return manager_ratings_visible(user, review.engineer.user_id, review.state)


def manager_ratings_visible(user: Any, engineer_user_id: int, state: str) -> bool:
    """`can_see_manager_ratings` for a review read as plain values (the reviews list)."""
    is_owner = engineer_user_id == getattr(user, "pk", None)
    return not is_owner or Review.state_has_manager_submission(state)


def can_manage_cycles(user: Any) -> bool:
    return is_hr_or_system(user)
