"""A calibration session in a real browser: the facilitator opens the board, adjusts a rating
with a rationale and evidence, watches the distribution move, locks (a change is refused),
closes; HR then follows the review's history in the audit log. Screenshots are kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from audit.services import check_whole_chain
from calibration.models import Adjustment, CalibrationSession
from reviews.models import DimensionRating, Review
from tests.browser.conftest import sign_in
from tests.calibration import conftest as calibration_conftest
from tests.calibration.conftest import Calibration

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The calibration fixture lives in tests/calibration/conftest.py; bind it so pytest finds it.
cal = calibration_conftest.cal


def _chart_values(page: Any) -> list[str]:
    """The numbers printed on the distribution chart's bars, rating 1 to 5."""
    return [
        t.strip() for t in page.locator("#distribution-chart svg text.value").all_text_contents()
    ]


def _bar_heights(page: Any) -> list[float]:
    bars = page.locator("#distribution-chart svg rect.rect")
    return [float(bars.nth(i).get_attribute("height") or 0) for i in range(bars.count())]


def _distribution_counts(page: Any) -> list[str]:
    rows = page.locator("#distribution-table tbody tr")
    return [rows.nth(i).locator("td").nth(1).inner_text() for i in range(rows.count())]


def test_facilitator_runs_a_session_and_hr_follows_the_trail(
    page: Any, live_server: Any, cal: Calibration, artifacts_dir: Path
) -> None:
    session = cal.session
    ada = cal.review(cal.org.engineer)
    evidence = ada.evidence.get()
    sign_in(page, live_server, "fatima")
    # A facilitator with no review of their own lands on their sessions.
    page.wait_for_url(f"{live_server.url}/calibration/")
    page.locator("#sessions").get_by_role("link", name="Payments H2").click()
    page.wait_for_url(f"{live_server.url}/calibration/{session.pk}/")
    assert page.locator("#session-status").inner_text() == "Scheduled"
    assert "read-only preview" in page.locator("#status-notice").inner_text()

    # Open: the board snapshots the two submitted reviews; each row gets an adjustment form.
    page.get_by_role("button", name="Open the session").click()
    expect(page.locator("#session-status")).to_have_text("Open")
    assert "Session opened" in page.locator(".messages").inner_text()
    assert page.locator("#board-table tr.board-row").count() == 2
    row = page.locator(f"#review-{ada.pk}")
    assert row.locator("td.composite").inner_text() == "3.25"
    assert row.locator("td.pre-composite").inner_text() == "3.25"
    assert "advisory" in page.locator("#board-table thead").inner_text()
    chart = page.locator("#distribution-chart svg")
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 150
    # Ada 3.25 rounds to 3, Ben 3.50 rounds (half to even) to 4.
    before_values, before_heights = _chart_values(page), _bar_heights(page)
    assert before_values == ["0", "0", "1", "1", "0"]
    assert _distribution_counts(page) == ["0", "0", "1", "1", "0"]
    assert page.locator("#nine-box [data-performance='moderate'][data-growth='high']").inner_text()
    nine_box = page.locator("#nine-box").inner_text()
    assert "Ada Okafor" in nine_box
    page.screenshot(path=str(artifacts_dir / "calibration-board.png"), full_page=True)

    # Ada's Delivery 4 → 5, backed by her PR, through the row's inline form.
    detail = page.locator(f"#review-{ada.pk}-detail")
    detail.locator("summary").click()
    form = detail.locator(f"#adjust-{ada.pk}")
    form.get_by_label("Rating to change").select_option("delivery")
    form.get_by_label("New rating").select_option("5")
    form.get_by_label("Rationale").fill("Led the ledger rewrite across two teams this half.")
    form.get_by_label(evidence.title, exact=False).check()
    form.get_by_role("button", name="Record the change").click()
    page.wait_for_url(
        f"{live_server.url}/calibration/{session.pk}/?review={ada.pk}#review-{ada.pk}"
    )
    assert "Ada Okafor: Delivery 4 → 5." in page.locator(".messages").inner_text()
    row = page.locator(f"#review-{ada.pk}")
    assert row.locator("td.composite").inner_text() == "3.50"
    assert row.locator("td.pre-composite").inner_text() == "3.25"
    delivery = row.locator("td[data-dimension='delivery']")
    assert "3 / 5" in delivery.inner_text() and "was 4" in delivery.inner_text()
    # Both composites now round to 4: the chart's bars and labels moved.
    assert _chart_values(page) == ["0", "0", "0", "2", "0"]
    assert _bar_heights(page) != before_heights
    assert _distribution_counts(page) == ["0", "0", "0", "2", "0"]
    assert "Led the ledger rewrite" in page.locator("#changes-table").inner_text()
    page.screenshot(path=str(artifacts_dir / "calibration-adjusted.png"), full_page=True)

    adjustment = Adjustment.objects.get()
    assert (adjustment.dimension_key, adjustment.before, adjustment.after) == ("delivery", 4, 5)
    assert list(adjustment.evidence.all()) == [evidence]
    assert adjustment.actor == cal.facilitator

    # A second change is typed in this tab while, in another tab, the session is locked.
    detail = page.locator(f"#review-{ada.pk}-detail")
    detail.locator("summary").click()
    form = detail.locator(f"#adjust-{ada.pk}")
    form.get_by_label("Rating to change").select_option("overall")
    form.get_by_label("New rating").select_option("4")
    form.get_by_label("Rationale").fill("The overall rating should follow the delivery change.")
    form.get_by_label(evidence.title, exact=False).check()
    other = page.context.new_page()
    other.goto(f"{live_server.url}/calibration/{session.pk}/")
    other.get_by_role("button", name="Lock", exact=True).click()
    expect(other.locator("#session-status")).to_have_text("Locked")
    other.close()
    form.get_by_role("button", name="Record the change").click()
    refused = page.locator(f"#adjust-{ada.pk} .form-error")
    assert "Cannot change ratings: Payments H2 is locked." in refused.inner_text()
    assert page.locator("#session-status").inner_text() == "Locked"
    assert Adjustment.objects.count() == 1
    page.screenshot(path=str(artifacts_dir / "calibration-locked.png"), full_page=True)

    # Close from the locked board: the calibrated ratings go back to the reviews.
    page.get_by_role("button", name="Close and write back").click()
    page.wait_for_url(f"{live_server.url}/calibration/{session.pk}/")
    expect(page.locator("#session-status")).to_have_text("Closed")
    assert "1 of 2 reviews changed" in page.locator("#status-notice").inner_text()
    assert page.locator(".adjust-form").count() == 0
    assert page.locator("#session-actions button").count() == 0
    page.screenshot(path=str(artifacts_dir / "calibration-closed.png"), full_page=True)
    session.refresh_from_db()
    assert session.status == CalibrationSession.Status.CLOSED
    ada.refresh_from_db()
    assert ada.state == Review.State.CALIBRATED
    assert DimensionRating.objects.get(review=ada, dimension_key="delivery").manager_rating == 5

    # HR reads the audit log and follows Ada's review from self-review to calibration. The
    # chain is verified in the background, never on a visit: run the check the worker runs.
    check_whole_chain()
    page.locator(".signout").get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server.url}/login/")
    sign_in(page, live_server, "hr-harriet")
    page.wait_for_url(f"{live_server.url}/reviews/")
    page.locator("header nav").get_by_role("link", name="Audit").click()
    page.wait_for_url(f"{live_server.url}/audit/")
    assert "Chain verified." in page.locator("#chain-status").inner_text()
    filters = page.locator("#audit-filter")
    filters.get_by_label("Actor").fill("fatima")
    filters.get_by_label("Area").select_option("calibration")
    filters.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/audit/?*actor=fatima*")
    actions = page.locator("#audit-table tbody tr td:nth-child(4) code").all_inner_texts()
    assert actions == [
        "calibration.session.closed",
        "calibration.session.locked",
        "calibration.adjustment.made",
        "calibration.session.opened",
    ]
    made = page.locator("#audit-table tbody tr", has_text="calibration.adjustment.made")
    made.get_by_role("link", name="history of this target").click()
    page.wait_for_url(f"**/audit/?target_type=reviews.review&target_id={ada.pk}")
    assert f"History of reviews.review #{ada.pk}" in page.locator("#history-heading").inner_text()
    history = page.locator("#audit-table tbody tr td:nth-child(4) code").all_inner_texts()
    story = [
        "reviews.review.calibrated",  # the write-back, on each review's own trail
        "calibration.adjustment.made",
        "reviews.review.calibration_started",
        "reviews.review.manager_submitted",
        "reviews.review.self_submitted",
    ]
    assert [action for action in history if action in story] == story
    adjustment = page.locator("#audit-table tbody tr", has_text="calibration.adjustment.made")
    adjustment.locator("summary").click()
    assert "Led the ledger rewrite" in adjustment.locator("pre.payload").inner_text()
    page.screenshot(path=str(artifacts_dir / "audit-log.png"), full_page=True)

    # From the calibration list, HR opens the cycle's process-health page.
    page.locator("header nav").get_by_role("link", name="Calibration").click()
    page.wait_for_url(f"{live_server.url}/calibration/")
    page.locator("#process-health").get_by_role("link", name="2026 H2").click()
    page.wait_for_url(f"{live_server.url}/calibration/cycles/{cal.org.cycle.pk}/health/")
    assert page.locator("#changes").inner_text() == "1"
    assert page.locator("#evidence-share").inner_text() == "100%"
    assert page.locator("#completion-chart svg").is_visible()
    assert "Payments H2" in page.locator("#sessions-table").inner_text()
    page.screenshot(path=str(artifacts_dir / "calibration-health.png"), full_page=True)
