"""Notification e-mail on Celery workers: ids in, each e-mail sent at most once (see
notify.emails), safe to run twice.

A run sends for at most `SLICE_SECONDS`, well inside the task's time limit (which stays below
the broker's visibility timeout, so a running task is never handed out twice), then queues the
ids it did not reach."""

from __future__ import annotations

import datetime
import smtplib
import time

from celery import Task, shared_task
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from core.tasks import durable
from notify import emails

SLICE_SECONDS = settings.LEVELSET_TASK_SOFT_TIME_LIMIT / 2


# A mail server or database that is down for a moment: try the batch again later; what was
# already sent is not sent again.
@shared_task(bind=True, **durable(retry_on=(OperationalError, smtplib.SMTPException, OSError)))
def send_emails(self: Task, notification_ids: list[int]) -> int:
    """E-mail these notifications (those not e-mailed yet); returns how many this run sent."""
    outcome = emails.send(notification_ids, deadline=time.monotonic() + SLICE_SECONDS)
    if outcome.unreached:
        send_emails.delay(outcome.unreached)
    return len(outcome.sent)


# E-mails whose task never ran (the broker was down at commit) are picked up by the sweep once
# they are this old, and for this long; a kind switched off since is skipped by the sender.
SWEEP_AFTER = datetime.timedelta(minutes=5)
SWEEP_WITHIN = datetime.timedelta(days=2)
BATCH = 50


@shared_task(time_limit=settings.LEVELSET_TASK_TIME_LIMIT)
def send_unsent_emails() -> int:
    """Queue the e-mail of recent notifications that never went out (celery beat runs it every
    few minutes); returns how many it queued. Safe to run twice: each is sent at most once."""
    now = timezone.now()
    ids = emails.unsent_ids(since=now - SWEEP_WITHIN, before=now - SWEEP_AFTER)
    for start in range(0, len(ids), BATCH):
        send_emails.delay(ids[start : start + BATCH])
    return len(ids)
