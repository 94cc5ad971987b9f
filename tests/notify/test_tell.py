"""`tell`: one notification per person and event, only to people who want it, e-mailed only
once the change that caused it is committed."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.db import transaction

from notify.models import Notification
from notify.services import preferences_set, tell
from tests.factories import UserFactory
from tests.notify.conftest import tell_news
from tests.notify.kinds import NEWS, WAITING

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def test_the_same_event_twice_makes_one_notification_and_one_email(
    engineer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert tell_news([engineer]) == 1
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert tell_news([engineer]) == 0
    assert callbacks == []  # nothing new: nothing queued
    assert Notification.objects.filter(recipient=engineer).count() == 1
    assert [m.to for m in mail.outbox] == [[engineer.email]]


def test_another_event_is_another_notification(engineer: Any) -> None:
    assert tell_news([engineer], key="news:1") == 1
    assert tell_news([engineer], key="news:2") == 1
    assert Notification.objects.filter(recipient=engineer).count() == 2


def test_users_and_ids_alike_each_person_once(engineer: Any, manager: Any) -> None:
    assert tell_news([engineer, manager.pk, engineer.pk, manager]) == 2
    row = Notification.objects.get(recipient=engineer)
    assert (row.kind, row.key, row.url, row.action) == (
        "tests.news",
        "news:1",
        "/reviews/",
        "Open your reviews",
    )
    assert row.read_at is None and row.emailed_at is None  # eager on commit; none here


def test_the_person_who_acted_and_nobody_are_not_told(engineer: Any, manager: Any) -> None:
    assert tell_news([engineer, None, manager.pk], not_to=manager) == 1
    assert tell_news([manager], key="news:2", not_to=manager.pk) == 0
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [engineer.pk]


def test_inactive_people_are_not_told(engineer: Any) -> None:
    gone = UserFactory(username="gone", is_active=False)
    assert tell_news([engineer, gone]) == 1
    assert not Notification.objects.filter(recipient=gone).exists()


def test_a_kind_switched_off_is_not_delivered(
    engineer: Any, manager: Any, django_capture_on_commit_callbacks: Any
) -> None:
    preferences_set(actor=engineer, off={NEWS})
    with django_capture_on_commit_callbacks(execute=True):
        assert tell_news([engineer, manager]) == 1
    assert list(Notification.objects.values_list("recipient", flat=True)) == [manager.pk]
    assert [m.to for m in mail.outbox] == [[manager.email]]


def test_an_essential_kind_reaches_everyone_active(engineer: Any) -> None:
    preferences_set(actor=engineer, off={NEWS})
    assert tell_news([engineer], kind=WAITING) == 1


def test_a_rolled_back_change_tells_nobody(
    engineer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        assert tell_news([engineer]) == 1
        raise Boom
    assert callbacks == []
    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_the_email_is_queued_on_commit_not_before(
    engineer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with transaction.atomic():
            tell_news([engineer])
        assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 1
    assert Notification.objects.get().emailed_at is not None


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"kind": "tests.undeclared"}, "not a declared notification kind"),
        ({"url": "https://evil.example/"}, "path on this site"),
        ({"url": "//evil.example/"}, "path on this site"),
        ({"key": ""}, "key has 1 to"),
    ],
)
def test_programming_mistakes_are_refused(
    engineer: Any, change: dict[str, str], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        tell_news([engineer], **change)
    assert not Notification.objects.exists()


def test_a_long_title_is_kept_to_one_bounded_line(engineer: Any) -> None:
    tell_news([engineer], title="A\nnew  title " + "x" * 500)
    title = Notification.objects.get().title
    assert title.startswith("A new title x") and len(title) == 200 and title.endswith("…")


def test_thousands_of_recipients_take_a_few_queries(
    django_assert_max_num_queries: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.contrib.auth import get_user_model

    User = get_user_model()
    User.objects.bulk_create(User(username=f"many{i}", email=f"m{i}@x.test") for i in range(2500))
    ids = list(User.objects.filter(username__startswith="many").values_list("pk", flat=True))
    # Three slices of a thousand: read who is told, insert (SQLite: ~100 rows a statement),
    # read the ids back; never a query per person.
    with (
        django_assert_max_num_queries(40),
        django_capture_on_commit_callbacks(execute=False) as callbacks,
    ):
        assert tell_news(ids) == 2500
    assert len(callbacks) == 1
    # Told again: three reads that find nobody new, nothing written, nothing queued.
    with (
        django_assert_max_num_queries(5),
        django_capture_on_commit_callbacks(execute=False) as callbacks,
    ):
        assert tell_news(ids) == 0
    assert callbacks == []


def test_one_email_task_per_batch(
    engineer: Any, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    from notify import services

    queued: list[list[int]] = []
    monkeypatch.setattr(services.send_emails, "delay", lambda ids: queued.append(ids))
    monkeypatch.setattr(services, "EMAIL_BATCH", 2)
    people = [UserFactory() for _ in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        tell(
            kind=NEWS,
            recipients=people,
            key="k",
            title="t",
            body="b",
            url="/reviews/",
            action="Open",
        )
    assert [len(batch) for batch in queued] == [2, 2, 1]
    assert sorted(pk for batch in queued for pk in batch) == sorted(
        Notification.objects.values_list("pk", flat=True)
    )
