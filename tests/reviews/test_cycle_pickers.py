"""The cycle pages stay the same size as the organisation grows: a cycle's teams are named in
a box, not picked from hundreds; a late joiner is typed by username and found by name when
there are many; the lists count teams instead of naming them all."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from people.models import Team
from reviews.models import Review, ReviewCycle
from tests.conftest import client_for
from tests.factories import EngineerFactory, TeamFactory, UserFactory
from tests.reviews.conftest import Org

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def plan(client: Client, published: Any, teams: str | None) -> Any:
    return client.post(
        "/reviews/cycles/",
        {
            "name": "2027 H1",
            "rubric_version": published.pk,
            **({} if teams is None else {"teams": teams}),
            "self_review_ends": "2027-01-08",
            "manager_review_ends": "2027-01-22",
            "calibration_ends": "2027-01-29",
            "finalisation_ends": "2027-02-05",
        },
    )


@pytest.fixture
def many_teams(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("reviews.forms.LONGEST_PICKER", 1)


def test_many_teams_are_named_in_a_box(org: Org, published: Any, many_teams: None) -> None:
    hr = signed_in(org.hr)
    form = hr.get("/reviews/cycles/").content.decode()
    assert '<textarea name="teams"' in form and '<label for="id_teams">Teams</label>' in form
    assert "<option" not in form[form.index('id="id_teams"') :].split("</textarea>")[0]

    created = plan(hr, published, "payments,\n Search ")
    assert created.status_code == 302
    cycle = ReviewCycle.objects.get(name="2027 H1")
    assert {team.name for team in cycle.teams.all()} == {"Payments", "Search"}


def test_unknown_team_names_are_named_beside_the_field(
    org: Org, published: Any, many_teams: None
) -> None:
    refused = plan(signed_in(org.hr), published, "Payments, Nowhere\nElsewhere")
    assert refused.status_code == 400
    html = refused.content.decode()
    field = html[html.index('<label for="id_teams">') :]
    assert "No team is named “Nowhere” or “Elsewhere”." in field[: field.index("</p>")]
    assert not ReviewCycle.objects.filter(name="2027 H1").exists()


def test_a_name_of_several_teams_asks_for_a_slug(
    org: Org, published: Any, many_teams: None
) -> None:
    TeamFactory(name="Growth", slug="growth-eu")
    TeamFactory(name="Growth", slug="growth-us")
    refused = plan(signed_in(org.hr), published, "Growth")
    assert refused.status_code == 400
    assert (
        "Several teams share a name; write the slug of one: Growth (growth-eu, growth-us)."
        in refused.content.decode()
    )
    assert plan(signed_in(org.hr), published, "growth-us").status_code == 302
    assert [t.slug for t in ReviewCycle.objects.get(name="2027 H1").teams.all()] == ["growth-us"]


def test_no_team_named_covers_everyone(org: Org, published: Any, many_teams: None) -> None:
    assert plan(signed_in(org.hr), published, "  ").status_code == 302
    assert not ReviewCycle.objects.get(name="2027 H1").teams.exists()


def test_the_cycle_list_counts_teams(org: Org, published: Any) -> None:
    hr = signed_in(org.hr)
    assert plan(hr, published, None).status_code == 302  # few teams: picked from a list
    planned = ReviewCycle.objects.get(name="2027 H1")
    planned.teams.set(Team.objects.all())
    html = hr.get("/reviews/cycles/").content.decode()
    table = html[html.index('id="cycles"') : html.index("</table>")]
    assert "2 teams" in table[table.index(f'id="cycle-{planned.pk}"') :]
    assert "Everyone" in table[table.index(f'id="cycle-{org.cycle.pk}"') :]
    assert "Payments" not in table

    listed = client_for(org.hr).get("/api/cycles/").json()
    counts = {c["id"]: c["team_count"] for c in listed}
    assert counts == {planned.pk: 2, org.cycle.pk: 0}
    assert all("teams" not in c for c in listed)


def test_one_cycle_names_its_teams(org: Org) -> None:
    org.cycle.teams.set([Team.objects.get(name="Search")])
    body = client_for(org.hr).get(f"/api/cycles/{org.cycle.pk}/").json()
    assert body["teams"] == [Team.objects.get(name="Search").slug] and body["team_count"] == 1
    outsider: Any = UserFactory(roles=["engineer"])
    assert client_for(outsider).get(f"/api/cycles/{org.cycle.pk}/").status_code == 404


def test_the_cycle_page_names_a_few_teams_and_counts_the_rest(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("reviews.cycle_views.LISTED_TEAMS", 1)
    org.cycle.teams.set(Team.objects.all())
    html = signed_in(org.hr).get(f"/reviews/cycles/{org.cycle.pk}/").content.decode()
    assert "covers Payments and 1 more team (2 in all)." in html


@pytest.fixture
def joiner(org: Org, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A late joiner, in a cycle with more of them than the page lists."""
    monkeypatch.setattr("reviews.forms.LONGEST_PICKER", 0)
    user = UserFactory(username="lee.late", first_name="Lee", last_name="Late", roles=["engineer"])
    team = org.review(org.engineer).team
    return EngineerFactory(user=user, team=team, manager=org.manager)


def test_many_late_joiners_are_typed_by_username(org: Org, joiner: Any) -> None:
    hr = signed_in(org.hr)
    url = f"/reviews/cycles/{org.cycle.pk}/"
    html = hr.get(url).content.decode()
    form = html[html.index('id="late-joiner-form"') :]
    assert "<select" not in form[: form.index("</form>")]
    assert "Engineer&#x27;s username" in form and 'name="engineer"' in form

    refused = hr.post(f"{url}engineers/", {"engineer": "nobody"})
    assert refused.status_code == 400
    assert "No one this cycle covers without a review has the username “nobody”." in (
        refused.content.decode()
    )
    added = hr.post(f"{url}engineers/", {"engineer": "LEE.LATE"})
    assert added.status_code == 302
    assert Review.objects.filter(cycle=org.cycle, engineer=joiner).exists()


def test_a_late_joiner_is_found_by_name(org: Org, joiner: Any) -> None:
    hr = signed_in(org.hr)
    url = f"/reviews/cycles/{org.cycle.pk}/"
    found = hr.get(url, {"joiner": "lee lat"}).content.decode()
    table = found[found.index('id="late-joiner-found"') :]
    table = table[: table.index("</table>")]
    assert "Lee Late" in table and 'value="lee.late"' in table
    assert "Ada" not in table  # has a review already
    none = hr.get(url, {"joiner": "zzz"}).content.decode()
    assert "No one without a review in 2026 H2 matches “zzz”." in none
