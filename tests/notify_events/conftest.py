"""What the domain services tell people: each test runs a real service, reads the
notifications it wrote and the e-mail a real SMTP server received once the change committed."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
import time_machine

from notify.models import Notification
from tests.notify.conftest import (  # noqa: F401 - the SMTP server, and tasks in this process
    SmtpServer,
    _tasks_in_this_process,
    smtp_server,
)


def on_day(day: str) -> Any:
    """The clock at noon (UTC) on `day` (ISO), e.g. as the daily reminder run sees it."""
    return time_machine.travel(datetime.datetime.fromisoformat(f"{day}T12:00:00+00:00"))


def told(kind: str, key: str | None = None) -> dict[str, Notification]:
    """The notifications of one kind (and key), by recipient's username (one each)."""
    rows = Notification.objects.filter(kind=kind).select_related("recipient")
    rows = list(rows.filter(key=key) if key is not None else rows)
    by_user = {n.recipient.get_username(): n for n in rows}
    assert len(by_user) == len(rows), "someone was told twice"
    return by_user


def forget() -> None:
    """Drop what setting the scene told people (opening the cycle, ...): a test reads only
    what its own step said."""
    Notification.objects.all().delete()


def mailed(server: SmtpServer) -> dict[str, list[str]]:
    """The subjects the SMTP server received, by recipient address."""
    by_address: dict[str, list[str]] = {}
    for message in server.messages():
        for address in message.recipients:
            by_address.setdefault(address, []).append(message.subject)
    return by_address


@pytest.fixture
def committed(
    django_capture_on_commit_callbacks: Any,
) -> Callable[[], AbstractContextManager[Any]]:
    """`with committed():` runs what the block queued on commit (the e-mail tasks) as if its
    transaction had committed; tasks run eagerly, in this process."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
