"""Each persona's job, done in the browser on the demo organisation `make run` serves, step by
step: the engineer writes and submits a self-review, the manager rates and submits, the
facilitator calibrates and closes the session, HR moves the cycle on and finalises, the
engineer acknowledges, the committee decides a case, HR publishes the draft rubric, resolves
the appeal and exports the packets. Every step is checked by axe-core at 1366 px and 390 px
and kept as screenshots."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from calibration.models import Appeal, CalibrationSession
from config.celery import app as celery_app
from promotions.models import ExportJob, PromotionCase
from reviews.models import Review
from rubrics.models import RubricVersion
from tests.browser.conftest import look, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

H2 = "2026 H2"
WRITING = "2026 H2 — Mobile and Identity"


class Walk:
    def __init__(self, page: Any, live_server: Any, shots: Path) -> None:
        self.page, self.server, self.base, self.shots = page, live_server, live_server.url, shots
        self.problems: list[str] = []
        self.step = 0

    def as_(self, username: str) -> None:
        self.page.context.clear_cookies()
        sign_in(self.page, self.server, username, "levelset-demo")
        self.page.wait_for_url(re.compile(r"/(reviews|calibration)/"))

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def check(self, name: str) -> None:
        """axe-core and the layout at both widths, with a screenshot of each."""
        self.step += 1
        self.problems += look(self.page, self.shots, f"{self.step:02d}-{name}")

    def message(self) -> str:
        return self.page.locator(".messages").inner_text()


def review_of(username: str, cycle: str) -> Review:
    return Review.objects.get(engineer__user__username=username, cycle__name=cycle)


def test_every_persona_does_their_job_in_the_browser(
    db: None,
    page: Any,
    live_server: Any,
    artifacts_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    call_command("seed_demo", "--quiet")
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)  # exports, in this process
    walk = Walk(page, live_server, artifacts_dir / "walks")

    # The engineer: evidence, tags, ratings, submission.
    walk.as_("eng31")
    review = review_of("eng31", WRITING)
    walk.go(f"/reviews/{review.pk}/")
    walk.check("engineer-self-review")
    page.locator("#paste-form textarea").fill("https://github.com/levelset-demo/mobile/pull/900")
    page.locator("#paste-form").get_by_role("button", name="Add links").click()
    page.wait_for_selector("#paste-results")
    item = review.evidence.get(url__endswith="/pull/900")
    page.locator(f"#edit-{item.pk} summary").click()
    page.locator(f"#edit-{item.pk}").get_by_label("Reliability").check()
    page.locator(f"#edit-{item.pk}").get_by_role("button", name="Save this evidence").click()
    assert "Saved" in walk.message()
    item.refresh_from_db()
    assert item.dimensions == ["reliability"]
    for select in page.locator("#ratings-form select").all():
        select.select_option("3")
    walk.check("engineer-ratings")
    page.get_by_role("button", name="Save and submit to my manager").click()
    assert "submitted" in walk.message()
    assert review_of("eng31", WRITING).state == "self_submitted"

    # The manager: rates a report and submits.
    walk.as_("manager.payments")
    walk.go("/reviews/team/")
    walk.check("manager-team")
    eng02 = review_of("eng02", H2)
    page.locator(
        "#team-table tbody tr", has=page.locator(f'a[href="/reviews/{eng02.pk}/"]')
    ).get_by_role("link", name="Rate").click()
    for select in page.locator("#manager-form select").all():
        select.select_option("3")
    walk.check("manager-rate")
    page.get_by_role("button", name="Save and submit the review").click()
    assert "Manager review submitted." in walk.message()
    assert review_of("eng02", H2).state == "manager_submitted"

    # The facilitator: takes the new review onto the board, changes a rating, closes.
    session = CalibrationSession.objects.get(status="open")
    walk.as_("facilitator")
    walk.go(f"/calibration/{session.pk}/")
    walk.check("facilitator-board")
    page.get_by_role("button", name=re.compile(r"^Add \d+ review")).click()
    row = page.locator(f"#adjust-{eng02.pk}")
    page.locator(f"#review-{eng02.pk}-detail summary").click()
    row.locator("select[name$='-dimension']").select_option("reliability")
    row.locator("select[name$='-rating']").select_option("2")
    row.locator("textarea[name$='-rationale']").fill("Two incidents traced to skipped canaries.")
    row.locator("textarea[name$='-counterexample']").fill(
        "The March and May incidents; both postmortems name the skipped canary."
    )
    row.get_by_role("button", name="Record the change").click()
    assert "Reliability 3 → 2." in walk.message()
    page.get_by_role("button", name="Close and write back").click()
    assert page.questions[-1].startswith("Close the session")
    assert CalibrationSession.objects.get(pk=session.pk).status == "closed"
    walk.check("facilitator-closed")

    # HR: the cycle moves on, with who is not done shown first; then finalisation.
    walk.as_("hr")
    cycle = review_of("eng02", H2).cycle
    for phase in ("Calibration", "Finalisation"):
        walk.go(f"/reviews/cycles/{cycle.pk}/advance/")
        walk.check(f"hr-advance-to-{phase.lower()}")
        page.get_by_role("button", name=f"Move to {phase}").click()
        assert f"is now in {phase}" in walk.message()
    walk.go(f"/reviews/cycles/{cycle.pk}/")
    page.get_by_role("button", name=re.compile(r"^Finalise all \d+ ready")).click()
    assert "Finalised" in walk.message()
    assert review_of("eng02", H2).state == "finalized"
    walk.check("hr-finalised")

    # The engineer acknowledges a final review.
    walk.as_("eng02")
    walk.go(f"/reviews/{review_of('eng02', H2).pk}/")
    page.get_by_role("button", name="Acknowledge my review").click()
    assert review_of("eng02", H2).state == "acknowledged"
    walk.check("engineer-acknowledged")

    # The committee decides a submitted case.
    case = PromotionCase.objects.filter(status="submitted").first()
    assert case is not None
    walk.as_("facilitator")
    walk.go(f"/promotions/{case.pk}/")
    page.locator("#decide-form").get_by_label("Promoted").check()
    page.locator("#decide-form textarea").fill("Clear scope at the next level; congratulations.")
    page.get_by_role("button", name="Record the decision").click()
    assert PromotionCase.objects.get(pk=case.pk).outcome == "promoted"
    walk.check("committee-decided")

    # HR: the draft rubric is published; the open appeal resolved; the packets exported.
    walk.as_("hr")
    draft = RubricVersion.objects.get(status="draft")
    walk.go(f"/rubrics/{draft.rubric.slug}/versions/{draft.number}/")
    walk.check("hr-rubric-draft")
    page.locator("#publish-form textarea").fill("Mentoring at L4 names on-call support.")
    page.locator("#publish-form").get_by_role("button").click()
    assert RubricVersion.objects.get(pk=draft.pk).status == "published"
    appeal = Appeal.objects.get(status="open")
    walk.go("/calibration/appeals/")
    walk.check("hr-appeals")
    page.locator(f'a[href="/calibration/appeals/{appeal.pk}/"]').click()
    page.locator("#resolve-form").get_by_label("Upheld (rating kept)").check()
    page.locator("#resolve-form textarea").fill("The search relevance work is rated at its scope.")
    page.get_by_role("button", name="Record the resolution").click()
    assert Appeal.objects.get(pk=appeal.pk).status == "upheld"
    walk.go("/promotions/exports/")
    page.locator("#batch-export-form select[name='cycle']").select_option(str(cycle.pk))
    page.get_by_role("button", name="Start the export").click()
    job = ExportJob.objects.get(case__isnull=True)
    assert job.status == "done", job.message
    page.wait_for_selector(f'a[href="/api/exports/{job.id}/archive.zip"]')
    walk.check("hr-exports")

    assert not walk.problems, "\n".join(walk.problems)
