"""The audit log is append-only and its hash chain catches tampering."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from audit.models import GENESIS_HASH, AuditEvent, AuditLogIsAppendOnly
from audit.services import record, verify_chain
from core.actors import system_actor
from tests.audit.actions import TEST_EVENT


@pytest.fixture
def chain(db: None, hr: object) -> list[AuditEvent]:
    return [
        record(
            actor=hr,
            action=TEST_EVENT,
            target_type="test",
            target_id=i,
            payload={"before": {"n": i}, "after": {"n": i + 1}},
        )
        for i in range(5)
    ]


@contextlib.contextmanager
def tampering() -> Iterator[object]:
    """Raw SQL, past the ORM guard (and, on PostgreSQL, past the trigger)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # As a superuser would: replica mode skips ordinary triggers for this session.
            cursor.execute("SET session_replication_role = replica")
        try:
            yield cursor
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")


def test_events_link_to_their_predecessor(chain: list[AuditEvent]) -> None:
    assert chain[0].prev_hash == GENESIS_HASH
    for previous, event in itertools.pairwise(chain):
        assert event.prev_hash == previous.hash
        assert event.seq == previous.seq + 1
    assert chain[2].actor_repr == "hr-harriet"
    assert verify_chain().ok


def test_verify_audit_reports_intact_chain(
    chain: list[AuditEvent], capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("verify_audit")
    assert capsys.readouterr().out.strip() == "OK: 5 events, chain intact"


def test_orm_refuses_updates_and_deletes(chain: list[AuditEvent]) -> None:
    event = chain[1]
    event.action = "forged"
    with pytest.raises(AuditLogIsAppendOnly):
        event.save()
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 5


def test_edited_payload_is_caught(chain: list[AuditEvent]) -> None:
    with tampering() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET payload = %s WHERE seq = 3", ['{"after": {"n": 99}}']
        )
    report = verify_chain()
    assert not report.ok and report.first_bad_seq == 3
    assert "was edited" in report.message
    with pytest.raises(CommandError, match=r"Event #3 .* was edited"):
        call_command("verify_audit")


def test_edited_and_rehashed_event_breaks_the_next_link(chain: list[AuditEvent]) -> None:
    forged = AuditEvent.objects.get(seq=2)
    forged.action = "forged"
    with tampering() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET action = %s, hash = %s WHERE seq = 2",
            ["forged", forged.compute_hash()],
        )
    report = verify_chain()
    assert not report.ok and report.first_bad_seq == 3
    assert "does not link" in report.message


def test_deleted_event_is_caught(chain: list[AuditEvent]) -> None:
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = 2")
    report = verify_chain()
    assert not report.ok and report.first_bad_seq == 3
    assert "deleted" in report.message


def test_reordered_events_are_caught(chain: list[AuditEvent]) -> None:
    with tampering() as cursor:
        cursor.execute("UPDATE audit_auditevent SET seq = 1000 WHERE seq = 2")
        cursor.execute("UPDATE audit_auditevent SET seq = 2 WHERE seq = 4")
        cursor.execute("UPDATE audit_auditevent SET seq = 4 WHERE seq = 1000")
    report = verify_chain()
    assert not report.ok and report.first_bad_seq == 2


@pytest.mark.postgres
def test_postgres_trigger_refuses_raw_update_and_delete(chain: list[AuditEvent]) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://...)")
    for sql in (
        "UPDATE audit_auditevent SET action = 'forged' WHERE seq = 1",
        "DELETE FROM audit_auditevent WHERE seq = 1",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert verify_chain().ok


def test_payload_is_stored_exactly_as_hashed(db: None) -> None:
    from decimal import Decimal

    event = record(
        actor=system_actor(),
        action=TEST_EVENT,
        target_type="t",
        target_id=1,
        payload={"weight": Decimal("25.50"), "when": __import__("datetime").date(2026, 1, 2)},
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.payload == {"weight": "25.50", "when": "2026-01-02"}
    assert stored.actor_repr == "system"
    assert stored.compute_hash() == stored.hash
