"""Scheduled metrics work (Celery beat)."""

from __future__ import annotations

from celery import shared_task

from core.tasks import durable
from metrics.governance import tell_overdue_owners


@shared_task(**durable())
def tell_overdue_governance() -> int:
    """Each morning: the owners of metrics overdue their governance review are told, once per
    due date (safe to run twice)."""
    return tell_overdue_owners()
