"""The search by name behind the long pickers: people holding given roles, or teams, whose
name holds what was typed; those already ticked first. Only whoever schedules calibration
sessions may search; anyone else gets the 404 of a page that does not exist."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def client_of(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def hr() -> Any:
    return UserFactory(username="hana", roles=["hr"])


def test_people_are_found_by_name_among_those_with_the_roles(hr: Any) -> None:
    UserFactory(username="mo", first_name="Maria", last_name="Okoye", roles=["manager"])
    UserFactory(username="mx", first_name="Maria", last_name="Xu", roles=["manager"])
    UserFactory(username="me", first_name="Maria", last_name="Engel", roles=["engineer"])
    html = (
        client_of(hr)
        .get(
            "/account/search/people/?q=maria&role=manager&field=managers&managers=mx", headers=HTMX
        )
        .content.decode()
    )
    assert "<legend>Tick to add</legend>" in html
    ticked = html.index('value="mx" checked>')
    assert ticked < html.index('name="managers" value="mo">')  # the ticked first
    assert 'value="me"' not in html  # an engineer is no manager


def test_nothing_found_says_so(hr: Any) -> None:
    html = client_of(hr).get("/account/search/people/?q=zzz&role=manager", headers=HTMX)
    assert "No one matches “zzz”." in html.content.decode()


def test_teams_are_found_by_name_and_posted_by_slug(hr: Any) -> None:
    TeamFactory(name="Payments", slug="payments")
    TeamFactory(name="Payouts", slug="payouts")
    TeamFactory(name="Search", slug="search")
    html = (
        client_of(hr).get("/account/search/teams/?q=pay&field=teams", headers=HTMX).content.decode()
    )
    assert 'name="teams" value="payments"> Payments' in html
    assert 'value="payouts"' in html and 'value="search"' not in html


def test_without_javascript_the_search_is_a_page(hr: Any) -> None:
    UserFactory(username="mo", first_name="Maria", last_name="Okoye", roles=["manager"])
    html = client_of(hr).get("/account/search/people/?q=okoye&role=manager").content.decode()
    assert "<h1>Find people</h1>" in html and "<code>mo</code>" in html
    assert '<label for="search-q">Part of a name</label>' in html


@pytest.mark.parametrize("roles", [["engineer"], ["manager"], ["committee"]])
def test_only_who_schedules_sessions_may_search(roles: list[str]) -> None:
    someone = client_of(UserFactory(roles=roles))
    for url in ("/account/search/people/?q=a", "/account/search/teams/?q=a"):
        assert someone.get(url).status_code == 404
    facilitator = client_of(UserFactory(roles=["facilitator"]))
    assert facilitator.get("/account/search/teams/?q=a", headers=HTMX).status_code == 200


def test_a_bad_field_name_is_refused(hr: Any) -> None:
    response = client_of(hr).get('/account/search/people/?q=a&field="><script>', headers=HTMX)
    assert response.status_code == 400
