"""The pulse page in a browser: accessible (axe-core) at both widths, answered with the
keyboard-friendly radio buttons, and closed once answered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from calibration.models import PulseAnswer
from tests.browser.conftest import look, sign_in
from tests.calibration.test_pulse import acknowledged
from tests.reviews.conftest import build_org

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_pulse_is_accessible_and_answered_once(
    page: Any, live_server: Any, artifacts_dir: Path, published: Any, hr: Any
) -> None:
    org = build_org(published, hr)
    review = acknowledged(org)
    sign_in(page, live_server, org.engineer.username)
    page.goto(f"{live_server.url}/reviews/{review.pk}/")
    page.get_by_role("link", name="Answer three questions").click()
    problems = look(page, artifacts_dir / "pages", "process-pulse")
    page.get_by_role("group", name="I can explain how I was evaluated").get_by_label("4").check()
    page.get_by_role("group", name="The criteria for my level are clear").get_by_label(
        "5 · agree"
    ).check()
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_url(f"{live_server.url}/reviews/{review.pk}/")
    answer = PulseAnswer.objects.get()
    assert (answer.explain, answer.criteria, answer.evidence) == (4, 5, None)
    page.goto(f"{live_server.url}/calibration/reviews/{review.pk}/pulse/")
    assert page.locator("#pulse-answered").is_visible()
    assert not problems, "\n".join(problems)
