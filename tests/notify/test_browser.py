"""The notification pages in a browser: accessible (axe-core) at both widths, opening a
notification marks it read, and preferences are saved with the checkboxes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from notify.models import Notification
from tests.browser.conftest import look, sign_in
from tests.factories import UserFactory
from tests.notify.conftest import tell_news
from tests.notify.kinds import NEWS, WAITING

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_notification_pages_are_accessible_and_work(
    page: Any, live_server: Any, artifacts_dir: Path
) -> None:
    person = UserFactory(username="eng-nora", roles=["engineer"])
    for i in range(27):
        tell_news([person], key=f"news:{i}", title=f"News number {i}", url="/rubrics/")
    tell_news([person], key="waiting", kind=WAITING, title="A review waits for you")
    shots = artifacts_dir / "pages"
    sign_in(page, live_server, "eng-nora")
    page.goto(f"{live_server.url}/notifications/")
    nav = page.locator("#nav-notifications")
    assert nav.inner_text() == "Notifications (28 unread)"
    problems = look(page, shots, "notifications")
    page.goto(f"{live_server.url}/notifications/preferences/")
    problems += look(page, shots, "notification-preferences")
    assert not problems, "\n".join(problems)

    page.goto(f"{live_server.url}/notifications/")
    page.get_by_role("link", name="Open your reviews (News number 26)").click()
    page.wait_for_url(f"{live_server.url}/rubrics/")
    assert page.locator("#nav-notifications").inner_text() == "Notifications (27 unread)"

    page.goto(f"{live_server.url}/notifications/preferences/")
    box = page.get_by_role("checkbox", name=NEWS.label)  # type: ignore[attr-defined]
    assert box.is_checked()
    box.uncheck()
    page.get_by_role("button", name="Save preferences").click()
    page.get_by_text("Your notification preferences are saved.").wait_for()
    assert not page.get_by_role("checkbox", name=NEWS.label).is_checked()  # type: ignore[attr-defined]
    assert tell_news([person], key="after") == 0

    page.goto(f"{live_server.url}/notifications/")
    page.get_by_role("button", name="Mark all as read").click()
    page.get_by_text("27 notifications marked as read.").wait_for()
    assert page.locator("#nav-notifications").inner_text() == "Notifications"
    assert not Notification.objects.filter(read_at__isnull=True).exists()
