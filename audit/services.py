"""`record` is the one way to write to the audit log."""

from __future__ import annotations

import datetime
import hmac
import json
import time
from dataclasses import dataclass, replace
from typing import Any

from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from audit import checkpoints, keys, registry
from audit.models import GENESIS_HASH, AuditEvent, ChainCheck, canonical_content
from audit.registry import Action
from core.actors import User, is_system

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


# Events read per query by the verifier: its memory is bounded by one batch of plain values.
BATCH = 5000
_COLUMNS = (
    "pk",
    "seq",
    "created_at",
    "actor_id",
    "actor_repr",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "payload",
    "prev_hash",
    "hash",
    "key_id",
)


def _walk(
    *, after_seq: int, after_hash: str, count: int = 0, deadline: float | None = None
) -> tuple[ChainReport, bool]:
    """Verify the events after `after_seq` (whose hash is `after_hash`) in order, `count`
    events verified before them, until the last event or, between batches, past `deadline`
    (a `time.monotonic()` value). Returns the report so far and whether it reached the end.

    Batches are `seq` ranges (keyset pagination: each starts after the last event verified,
    never at an OFFSET), read as plain values: no event object is built."""
    expected_prev, last_seq = after_hash, after_seq
    while True:
        rows = list(
            AuditEvent.objects.filter(seq__gt=last_seq)
            .order_by("seq")
            .values_list(*_COLUMNS)[:BATCH]
        )
        for pk, seq, created_at, actor_id, actor, action, ttype, tid, trepr, payload, *rest in rows:
            prev_hash, stored_hash, kid = rest
            problem = None
            if seq != last_seq + 1:
                problem = (
                    f"Event #{seq} (id {pk}) follows #{last_seq}: event #{last_seq + 1} was "
                    "deleted or the events were reordered."
                )
            elif prev_hash != expected_prev:
                problem = (
                    f"Event #{seq} (id {pk}, {action}) does not link to the event before it: "
                    "an earlier event was deleted, edited or reordered."
                )
            else:
                content = canonical_content(
                    seq=seq,
                    created_at=created_at,
                    actor_id=actor_id,
                    actor_repr=actor,
                    action=action,
                    target_type=ttype,
                    target_id=tid,
                    target_repr=trepr,
                    payload=payload,
                    prev_hash=prev_hash,
                )
                try:
                    intact = hmac.compare_digest(keys.digest(content, kid), stored_hash)
                except keys.UnknownAuditKey:
                    problem = (
                        f"Event #{seq} (id {pk}) names audit key {kid!r}, which is not "
                        "configured: it was forged, or a rotated key is missing from "
                        "AUDIT_PREVIOUS_KEYS."
                    )
                else:
                    if not intact:
                        problem = (
                            f"Event #{seq} (id {pk}, {action}) was edited: its content no "
                            "longer matches its hash."
                        )
            if problem is not None:
                return ChainReport(False, count, problem, seq, last_seq, expected_prev), True
            expected_prev, last_seq = stored_hash, seq
            count += 1
        done = len(rows) < BATCH
        if done or (deadline is not None and time.monotonic() > deadline):
            message = f"OK: {count} events, chain intact"
            return ChainReport(True, count, message, None, last_seq, expected_prev), done


def verify_chain(*, after_seq: int = 0, after_hash: str = GENESIS_HASH) -> ChainReport:
    """Walk the chain in order and name the first event that does not fit: the whole chain,
    or only the events after a verified one (`after_seq` with its hash)."""
    return _walk(after_seq=after_seq, after_hash=after_hash)[0]


def _held_to_checkpoint(report: ChainReport) -> ChainReport:
    """A chain that walks cleanly is also held against the latest signed checkpoint kept
    outside the database (audit.checkpoints); if it holds, a new checkpoint records today's
    head. This is what finds truncation, deleted newest events and re-chaining."""
    if not report.ok:
        return report
    store = checkpoints.store()
    latest = store.latest()
    if latest is not None and latest.is_authentic() and latest.head_seq > report.head_seq:
        # Another check verified newer events while this one walked: catch up to them first,
        # so that events appended meanwhile are not taken for removed ones.
        report, _ = _walk(
            after_seq=report.head_seq, after_hash=report.head_hash, count=report.count
        )
        if not report.ok:
            return report
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


# A whole check queued or running that made no progress for this long was lost (its worker
# died and its message with it): asking for a whole check then starts a new one.
LOST_AFTER = datetime.timedelta(minutes=10)
# Checks of the newest events run every minute; older ones than this are not kept.
KEEP_NEW_CHECKS = datetime.timedelta(days=1)


def _whole_check_create(*, state: str = ChainCheck.State.QUEUED) -> ChainCheck:
    now = timezone.now()
    return ChainCheck.objects.create(
        kind=ChainCheck.Kind.WHOLE,
        state=state,
        started_at=now,
        checked_at=now,
        ok=True,
        count=0,
        message="Queued.",
    )


def whole_check_running() -> ChainCheck | None:
    """The whole check queued or under way (it made progress lately), if there is one."""
    return (
        ChainCheck.objects.filter(
            kind=ChainCheck.Kind.WHOLE,
            state__in=[ChainCheck.State.QUEUED, ChainCheck.State.RUNNING],
            checked_at__gte=timezone.now() - LOST_AFTER,
        )
        .order_by("-checked_at", "-pk")
        .first()
    )


def whole_check_request() -> tuple[ChainCheck, bool]:
    """A whole check of the chain to run in the background: the one already queued or under
    way, or a new one (queued). Returns it and whether it is new (then queue its task)."""
    running = whole_check_running()
    if running is not None:
        return running, False
    return _whole_check_create(), True


