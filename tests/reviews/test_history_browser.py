"""The history page in a browser, as the manager reads it: accessible (axe-core) at both
widths, with its chart drawn."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import look, sign_in
from tests.reviews.conftest import build_org
from tests.reviews.test_history import rated_earlier_cycle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_history_page_is_accessible(
    page: Any, live_server: Any, artifacts_dir: Path, published: Any, hr: Any
) -> None:
    org = build_org(published, hr)
    rated_earlier_cycle(org, published)
    rated_earlier_cycle(org, published, "2025 H2", datetime.date(2025, 11, 1))
    current = org.review(org.engineer)
    sign_in(page, live_server, org.manager.username)
    page.goto(f"{live_server.url}/reviews/{current.pk}/")
    page.get_by_role("link", name="Across cycles").click()
    page.wait_for_url(f"{live_server.url}/reviews/{current.pk}/history/")
    assert page.locator("figure.chart svg").count() == 1
    problems = look(page, artifacts_dir / "pages", "review-history")
    assert not problems, "\n".join(problems)
