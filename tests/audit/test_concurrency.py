"""Concurrent writers never fork the chain (real threads, real transactions)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from audit.models import AuditEvent
from audit.services import record, verify_chain


@pytest.mark.django_db(transaction=True)
def test_parallel_writers_keep_one_chain() -> None:
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for i in range(10):
                record(
                    actor=None,
                    action="test.parallel",
                    target_type="worker",
                    target_id=f"{worker}-{i}",
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

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
