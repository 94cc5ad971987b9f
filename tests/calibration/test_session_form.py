"""The new-session form offers the whole organisation's managers, observers and teams as
select boxes a few rows high: several are chosen at once, errors stand beside their field, and
in a browser the page passes axe at both widths, keeps the choices after a failed submit and
puts the focus on the first field in error."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from calibration.models import CalibrationSession
from people.models import Team
from tests.browser.conftest import look, sign_in
from tests.calibration.conftest import Calibration


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def field_of(html: str, name: str) -> str:
    """The <p class="field"> holding the control called `name`."""
    at = html.index(f'name="{name}"')
    return html[html.rindex('<p class="field', 0, at) : html.index("</p>", at)]


@pytest.mark.django_db
def test_several_teams_and_managers_are_chosen_at_once(cal: Calibration) -> None:
    hr = signed_in(cal.org.hr)
    teams = list(Team.objects.order_by("name"))
    created = hr.post(
        "/calibration/new/",
        {
            "cycle": cal.org.cycle.pk,
            "name": "Everyone H2",
            "facilitator": cal.facilitator.pk,
            "managers": [cal.org.manager.pk, cal.outsider_manager.pk],
            "teams": [t.pk for t in teams],
        },
    )
    assert created.status_code == 302
    session = CalibrationSession.objects.get(name="Everyone H2")
    assert set(session.scope_teams.all()) == set(teams)


@pytest.mark.django_db
def test_an_error_stands_beside_its_field_and_the_choices_stay(cal: Calibration) -> None:
    hr = signed_in(cal.org.hr)
    search = Team.objects.get(name="Search")
    page = hr.get("/calibration/new/").content.decode()
    teams = field_of(page, "teams")
    assert '<label for="id_teams">Scope: teams</label>' in teams
    assert '<select name="teams" size="8"' in teams and " multiple>" in teams
    refused = hr.post(
        "/calibration/new/",
        {
            "cycle": cal.org.cycle.pk,
            "name": "Search H2",
            "facilitator": cal.facilitator.pk,
            "managers": [cal.org.manager.pk],
            "teams": [search.pk, 999999],
        },
    )
    assert refused.status_code == 400
    html = refused.content.decode()
    teams = field_of(html, "teams")
    assert 'class="field has-error"' in teams and 'aria-invalid="true"' in teams
    assert re.search(r'<span class="error" role="alert">Select a valid choice', teams)
    assert f'<option value="{search.pk}" selected>Search</option>' in teams
    managers = field_of(html, "managers")
    assert f'<option value="{cal.org.manager.pk}" selected>' in managers
    assert "has-error" not in managers


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_form_in_a_browser(
    cal: Calibration, page: Any, live_server: Any, artifacts_dir: Path
) -> None:
    sign_in(page, live_server, cal.org.hr.username)
    page.wait_for_url(re.compile(r"/(reviews|calibration)/"))
    page.goto(f"{live_server.url}/calibration/new/")
    assert look(page, artifacts_dir / "pages", "calibration-new") == []
    form = page.locator("#session-form")
    form.get_by_label("Scope: teams").select_option(["Payments", "Search"])
    # The keyboard reaches the managers' list and chooses from it.
    managers = form.get_by_label("Managers taking part")
    managers.focus()
    page.keyboard.press("Home")
    assert len(managers.evaluate("s => [...s.selectedOptions].map(o => o.value)")) == 1
    form.get_by_role("button", name="Schedule the session").click()  # no name: refused
    page.locator("#error-summary").wait_for()
    assert page.evaluate("document.activeElement.name") == "name"
    chosen = form.get_by_label("Scope: teams").evaluate(
        "s => [...s.selectedOptions].map(o => o.textContent)"
    )
    assert chosen == ["Payments", "Search"]
    form.get_by_label("Name").fill("Payments and Search H2")
    form.get_by_label("Facilitator").select_option(str(cal.facilitator.pk))
    form.get_by_role("button", name="Schedule the session").click()
    page.wait_for_url(re.compile(r"/calibration/\d+/$"))
    session = CalibrationSession.objects.get(name="Payments and Search H2")
    assert {t.name for t in session.scope_teams.all()} == {"Payments", "Search"}
