"""Rubric versions that need a second HR approval: waiting for the other HR users, sent back
to their author with the reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from notify.models import Notification
from rubrics import notices
from rubrics.services import rubric_import, version_publish, version_send_back
from tests.conftest import ladder
from tests.factories import UserFactory
from tests.notify.conftest import SmtpServer
from tests.notify_events.conftest import mailed, told

pytestmark = pytest.mark.django_db

Committed = Callable[[], Any]


def test_a_version_waits_for_the_other_hr_users_and_goes_back_to_its_author(
    hr: Any, hr2: Any, committed: Committed, smtp_server: SmtpServer
) -> None:
    UserFactory(username="hr-gone", roles=["hr"], is_active=False)
    UserFactory(username="ada", roles=["engineer"])
    document = {**ladder(1), "requires_second_approval": True}
    with committed():
        version = rubric_import(actor=hr, data=document, publish=True)
    waiting = told(notices.VERSION_AWAITING_APPROVAL)
    assert sorted(waiting) == ["hr-hugo"]  # not the author, nobody gone, no engineer
    notice = waiting["hr-hugo"]
    assert notice.title == f"{version} waits for your approval"
    assert document["rationale"].strip() in notice.body
    url = reverse("rubrics:version", args=[version.rubric.slug, version.number])
    assert (notice.url, notice.action) == (url, "Review the version")

    reason = "The mentoring criteria at L5 are too vague to rate."
    with committed():
        version = version_send_back(actor=hr2, version=version, reason=reason)
    back = told(notices.VERSION_SENT_BACK)
    assert sorted(back) == ["hr-harriet"]
    assert reason in back["hr-harriet"].body and back["hr-harriet"].url == url

    # Submitted again: the second approver is asked again.
    version_publish(actor=hr, version=version, rationale="Sharper mentoring criteria.")
    assert (
        Notification.objects.filter(kind=notices.VERSION_AWAITING_APPROVAL, recipient=hr2).count()
        == 2
    )
    assert mailed(smtp_server) == {
        "hr-hugo@example.com": [notice.title],
        "hr-harriet@example.com": [back["hr-harriet"].title],
    }
