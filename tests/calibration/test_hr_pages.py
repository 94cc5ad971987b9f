"""HR's appeals inbox and resolution page, and scheduling a session from a page: errors beside
their fields, nothing half-written, and 404 for anyone whose job it is not."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from calibration.models import Appeal, CalibrationSession
from calibration.services import appeal_create
from people.models import Team
from tests.calibration.conftest import Calibration
from tests.calibration.test_appeals_history_health import calibrate_and_finalise

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def open_appeal(cal: Calibration) -> Appeal:
    review = calibrate_and_finalise(cal)
    return appeal_create(
        actor=cal.org.engineer,
        review=review,
        dimension_key="scope",
        reason="I owned the payouts roadmap for the whole half.",
    )


def test_hr_finds_and_resolves_an_appeal(cal: Calibration) -> None:
    appeal = open_appeal(cal)
    hr = signed_in(cal.org.hr)
    inbox = hr.get("/calibration/appeals/").content.decode()
    assert f"/calibration/appeals/{appeal.pk}/" in inbox and "Scope" in inbox
    assert "Ada Okafor" in hr.get("/calibration/appeals/?q=okaf&status=open").content.decode()
    assert "No appeal matches." in hr.get("/calibration/appeals/?q=nobody").content.decode()
    assert "No appeal matches." in hr.get("/calibration/appeals/?status=upheld").content.decode()

    url = f"/calibration/appeals/{appeal.pk}/"
    page = hr.get(url).content.decode()
    assert "I owned the payouts roadmap" in page and "Meets the level" in page
    refused = hr.post(url, {"outcome": "changed", "resolution": "The roadmap doc shows it."})
    assert refused.status_code == 400
    assert "give the new rating" in refused.content.decode()
    assert Appeal.objects.get(pk=appeal.pk).status == "open"
    done = hr.post(
        url,
        {"outcome": "changed", "new_rating": "4", "resolution": "The roadmap doc shows it."},
        follow=True,
    )
    assert "Appeal resolved" in done.content.decode()
    appeal.refresh_from_db()
    assert (appeal.status, appeal.after) == ("changed", 4)
    assert "Record the resolution" not in hr.get(url).content.decode()


@pytest.mark.parametrize("who", ["engineer", "manager", "director"])
def test_the_appeals_pages_are_hr_only(cal: Calibration, who: str) -> None:
    appeal = open_appeal(cal)
    client = signed_in(getattr(cal.org, who))
    assert client.get("/calibration/appeals/").status_code == 404
    url = f"/calibration/appeals/{appeal.pk}/"
    assert client.get(url).status_code == 404
    answer = client.post(url, {"outcome": "upheld", "resolution": "Nothing to change here."})
    assert answer.status_code == 404
    assert Appeal.objects.get(pk=appeal.pk).status == "open"


def test_a_session_is_scheduled_from_a_page(cal: Calibration) -> None:
    hr = signed_in(cal.org.hr)
    search = Team.objects.get(name="Search")
    data = {
        "cycle": cal.org.cycle.pk,
        "name": "Search H2",
        "facilitator": cal.facilitator.pk,
        "managers": [cal.org.manager.pk],
        "teams": [search.pk],
    }
    refused = hr.post("/calibration/new/", {**data, "facilitator": cal.org.engineer.pk})
    assert refused.status_code == 400 and "Select a valid choice" in refused.content.decode()
    taken = hr.post("/calibration/new/", {**data, "name": "Payments H2"})
    assert taken.status_code == 400
    assert "already has a session called" in taken.content.decode()
    assert CalibrationSession.objects.count() == 1

    created = hr.post("/calibration/new/", data)
    session = CalibrationSession.objects.get(name="Search H2")
    assert created.headers["Location"] == f"/calibration/{session.pk}/"
    assert list(session.scope_teams.all()) == [search]
    assert session.facilitator == cal.facilitator
    # A facilitator schedules too; a manager or an engineer finds no such page.
    assert signed_in(cal.facilitator).get("/calibration/new/").status_code == 200
    for person in (cal.org.manager, cal.org.engineer):
        assert signed_in(person).get("/calibration/new/").status_code == 404
        assert signed_in(person).post("/calibration/new/", data).status_code == 404


def test_the_sessions_list_filters_by_status(cal: Calibration) -> None:
    hr = signed_in(cal.org.hr)
    url = f"/calibration/{cal.session.pk}/"
    assert url in hr.get("/calibration/").content.decode()
    assert url in hr.get("/calibration/?status=scheduled").content.decode()
    assert url not in hr.get("/calibration/?status=closed").content.decode()
    assert url in hr.get(f"/calibration/?cycle={cal.org.cycle.pk}").content.decode()
