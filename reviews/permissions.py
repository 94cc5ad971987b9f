"""Who may see and act on engineers and their reviews — the one rule each, used everywhere.

Engineers see themselves; managers their direct reports and, read-only, their skip-levels;
HR everyone; anyone else nothing. For reviews, "manager" is the manager recorded on the
review when the cycle opened, so a later reorg does not move old reviews.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from core.roles import is_hr
from reviews.models import Review


def visible_reviews_filter(user: Any) -> Q:
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    if is_hr(user):
        return Q()
    return Q(engineer__user=user) | Q(manager=user) | Q(manager__engineer__manager=user)


def is_review_owner(user: Any, review: Any) -> bool:
    return bool(review.engineer.user_id == getattr(user, "pk", None))


def is_review_manager(user: Any, review: Any) -> bool:
    """The direct manager recorded on the review: the one person who rates it."""
    return bool(review.manager_id is not None and review.manager_id == getattr(user, "pk", None))


def can_see_manager_ratings(user: Any, review: Any) -> bool:
    """The engineer sees the manager's ratings once the manager has submitted them."""
    return manager_ratings_visible(user, review.engineer.user_id, review.state)


def manager_ratings_visible(user: Any, engineer_user_id: int, state: str) -> bool:
    """`can_see_manager_ratings` for a review read as plain values (the reviews list)."""
    is_owner = engineer_user_id == getattr(user, "pk", None)
    return not is_owner or Review.state_has_manager_submission(state)


def can_manage_cycles(user: Any) -> bool:
    return is_hr(user)
