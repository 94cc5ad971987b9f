"""The chain's status is read from stored checks, never verified on a request: the newest
events are verified every minute (audit.tasks.verify_new_events), the whole chain in slices of
bounded time and memory (audit.tasks.verify_audit_chain), on a schedule or when HR asks.

These tests used to read the status and watch it verify; they now run the task a worker would
run, then read the status."""

from __future__ import annotations

import tracemalloc
from typing import Any
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit import services, tasks
from audit.models import AuditEvent, ChainCheck
from audit.services import chain_status, check_whole_chain, record, verify_chain
from tests.audit.actions import TEST_EVENT
from tests.audit.test_chain import tampering
from tests.conftest import client_for


def add_events(hr: Any, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        record(actor=hr, action=TEST_EVENT, target_type="test", target_id=i)


def forge(seq: int) -> None:
    with tampering() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET payload = %s WHERE seq = %s", ['{"forged": true}', seq]
        )


def test_before_any_check_the_status_says_so_and_the_first_run_checks_the_whole_chain(
    hr: Any, django_capture_on_commit_callbacks: Any
) -> None:
    add_events(hr, 5)
    status = chain_status()
    assert not status.verified and status.ok is None and status.arrived == 5
    assert "the first check runs within a minute" in status.message
    assert not ChainCheck.objects.exists()  # reading verified nothing
    # The minute's check finds no whole check to start from: it queues one, which a worker
    # then runs.
    queued: list[int] = []
    with (
        mock.patch.object(tasks.verify_audit_chain, "delay", side_effect=queued.append),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tasks.verify_new_events()
    assert ChainCheck.objects.get().state == "queued"
    tasks.verify_audit_chain(*queued)
    check = ChainCheck.objects.get()
    assert (check.kind, check.state, check.ok, check.count, check.head_seq) == (
        "whole",
        "done",
        True,
        5,
        5,
    )
    assert check.head_hash == AuditEvent.objects.get(seq=5).hash
    status = chain_status()
    assert status.ok and status.count == 5 and status.message == "OK: 5 events, chain intact"
    assert status.whole_chain_checked_at == check.checked_at and status.arrived == 0


def test_the_minutes_check_verifies_only_the_newer_events(hr: Any) -> None:
    add_events(hr, 30)
    check_whole_chain()
    add_events(hr, 2, start=30)
    assert chain_status().arrived == 2
    with CaptureQueriesContext(connection) as ctx:
        report = tasks.verify_new_events()
    assert report["ok"] and report["count"] == 32
    fetched = [
        q["sql"].replace("audit_auditevent.", "")
        for q in ctx.captured_queries
        if "audit_auditevent" in q["sql"]
    ]
    # The walk reads only the newer events; one more row, the checkpointed head, is looked up
    # to hold the chain against the checkpoint kept outside the database.
    assert len(fetched) == 2 and '"seq" > 30' in fetched[0] and '"seq" = 30' in fetched[1]
    newest = ChainCheck.objects.get(kind="new")
    assert (newest.count, newest.head_seq) == (32, 32)
    status = chain_status()
    assert status.ok and status.count == 32 and status.arrived == 0
    assert status.new_events_checked_at == newest.checked_at
    assert status.whole_chain_checked_at == ChainCheck.objects.get(kind="whole").checked_at


def test_a_forged_newer_event_is_found_by_the_minutes_check(hr: Any) -> None:
    add_events(hr, 3)
    check_whole_chain()
    add_events(hr, 3, start=3)
    forge(5)
    assert chain_status().ok  # not verified yet: the page does not pretend otherwise
    tasks.verify_new_events()
    status = chain_status()
    assert not status.ok and status.first_bad_seq == 5 and "was edited" in status.message


def test_a_broken_chain_stays_broken_until_a_whole_check_says_otherwise(hr: Any) -> None:
    add_events(hr, 4)
    check_whole_chain()
    forge(2)
    tasks.verify_new_events()
    assert chain_status().ok  # the minute's check reads only the newer events
    report = check_whole_chain()
    assert not report.ok and report.first_bad_seq == 2
    add_events(hr, 2, start=4)
    before = ChainCheck.objects.count()
    again = tasks.verify_new_events()
    assert again["ok"] is False and ChainCheck.objects.count() == before
    assert not chain_status().ok and chain_status().first_bad_seq == 2


def test_the_page_and_api_never_verify(hr: Any) -> None:
    add_events(hr, 3)
    check_whole_chain()
    client = client_for(hr)
    client.force_login(hr)
    assert "Chain verified." in client.get("/audit/").content.decode()
    forge(2)
    before = ChainCheck.objects.count()
    with mock.patch.object(services, "_walk", side_effect=AssertionError("verified")):
        page = client.get("/audit/").content.decode()
        api = client.get("/api/audit/chain/").json()
    assert "Chain verified." in page and api["ok"] is True  # the previous result
    assert ChainCheck.objects.count() == before
    tasks.verify_audit_chain()
    page = client.get("/audit/").content.decode()
    assert "The audit chain is broken" in page and "Go to event #2" in page
    api = client.get("/api/audit/chain/").json()
    assert api["ok"] is False and api["first_bad_seq"] == 2 and api["whole_chain_checked_at"]


def test_the_api_keeps_its_fields_and_adds_the_checks_times(hr: Any) -> None:
    add_events(hr, 3)
    client = client_for(hr)
    client.force_login(hr)
    never = client.get("/api/audit/chain/").json()
    assert never["ok"] is None and never["verified"] is False and never["count"] == 0
    assert never["events_since_check"] == 3 and never["whole_check"] is None
    check_whole_chain()
    add_events(hr, 2, start=3)
    body = client.get("/api/audit/chain/").json()
    assert body["ok"] is True and body["count"] == 3 and body["message"].startswith("OK: 3")
    assert body["first_bad_seq"] is None and body["events_since_check"] == 2
    assert body["whole_chain_checked_at"] == body["new_events_checked_at"]


def test_hr_queues_a_whole_check_from_the_page_and_the_api(hr: Any, engineer: Any) -> None:
    add_events(hr, 3)
    client = client_for(hr)
    client.force_login(hr)
    with mock.patch.object(tasks.verify_audit_chain, "delay"):
        after = client.post("/audit/?actor=hr-harriet", follow=True)
        assert after.redirect_chain[-1][0] == "/audit/?actor=hr-harriet"
        page = after.content.decode()
        assert "A check of the whole chain is queued" in page
        assert "Not verified yet" in page  # answered at once: nothing verified yet
        queued = client.post("/api/audit/chain/")
        assert queued.status_code == 202
        job = ChainCheck.objects.get()
        # Asked twice: the one queued check, not a second.
        assert queued.json() == {"id": job.pk, "state": "queued", "count": 0}
        assert client.get("/api/audit/chain/").json()["whole_check"]["state"] == "queued"
    # What the worker then runs.
    tasks.verify_audit_chain(job.pk)
    job.refresh_from_db()
    assert (job.state, job.ok, job.count) == ("done", True, 3)
    assert "Chain verified." in client.get("/audit/").content.decode()
    other = client_for(engineer)
    other.force_login(engineer)
    assert other.post("/audit/").status_code == 404
    assert other.post("/api/audit/chain/").status_code == 403


def test_a_whole_check_in_slices_finds_what_one_pass_finds(hr: Any, monkeypatch: Any) -> None:
    add_events(hr, 20)
    forge(17)
    one_pass = verify_chain()
    monkeypatch.setattr(services, "BATCH", 3)
    monkeypatch.setattr(tasks, "SLICE_SECONDS", 0)  # each run verifies one batch
    continued: list[int] = []
    with mock.patch.object(tasks.verify_audit_chain, "delay", side_effect=continued.append):
        tasks.verify_audit_chain()
        slices = 1
        while continued:
            check = ChainCheck.objects.get(pk=continued[-1])
            assert check.state == "running" and check.count == 3 * slices
            result = tasks.verify_audit_chain(continued.pop())
            slices += 1
    assert slices == 6  # 16 good events in batches of 3, the forged one in the sixth
    assert result == {"ok": False, "count": 16, "message": one_pass.message}
    assert (one_pass.ok, one_pass.count, one_pass.first_bad_seq) == (False, 16, 17)
    assert chain_status().first_bad_seq == 17


def test_an_intact_chain_in_slices_counts_and_checkpoints_as_one_pass(
    hr: Any, monkeypatch: Any
) -> None:
    add_events(hr, 10)
    monkeypatch.setattr(services, "BATCH", 4)
    monkeypatch.setattr(tasks, "SLICE_SECONDS", 0)
    continued: list[int] = []
    with mock.patch.object(tasks.verify_audit_chain, "delay", side_effect=continued.append):
        result = tasks.verify_audit_chain()
        while continued:
            result = tasks.verify_audit_chain(continued.pop())
    assert result == {"ok": True, "count": 10, "message": "OK: 10 events, chain intact"}
    whole = ChainCheck.objects.get()
    assert (whole.head_seq, whole.head_hash) == (10, AuditEvent.objects.get(seq=10).hash)
    assert check_whole_chain().count == 10


def _bulk_events(hr: Any, count: int) -> None:
    """Chained events without record()'s per-event lock, for the memory test only."""
    from bench.audit import append_events

    append_events(actor=hr, count=count)


def _peak(count: int) -> int:
    tracemalloc.start()
    try:
        report = verify_chain()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.ok and report.count == count
    return peak


def test_memory_does_not_grow_with_the_log(hr: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(services, "BATCH", 500)
    _bulk_events(hr, 2000)
    small = _peak(2000)
    _bulk_events(hr, 18000)
    large = _peak(20000)
    assert large < 1.5 * small, (small, large)
