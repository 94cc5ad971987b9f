"""The chain is verified in the background, never on a request (celery beat runs both tasks).

* `verify_new_events`, every `AUDIT_NEW_EVENTS_SECONDS` (a minute): the events appended since
  the last check.
* `verify_audit_chain`, every `AUDIT_CHECK_MINUTES`, or when HR asks: the whole chain, in
  slices. Each run verifies for at most `SLICE_SECONDS`, well inside the task's time limit
  (which stays below the broker's visibility timeout, so a running task is never handed out
  twice), then queues the next run.

A whole check's progress (the last event verified, its hash, how many events so far) is kept in
its ChainCheck row, not in the task's arguments: the continuation takes only the row's id, a
redelivered run starts from the progress last saved (so it is safe to run twice), the page shows
how far a running check has come, and a check whose worker died is seen as lost and replaced.
Memory stays that of one batch of events (audit.services.BATCH) however long the log grows.
"""

from __future__ import annotations

import time
from typing import Any

from celery import Task, shared_task
from django.conf import settings
from django.db import transaction

from audit.services import new_events_check, whole_check_continue, whole_check_request
from core.tasks import durable

SLICE_SECONDS = settings.LEVELSET_TASK_SOFT_TIME_LIMIT / 2


@shared_task(bind=True, **durable())
def verify_audit_chain(self: Task, check_id: int | None = None) -> dict[str, Any]:
    """Verify the whole chain (a new check, or go on with `check_id`) for one slice, then queue
    the next slice; the last one holds the chain against the checkpoint outside the database
    and records the result. It writes a ChainCheck, never an event."""
    if check_id is None:
        check, created = whole_check_request()
        if not created:  # one is under way already: its own task goes on with it
            return {"check": check.pk, "state": check.state, "count": check.count}
        check_id = check.pk
    report = whole_check_continue(check_id=check_id, deadline=time.monotonic() + SLICE_SECONDS)
    if report is None:
        verify_audit_chain.delay(check_id)
        return {"check": check_id, "state": "running"}
    return {"ok": report.ok, "count": report.count, "message": report.message}


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=settings.LEVELSET_TASK_TIME_LIMIT,
    soft_time_limit=settings.LEVELSET_TASK_SOFT_TIME_LIMIT,
)
def verify_new_events() -> dict[str, Any]:
    """Verify the events appended since the last check (for at most `SLICE_SECONDS`; the next
    run goes on) and record the check. When the whole chain was never verified, start that."""
    report = new_events_check(deadline=time.monotonic() + SLICE_SECONDS)
    if report is None:
        whole_check_queue()
        return {"ok": None, "count": 0, "message": "A whole check was started."}
    return {"ok": report.ok, "count": report.count, "message": report.message}


def whole_check_queue() -> dict[str, Any]:
    """Ask for a whole check in the background (HR's "verify the whole chain now"): queue one,
    or join the one under way. Returns the check's id and state."""
    with transaction.atomic():
        check, created = whole_check_request()
        if created:
            transaction.on_commit(lambda: verify_audit_chain.delay(check.pk))
    return {"id": check.pk, "state": check.state, "count": check.count}
