from __future__ import annotations

from celery import shared_task
from django.contrib.auth import get_user_model

from reviews.models import ReviewCycle
from reviews.services import cycle_recompute_scores


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_cycle_scores(cycle_id: int, actor_id: int | None = None) -> int:
    """Store a fresh score snapshot for every rated review of a cycle. Safe to run twice:
    each run appends snapshots computed from the same ratings."""
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    cycle = ReviewCycle.objects.get(pk=cycle_id)
    return cycle_recompute_scores(actor=actor, cycle=cycle)
