"""Calibration: invitations, a board opening, locking and closing, appeals and their
outcome."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from calibration import notices
from calibration.services import (
    appeal_create,
    appeal_resolve,
    session_close,
    session_create,
    session_lock,
    session_open,
    session_unlock,
)
from notify.models import Notification
from reviews.models import ReviewCycle
from reviews.services import review_finalize
from tests.calibration.conftest import Calibration, cal  # noqa: F401 - the fixture
from tests.notify.conftest import SmtpServer
from tests.notify_events.conftest import mailed, told

pytestmark = pytest.mark.django_db

Committed = Callable[[], Any]


def test_people_seated_in_a_session_are_invited(
    cal: Calibration, committed: Committed, smtp_server: SmtpServer
) -> None:
    org = cal.org
    with committed():
        session = session_create(
            actor=org.hr,
            cycle=org.cycle,
            name="Payments H2, second look",
            facilitator=cal.facilitator,
            managers=[org.manager],
            observers=[org.hr, org.director],
        )
    invited = told(notices.SESSION_INVITED, key=f"session:{session.pk}:invited")
    # Not HR who scheduled it (and seated themselves to observe).
    assert sorted(invited) == ["director", "fatima", "manager"]
    notice = invited["manager"]
    assert notice.title == (
        "Calibration session 'Payments H2, second look' scheduled: you are invited"
    )
    assert "leave your pre-reads" in notice.body
    assert (notice.url, notice.action) == (
        reverse("calibration:detail", args=[session.pk]),
        "Open the session",
    )
    assert sorted(mailed(smtp_server)) == [
        "director@example.com",
        "fatima@example.com",
        "manager@example.com",
    ]


def test_participants_hear_the_board_open_lock_and_close(
    cal: Calibration, committed: Committed, smtp_server: SmtpServer
) -> None:
    org = cal.org
    with committed():
        session = session_open(actor=cal.facilitator, session=cal.session)
        session = session_lock(actor=cal.facilitator, session=session)
    # The manager takes part and HR observes; the facilitator acted.
    assert sorted(told(notices.SESSION_OPENED)) == ["hr-harriet", "manager"]
    assert "2 review(s)" in told(notices.SESSION_OPENED)["manager"].body
    locked = told(notices.SESSION_LOCKED)
    assert sorted(locked) == ["hr-harriet", "manager"]
    assert locked["manager"].title == "Calibration session 'Payments H2' locked"
    # Unlocked and locked again: news again.
    session = session_unlock(actor=cal.facilitator, session=session)
    session = session_lock(actor=cal.facilitator, session=session)
    assert (
        Notification.objects.filter(kind=notices.SESSION_LOCKED, recipient=org.manager).count() == 2
    )
    org.advance(ReviewCycle.Phase.CALIBRATION)
    with committed():
        session_close(actor=cal.facilitator, session=session)
    closed = told(notices.SESSION_CLOSED)
    assert sorted(closed) == ["hr-harriet", "manager"]
    assert "0 of 2 review(s) changed" in closed["manager"].body
    assert closed["manager"].url == reverse("calibration:detail", args=[session.pk])
    assert mailed(smtp_server)["manager@example.com"] == [
        "Calibration session 'Payments H2' opened",
        "Calibration session 'Payments H2' locked",
        "Calibration session 'Payments H2' closed",
    ]


def test_an_appeal_goes_to_hr_and_its_outcome_to_the_engineer(
    cal: Calibration, hr2: Any, committed: Committed, smtp_server: SmtpServer
) -> None:
    org = cal.org
    org.advance(ReviewCycle.Phase.FINALISATION)
    review = review_finalize(actor=org.hr, review=org.review(org.engineer))
    reason = "The ledger rewrite shipped two weeks early; delivery deserves a 5."
    with committed():
        appeal = appeal_create(
            actor=org.engineer, review=review, dimension_key="delivery", reason=reason
        )
    opened = told(notices.APPEAL_OPENED)
    assert sorted(opened) == ["hr-harriet", "hr-hugo"]
    assert opened["hr-hugo"].title == "Ada Okafor appealed their Delivery rating"
    assert reason in opened["hr-hugo"].body
    assert opened["hr-hugo"].url == reverse("calibration:appeal", args=[appeal.pk])
    resolution = "The evidence shows the early delivery; the rating rises to five."
    with committed():
        appeal_resolve(
            actor=hr2, appeal=appeal, outcome="changed", resolution=resolution, new_rating=5
        )
    resolved = told(notices.APPEAL_RESOLVED)
    assert sorted(resolved) == ["ada"]
    notice = resolved["ada"]
    assert "changed the rating from 4 to 5" in notice.body and resolution in notice.body
    assert notice.url == reverse("calibration:review-history", args=[review.pk])
    assert mailed(smtp_server) == {
        "hr-harriet@example.com": [opened["hr-hugo"].title],
        "hr-hugo@example.com": [opened["hr-hugo"].title],
        "ada@example.com": [notice.title],
    }
