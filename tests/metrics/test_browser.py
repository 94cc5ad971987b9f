"""The scorecard page in a browser, from the manager's team page: accessible (axe-core) at
both widths, its charts drawn, and a bad period named beside the field that holds it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from people.models import Team
from tests.browser.conftest import look, sign_in
from tests.factories import EngineerFactory, UserFactory
from tests.metrics.conftest import at, change, deployment, govern, incident, send

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_scorecard_is_accessible_and_names_a_bad_period(
    page: Any, live_server: Any, artifacts_dir: Path, hr: Any, payments: Team
) -> None:
    send(
        hr,
        change("c1", 16),
        deployment("d1", 16, 8, ["c1"]),
        incident("i1", at(17), at(17, 2), "d1"),
    )
    lead = UserFactory(username="lead-lina", roles=["manager"])
    EngineerFactory(user=lead, team=payments)
    sign_in(page, live_server, "lead-lina")
    page.goto(
        f"{live_server.url}/metrics/teams/{payments.pk}/scorecard/?start=2026-03-15&end=2026-03-28"
    )
    assert page.locator("#scorecard-trend svg").count() == 4
    problems = look(page, artifacts_dir / "pages", "team-scorecard")
    page.get_by_label("From").fill("2026-04-30")
    page.get_by_role("button", name="Show").click()
    error = page.locator("#period-form .has-error .error")
    assert "on or before the last" in error.inner_text()
    problems += look(page, artifacts_dir / "pages", "team-scorecard-bad-period")
    assert not problems, "\n".join(problems)


def test_the_governance_pages_are_accessible(
    page: Any, live_server: Any, artifacts_dir: Path, hr: Any, engineer: Any
) -> None:
    metric = govern(hr, engineer)
    sign_in(page, live_server, hr.username)
    page.goto(f"{live_server.url}/metrics/governance/")
    problems = look(page, artifacts_dir / "pages", "governance")
    page.get_by_role("button", name="Govern it").click()
    assert page.locator("#govern-form .has-error").count() >= 3
    problems += look(page, artifacts_dir / "pages", "governance-errors")
    page.goto(f"{live_server.url}/metrics/governance/{metric.pk}/review/")
    problems += look(page, artifacts_dir / "pages", "governance-review")
    assert not problems, "\n".join(problems)
