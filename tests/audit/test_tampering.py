"""The audit log against its database's owner: keyed hashes, a trigger against TRUNCATE, and
signed checkpoints outside the database that find truncation, deleted newest events and
re-chaining, with the triggers disabled."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from audit import checkpoints, keys
from audit.models import AuditEvent
from audit.services import check_whole_chain, record, verify_chain
from tests.audit.actions import TEST_EVENT
from tests.audit.test_chain import tampering

OTHER_KEY = "a-rotated-audit-key-of-at-least-thirty-two-characters"


def add(hr: Any, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        record(actor=hr, action=TEST_EVENT, target_type="test", target_id=i, payload={"n": i})


@pytest.fixture
def checked(hr: Any) -> None:
    """Six events, verified once: a checkpoint of the head sits outside the database."""
    add(hr, 6)
    assert check_whole_chain().ok


def test_events_are_hashed_with_the_key_not_with_plain_sha256(hr: Any) -> None:
    add(hr, 1)
    event = AuditEvent.objects.get()
    assert event.key_id == keys.key_id(settings.AUDIT_KEY)
    content = event.canonical_content()
    assert event.hash == hmac.new(settings.AUDIT_KEY.encode(), content, "sha256").hexdigest()
    assert event.hash != hashlib.sha256(content).hexdigest()


def test_a_check_leaves_a_signed_checkpoint_outside_the_database(checked: None) -> None:
    lines = Path(settings.AUDIT_CHECKPOINTS).read_text().splitlines()
    latest = checkpoints.Checkpoint(**json.loads(lines[-1]))
    head = AuditEvent.objects.order_by("-seq").first()
    assert head is not None
    assert (latest.count, latest.head_seq, latest.head_hash) == (6, head.seq, head.hash)
    assert latest.is_authentic()


@pytest.mark.postgres
def test_postgres_refuses_truncate(checked: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://...)")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign-key checks
        cursor.execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.count() == 6


def test_truncation_past_the_triggers_is_found(checked: None) -> None:
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_auditevent")
    report = check_whole_chain()
    assert not report.ok and "Events were removed" in report.message
    assert "held 6 events" in report.message
    with pytest.raises(CommandError, match="TAMPERED: Events were removed"):
        call_command("verify_audit")


def test_deleting_the_newest_events_is_found(checked: None) -> None:
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq > 4")
    report = check_whole_chain()
    assert not report.ok and "it now holds 4" in report.message


def test_re_chaining_without_the_key_is_found_by_the_walk(checked: None) -> None:
    """Edit one event and recompute every later hash as an attacker can: plain SHA-256."""
    _rechain(lambda content: hashlib.sha256(content).hexdigest(), edit_seq=3)
    report = check_whole_chain()
    assert not report.ok and report.first_bad_seq == 1 and "was edited" in report.message


def test_re_chaining_with_the_key_is_found_by_the_checkpoint(checked: None) -> None:
    """Even an insider holding the key cannot rewrite history the checkpoint has seen."""
    key = settings.AUDIT_KEY.encode()
    _rechain(lambda content: hmac.new(key, content, "sha256").hexdigest(), edit_seq=3)
    assert verify_chain().ok  # the walk alone is fooled
    report = check_whole_chain()
    assert not report.ok and "the chain was rewritten" in report.message


def _rechain(digest: Any, *, edit_seq: int) -> None:
    prev = "0" * 64
    events = list(AuditEvent.objects.order_by("seq"))
    with tampering() as cursor:
        for event in events:
            if event.seq == edit_seq:
                event.payload = {"n": 999}
            event.prev_hash = prev
            new_hash = digest(event.canonical_content())
            cursor.execute(
                "UPDATE audit_auditevent SET payload = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [json.dumps(event.payload), prev, new_hash, event.pk],
            )
            prev = new_hash


def test_a_forged_checkpoint_is_reported(checked: None) -> None:
    path = Path(settings.AUDIT_CHECKPOINTS)
    lines = path.read_text().splitlines()
    forged = json.loads(lines[-1]) | {"count": 2}
    path.write_text("\n".join([*lines, json.dumps(forged)]) + "\n")
    report = check_whole_chain()
    assert not report.ok and "checkpoint store was tampered with" in report.message


def test_a_rotated_key_still_verifies_older_events(hr: Any, settings: Any) -> None:
    add(hr, 3)
    old = settings.AUDIT_KEY
    settings.AUDIT_KEY, settings.AUDIT_PREVIOUS_KEYS = OTHER_KEY, [old]
    add(hr, 2, start=3)
    assert {e.key_id for e in AuditEvent.objects.all()} == {
        keys.key_id(old),
        keys.key_id(OTHER_KEY),
    }
    assert check_whole_chain().ok
    settings.AUDIT_PREVIOUS_KEYS = []  # the old key forgotten: its events cannot be verified
    report = verify_chain()
    assert not report.ok and report.first_bad_seq == 1 and "not configured" in report.message


@pytest.mark.worker
def test_checkpoints_kept_in_redis_find_truncation(hr: Any, settings: Any) -> None:
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL=redis://127.0.0.1:6379/0")
    settings.AUDIT_CHECKPOINTS = settings.REDIS_URL.rsplit("/", 1)[0] + "/3"
    store = checkpoints.store()
    assert isinstance(store, checkpoints.RedisStore)
    store.client.delete(store.KEY)
    try:
        add(hr, 3)
        assert check_whole_chain().ok
        latest = store.latest()
        assert latest is not None and latest.count == 3 and latest.is_authentic()
        with tampering() as cursor:
            cursor.execute("DELETE FROM audit_auditevent")
        assert "Events were removed" in check_whole_chain().message
    finally:
        store.client.delete(store.KEY)


def test_production_needs_an_audit_key() -> None:
    from tests.config.test_settings import PRODUCTION, manage

    env = {k: v for k, v in PRODUCTION.items() if k != "AUDIT_KEY"}
    result = manage("check", **env)
    assert result.returncode != 0 and "AUDIT_KEY must be set when DEBUG is off" in result.stderr
    short = manage("check", **{**env, "AUDIT_KEY": "too-short"})
    assert short.returncode != 0 and "at least 32 characters" in short.stderr


def test_the_chain_is_verified_and_checkpointed_on_a_schedule() -> None:
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["verify-audit-chain"]
    assert entry["task"] == "audit.tasks.verify_audit_chain" and entry["schedule"] == 3600
    newest = settings.CELERY_BEAT_SCHEDULE["verify-new-audit-events"]
    assert newest["task"] == "audit.tasks.verify_new_events" and newest["schedule"] == 60
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks and newest["task"] in app.tasks
