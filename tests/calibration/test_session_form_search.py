"""At a large organisation the new-session form names people by username and teams by name
(with a search beside each) instead of listing everyone: what is typed or ticked is checked,
and whatever matches no one is named beside the field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from calibration import forms
from calibration.models import CalibrationSession
from core.roles import Role, people_with_roles
from people.services import person_set_roles
from tests.browser.conftest import look, sign_in
from tests.calibration.conftest import Calibration
from tests.calibration.test_session_form import field_of
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def long_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forms, "LONGEST_PICKER", 1)


def hr_client(cal: Calibration) -> Client:
    client = Client()
    client.force_login(cal.org.hr)
    return client


def test_long_lists_become_names_with_a_search(cal: Calibration, long_lists: None) -> None:
    page = hr_client(cal).get("/calibration/new/").content.decode()
    managers = field_of(page, "managers")
    assert '<label for="id_managers">Managers taking part</label>' in managers
    assert '<input type="text" name="managers"' in managers and "<select" not in managers
    assert '<input type="text" name="teams"' in field_of(page, "teams")
    assert '<label for="managers-q">Find managers by name</label>' in page
    assert (
        'id="managers-search" role="search"' in page and 'hx-get="/account/search/people/"' in page
    )
    assert 'id="teams-search"' in page and 'action="/account/search/teams/"' in page


def test_a_session_is_scheduled_from_typed_and_ticked_names(
    cal: Calibration, long_lists: None
) -> None:
    created = hr_client(cal).post(
        "/calibration/new/",
        {
            "cycle": cal.org.cycle.pk,
            "name": "By name H2",
            "facilitator": cal.facilitator.username,
            # typed, then one ticked among the suggestions (posted under the same name)
            "managers": [f"{cal.org.manager.username},", cal.outsider_manager.username],
            "teams": ["payments; ", "Search"],
            "scope_managers": cal.org.manager.username,
        },
    )
    assert created.status_code == 302
    session = CalibrationSession.objects.get(name="By name H2")
    assert session.facilitator == cal.facilitator
    assert {t.name for t in session.scope_teams.all()} == {"Payments", "Search"}
    assert list(session.scope_managers.all()) == [cal.org.manager]


def test_names_matching_no_one_are_named_beside_the_field(
    cal: Calibration, long_lists: None
) -> None:
    TeamFactory(name="Search", slug="search-two")
    refused = hr_client(cal).post(
        "/calibration/new/",
        {
            "cycle": cal.org.cycle.pk,
            "name": "Typos H2",
            "facilitator": cal.org.engineer.username,
            "managers": f"{cal.org.manager.username} nobody-here {cal.org.engineer.username}",
            "teams": "Payments, Paymints, Search",
        },
    )
    assert refused.status_code == 400
    html = refused.content.decode()
    managers = field_of(html, "managers")
    assert 'class="field has-error"' in managers
    assert f"Not found among managers: nobody-here, {cal.org.engineer.username}.</span>" in managers
    teams = field_of(html, "teams")
    assert "No team is named “Paymints”." in teams
    assert "write the slug of one: Search (" in teams and "search-two" in teams
    assert "Not found among facilitators and HR" in field_of(html, "facilitator")
    assert not CalibrationSession.objects.filter(name="Typos H2").exists()


def test_a_slug_names_one_of_two_teams_sharing_a_name(cal: Calibration, long_lists: None) -> None:
    TeamFactory(name="Search", slug="search-two")
    created = hr_client(cal).post(
        "/calibration/new/",
        {
            "cycle": cal.org.cycle.pk,
            "name": "Slug H2",
            "facilitator": cal.facilitator.username,
            "teams": "search-two",
        },
    )
    assert created.status_code == 302
    session = CalibrationSession.objects.get(name="Slug H2")
    assert [t.slug for t in session.scope_teams.all()] == ["search-two"]


def test_a_small_organisation_keeps_its_pickers(cal: Calibration) -> None:
    page = hr_client(cal).get("/calibration/new/").content.decode()
    assert '<select name="managers" size="8"' in page and "managers-search" not in page


def test_a_new_manager_past_the_limit_turns_the_picker_into_a_search(
    cal: Calibration, monkeypatch: pytest.MonkeyPatch
) -> None:
    hr = hr_client(cal)
    monkeypatch.setattr(forms, "LONGEST_PICKER", people_with_roles(Role.MANAGER).count())
    assert '<select name="managers"' in hr.get("/calibration/new/").content.decode()
    person_set_roles(actor=cal.org.hr, user=cal.org.engineer, roles=["engineer", "manager"])
    page = hr.get("/calibration/new/").content.decode()
    assert '<input type="text" name="managers"' in page and 'id="managers-search"' in page
    assert '<select name="teams"' in page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_search_in_a_browser(
    cal: Calibration,
    page: Any,
    live_server: Any,
    artifacts_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(forms, "LONGEST_PICKER", 1)
    sign_in(page, live_server, cal.org.hr.username)
    page.wait_for_url(re.compile(r"/(reviews|calibration)/"))
    page.goto(f"{live_server.url}/calibration/new/")
    assert look(page, artifacts_dir / "pages", "calibration-new-searches") == []
    form = page.locator("#session-form")
    # Suggestions come as you type; a ticked one is posted with what was typed.
    form.locator("#managers-q").fill(cal.org.manager.username)
    form.locator(f"#managers-found input[value='{cal.org.manager.username}']").check()
    form.get_by_label("Name", exact=True).fill("Searched H2")
    form.get_by_label("Facilitator", exact=True).fill(cal.facilitator.username)
    form.get_by_label("Scope: teams", exact=True).fill("Payments")
    assert look(page, artifacts_dir / "pages", "calibration-new-suggestions") == []
    form.get_by_role("button", name="Schedule the session").click()
    page.wait_for_url(re.compile(r"/calibration/\d+/$"))
    session = CalibrationSession.objects.get(name="Searched H2")
    assert session.participant_role(cal.org.manager) == "manager"
    assert [t.name for t in session.scope_teams.all()] == ["Payments"]
