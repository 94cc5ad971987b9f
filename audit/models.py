"""The audit log: append-only, hash-chained.

Each event stores the SHA-256 of its canonical content, and that content includes the previous
event's hash, so editing, deleting or reordering any event breaks the chain from that point on.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce

from audit import keys
from core.limits import MAX_ID

GENESIS_HASH = "0" * 64


class AuditLogIsAppendOnly(Exception):
    pass


class ActionArea(models.Func):
    """The area of an event's action code, as `audit.registry.Action.area` reads it: the part
    before the first dot (`calibration` of `calibration.adjustment.made`).

    Its SQL holds no parameters, so a filter on it is the very expression the index on it
    (AuditEvent.Meta) was built from, and the database walks that index."""

    arity = 1
    output_field = models.CharField(max_length=100)
    template = "split_part(%(expressions)s, '.', 1)"  # PostgreSQL

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="substr(%(expressions)s, 1, instr(%(expressions)s || '.', '.') - 1)",
            **extra_context,
        )


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """Every filter is an equality or a range on the leading columns of an index that ends in
    `seq` (AuditEvent.Meta), so a page of the newest matching events, or of those before an
    event, is read from one index in order however long the log grows."""

    def update(self, **kwargs: Any) -> int:
        raise AuditLogIsAppendOnly("Audit events cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly("Audit events cannot be deleted.")

    def for_target(self, target_type: str, target_id: str | int) -> AuditEventQuerySet:
        return self.filter(target_type=target_type, target_id=str(target_id))

    def in_area(self, area: str) -> AuditEventQuerySet:
        """Every event of one area (`registry.areas()`), whether its code is declared today
        or was retired since."""
        return self.alias(action_area=ActionArea("action")).filter(action_area=area)

    # Events are numbered in the order they are written and stamped when they are written,
    # one writer at a time (audit.services.record), so the first event stamped at or after a
    # moment splits the numbers too. The date filters bound `seq` by that event, found in the
    # (created_at, seq) index: the database then reads the seq index from the right place
    # instead of testing the date of every newer event. The date conditions stay: on a clock
    # that stepped back, the log's order (its numbers) decides which side an event is on.

    def written_since(self, moment: datetime.datetime) -> AuditEventQuerySet:
        """Events stamped at or after `moment`."""
        return self.filter(created_at__gte=moment, seq__gte=self._first_seq_from(moment))

    def written_before(self, moment: datetime.datetime) -> AuditEventQuerySet:
        """Events stamped before `moment`."""
        first_after = Coalesce(self._first_seq_from(moment), models.Value(MAX_ID))
        return self.filter(created_at__lt=moment, seq__lt=first_after)

    def _first_seq_from(self, moment: datetime.datetime) -> models.Subquery:
        first = (
            self.model._default_manager.filter(created_at__gte=moment)
            .order_by("created_at", "seq")
            .values("seq")[:1]
        )
        return models.Subquery(first, output_field=models.PositiveBigIntegerField())


class AuditEvent(models.Model):
    seq = models.PositiveBigIntegerField(unique=True, editable=False)
    created_at = models.DateTimeField(editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_repr = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=100)
    target_type = models.CharField(max_length=100)
    target_id = models.CharField(max_length=64)
    target_repr = models.CharField(max_length=300, blank=True)
    payload = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, unique=True, editable=False)
    # Which AUDIT_KEY hashed the event (audit.keys); empty for events from before keys.
    key_id = models.CharField(max_length=12, blank=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        # One index per filter of the page and API (AuditEventQuerySet), each ending in `seq`:
        # the newest events that match are the index's last entries, read in order.
        indexes = [
            models.Index(fields=["actor_repr", "seq"], name="audit_event_actor_seq"),
            models.Index(fields=["action", "seq"], name="audit_event_action_seq"),
            models.Index(ActionArea("action"), "seq", name="audit_event_area_seq"),
            models.Index(fields=["target_type", "seq"], name="audit_event_type_seq"),
            models.Index(fields=["target_type", "target_id", "seq"], name="audit_event_target_seq"),
            models.Index(fields=["created_at", "seq"], name="audit_event_created_seq"),
        ]
        constraints = [
            # Each event can be the successor of only one event: the chain can never fork.
            models.UniqueConstraint(fields=["prev_hash"], name="audit_event_unique_prev_hash"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.target_type}:{self.target_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditLogIsAppendOnly("Audit events cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly("Audit events cannot be deleted.")

    def canonical_content(self) -> bytes:
        return canonical_content(
            seq=self.seq,
            created_at=self.created_at,
            actor_id=self.actor_id,
            actor_repr=self.actor_repr,
            action=self.action,
            target_type=self.target_type,
            target_id=self.target_id,
            target_repr=self.target_repr,
            payload=self.payload,
            prev_hash=self.prev_hash,
        )

    def compute_hash(self) -> str:
        """HMAC-SHA256 of the canonical content under the event's key (audit.keys)."""
        return keys.digest(self.canonical_content(), self.key_id)


def canonical_content(
    *,
    seq: int,
    created_at: datetime.datetime,
    actor_id: int | None,
    actor_repr: str,
    action: str,
    target_type: str,
    target_id: str,
    target_repr: str,
    payload: Any,
    prev_hash: str,
) -> bytes:
    """The bytes an event's hash covers. The one definition: an event being written and the
    verifier, which reads plain column values rather than events, both call it."""
    content = {
        "seq": seq,
        "created_at": created_at.isoformat(),
        "actor_id": actor_id,
        "actor": actor_repr,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "target": target_repr,
        "payload": payload,
        "prev_hash": prev_hash,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class ChainCheck(models.Model):
    """One verification of the chain: when, what it found, and the last event it verified.

    A whole check walks every event; it is queued, runs in slices (its row holds the progress
    meanwhile: the last event verified and how many so far) and is done when the last slice
    has held the chain against the checkpoint outside the database. A check of the newest
    events starts from the last event the previous check verified (see audit.services)."""

    class Kind(models.TextChoices):
        WHOLE = "whole", "the whole chain"
        NEW = "new", "the newest events"

    class State(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"

    kind = models.CharField(max_length=5, choices=Kind, default=Kind.WHOLE)
    state = models.CharField(max_length=7, choices=State, default=State.DONE)
    started_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(help_text="When it was done, or last made progress.")
    ok = models.BooleanField()
    count = models.PositiveBigIntegerField(help_text="Events verified.")
    message = models.TextField()
    first_bad_seq = models.PositiveBigIntegerField(null=True, blank=True)
    head_seq = models.PositiveBigIntegerField(default=0, help_text="Last event verified.")
    head_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        ordering = ["-checked_at", "-pk"]
        get_latest_by = ["checked_at", "pk"]
        indexes = [models.Index(fields=["state", "kind", "checked_at"])]

    def __str__(self) -> str:
        if self.state != self.State.DONE:
            return f"{self.checked_at:%Y-%m-%d %H:%M} {self.state}"
        return f"{self.checked_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'BROKEN'}"
