from __future__ import annotations

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils import timezone

from core.actors import system_actor
from reviews.models import ReviewCycle
from reviews.services import cycle_recompute_scores, cycle_send_reminders


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_cycle_scores(cycle_id: int, actor_id: int | None = None) -> int:
    """Bring every rated review's stored score up to date. Safe to run twice: a review whose
    latest snapshot already holds the same score gets no new one."""
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    cycle = ReviewCycle.objects.get(pk=cycle_id)
    return cycle_recompute_scores(actor=actor or system_actor(), cycle=cycle)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_phase_reminders() -> int:
    """Remind whoever still has work in a running cycle's phase (celery beat runs it daily).
    Safe to run twice: each reminder is sent once per person, cycle, phase and kind."""
    return cycle_send_reminders(actor=system_actor(), today=timezone.localdate())
