"""The review pages in a real browser: the engineer's self-review, the manager's team and
rating pages, and the score page's what-if sliders. Screenshots are kept under artifacts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from reviews.models import DimensionRating, Evidence, Review, ScoreSnapshot
from reviews.services import (
    evidence_add,
    rating_set_manager,
    rating_set_self,
    review_submit_manager,
    review_submit_self,
)
from tests.browser.conftest import sign_in
from tests.reviews import conftest as reviews_conftest
from tests.reviews.conftest import ALL_MIDPOINT, Org

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The review fixtures live in tests/reviews/conftest.py; bind `org` here so pytest finds it.
org = reviews_conftest.org

KEYS = list(ALL_MIDPOINT)


def _field(page: Any, name: str) -> Any:
    """The `p.field` wrapping the form control called `name`: where its errors are shown."""
    return page.locator(f"p.field:has([name='{name}'])")


def test_engineer_adds_evidence_rates_and_submits(
    page: Any, live_server: Any, org: Org, artifacts_dir: Path
) -> None:
    review = org.review(org.engineer)
    sign_in(page, live_server, "ada")
    page.wait_for_url(f"{live_server.url}/reviews/")
    page.locator("#my-reviews").get_by_role("link", name="Open").click()
    page.wait_for_url(f"{live_server.url}/reviews/{review.pk}/")
    assert page.locator("#review-state").inner_text() == "Self-review in progress"
    assert "No evidence yet." in page.locator("#evidence-table").inner_text()

    # One link through the "Add one link" form, tagged to Reliability.
    form = page.locator("#evidence-form")
    form.locator("#id_url").fill("https://github.com/acme/pay/pull/42")
    form.locator("#id_title").fill("Retry logic for the payments queue")
    form.get_by_label("Reliability").check()
    form.get_by_role("button", name="Add evidence").click()
    page.wait_for_url(f"{live_server.url}/reviews/{review.pk}/")
    assert "Evidence added." in page.locator(".messages").inner_text()
    rows = page.locator("#evidence-table tbody tr")
    assert rows.count() == 1
    row_text = rows.first.inner_text()
    assert "Retry logic for the payments queue" in row_text
    assert "Pull request" in row_text
    assert "Reliability" in row_text  # the dimension by name
    link = rows.first.get_by_role("link", name="Retry logic for the payments queue")
    assert link.get_attribute("href") == "https://github.com/acme/pay/pull/42"
    item = Evidence.objects.get(review=review)
    assert (item.kind, item.dimensions) == ("pull_request", ["reliability"])
    page.screenshot(path=str(artifacts_dir / "review-engineer-evidence.png"), full_page=True)

    # A javascript: link is refused beside the URL field, and nothing is added.
    form = page.locator("#evidence-form")
    form.locator("#id_url").fill("javascript:alert(1)")
    form.get_by_role("button", name="Add evidence").click()
    error = _field(page, "url").locator("[role=alert]")
    assert "Only http and https links are accepted, not javascript:" in error.inner_text()
    assert page.locator("#evidence-table tbody tr").count() == 1
    assert Evidence.objects.filter(review=review).count() == 1
    page.screenshot(path=str(artifacts_dir / "review-engineer-evidence-error.png"), full_page=True)

    # Three pasted lines: two links are added, the file: link is refused with its reason.
    page.locator("#id_text").fill(
        "https://wiki.acme.io/postmortems/2026-09-queue-outage\n"
        "file:///etc/passwd\n"
        "https://docs.google.com/document/d/queue-design\n"
    )
    page.locator("#paste-form").get_by_role("button", name="Add links").click()
    results = page.locator("#paste-results li")
    assert results.count() == 3
    assert page.locator("#paste-results li.ok").count() == 2
    refused = page.locator("#paste-results li.error")
    assert refused.count() == 1
    assert refused.inner_text().startswith("line 2: Only http and https links are accepted")
    assert "not file:" in refused.inner_text()
    assert "(file:///etc/passwd)" in refused.inner_text()
    assert "line 1: added as Postmortem" in results.nth(0).inner_text()
    assert "line 3: added as Design doc" in results.nth(2).inner_text()
    assert "2 of 3 links added." in page.locator(".messages").inner_text()
    # The refused line is left in the box to fix.
    assert page.locator("#id_text").input_value().strip() == "file:///etc/passwd"
    assert page.locator("#evidence-table tbody tr").count() == 3
    assert sorted(Evidence.objects.filter(review=review).values_list("kind", flat=True)) == [
        "design_doc",
        "postmortem",
        "pull_request",
    ]
    page.screenshot(path=str(artifacts_dir / "review-engineer-paste.png"), full_page=True)

    # A rating for every dimension, then save and submit.
    chosen = {key: "3" for key in KEYS} | {"delivery": "4", "reliability": "4"}
    ratings = page.locator("#ratings-form")
    for key, value in chosen.items():
        ratings.locator(f"select[name='{key}-rating']").select_option(value)
    ratings.locator("textarea[name='reliability-justification']").fill(
        "Led the queue outage review and shipped the retry fix."
    )
    ratings.locator("textarea[name='delivery-justification']").fill(
        "Shipped the retry fix a sprint early."
    )
    page.screenshot(path=str(artifacts_dir / "review-engineer-ratings.png"), full_page=True)
    ratings.get_by_role("button", name="Save and submit to my manager").click()
    page.wait_for_url(f"{live_server.url}/reviews/{review.pk}/")
    assert page.locator("#review-state").inner_text() == "Self-review submitted"
    assert "Self-review submitted to your manager." in page.locator(".messages").inner_text()
    # Read-only now: no forms, the ratings table shows what was submitted.
    assert page.locator("#ratings-form").count() == 0
    assert page.locator("#evidence-form").count() == 0
    assert page.locator("#ratings-table tbody tr").count() == len(KEYS)
    page.screenshot(path=str(artifacts_dir / "review-engineer-submitted.png"), full_page=True)

    review.refresh_from_db()
    assert review.state == Review.State.SELF_SUBMITTED
    stored = {r.dimension_key: r for r in review.ratings.all()}
    assert {k: str(r.self_rating) for k, r in stored.items()} == chosen
    assert stored["reliability"].self_justification.startswith("Led the queue outage")


def _self_submitted(org: Org) -> Review:
    review = org.review(org.engineer)
    evidence_add(
        actor=org.engineer,
        review=review,
        url="https://github.com/acme/pay/releases/v2.0",
        title="Payments v2 release",
        dimensions=["delivery"],
    )
    rating_set_self(
        actor=org.engineer,
        review=review,
        ratings=ALL_MIDPOINT | {"delivery": {"rating": 4, "justification": "Shipped v2."}},
    )
    review = review_submit_self(actor=org.engineer, review=review)
    org.advance("manager_review")
    return review


def test_manager_rates_from_the_team_page(
    page: Any, live_server: Any, org: Org, artifacts_dir: Path
) -> None:
    review = _self_submitted(org)
    sign_in(page, live_server, "manager")
    page.wait_for_url(f"{live_server.url}/reviews/")
    page.goto(f"{live_server.url}/reviews/team/")
    assert "2026 H2" in page.locator("h1").inner_text()
    ada = page.locator("#team-table tbody tr", has_text="Ada Okafor")
    assert ada.count() == 1
    cells = ada.locator("td")
    # Engineer, next step, level, state, evidence, then a "self / manager" pair per dimension.
    assert cells.nth(1).inner_text() == "Rate"
    assert cells.nth(2).inner_text() == "L4"
    assert cells.nth(3).inner_text() == "Self-review submitted"
    assert cells.nth(4).inner_text() == "1"
    pairs = [cells.nth(i).inner_text() for i in range(5, 5 + len(KEYS))]
    assert pairs == ["4 / —"] + ["3 / —"] * (len(KEYS) - 1)
    page.screenshot(path=str(artifacts_dir / "review-manager-team.png"), full_page=True)

    ada.get_by_role("link", name="Rate").click()
    page.wait_for_url(f"{live_server.url}/reviews/{review.pk}/rate/")
    assert "Payments v2 release" in page.locator("#dim-delivery .evidence-list").inner_text()
    assert page.locator("#dim-mentoring .evidence-list").inner_text().strip() == "none"

    # Mentoring 5 with neither justification nor evidence: refused beside that field.
    form = page.locator("#manager-form")
    form.locator("select[name='mentoring-rating']").select_option("5")
    form.get_by_role("button", name="Save ratings").click()
    error = _field(page, "mentoring-rating").locator("[role=alert]")
    assert error.inner_text() == (
        "Mentoring rated 5, away from the midpoint 3, needs a justification and an evidence "
        "item tagged to Mentoring"
    )
    assert page.locator("#manager-form [role=alert]").count() == 1
    assert page.locator("#review-state").inner_text() == "Self-review submitted"
    assert not DimensionRating.objects.filter(review=review, manager_rating__isnull=False).exists()
    assert ScoreSnapshot.objects.filter(review=review).count() == 0
    page.screenshot(path=str(artifacts_dir / "review-manager-rule-error.png"), full_page=True)

    # Every dimension 3, Delivery 4 with a justification (its evidence is tagged), submit.
    form = page.locator("#manager-form")
    for key in KEYS:
        form.locator(f"select[name='{key}-rating']").select_option(
            "4" if key == "delivery" else "3"
        )
    form.locator("textarea[name='delivery-justification']").fill(
        "Payments v2 shipped in four safe increments."
    )
    form.get_by_role("button", name="Save and submit the review").click()
    page.wait_for_url(f"{live_server.url}/reviews/{review.pk}/rate/")
    assert page.locator("#review-state").inner_text() == "Manager review submitted"
    assert "Manager review submitted." in page.locator(".messages").inner_text()
    # Submitted: the buttons are gone.
    assert page.get_by_role("button", name="Save and submit the review").count() == 0
    page.screenshot(path=str(artifacts_dir / "review-manager-submitted.png"), full_page=True)

    review.refresh_from_db()
    assert review.state == Review.State.MANAGER_SUBMITTED
    stored = {r.dimension_key: r for r in review.ratings.all()}
    assert {k: r.manager_rating for k, r in stored.items()} == {
        k: 4 if k == "delivery" else 3 for k in KEYS
    }
    assert stored["delivery"].manager_justification.startswith("Payments v2 shipped")
    snapshot = ScoreSnapshot.objects.get(review=review)
    assert str(snapshot.composite) == "3.25"

    # Back on the team page the pair shows both ratings.
    page.goto(f"{live_server.url}/reviews/team/")
    ada = page.locator("#team-table tbody tr", has_text="Ada Okafor")
    assert ada.locator("td").nth(5).inner_text() == "4 / 4"
    assert ada.locator("td").nth(3).inner_text() == "Manager review submitted"


def _manager_submitted_at_four(org: Org) -> Review:
    review = org.review(org.engineer)
    evidence_add(
        actor=org.engineer,
        review=review,
        url="https://github.com/acme/pay/pull/7",
        title="Queue rewrite",
        dimensions=KEYS,
    )
    rating_set_self(actor=org.engineer, review=review, ratings=ALL_MIDPOINT)
    review = review_submit_self(actor=org.engineer, review=review)
    org.advance("manager_review")
    rating_set_manager(
        actor=org.manager,
        review=review,
        ratings={key: {"rating": 4, "justification": "See the queue rewrite."} for key in KEYS},
    )
    return review_submit_manager(actor=org.manager, review=review)


def test_score_page_what_if_slider_updates_without_saving(
    page: Any, live_server: Any, org: Org, artifacts_dir: Path
) -> None:
    review = _manager_submitted_at_four(org)
    snapshots = ScoreSnapshot.objects.count()
    assert snapshots == 1
    sign_in(page, live_server, "ada")
    page.wait_for_url(f"{live_server.url}/reviews/")
    page.goto(f"{live_server.url}/reviews/{review.pk}/score/")

    assert page.locator("h1").inner_text() == "How my score is built"
    composite = page.locator("#composite")
    assert composite.inner_text() == "4.00"
    assert "from the manager's ratings" in page.locator("#breakdown h2").inner_text()
    chart = page.locator("#contributions-chart svg")
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 150
    gates = page.locator("#gates li")
    assert gates.count() == 1
    assert gates.first.inner_text() == "Reliability was rated 4, not below 2, so no cap applies."
    assert page.locator("#terms tbody tr").count() == len(KEYS)
    page.screenshot(path=str(artifacts_dir / "review-score.png"), full_page=True)

    # Reliability to 1: htmx swaps in the what-if breakdown, capped by the gate.
    with page.expect_response(lambda r: "/score/what-if/" in r.url) as response_info:
        page.locator("#r_reliability").select_option("1")
    response = response_info.value
    assert response.status == 200
    assert "r_reliability=1" in response.url
    # (Polled from here: the page's Content-Security-Policy forbids evaluating strings.)
    expect(composite).to_have_text("3.00")
    assert page.locator("#r_reliability").input_value() == "1"
    assert "what-if: not saved" in page.locator("#breakdown h2").inner_text()
    gate = page.locator("#gates li.applied")
    assert gate.inner_text() == (
        "Reliability was rated 1, below 2, so the composite is capped at 3.00."
    )
    assert (
        "Without the gate the composite would be 3.40."
        in page.locator("#breakdown .notice").inner_text()
    )
    assert page.locator("#contributions-chart svg").is_visible()
    page.screenshot(path=str(artifacts_dir / "review-score-what-if.png"), full_page=True)

    # "Not rated" leaves Reliability out: the others stay at 4, and its gate cannot apply.
    with page.expect_response(lambda r: "/score/what-if/" in r.url):
        page.locator("#r_reliability").select_option("")
    expect(composite).to_have_text("4.00")
    assert page.locator("#gates li.applied").count() == 0
    assert "Reliability was not rated" in page.locator("#gates").inner_text()

    # Nothing was saved: no snapshot, the stored rating unchanged.
    assert ScoreSnapshot.objects.count() == snapshots
    rating = DimensionRating.objects.get(review=review, dimension_key="reliability")
    assert rating.manager_rating == 4
    page.reload()
    assert page.locator("#composite").inner_text() == "4.00"
