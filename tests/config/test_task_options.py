"""Durable tasks carry the shared options (core.tasks.durable): acknowledged late, retried on
what may pass by itself, stopped by the time limits."""

from __future__ import annotations

import smtplib

import pytest
from django.conf import settings
from django.db import OperationalError

from audit.tasks import verify_audit_chain
from notify.tasks import send_emails


@pytest.mark.parametrize(
    ("task", "retried_on"),
    [
        (verify_audit_chain, (OperationalError,)),
        (send_emails, (OperationalError, smtplib.SMTPException, OSError)),
    ],
)
def test_durable_tasks_share_their_options(task: object, retried_on: tuple[type, ...]) -> None:
    assert task.acks_late and task.reject_on_worker_lost
    assert task.autoretry_for == retried_on
    assert task.max_retries == 5 and task.retry_backoff
    assert task.time_limit == settings.LEVELSET_TASK_TIME_LIMIT
    assert task.soft_time_limit == settings.LEVELSET_TASK_SOFT_TIME_LIMIT
