"""The chain's status in time that does not grow with the log: the whole chain is verified at
most every ten minutes (or on demand), the events after the last whole check on every read."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent, ChainCheck
from audit.services import chain_status, check_whole_chain, record
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


def test_the_first_status_checks_the_whole_chain_and_keeps_the_result(hr: Any) -> None:
    add_events(hr, 5)
    report = chain_status()
    assert report.ok and report.count == 5 and report.message == "OK: 5 events, chain intact"
    check = ChainCheck.objects.get()
    assert (check.ok, check.count, check.head_seq) == (True, 5, 5)
    assert check.head_hash == AuditEvent.objects.get(seq=5).hash
    assert report.whole_chain_checked_at == check.checked_at


def test_later_reads_verify_only_the_newer_events(hr: Any) -> None:
    add_events(hr, 30)
    check_whole_chain()
    add_events(hr, 2, start=30)
    with CaptureQueriesContext(connection) as ctx:
        report = chain_status()
    assert report.ok and report.count == 32 and ChainCheck.objects.count() == 1
    fetched = [
        q["sql"].replace("audit_auditevent.", "")
        for q in ctx.captured_queries
        if "audit_auditevent" in q["sql"]
    ]
    # The walk reads only the newer events; one more row, the checkpointed head, is looked up
    # to hold the chain against the checkpoint kept outside the database.
    assert len(fetched) == 2 and '"seq" > 30' in fetched[0] and '"seq" = 30' in fetched[1]


def test_a_forged_newer_event_is_found_at_once(hr: Any) -> None:
    add_events(hr, 3)
    check_whole_chain()
    add_events(hr, 3, start=3)
    forge(5)
    report = chain_status()
    assert not report.ok and report.first_bad_seq == 5 and "was edited" in report.message


def test_a_forged_older_event_is_found_by_the_next_whole_check(hr: Any) -> None:
    add_events(hr, 4)
    check_whole_chain()
    forge(2)
    assert chain_status().ok  # before the check is due, the older events are not re-read
    report = check_whole_chain()
    assert not report.ok and report.first_bad_seq == 2
    # A broken result is never trusted as a starting point: every read checks the whole chain.
    assert not chain_status().ok and ChainCheck.objects.count() == 3


def test_a_stale_whole_check_is_repeated(hr: Any) -> None:
    add_events(hr, 3)
    check_whole_chain()
    ChainCheck.objects.update(checked_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    forge(1)
    report = chain_status()
    assert not report.ok and report.first_bad_seq == 1 and ChainCheck.objects.count() == 2


def test_hr_verifies_the_whole_chain_from_the_page_and_the_api(hr: Any, engineer: Any) -> None:
    add_events(hr, 3)
    client = client_for(hr)
    client.force_login(hr)
    page = client.get("/audit/").content.decode()
    assert "Verify the whole chain now" in page and "Chain verified." in page
    forge(2)
    assert "Chain verified." in client.get("/audit/").content.decode()
    after = client.post("/audit/?actor=hr-harriet", follow=True)
    assert after.redirect_chain[-1][0] == "/audit/?actor=hr-harriet"
    assert "The audit chain is broken" in after.content.decode()
    api = client.post("/api/audit/chain/").json()
    assert api["ok"] is False and api["first_bad_seq"] == 2 and api["whole_chain_checked_at"]
    other = client_for(engineer)
    other.force_login(engineer)
    assert other.post("/audit/").status_code == 404
    assert other.post("/api/audit/chain/").status_code == 403
    # The first visit, the page's check, the page after it (a broken chain is always checked
    # whole), the API's.
    assert ChainCheck.objects.count() == 4
