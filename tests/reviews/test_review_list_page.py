"""The reviews page for a real organisation: paginated, searchable, filterable by cycle, team,
state and manager, sortable; a facilitator with nothing here lands on their sessions."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.test import Client

from reviews import views
from reviews.services import cycle_create
from tests.factories import UserFactory
from tests.reviews.conftest import Org

pytestmark = pytest.mark.django_db


def names(client: Client, query: str = "") -> list[str]:
    html = client.get(f"/reviews/{query}").content.decode()
    table = html.split('id="other-reviews"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<td><a href="/reviews/\d+/">([^<]+)</a>', table)


def test_hr_filters_searches_sorts_and_pages_the_reviews(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    hr = Client()
    hr.force_login(org.hr)
    everyone = names(hr)
    assert "Ada Okafor" in everyone and len(everyone) == 4
    assert names(hr, "?q=okaf") == ["Ada Okafor"]
    assert names(hr, "?q=ada+okafor") == ["Ada Okafor"]
    team = org.review(org.stranger).team
    assert names(hr, f"?team={team.pk}") == [str(org.review(org.stranger).engineer)]
    by_manager = names(hr, f"?manager={org.manager.pk}")
    assert sorted(by_manager) == sorted(
        [str(org.review(org.engineer).engineer), str(org.review(org.peer).engineer)]
    )
    assert names(hr, "?state=finalized") == []
    assert (
        "No review matches these filters." in hr.get("/reviews/?state=finalized").content.decode()
    )
    ascending = names(hr, "?o=name")
    assert names(hr, "?o=-name") == list(reversed(ascending))

    monkeypatch.setattr(views, "PER_PAGE", 2)
    first = hr.get("/reviews/?o=name").content.decode()
    assert f"Page 1 of {-(-len(everyone) // 2)}" in first
    assert 'href="?o=name&amp;page=2"' in first
    assert names(hr, "?o=name&page=2") == ascending[2:4]


def test_a_facilitator_with_no_reviews_lands_on_the_sessions(db: None) -> None:
    facilitator = UserFactory(username="fay", roles=["facilitator"])
    client = Client()
    client.force_login(facilitator)
    response = client.get("/reviews/")
    assert response.status_code == 302 and response.headers["Location"] == "/calibration/"


def test_the_pickers_show_a_cycle_planned_after_the_last_visit(org: Org, published: Any) -> None:
    hr = Client()
    hr.force_login(org.hr)
    assert "2027 H1" not in hr.get("/reviews/").content.decode()  # the pickers are now cached
    day = datetime.date(2027, 1, 8)
    cycle_create(
        actor=org.hr,
        name="2027 H1",
        rubric_version=published,
        self_review_ends=day,
        manager_review_ends=day,
        calibration_ends=day,
        finalisation_ends=day,
    )
    assert (
        f'<option value="{org.cycle.pk + 1}">2027 H1</option>'
        in hr.get("/reviews/").content.decode()
    )
