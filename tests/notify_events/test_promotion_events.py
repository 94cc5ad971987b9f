"""Promotion cases and packets: a case waiting for its committee, its decision, a case
shared with its engineer, a packet or a ZIP of packets ready for whoever asked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from notify.models import Notification
from promotions import notices, tasks
from promotions.models import ExportJob
from promotions.services import (
    case_decide,
    case_share,
    case_submit,
    export_batch_request,
    export_request,
)
from tests.factories import UserFactory
from tests.notify.conftest import SmtpServer
from tests.notify_events.conftest import forget, mailed, told
from tests.promotions.packet_data import build_case

pytestmark = pytest.mark.django_db

Committed = Callable[[], Any]


def test_a_case_goes_to_its_committee_and_back_to_its_manager_and_engineer(
    published: Any, hr: Any, committed: Committed, smtp_server: SmtpServer
) -> None:
    case, manager = build_case(published, hr, evidence=4)
    chair = UserFactory(username="committee-chair", roles=["committee"])
    with committed():
        case = case_submit(actor=manager, case=case, committee=[chair, hr])
    submitted = told(notices.CASE_SUBMITTED)
    assert sorted(submitted) == ["committee-chair", "hr-harriet"]
    notice = submitted["committee-chair"]
    assert notice.title == "Promotion case for Ada Okafor waits for your committee"
    assert "from L4 to L5" in notice.body
    assert (notice.url, notice.action) == (
        reverse("promotions:case", args=[case.pk]),
        "Open the case",
    )
    feedback = "Strong scope; show one more quarter of consistent delivery at L5."
    with committed():
        case = case_decide(actor=chair, case=case, outcome="not_yet", feedback=feedback)
    decided = told(notices.CASE_DECIDED)
    assert sorted(decided) == ["manager"]
    assert decided["manager"].title == "Promotion case for Ada Okafor decided: Not yet"
    assert feedback in decided["manager"].body
    with committed():
        case_share(actor=manager, case=case)
        case_share(actor=manager, case=case)  # shared once: told once
    shared = told(notices.CASE_SHARED)
    assert sorted(shared) == ["ada"]
    assert shared["ada"].url == reverse("promotions:case", args=[case.pk])
    assert mailed(smtp_server) == {
        "committee-chair@example.com": [notice.title],
        "hr-harriet@example.com": [notice.title],
        "manager@example.com": [decided["manager"].title],
        "ada@example.com": ["Your promotion case was shared with you"],
    }


def test_a_finished_export_tells_whoever_asked_once(
    published: Any,
    hr: Any,
    settings: Any,
    tmp_path: Path,
    committed: Committed,
    smtp_server: SmtpServer,
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    case, manager = build_case(published, hr, evidence=2)
    forget()
    with committed():
        job = export_request(actor=manager, case=case)
    assert ExportJob.objects.get(pk=job.pk).status == ExportJob.Status.DONE
    ready = told(notices.PACKET_READY)
    assert sorted(ready) == ["manager"]
    notice = ready["manager"]
    assert notice.title == "The promotion packet for Ada Okafor is ready"
    assert notice.key == f"export:{job.pk}:ready"
    assert (notice.url, notice.action) == (
        reverse("promotions:case", args=[case.pk]),
        "Download the packet",
    )
    # A redelivered task finds the job done: nobody is told twice.
    with committed():
        tasks.export_packet.apply(args=[str(job.pk)])
    assert Notification.objects.filter(kind=notices.PACKET_READY).count() == 1

    with committed():
        batch = export_batch_request(actor=hr, cycle=case.cycle)
        tasks.export_batch.apply(args=[str(batch.pk)])
    to_hr = told(notices.PACKET_READY)["hr-harriet"]
    assert to_hr.title == "Your export of 1 promotion packet(s) is ready"
    assert to_hr.url == reverse("promotions:exports")
    assert mailed(smtp_server) == {
        "manager@example.com": [notice.title],
        "hr-harriet@example.com": [to_hr.title],
    }