def whole_check_continue(*, check_id: int, deadline: float | None = None) -> ChainReport | None:
    """Run a whole check on from the progress its row holds, until the end of the chain or
    `deadline` (a `time.monotonic()` value). None when time ran out first: the row holds the
    progress (the last event verified, its hash, how many so far), and the next call goes on
    from there. Otherwise the result, held against the checkpoint and recorded: the
    reference later checks start from."""
    check = ChainCheck.objects.get(pk=check_id)
    if check.state == ChainCheck.State.DONE:
        return _report_of(check)
    report, finished = _walk(
        after_seq=check.head_seq,
        after_hash=check.head_hash,
        count=check.count,
        deadline=deadline,
    )
    if finished:
        report = _held_to_checkpoint(report)
    checked_at = timezone.now()
    ChainCheck.objects.filter(pk=check.pk).update(
        state=ChainCheck.State.DONE if finished else ChainCheck.State.RUNNING,
        checked_at=checked_at,
        ok=report.ok,
        count=report.count,
        message=report.message if finished else f"{report.count} events verified so far.",
        first_bad_seq=report.first_bad_seq,
        head_seq=report.head_seq,
        head_hash=report.head_hash,
    )
    if not finished:
        return None
    return replace(report, whole_chain_checked_at=checked_at)


def check_whole_chain() -> ChainReport:
    """Verify every event, hold the chain against the latest checkpoint outside the database,
    and keep the result, here and now (`manage.py verify_audit`): the same slices as the
    background check, run to the end."""
    check = _whole_check_create(state=ChainCheck.State.RUNNING)
    report = whole_check_continue(check_id=check.pk)
    assert report is not None  # without a deadline, it runs to the end
    return report


def _report_of(check: ChainCheck) -> ChainReport:
    return ChainReport(
        check.ok,
        check.count,
        check.message,
        check.first_bad_seq,
        check.head_seq,
        check.head_hash,
    )


def _latest_done() -> ChainCheck | None:
    return (
        ChainCheck.objects.filter(state=ChainCheck.State.DONE)
        .order_by("-checked_at", "-pk")
        .first()
    )


def new_events_check(*, deadline: float | None = None) -> ChainReport | None:
    """Verify the events appended since the last check, starting from the last event it
    verified, hold the chain against the checkpoint outside the database, and record it as a
    check of the newest events. None when the whole chain was never verified: nothing to
    start from (run a whole check). A chain found broken stays broken until a whole check
    says otherwise: nothing is verified then, and the broken result is returned."""
    last = _latest_done()
    if (
        last is None
        or not ChainCheck.objects.filter(
            kind=ChainCheck.Kind.WHOLE, state=ChainCheck.State.DONE
        ).exists()
    ):
        return None
    if not last.ok:
        return _report_of(last)
    # Past the deadline, the events reached so far are recorded and the next run goes on.
    report, _ = _walk(
        after_seq=last.head_seq, after_hash=last.head_hash, count=last.count, deadline=deadline
    )
    report = _held_to_checkpoint(report)
    now = timezone.now()
    ChainCheck.objects.create(
        kind=ChainCheck.Kind.NEW,
        state=ChainCheck.State.DONE,
        started_at=now,
        checked_at=now,
        ok=report.ok,
        count=report.count,
        message=report.message,
        first_bad_seq=report.first_bad_seq,
        head_seq=report.head_seq,
        head_hash=report.head_hash,
    )
    ChainCheck.objects.filter(
        kind=ChainCheck.Kind.NEW, checked_at__lt=now - KEEP_NEW_CHECKS
    ).delete()
    return report


@dataclass(frozen=True)
class ChainStatus:
    """What the last checks found, read without verifying anything (for the page and API)."""

    verified: bool  # False: never checked yet
    ok: bool | None
    count: int
    message: str
    first_bad_seq: int | None
    whole_chain_checked_at: datetime.datetime | None
    new_events_checked_at: datetime.datetime | None
    # Events appended after the last event verified (to be verified by the next check).
    arrived: int
    # A whole check queued or under way.
    job: ChainCheck | None
    # The newest event's number: how many events the log holds (numbers run from 1, one
    # after another: a gap is tampering, which the checks report).
    newest_seq: int = 0


NOT_VERIFIED = "Not verified yet; the first check runs within a minute."


def chain_status() -> ChainStatus:
    """The chain's status from the stored checks, in a few indexed queries whatever the
    log's size: the latest check (of the whole chain or of the newest events), the latest
    whole check, a whole check under way, and the newest event's number (events arrived since
    the last check: the difference of numbers, not a count)."""
    last = _latest_done()
    newest_seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    job = whole_check_running()
    if last is None:
        return ChainStatus(
            False, None, 0, NOT_VERIFIED, None, None, None, newest_seq, job, newest_seq
        )
    whole: ChainCheck | None = last
    if last.kind != ChainCheck.Kind.WHOLE:
        whole = (
            ChainCheck.objects.filter(kind=ChainCheck.Kind.WHOLE, state=ChainCheck.State.DONE)
            .order_by("-checked_at", "-pk")
            .first()
        )
    return ChainStatus(
        verified=True,
        ok=last.ok,
        count=last.count,
        message=last.message,
        first_bad_seq=last.first_bad_seq,
        whole_chain_checked_at=whole.checked_at if whole else None,
        new_events_checked_at=last.checked_at,
        arrived=max(0, newest_seq - last.head_seq) if last.ok else 0,
        job=job,
        newest_seq=newest_seq,
    )
