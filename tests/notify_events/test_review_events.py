"""Review cycles and reviews: whose turn it is when a phase opens or reopens, a returned
self-review, a review waiting for its manager, a finalised review."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from notify.models import Notification
from reviews import notices
from reviews.models import ReviewCycle
from reviews.services import (
    cycle_advance,
    cycle_create,
    cycle_finalize_ready,
    cycle_open,
    cycle_reopen,
    rating_set_self,
    review_finalize,
    review_return,
    review_submit_self,
)
from tests.calibration.conftest import Calibration, cal  # noqa: F401 - the fixture
from tests.factories import UserFactory
from tests.notify.conftest import SmtpServer
from tests.notify_events.conftest import forget, mailed, on_day, told
from tests.reviews.conftest import ALL_MIDPOINT, Org, org  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

Committed = Callable[[], Any]


def _submit(org: Org, user: Any) -> None:
    review = org.review(user)
    rating_set_self(actor=user, review=review, ratings=ALL_MIDPOINT)
    review_submit_self(actor=user, review=review)


def test_opening_a_cycle_tells_every_engineer_in_scope_once(
    org: Org, committed: Committed, smtp_server: SmtpServer
) -> None:
    payments = org.review(org.engineer).team
    start = datetime.date(2027, 5, 1)
    cycle = cycle_create(
        actor=org.hr,
        name="2027 H1",
        rubric_version=org.cycle.rubric_version,
        self_review_ends=start,
        manager_review_ends=start + datetime.timedelta(days=14),
        calibration_ends=start + datetime.timedelta(days=28),
        finalisation_ends=start + datetime.timedelta(days=42),
        teams=[payments],
    )
    forget()
    with committed(), on_day("2027-04-01"):
        cycle_open(actor=org.hr, cycle=cycle)
    opened = told(notices.PHASE_OPENED)
    # The Payments team only: its manager (who reports to the director), Ada and Ben.
    assert sorted(opened) == ["ada", "ben", "manager"]
    notice = opened["ada"]
    assert notice.title == "Self-review opened: your self-review for 2027 H1"
    assert "submit your self-review by 1 May 2027" in notice.body
    assert (notice.url, notice.action) == (reverse("reviews:list"), "Open your reviews")
    assert mailed(smtp_server) == {
        f"{name}@example.com": [notice.title] for name in ("ada", "ben", "manager")
    }


def test_the_manager_review_phase_tells_whoever_can_act_now(
    org: Org, committed: Committed, smtp_server: SmtpServer
) -> None:
    _submit(org, org.engineer)  # Ada's review waits for the manager
    _submit(org, org.peer)
    review_return(actor=org.manager, review=org.review(org.peer), reason="Link the ledger PRs.")
    # The manager's own self-review and the stranger's stay unsubmitted: nobody can act on
    # them in the manager-review phase (HR can reopen the self-review phase).
    forget()
    with committed(), on_day("2026-11-02"):
        cycle = cycle_advance(actor=org.hr, cycle=org.cycle)
    assert cycle.phase == ReviewCycle.Phase.MANAGER_REVIEW
    opened = told(notices.PHASE_OPENED)
    assert sorted(opened) == ["ben", "manager"]
    to_manager = opened["manager"]
    assert to_manager.title == "Manager review opened: your reports' reviews in 2026 H2"
    assert "submit your manager reviews by 15 November 2026" in to_manager.body
    assert to_manager.url == f"{reverse('reviews:team')}?cycle={cycle.pk}"
    # Ben's self-review was returned: he can still resubmit it in this phase.
    assert opened["ben"].title == "Manager review opened: your self-review for 2026 H2"
    assert mailed(smtp_server) == {
        "manager@example.com": [to_manager.title],
        "ben@example.com": [opened["ben"].title],
    }


def test_the_calibration_phase_tells_facilitators_and_hr(
    org: Org, hr2: Any, committed: Committed, smtp_server: SmtpServer
) -> None:
    UserFactory(username="fatima", roles=["facilitator"])
    UserFactory(username="gone", roles=["facilitator"], is_active=False)
    org.advance(ReviewCycle.Phase.MANAGER_REVIEW)
    forget()
    with committed():
        cycle_advance(actor=org.hr, cycle=org.cycle)
    opened = told(notices.PHASE_OPENED)
    # Not HR who moved the cycle on (they know), nor anyone who left.
    assert sorted(opened) == ["fatima", "hr-hugo"]
    assert opened["fatima"].url == reverse("calibration:list")
    assert sorted(mailed(smtp_server)) == ["fatima@example.com", "hr-hugo@example.com"]


def test_a_reopened_phase_says_why(org: Org, committed: Committed, smtp_server: SmtpServer) -> None:
    _submit(org, org.engineer)
    org.advance(ReviewCycle.Phase.MANAGER_REVIEW)
    reason = "Three engineers were on call during the whole phase."
    with committed(), on_day("2026-11-05"):
        cycle_reopen(actor=org.hr, cycle=org.cycle, reason=reason)
    reopened = told(notices.PHASE_REOPENED)
    # Whoever has not submitted; Ada has.
    assert sorted(reopened) == ["ben", "manager", "stranger"]
    notice = reopened["ben"]
    assert notice.title == "Self-review reopened: your self-review for 2026 H2"
    assert reason in notice.body
    # The self-review phase ended on 1 November: no deadline in the past.
    assert (
        "submit your self-review as soon as you can (the phase was due to end on 1 November"
        " 2026)." in notice.body
    )
    assert sorted(mailed(smtp_server)) == [
        "ben@example.com",
        "manager@example.com",
        "stranger@example.com",
    ]
    # Advanced again and reopened again: each is news again.
    org.cycle = cycle_advance(actor=org.hr, cycle=org.cycle)
    cycle_reopen(actor=org.hr, cycle=org.cycle, reason=reason)
    assert (
        Notification.objects.filter(kind=notices.PHASE_REOPENED, recipient__username="ben").count()
        == 2
    )


def test_a_returned_self_review_tells_the_engineer_why_each_time(
    org: Org, committed: Committed, smtp_server: SmtpServer
) -> None:
    _submit(org, org.engineer)
    review = org.review(org.engineer)
    with committed():
        review_return(actor=org.manager, review=review, reason="Link the ledger postmortem.")
    notice = told(notices.SELF_REVIEW_RETURNED)["ada"]
    assert notice.title == "Your self-review was returned"
    assert "Link the ledger postmortem." in notice.body
    assert (notice.url, notice.action) == (
        reverse("reviews:detail", args=[review.pk]),
        "Open your self-review",
    )
    [message] = smtp_server.messages()
    assert message.recipients == ["ada@example.com"]
    assert "Link the ledger postmortem." in message.text
    # Resubmitted and returned once more: a second notice, with the second reason.
    review_submit_self(actor=org.engineer, review=org.review(org.engineer))
    review_return(actor=org.manager, review=org.review(org.engineer), reason="Add the design doc.")
    bodies = Notification.objects.filter(kind=notices.SELF_REVIEW_RETURNED).values_list(
        "body", flat=True
    )
    assert len(bodies) == 2 and any("Add the design doc." in body for body in bodies)


def test_a_submitted_self_review_waits_for_its_manager(
    org: Org, committed: Committed, smtp_server: SmtpServer
) -> None:
    with committed():
        _submit(org, org.engineer)
    notice = told(notices.REVIEW_WAITING)["manager"]
    review = org.review(org.engineer)
    assert notice.title == "Ada Okafor's self-review is waiting for you"
    assert "by 15 November 2026" in notice.body
    assert (notice.url, notice.action) == (
        reverse("reviews:rate", args=[review.pk]),
        "Rate the review",
    )
    assert mailed(smtp_server) == {"manager@example.com": [notice.title]}


def test_a_finalised_review_tells_its_engineer_once_and_how_to_answer(
    cal: Calibration, committed: Committed, smtp_server: SmtpServer
) -> None:
    org = cal.org
    org.advance(ReviewCycle.Phase.FINALISATION)
    with committed():
        review_finalize(actor=org.hr, review=org.review(org.engineer))
    notice = told(notices.REVIEW_FINALISED)["ada"]
    assert notice.title == "Your review for 2026 H2 was finalised"
    assert "acknowledge" in notice.body and "appeal" in notice.body
    assert notice.url == reverse("reviews:detail", args=[org.review(org.engineer).pk])
    # The rest of the cycle at once: Ben is told, Ada is not told twice.
    with committed():
        finalised = cycle_finalize_ready(actor=org.hr, cycle=org.cycle)
    assert [r.engineer.user for r in finalised] == [org.peer]
    assert sorted(told(notices.REVIEW_FINALISED)) == ["ada", "ben"]
    assert told(notices.REVIEW_FINALISED)["ben"].url == reverse("reviews:list")
    assert mailed(smtp_server) == {
        "ada@example.com": [notice.title],
        "ben@example.com": [notice.title],
    }
