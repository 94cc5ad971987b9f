"""The options every durable Celery task shares (tasks take ids and are idempotent)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import OperationalError


def durable(*, retry_on: tuple[type[BaseException], ...] = (OperationalError,)) -> dict[str, Any]:
    """A task that survives a worker's crash and retries what may pass by itself: acknowledged
    only once done (a crash puts the message back for another worker), retried with growing
    waits on `retry_on` (by default a lost database connection), and stopped by the time
    limits well inside the broker's visibility timeout."""
    return {
        "acks_late": True,
        "reject_on_worker_lost": True,
        "autoretry_for": retry_on,
        "retry_backoff": True,
        "retry_backoff_max": settings.LEVELSET_TASK_RETRY_MAX_WAIT,
        "max_retries": 5,
        "time_limit": settings.LEVELSET_TASK_TIME_LIMIT,
        "soft_time_limit": settings.LEVELSET_TASK_SOFT_TIME_LIMIT,
    }
