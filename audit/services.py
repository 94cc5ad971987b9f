"""`record` is the one way to write to the audit log."""

from __future__ import annotations

import datetime
import hmac
import json
from dataclasses import dataclass, replace
from typing import Any

from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from audit import checkpoints, keys, registry
from audit.models import GENESIS_HASH, AuditEvent, ChainCheck
from audit.registry import Action
from core.actors import User, is_system

# Any constant works: it names the lock that serialises writers of the chain on PostgreSQL.
_CHAIN_LOCK_KEY = 0x1E7E15E7
# How old the last whole-chain verification may be before a status check repeats it.
WHOLE_CHAIN_MAX_AGE = datetime.timedelta(minutes=10)


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
    actor: User,
    action: Action,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction if there is one.

    `action` is a declared code (see audit.registry); `actor` is the person acting, or the
    system user for work nobody asked for in person (recorded as "system").
    """
    if not isinstance(action, Action) or registry.lookup(action) is not action:
        raise ValueError(f"{action!r} is not a declared audit action (see audit.registry).")
    if not isinstance(actor, get_user_model()):
        raise TypeError(f"The actor must be a user, not {actor!r}: pass system_actor().")
    if target is not None:
        target_type = target._meta.label_lower
        target_id = target.pk
    with transaction.atomic():
        _lock_chain()
        head = AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
        event = AuditEvent(
            seq=(head.seq + 1) if head else 1,
            created_at=timezone.now(),
            actor=actor,
            actor_repr="system" if is_system(actor) else actor.get_username(),
            action=str(action),
            target_type=target_type,
            target_id=str(target_id),
            target_repr=str(target)[:300] if target is not None else "",
            payload=_normalise(payload or {}),
            prev_hash=head.hash if head else GENESIS_HASH,
            key_id=keys.current()[0],
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
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    # When the whole chain was last verified; this report may cover only the events since.
    whole_chain_checked_at: datetime.datetime | None = None


def verify_chain(*, after_seq: int = 0, after_hash: str = GENESIS_HASH) -> ChainReport:
    """Walk the chain in order and name the first event that does not fit: the whole chain,
    or only the events after a verified one (`after_seq` with its hash)."""
    expected_prev = after_hash
    expected_seq = after_seq + 1
    count = 0
    events = AuditEvent.objects.filter(seq__gt=after_seq).order_by("seq", "pk")
    for event in events.iterator(chunk_size=2000):
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
        try:
            intact = hmac.compare_digest(event.compute_hash(), event.hash)
        except keys.UnknownAuditKey:
            return ChainReport(
                False,
                count,
                f"Event #{event.seq} (id {event.pk}) names audit key {event.key_id!r}, which is "
                "not configured: it was forged, or a rotated key is missing from "
                "AUDIT_PREVIOUS_KEYS.",
                event.seq,
            )
        if not intact:
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
    return ChainReport(
        True,
        count,
        f"OK: {count} events, chain intact",
        head_seq=expected_seq - 1,
        head_hash=expected_prev,
    )


def _held_to_checkpoint(report: ChainReport) -> ChainReport:
    """A chain that walks cleanly is also held against the latest signed checkpoint kept
    outside the database (audit.checkpoints); if it holds, a new checkpoint records today's
    head. This is what finds truncation, deleted newest events and re-chaining."""
    if not report.ok:
        return report
    store = checkpoints.store()
    latest = store.latest()
    hash_at: dict[int, str] = {}
    if latest is not None:
        hash_at = dict(AuditEvent.objects.filter(seq=latest.head_seq).values_list("seq", "hash"))
    found = checkpoints.problem(latest, count=report.count, hash_at=hash_at)
    if found is not None:
        return replace(report, ok=False, message=found, first_bad_seq=None)
    store.append(
        checkpoints.make(count=report.count, head_seq=report.head_seq, head_hash=report.head_hash)
    )
    return report


def check_whole_chain() -> ChainReport:
    """Verify every event, hold the chain against the latest checkpoint outside the database,
    and keep the result: the reference later checks start from."""
    report = _held_to_checkpoint(verify_chain())
    checked_at = timezone.now()
    ChainCheck.objects.create(
        checked_at=checked_at,
        ok=report.ok,
        count=report.count,
        message=report.message,
        first_bad_seq=report.first_bad_seq,
        head_seq=report.head_seq,
        head_hash=report.head_hash,
    )
    return replace(report, whole_chain_checked_at=checked_at)


def chain_status(*, max_age: datetime.timedelta = WHOLE_CHAIN_MAX_AGE) -> ChainReport:
    """The chain's status for the audit page and API, in time that does not grow with the log.

    The whole chain is verified when it was not in the last `max_age`, or the last check
    found it broken; otherwise only the events after the last check are, starting from the
    last event that check verified. An edit to an older event is found by the next whole
    check: at most `max_age` later, or at once with `check_whole_chain` (the page's
    "verify the whole chain now", `manage.py verify_audit`, or the `verify_audit_chain` task).
    """
    last = ChainCheck.objects.order_by("-checked_at", "-pk").first()
    if last is None or not last.ok or last.checked_at < timezone.now() - max_age:
        return check_whole_chain()
    since = verify_chain(after_seq=last.head_seq, after_hash=last.head_hash)
    total = last.count + since.count
    if not since.ok:
        return replace(since, count=total, whole_chain_checked_at=last.checked_at)
    report = replace(
        since,
        count=total,
        message=f"OK: {total} events, chain intact",
        whole_chain_checked_at=last.checked_at,
    )
    return _held_to_checkpoint(report)
