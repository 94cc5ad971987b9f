"""The reviews page for a real organisation: paginated, searchable, filterable by cycle, team,
state and manager, sortable; a facilitator with nothing here lands on their sessions."""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from reviews import filters, views
from reviews.services import cycle_create
from tests.browser.conftest import look, sign_in
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


def test_long_team_and_manager_pickers_become_searches_by_name(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More teams or managers than a screenful: each picker is a search by name, and a team or
    manager chosen by id (as other pages link) still filters, shown by its name."""
    monkeypatch.setattr(filters, "LONGEST_PICKER", 1)
    monkeypatch.setattr(filters, "HELD", 2)
    cache.clear()
    hr = Client()
    hr.force_login(org.hr)
    html = hr.get("/reviews/").content.decode()
    assert '<select name="team"' not in html and '<select name="manager"' not in html
    assert '<label for="id_team_name">Team</label><input type="search" name="team_name"' in html
    assert '<label for="id_manager_name">Manager</label><input type="search"' in html
    stranger = str(org.review(org.stranger).engineer)
    team = org.review(org.stranger).team
    assert names(hr, f"?team_name={team.name[1:4].lower()}") == [stranger]
    by_manager = sorted(str(org.review(u).engineer) for u in (org.engineer, org.peer))
    named = names(hr, f"?manager_name={org.manager.username}")
    assert set(by_manager) <= set(named)
    assert str(org.review(org.manager).engineer) not in named  # the director rates that one

    chosen = hr.get(f"/reviews/?team={team.pk}").content.decode()
    assert names(hr, f"?team={team.pk}") == [stranger]
    assert re.search(
        rf'<input type="checkbox" name="team" value="{team.pk}" id="id_team_0" checked> '
        rf"Team: {team.name}</label>",
        chosen,
    )
    manager = hr.get(f"/reviews/?manager={org.manager.pk}").content.decode()
    assert f"Manager: {org.manager.get_full_name()}</label>" in manager
    assert sorted(names(hr, f"?manager={org.manager.pk}")) == by_manager

    unknown = hr.get("/reviews/?team=999999").content.decode()
    assert '<span class="error" role="alert">Select a valid choice.' in unknown


def test_a_manager_is_shown_only_the_names_within_reach(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filters, "LONGEST_PICKER", 0)
    monkeypatch.setattr(filters, "HELD", 1)
    cache.clear()
    manager = Client()
    manager.force_login(org.manager)
    outside = org.review(org.stranger).team
    html = manager.get(f"/reviews/?team={outside.pk}").content.decode()
    assert f"Team: {outside.name}" not in html
    assert '<span class="error" role="alert">Select a valid choice.' in html
    own = org.review(org.engineer).team
    assert f"Team: {own.name}</label>" in manager.get(f"/reviews/?team={own.pk}").content.decode()


def test_a_small_organisation_keeps_its_pickers(org: Org) -> None:
    hr = Client()
    hr.force_login(org.hr)
    html = hr.get("/reviews/").content.decode()
    assert '<select name="team" id="id_team">' in html and 'name="team_name"' not in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_searches_in_a_browser(
    org: Org,
    page: Any,
    live_server: Any,
    artifacts_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(filters, "LONGEST_PICKER", 1)
    monkeypatch.setattr(filters, "HELD", 2)
    cache.clear()
    team = org.review(org.stranger).team
    sign_in(page, live_server, org.hr.username)
    page.wait_for_url(re.compile(r"/reviews/"))
    page.goto(f"{live_server.url}/reviews/?team={team.pk}")
    assert look(page, artifacts_dir / "pages", "reviews-searches") == []
    chosen = page.get_by_label(f"Team: {team.name}")
    assert chosen.is_checked()
    chosen.uncheck()
    page.get_by_label("Manager", exact=True).fill(org.manager.username)
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"manager_name="))
    assert "team=" not in page.url.replace("team_name=", "")
