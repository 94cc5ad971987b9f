"""The notifications page, opening one, marking all read, the count in the navigation, and
the preferences page. Nobody sees or marks anyone else's notifications."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEvent
from notify import registry
from notify.models import Notification
from tests.notify.conftest import tell_news
from tests.notify.kinds import DIGEST, NEWS, WAITING

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def nav_link(html: str) -> str:
    match = re.search(r'<a href="/notifications/" id="nav-notifications"[^>]*>[^<]*</a>', html)
    assert match, "no notifications link in the navigation"
    return match.group(0)


def test_the_list_is_mine_newest_first_with_unread_marked(engineer: Any, manager: Any) -> None:
    for i in range(3):
        tell_news([engineer, manager], key=f"news:{i}", title=f"News number {i}")
    first = Notification.objects.get(recipient=engineer, key="news:0")
    first.read_at = first.created_at
    first.save()
    html = signed_in(engineer).get("/notifications/").content.decode()
    titles = list(dict.fromkeys(re.findall(r"News number \d", html)))  # shown twice each
    assert titles == ["News number 2", "News number 1", "News number 0"]
    mine = Notification.objects.filter(recipient=engineer)
    for notification in mine:
        assert f'id="notification-{notification.pk}"' in html
        assert f'href="/notifications/{notification.pk}/open/"' in html
    for theirs in Notification.objects.filter(recipient=manager):
        assert f"notification-{theirs.pk}" not in html
    assert html.count(">Unread</span>") == 2
    assert "3 notifications, 2 unread." in html
    assert nav_link(html) == (
        '<a href="/notifications/" id="nav-notifications" '
        'aria-label="Notifications (2 unread)">Notifications (2 unread)</a>'
    )
    assert 'id="mark-all-read"' in html


def test_nothing_yet(engineer: Any) -> None:
    html = signed_in(engineer).get("/notifications/").content.decode()
    assert "Nothing yet" in html
    assert 'id="mark-all-read"' not in html
    assert ">Notifications</a>" in nav_link(html)
    assert 'aria-label="Notifications (0 unread)"' in nav_link(html)


def test_pages_of_25(engineer: Any) -> None:
    for i in range(27):
        tell_news([engineer], key=f"news:{i}")
    client = signed_in(engineer)
    first = client.get("/notifications/").content.decode()
    assert first.count('class="unread"') == 25
    assert "Page 1 of 2 · 27 in all" in first
    second = client.get("/notifications/?page=2").content.decode()
    assert second.count('class="unread"') == 2


def test_the_list_takes_a_pinned_number_of_queries(
    engineer: Any, django_assert_num_queries: Any
) -> None:
    for i in range(30):
        tell_news([engineer], key=f"news:{i}")
    client = signed_in(engineer)
    client.get("/notifications/")  # warm per-process caches
    # user, roles (the session from the cache), unread count (navigation and page: once),
    # count, page
    with django_assert_num_queries(5):
        assert client.get("/notifications/").status_code == 200


def test_opening_one_marks_it_read_and_goes_where_it_points(engineer: Any) -> None:
    tell_news([engineer], url="/rubrics/")
    notification = Notification.objects.get()
    response = signed_in(engineer).get(f"/notifications/{notification.pk}/open/")
    assert response.status_code == 302 and response["Location"] == "/rubrics/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_someone_elses_notification_is_a_404_and_stays_unread(engineer: Any, manager: Any) -> None:
    tell_news([manager])
    theirs = Notification.objects.get()
    client = signed_in(engineer)
    response = client.get(f"/notifications/{theirs.pk}/open/")
    missing = client.get("/notifications/999999/open/")
    assert response.status_code == missing.status_code == 404
    assert response.content == missing.content  # the same answer as for one that is missing
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize(
    "url, local",
    [
        ("/reviews/7/", True),
        ("//evil.example/", False),
        ("/\\evil.example/", False),
        ("https://evil.example/", False),
        ("reviews/", False),
    ],
)
def test_only_a_path_on_this_site_is_followed(url: str, local: bool) -> None:
    from notify.services import is_local_path

    assert is_local_path(url) is local


def test_the_database_refuses_an_address_off_the_site(engineer: Any) -> None:
    from django.db import IntegrityError, transaction

    tell_news([engineer])
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.update(url="https://evil.example/")


def test_mark_all_read_marks_only_mine(engineer: Any, manager: Any) -> None:
    tell_news([engineer, manager], key="a")
    tell_news([engineer, manager], key="b")
    client = signed_in(engineer)
    response = client.post("/notifications/read-all/", follow=True)
    assert "2 notifications marked as read." in response.content.decode()
    assert not Notification.objects.filter(recipient=engineer, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=manager, read_at__isnull=True).count() == 2
    assert client.get("/notifications/read-all/").status_code == 405


def test_anonymous_visitors_sign_in_first(db: None) -> None:
    for path in ("/notifications/", "/notifications/preferences/", "/notifications/1/open/"):
        response = Client().get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_sign_in_page_costs_no_notification_query(
    db: None, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        html = Client().get("/login/").content.decode()
    assert "nav-notifications" not in html


# ---- preferences ---------------------------------------------------------------------------


def test_the_preferences_page_lists_each_kind(engineer: Any) -> None:
    html = signed_in(engineer).get("/notifications/preferences/").content.decode()
    assert "<legend>Send me these notifications</legend>" in html
    for kind in (NEWS, DIGEST):
        box = re.search(rf'<input type="checkbox" name="on" value="{kind}"[^>]*>', html)
        assert box and "checked" in box.group(0)
        assert kind.label in html  # type: ignore[attr-defined]
    assert f'value="{WAITING}"' not in html  # no box: always on
    essential = html.split('id="essential-kinds"')[1]
    assert WAITING.label in essential  # type: ignore[attr-defined]


def test_switching_a_kind_off_and_on_again(engineer: Any) -> None:
    client = signed_in(engineer)
    others = [str(k) for k in registry.all_kinds() if not k.essential and k != NEWS]
    response = client.post("/notifications/preferences/", {"on": others}, follow=True)
    html = response.content.decode()
    assert "Your notification preferences are saved." in html
    news_box = re.search(rf'<input type="checkbox" name="on" value="{NEWS}"[^>]*>', html)
    assert news_box and "checked" not in news_box.group(0)
    assert tell_news([engineer]) == 0
    event = AuditEvent.objects.get(action="notify.preferences.changed")
    assert event.actor == engineer and event.payload["switched_off"] == [str(NEWS)]
    client.post("/notifications/preferences/", {"on": [*others, str(NEWS)]})
    assert AuditEvent.objects.last().payload == {"switched_off": [], "switched_on": [str(NEWS)]}
    assert tell_news([engineer]) == 1


def test_an_essential_kind_is_no_choice_on_the_form(engineer: Any) -> None:
    response = signed_in(engineer).post("/notifications/preferences/", {"on": [str(WAITING)]})
    assert response.status_code == 200
    assert "is not one of the available choices" in response.content.decode()
