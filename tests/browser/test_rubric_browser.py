"""An engineer browses the published ladder in a real browser; screenshots are kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_engineer_reads_the_ladder_chart_and_changelog(
    page: Any, live_server: Any, two_versions: Any, engineer: Any, artifacts_dir: Path
) -> None:
    sign_in(page, live_server, engineer.username)
    page.wait_for_url(f"{live_server.url}/reviews/")
    page.click("nav >> text=Rubrics")
    page.click("text=Backend engineering")

    heading = page.locator("h1")
    assert "v2 · Published" in heading.inner_text()
    # The weights chart is drawn: one bar per dimension, visible on the page.
    chart = page.locator("#weights-chart svg")
    assert chart.is_visible()
    assert chart.locator("rect.rect, .bars rect").count() >= 6
    box = chart.bounding_box()
    assert box is not None and box["width"] > 400 and box["height"] > 200
    # The matrix has every level and dimension.
    assert page.locator("#matrix thead th").count() == 5
    assert page.locator("#matrix tbody tr").count() == 6
    page.screenshot(path=str(artifacts_dir / "rubric-detail.png"), full_page=True)

    # Pick v1 from the version menu: the page switches without a button.
    page.select_option("#version-select", "1")
    page.wait_for_url("**/?version=1")
    assert "v1 · Retired" in page.locator("h1").inner_text()

    page.click("text=Compare versions")
    summary = page.locator("#diff-summary")
    assert "Weight of Reliability changed from 20 to 25." in summary.inner_text()
    page.screenshot(path=str(artifacts_dir / "rubric-diff.png"), full_page=True)


def test_wrong_password_is_shown_beside_the_form(
    page: Any, live_server: Any, engineer: Any, artifacts_dir: Path
) -> None:
    sign_in(page, live_server, engineer.username, password="wrong")
    assert "correct username and password" in page.locator("form .error").inner_text()
    # The summary at the top says so too, and the focus is on the first field.
    assert "correct username and password" in page.locator("#error-summary").inner_text()
    assert page.evaluate("document.activeElement.name") == "username"
    page.screenshot(path=str(artifacts_dir / "sign-in-error.png"))
