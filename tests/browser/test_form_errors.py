"""Every form, submitted with a mistake: the page stays at its own address, a summary at the
top links to each field in error, the first field in error has the focus, and what was typed
is still there. On the demo organisation, as the person who uses each form."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from calibration.models import CalibrationSession
from promotions.models import PromotionCase
from reviews.models import Review
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def review_of(username: str, cycle: str) -> int:
    return Review.objects.get(engineer__user__username=username, cycle__name=cycle).pk


def focused(page: Any) -> dict[str, str]:
    return page.evaluate(
        "() => ({name: document.activeElement.name || '', id: document.activeElement.id,"
        " value: document.activeElement.value || ''})"
    )


def check_failed_submit(page: Any, own_path: str, field: str, shots: Path, name: str) -> None:
    summary = page.locator("#error-summary")
    summary.wait_for()
    assert summary.get_attribute("role") == "alert"
    first_link = summary.locator("a").first
    target = first_link.get_attribute("href").removeprefix("#")
    now = focused(page)
    assert now["id"] == target, (name, now, target)
    assert re.fullmatch(field, now["name"]), (name, now)
    assert page.url.endswith(own_path), (name, page.url, own_path)
    # The link takes the focus back to its field.
    page.locator("#main").focus()
    first_link.click()
    assert focused(page)["id"] == target
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"form-error-{name}.png"))


H2 = "2026 H2"
WRITING = "2026 H2 — Mobile and Identity"


def _evidence(page: Any) -> None:
    page.locator("#evidence-form #id_url").fill("not a link")
    page.locator("#evidence-form #id_title").fill("Kept title")
    page.locator("#evidence-form").get_by_role("button", name="Add evidence").click()


def _paste(page: Any) -> None:
    page.locator("#paste-form").get_by_role("button", name="Add links").click()


def _self_ratings(page: Any) -> None:
    page.get_by_role("button", name="Save and submit to my manager").click()


def _manager_rating(page: Any) -> None:
    page.locator("#manager-form select[name='delivery-rating']").select_option("5")
    page.locator("#manager-form textarea[name='delivery-justification']").fill("")
    page.get_by_role("button", name="Save ratings").click()


def _return(page: Any) -> None:
    page.locator("#return-form").get_by_role("button", name="Return the self-review").click()


def _adjust(page: Any) -> None:
    form = page.locator("form.adjust-form").first
    page.locator("details.adjust summary").first.click()
    form.get_by_role("button", name="Record the change").click()


def _preread(page: Any) -> None:
    page.locator("#preread-form").get_by_role("button", name="Add the pre-read").click()


def _nominate(page: Any) -> None:
    page.locator("#nominate-form").get_by_role("button", name="Open a case").click()


def _password(page: Any) -> None:
    page.locator("#id_old_password").fill("not my password")
    page.locator("main form").get_by_role("button").last.click()


# (who, page address, fill and submit, the control expected to take the focus)
FORMS: list[tuple[str, Callable[[], str], Callable[[Any], None], str]] = [
    ("eng31", lambda: f"/reviews/{review_of('eng31', WRITING)}/", _evidence, "url"),
    ("eng31", lambda: f"/reviews/{review_of('eng31', WRITING)}/", _paste, "text"),
    ("eng31", lambda: f"/reviews/{review_of('eng31', WRITING)}/", _self_ratings, r".+-rating"),
    (
        "manager.payments",
        lambda: f"/reviews/{review_of('eng02', H2)}/rate/",
        _manager_rating,
        r"delivery-(rating|justification)",
    ),
    ("manager.mobile", lambda: f"/reviews/{review_of('eng33', WRITING)}/rate/", _return, "reason"),
    (
        "facilitator",
        lambda: f"/calibration/{CalibrationSession.objects.get(status='open').pk}/",
        _adjust,
        r"adjust-\d+-(dimension|rating|rationale)",
    ),
    (
        "facilitator",
        lambda: f"/calibration/{CalibrationSession.objects.get(status='open').pk}/",
        _preread,
        r"preread-(review|text)",
    ),
    ("manager.payments", lambda: "/promotions/", _nominate, r".+"),
    ("eng31", lambda: "/account/password/", _password, "old_password"),
]


def test_a_failed_submit_puts_the_focus_on_the_first_error(
    db: None, page: Any, live_server: Any, artifacts_dir: Path
) -> None:
    call_command("seed_demo", "--quiet")
    assert PromotionCase.objects.exists()
    signed_in = None
    for n, (who, address, act, field) in enumerate(FORMS):
        if who != signed_in:
            page.context.clear_cookies()
            sign_in(page, live_server, who, "levelset-demo")
            page.wait_for_url(re.compile(r"/(reviews|calibration)/"))
            signed_in = who
        path = address()
        page.goto(live_server.url + path)
        act(page)
        check_failed_submit(page, path, field, artifacts_dir / "forms", f"{n}-{act.__name__}")
        if act is _evidence:  # what was typed is still there
            assert page.locator("#evidence-form #id_title").input_value() == "Kept title"
