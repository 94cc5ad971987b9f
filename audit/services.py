"""`record` is the one way to write to the audit log."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from audit.models import GENESIS_HASH, AuditEvent

# Any constant works: it names the lock that serialises writers of the chain on PostgreSQL.
_CHAIN_LOCK_KEY = 0x1E7E15E7


def _lock_chain() -> None:
    """Serialise chain writers so two events never claim the same predecessor.

    PostgreSQL: a transaction-level advisory lock. SQLite: every transaction already starts
    with BEGIN IMMEDIATE (see settings), which takes the database write lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])


def _normalise(payload: dict[str, Any]) -> dict[str, Any]:
    # Store exactly what was hashed: Decimals, dates and UUIDs become strings once, here.
    return json.loads(json.dumps(payload, cls=DjangoJSONEncoder))


def record(
    *,
    actor: Any,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction if there is one."""
    if target is not None:
        target_type = target._meta.label_lower
        target_id = target.pk
    with transaction.atomic():
        _lock_chain()
        head = AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
        user = actor if getattr(actor, "is_authenticated", False) else None
        event = AuditEvent(
            seq=(head.seq + 1) if head else 1,
            created_at=timezone.now(),
            actor=user,
            actor_repr=user.get_username() if user else "system",
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            target_repr=str(target)[:300] if target is not None else "",
            payload=_normalise(payload or {}),
            prev_hash=head.hash if head else GENESIS_HASH,
        )
        event.hash = event.compute_hash()
        event.save(force_insert=True)
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    count: int
    message: str
    first_bad_seq: int | None = None


def verify_chain() -> ChainReport:
    """Walk the chain in order and name the first event that does not fit."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    for event in AuditEvent.objects.order_by("seq", "pk").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return ChainReport(
                False,
                count,
                f"Event #{event.seq} (id {event.pk}) follows #{expected_seq - 1}: "
                f"event #{expected_seq} was deleted or the events were reordered.",
                event.seq,
            )
        if event.prev_hash != expected_prev:
            return ChainReport(
                False,
                count,
                f"Event #{event.seq} (id {event.pk}, {event.action}) does not link to the event "
                "before it: an earlier event was deleted, edited or reordered.",
                event.seq,
            )
        if event.compute_hash() != event.hash:
            return ChainReport(
                False,
                count,
                f"Event #{event.seq} (id {event.pk}, {event.action}) was edited: its content "
                "no longer matches its hash.",
                event.seq,
            )
        expected_prev = event.hash
        expected_seq += 1
        count += 1
    return ChainReport(True, count, f"OK: {count} events, chain intact")
