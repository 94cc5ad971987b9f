"""Concurrent writers never fork the chain (real threads, real transactions)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from audit.models import AuditEvent
from audit.services import record, verify_chain
from core.actors import system_actor
from tests.audit.actions import TEST_EVENT


@pytest.mark.django_db(transaction=True)
def test_parallel_writers_keep_one_chain() -> None:
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for i in range(10):
                record(
                    actor=system_actor(),
                    action=TEST_EVENT,
                    target_type="worker",
                    target_id=f"{worker}-{i}",
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    system_actor()  # created once, before the writers race
    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert AuditEvent.objects.count() == 40
    report = verify_chain()
    assert report.ok, report.message
    assert report.count == 40
