"""Notification e-mail through a real Celery worker (against Redis and the test database) and
a real SMTP server: queued when the change commits, sent once, never again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from config.celery import app as celery_app
from notify.models import Notification
from notify.tasks import send_emails
from tests.notify.conftest import SmtpServer, smtp_server, tell_news  # noqa: F401
from tests.workers import private_queue, start_worker, stop_worker

BASE = "https://levelset.example.com"
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(smtp_server: SmtpServer) -> Iterator[str]:
    """A worker on a private queue, which this test's tasks go to; it mails the SMTP server."""
    queue = private_queue()
    process = start_worker(
        queue,
        env={
            "EMAIL_HOST": smtp_server.host,
            "EMAIL_PORT": str(smtp_server.port),
            "LEVELSET_BASE_URL": BASE,
        },
    )
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue  # what tell() queues on commit goes here
    try:
        yield queue
    finally:
        celery_app.conf.task_default_queue = previous
        stop_worker(process)


def test_a_worker_emails_each_notification_once(
    worker: str, smtp_server: SmtpServer, engineer: Any, manager: Any
) -> None:
    with transaction.atomic():
        assert tell_news([engineer, manager], url="/notifications/") == 2
        assert smtp_server.messages() == []  # not before the commit
    received = smtp_server.wait_for(2, timeout=60)
    assert sorted(r.recipients[0] for r in received) == sorted([engineer.email, manager.email])
    for message in received:
        assert message.subject == "The ledger rewrite shipped"
        assert f"{BASE}/notifications/" in message.text
        assert f'href="{BASE}/notifications/"' in message.html
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()
    # The same ids again, twice (a redelivered message, a retry): nothing more is sent.
    ids = list(Notification.objects.values_list("pk", flat=True))
    assert send_emails.apply_async(args=[ids], queue=worker).get(timeout=60) == 0
    assert send_emails.apply_async(args=[ids], queue=worker).get(timeout=60) == 0
    assert len(smtp_server.messages()) == 2
    # Told again about the same event: nothing new to send.
    assert tell_news([engineer, manager], url="/notifications/") == 0
    assert len(smtp_server.messages()) == 2
