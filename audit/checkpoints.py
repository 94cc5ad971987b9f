"""Signed checkpoints of the audit chain's head, kept outside the database.

Each time the chain is verified, its head (how many events, the last one's sequence number
and hash) is signed with the audit key and appended to a store that the database owner does
not control: a file, or Redis (`AUDIT_CHECKPOINTS`). The next verification holds the database
against the latest checkpoint, so what a chain walk alone cannot see is found:

* truncating the log, or deleting its newest events: fewer events than the checkpoint saw;
* re-chaining (editing an event and recomputing every later hash): the checkpointed event
  no longer has the checkpointed hash.

A checkpoint whose signature does not verify is itself reported as tampering. The store
keeps the newest `KEEP` checkpoints.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import redis
from django.conf import settings
from django.utils import timezone

from audit import keys

KEEP = 1000


@dataclass(frozen=True)
class Checkpoint:
    at: str
    count: int
    head_seq: int
    head_hash: str
    key_id: str
    signature: str = ""

    def signed_content(self) -> bytes:
        return f"{self.at}|{self.count}|{self.head_seq}|{self.head_hash}".encode()

    def is_authentic(self) -> bool:
        try:
            expected = _sign(self.signed_content(), self.key_id)
        except keys.UnknownAuditKey:
            return False
        return hmac.compare_digest(expected, self.signature)


def _sign(content: bytes, kid: str) -> str:
    # Checkpoints are signed in their own domain, so no checkpoint can pass for an event.
    return keys.digest(b"checkpoint:" + hashlib.sha256(content).digest(), kid)


def make(*, count: int, head_seq: int, head_hash: str) -> Checkpoint:
    kid, _ = keys.current()
    unsigned = Checkpoint(timezone.now().isoformat(), count, head_seq, head_hash, kid)
    return Checkpoint(**{**asdict(unsigned), "signature": _sign(unsigned.signed_content(), kid)})


class Store(Protocol):
    def append(self, checkpoint: Checkpoint) -> None: ...

    def latest(self) -> Checkpoint | None: ...


def _parse(raw: str | bytes) -> Checkpoint:
    try:
        data = json.loads(raw)
        return Checkpoint(**data)
    except (TypeError, ValueError):
        # Unreadable: keep it, so that verification reports it instead of skipping it.
        return Checkpoint("", -1, -1, "", "", "unreadable")


class FileStore:
    """One JSON object per line, appended; rewritten (atomically) to the newest KEEP lines
    when it grows past twice that."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def append(self, checkpoint: Checkpoint) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(checkpoint)) + "\n")
        lines = self.path.read_text(encoding="utf-8").splitlines()
        if len(lines) > 2 * KEEP:
            with tempfile.NamedTemporaryFile(
                "w", dir=self.path.parent, delete=False, encoding="utf-8"
            ) as kept:
                kept.write("\n".join(lines[-KEEP:]) + "\n")
            os.replace(kept.name, self.path)

    def latest(self) -> Checkpoint | None:
        with contextlib.suppress(FileNotFoundError):
            lines = [line for line in self.path.read_text("utf-8").splitlines() if line.strip()]
            if lines:
                return _parse(lines[-1])
        return None


class RedisStore:
    """A Redis list, newest first, trimmed to KEEP."""

    KEY = "levelset:audit:checkpoints"

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)

    def append(self, checkpoint: Checkpoint) -> None:
        pipe = self.client.pipeline()
        pipe.lpush(self.KEY, json.dumps(asdict(checkpoint)))
        pipe.ltrim(self.KEY, 0, KEEP - 1)
        pipe.execute()

    def latest(self) -> Checkpoint | None:
        raw = self.client.lindex(self.KEY, 0)
        return None if raw is None else _parse(raw)  # type: ignore[arg-type]


def store() -> Store:
    where = settings.AUDIT_CHECKPOINTS
    if where.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(where)
    return FileStore(where.removeprefix("file://"))


def problem(checkpoint: Checkpoint | None, *, count: int, hash_at: dict[int, str]) -> str | None:
    """What the database contradicts in the latest checkpoint, or None. `hash_at` maps the
    checkpointed sequence number to the hash the database holds for it (absent: no such
    event)."""
    if checkpoint is None:
        return None
    if not checkpoint.is_authentic():
        return (
            "The latest checkpoint outside the database is not signed with a configured audit "
            "key: the checkpoint store was tampered with, or AUDIT_KEY changed without moving "
            "the old key to AUDIT_PREVIOUS_KEYS."
        )
    if count < checkpoint.count or checkpoint.head_seq not in hash_at:
        return (
            f"Events were removed: at {checkpoint.at} the log held {checkpoint.count} events up "
            f"to #{checkpoint.head_seq}; it now holds {count}. The log was truncated or its "
            "newest events deleted."
        )
    if hash_at[checkpoint.head_seq] != checkpoint.head_hash:
        return (
            f"Event #{checkpoint.head_seq} is not the event checkpointed at {checkpoint.at}: "
            "the chain was rewritten (edited and re-chained)."
        )
    return None
