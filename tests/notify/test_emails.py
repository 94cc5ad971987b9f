"""Notification e-mail through a real SMTP server: what it says, where it links, and that no
notification is ever e-mailed twice."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from notify import emails
from notify.models import Notification
from notify.services import preferences_set
from notify.tasks import send_emails
from tests.factories import UserFactory
from tests.notify.conftest import SmtpServer, smtp_server, tell_news  # noqa: F401
from tests.notify.kinds import NEWS, WAITING

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "https://levelset.example.com"


@pytest.fixture(autouse=True)
def _base_url(settings: Any) -> None:
    settings.LEVELSET_BASE_URL = BASE + "/"  # a trailing slash must not double


def test_the_email_says_what_happened_and_links_back(
    smtp_server: SmtpServer, engineer: Any, settings: Any
) -> None:
    with transaction.atomic():
        tell_news([engineer], body="The ledger rewrite shipped.\nReason: <b>on time</b>.")
    (received,) = smtp_server.wait_for(1)
    assert received.recipients == [engineer.email]
    assert received.message["To"] == engineer.email
    assert received.subject == "The ledger rewrite shipped"
    assert received.message["Auto-Submitted"] == "auto-generated"
    assert received.message.is_multipart()
    text, html = received.text, received.html
    name = engineer.get_full_name()
    for part in (text, html):
        assert f"Hello {name}" in part
        assert f"{BASE}/reviews/" in part
        assert f"{BASE}/notifications/preferences/" in part
        assert "Open your reviews" in part
    assert "Reason: <b>on time</b>." in text  # plain text stays as written
    assert "Reason: &lt;b&gt;on time&lt;/b&gt;." in html  # and is escaped in HTML
    assert f'<a href="{BASE}/reviews/"' in html
    assert "switch this kind of notification off" in text
    assert Notification.objects.get().emailed_at is not None


def test_an_essential_kind_says_it_is_always_on(smtp_server: SmtpServer, engineer: Any) -> None:
    tell_news([engineer], kind=WAITING)
    (received,) = smtp_server.wait_for(1)
    assert "always on" in received.text
    assert "Other kinds can be switched off" in received.text


def test_running_the_task_twice_sends_once(smtp_server: SmtpServer, engineer: Any) -> None:
    tell_news([engineer])
    smtp_server.wait_for(1)
    ids = list(Notification.objects.values_list("pk", flat=True))
    assert send_emails.delay(ids).get() == 0
    assert send_emails.delay(ids).get() == 0
    assert len(smtp_server.messages()) == 1


def test_a_batch_for_many_people(smtp_server: SmtpServer) -> None:
    people = [UserFactory() for _ in range(7)]
    assert tell_news(people) == 7
    received = smtp_server.wait_for(7)
    assert sorted(r.recipients[0] for r in received) == sorted(p.email for p in people)


def test_people_without_an_address_get_no_email(smtp_server: SmtpServer, engineer: Any) -> None:
    quiet = UserFactory(username="quiet", email="")
    assert tell_news([engineer, quiet]) == 2
    (received,) = smtp_server.wait_for(1)
    assert received.recipients == [engineer.email]
    assert Notification.objects.get(recipient=quiet).emailed_at is None


def test_switched_off_before_the_email_went_out(smtp_server: SmtpServer, engineer: Any) -> None:
    with transaction.atomic():
        # Queued on commit; the kind is switched off in the same breath.
        tell_news([engineer])
        preferences_set(actor=engineer, off={NEWS})
    assert smtp_server.messages() == []
    assert Notification.objects.get().emailed_at is None


def test_a_mail_server_that_is_down_loses_nothing(
    smtp_server: SmtpServer, engineer: Any, settings: Any
) -> None:
    from tests.notify.conftest import free_port

    settings.EMAIL_PORT = free_port()  # nobody listens there
    tell_news([engineer])  # the failure is logged; the change itself stands
    notification = Notification.objects.get()
    assert notification.emailed_at is None
    settings.EMAIL_PORT = smtp_server.port
    assert emails.send([notification.pk]).sent == [notification.pk]
    assert len(smtp_server.wait_for(1)) == 1
    assert emails.send([notification.pk]).sent == []


def _told_without_email(people: list[Any]) -> list[int]:
    Notification.objects.bulk_create(
        Notification(
            recipient=person, kind=NEWS, key="k", title="t", body="b", url="/", action="Open"
        )
        for person in people
    )
    return list(Notification.objects.order_by("pk").values_list("pk", flat=True))


def test_time_up_leaves_the_rest_for_the_next_run(smtp_server: SmtpServer) -> None:
    ids = _told_without_email([UserFactory() for _ in range(3)])
    outcome = emails.send(ids, deadline=0)  # time is up at once: one goes out all the same
    assert (outcome.sent, outcome.unreached) == (ids[:1], ids[1:])
    assert len(smtp_server.wait_for(1)) == 1


def test_the_task_queues_what_it_did_not_reach(smtp_server: SmtpServer, monkeypatch: Any) -> None:
    from notify import tasks

    monkeypatch.setattr(tasks, "SLICE_SECONDS", 0)  # one e-mail a run
    ids = _told_without_email([UserFactory() for _ in range(3)])
    assert send_emails.delay(ids).get() == 1  # this run sent one; the runs it queued, the rest
    assert len(smtp_server.wait_for(3)) == 3
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_the_sweep_sends_what_never_went_out_once(
    smtp_server: SmtpServer, engineer: Any, settings: Any
) -> None:
    import datetime

    from django.utils import timezone

    from notify.tasks import send_unsent_emails

    # The broker was down when it was made: the notification is there, its e-mail is not.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with transaction.atomic():
        tell_news([engineer])
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    Notification.objects.update(emailed_at=None)
    assert send_unsent_emails() == 0  # too fresh: its own task may still be on its way
    old = timezone.now() - datetime.timedelta(minutes=10)
    Notification.objects.update(created_at=old)
    assert send_unsent_emails() == 1
    (received,) = smtp_server.wait_for(1)
    assert received.recipients == [engineer.email]
    assert send_unsent_emails() == 0
    Notification.objects.update(created_at=old - datetime.timedelta(days=3), emailed_at=None)
    assert send_unsent_emails() == 0  # too old to be worth sending now
    assert len(smtp_server.messages()) == 1
