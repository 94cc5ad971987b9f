"""Phase reminders: whoever still has work in a running cycle's phase is told a few days
before it ends and once it is overdue, once each, whatever the number of runs; whoever is
done is left alone; the run costs the same few queries for 3 engineers as for 30."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from celery.schedules import crontab
from django.conf import settings as django_settings

from config.celery import app as celery_app
from core.actors import system_actor
from notify.models import Notification
from reviews import notices
from reviews.models import ReviewCycle
from reviews.services import (
    cycle_send_reminders,
    rating_set_manager,
    rating_set_self,
    review_return,
    review_submit_manager,
    review_submit_self,
)
from reviews.tasks import send_phase_reminders
from tests.factories import EngineerFactory, TeamFactory, UserFactory, open_cycle
from tests.notify.conftest import SmtpServer
from tests.notify_events.conftest import forget, mailed, on_day, told
from tests.reviews.conftest import ALL_MIDPOINT, Org, org  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

Committed = Callable[[], Any]


def _run(committed: Committed) -> int:
    with committed():
        return int(send_phase_reminders.apply().get())


def _submit(org: Org, user: Any) -> None:
    review = org.review(user)
    rating_set_self(actor=user, review=review, ratings=ALL_MIDPOINT)
    review_submit_self(actor=user, review=review)


def test_the_reminders_run_daily_from_celery_beat() -> None:
    entry = django_settings.CELERY_BEAT_SCHEDULE["send-phase-reminders"]
    assert entry["task"] == "reviews.tasks.send_phase_reminders"
    assert entry["task"] in celery_app.tasks
    assert entry["schedule"] == crontab(hour=7, minute=0)  # every morning
    assert django_settings.LEVELSET_REMINDER_DAYS == 3  # REMINDER_DAYS unset: the default


def test_self_review_due_then_overdue_once_each_and_never_to_who_is_done(
    org: Org, committed: Committed, smtp_server: SmtpServer
) -> None:
    # The self-review phase of "2026 H2" ends on 1 November 2026.
    _submit(org, org.engineer)  # Ada is done
    forget()
    with on_day("2026-10-28"):  # four days before: not yet
        assert _run(committed) == 0
    with on_day("2026-10-29"):  # three days before
        assert _run(committed) == 3
        assert _run(committed) == 0  # run twice: nobody told twice
    due = told(notices.PHASE_DUE)
    assert sorted(due) == ["ben", "manager", "stranger"]
    notice = due["ben"]
    assert notice.title == "Due in 3 days: your self-review for 2026 H2"
    assert "ends on 1 November 2026" in notice.body
    assert notice.url == "/reviews/"
    with on_day("2026-10-31"):  # still due, already told
        assert _run(committed) == 0
    _submit(org, org.peer)  # Ben finishes on the last day
    with on_day("2026-11-02"):  # the phase ended yesterday and HR has not moved it on
        assert _run(committed) == 2
        assert _run(committed) == 0
    overdue = told(notices.PHASE_OVERDUE)
    assert sorted(overdue) == ["manager", "stranger"]
    assert overdue["stranger"].title == "Overdue: your self-review for 2026 H2"
    assert "ended on 1 November 2026" in overdue["stranger"].body
    assert mailed(smtp_server) == {
        "ben@example.com": [notice.title],
        "manager@example.com": [notice.title, overdue["stranger"].title],
        "stranger@example.com": [notice.title, overdue["stranger"].title],
    }


def test_manager_review_reminds_managers_with_reviews_to_rate_and_returned_engineers(
    org: Org, committed: Committed, smtp_server: SmtpServer
) -> None:
    _submit(org, org.engineer)
    _submit(org, org.peer)
    review_return(actor=org.manager, review=org.review(org.peer), reason="Link the ledger PRs.")
    org.advance(ReviewCycle.Phase.MANAGER_REVIEW)  # ends on 15 November 2026
    forget()
    with on_day("2026-11-13"):
        assert _run(committed) == 2
    due = told(notices.PHASE_DUE)
    # The manager rates Ada's review; Ben can resubmit his returned self-review. Nobody can
    # act on the stranger's unsubmitted self-review (nor the manager's own) any more.
    assert sorted(due) == ["ben", "manager"]
    assert due["manager"].title == "Due in 2 days: your reports' reviews in 2026 H2"
    assert due["ben"].title == "Due in 2 days: your self-review for 2026 H2"
    review = org.review(org.engineer)
    rating_set_manager(actor=org.manager, review=review, ratings=ALL_MIDPOINT)
    review_submit_manager(actor=org.manager, review=review)
    with on_day("2026-11-16"):
        assert _run(committed) == 1
    assert sorted(told(notices.PHASE_OVERDUE)) == ["ben"]
    assert sorted(mailed(smtp_server)) == ["ben@example.com", "manager@example.com"]


def test_the_window_follows_the_setting(org: Org, settings: Any) -> None:
    settings.LEVELSET_REMINDER_DAYS = 5
    sent = cycle_send_reminders(actor=system_actor(), today=datetime.date(2026, 10, 27))
    assert sent == 4
    assert told(notices.PHASE_DUE)["ada"].title == "Due in 5 days: your self-review for 2026 H2"


def test_only_hr_or_the_system_sends_reminders(org: Org) -> None:
    with pytest.raises(Exception, match="Only HR"):
        cycle_send_reminders(actor=org.manager, today=datetime.date(2026, 10, 30))
    assert not Notification.objects.filter(kind=notices.PHASE_DUE).exists()


@pytest.mark.parametrize("engineers", [3, 30])
def test_a_reminder_run_costs_the_same_queries_for_3_or_30_engineers(
    published: Any, hr: Any, engineers: int, django_assert_num_queries: Any
) -> None:
    team = TeamFactory(name="Payments")
    manager = UserFactory(username="manager", roles=["manager"])
    for n in range(engineers):
        EngineerFactory(user=UserFactory(username=f"eng{n}"), team=team, manager=manager)
    start = datetime.date(2026, 11, 1)
    open_cycle(hr, published, name="2026 H2", self_review_ends=start)
    system = system_actor()
    # The actor's roles (1); the run's savepoint and its release (2); the running cycles (1);
    # the cycle's reviews not done (1); one bulk notice to the whole group: a savepoint, who
    # is not told yet, the insert, the new rows' ids and the release (5).
    with django_assert_num_queries(10):
        assert cycle_send_reminders(actor=system, today=datetime.date(2026, 10, 30)) == engineers
    # Run again: the actor's roles are known by now, and everyone is told already, so the
    # notice reads who is new and writes nothing (savepoint, read, release).
    with django_assert_num_queries(7):
        assert cycle_send_reminders(actor=system, today=datetime.date(2026, 10, 30)) == 0
