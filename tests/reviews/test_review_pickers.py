"""The reviews page's pickers offer what the viewer may see: HR every cycle, team and manager;
anyone else the cycles, teams and managers of the reviews visible to them, read in a fixed
number of queries however large the organisation, and kept per viewer."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from people.services import engineer_update
from reviews.filters import picker_choices
from tests.factories import EngineerFactory, TeamFactory, UserFactory
from tests.reviews.conftest import Org

pytestmark = pytest.mark.django_db


def options(html: str, name: str) -> list[str]:
    select = html.split(f'<select name="{name}"', 1)[1].split("</select>", 1)[0]
    return re.findall(r"<option [^>]*>([^<]*)</option>", select)


def page(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return client.get("/reviews/").content.decode()


def labels(choices: list[tuple[str, str]]) -> list[str]:
    return [label for _, label in choices]


def test_a_managers_pickers_hold_only_the_teams_and_managers_of_their_reviews(org: Org) -> None:
    TeamFactory(name="Empty")
    html = page(org.manager)
    # Their reports' reviews (Payments, theirs to rate) and their own (rated by the director).
    assert options(html, "team") == ["Every team", "Payments"]
    assert options(html, "manager") == [
        "Every manager",
        *sorted(
            (f"{u.first_name} {u.last_name}" for u in (org.director, org.manager)),
            key=lambda name: name.split()[-1],
        ),
    ]
    assert options(html, "cycle") == ["Every cycle", "2026 H2"]
    # Nothing of the rest of the company: not its teams, not its managers' names.
    other = org.stranger.engineer.manager
    for hidden in ("Search", "Empty", other.first_name + " " + other.last_name):
        assert hidden not in html


def test_hr_is_offered_every_team_and_manager(org: Org) -> None:
    TeamFactory(name="Empty")
    html = page(org.hr)
    assert options(html, "team") == ["Every team", "Empty", "Payments", "Search"]
    assert len(options(html, "manager")) == 1 + 3  # director, manager, other-manager


def test_a_managers_pickers_cost_three_queries_however_large_the_organisation(
    org: Org, django_assert_num_queries: Any
) -> None:
    def fresh() -> Any:
        return type(org.manager).objects.get(pk=org.manager.pk)

    cache.clear()
    manager = fresh()
    # Their roles, their reach (reviews.permissions), then their reviews' names, distinct.
    with django_assert_num_queries(3):
        before = picker_choices(manager)
    for n in range(20):
        boss = UserFactory(username=f"boss{n}", roles=["manager"])
        team = TeamFactory(name=f"Team {n:02d}")
        EngineerFactory(user=UserFactory(username=f"eng{n}"), team=team, manager=boss)
    cache.clear()
    manager = fresh()
    with django_assert_num_queries(3):
        after = picker_choices(manager)
    assert after == before
    assert len(picker_choices(org.hr)["team"]) == 22


def test_the_pickers_are_kept_per_viewer(org: Org, django_assert_num_queries: Any) -> None:
    cache.clear()
    picker_choices(org.manager)
    with django_assert_num_queries(0):
        picker_choices(org.manager)
    # Another viewer never reads the manager's entry.
    assert labels(picker_choices(org.stranger)["team"]) == ["Search"]
    assert labels(picker_choices(org.engineer)["manager"]) == [
        f"{org.manager.first_name} {org.manager.last_name}"
    ]


def test_a_review_moved_to_a_manager_appears_in_their_pickers(org: Org) -> None:
    assert "Search" not in labels(picker_choices(org.manager)["team"])
    engineer_update(actor=org.hr, engineer=org.stranger.engineer, manager=org.manager)
    assert "Search" in labels(picker_choices(org.manager)["team"])
