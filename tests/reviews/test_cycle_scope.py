"""A cycle covers the teams HR chose (or everyone with a manager): opening it writes reviews
for those teams only, and a late joiner from another team is refused with a reason."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from core.errors import ValidationFailed
from people.models import Engineer
from reviews.models import Review, ReviewCycle
from reviews.services import cycle_add_engineer, cycle_create, cycle_open
from tests.conftest import client_for
from tests.factories import EngineerFactory, TeamFactory, UserFactory

DATES = {
    "self_review_ends": "2027-01-08",
    "manager_review_ends": "2027-01-22",
    "calibration_ends": "2027-01-29",
    "finalisation_ends": "2027-02-05",
}


@pytest.fixture
def two_teams(db: None) -> tuple[Any, Any]:
    payments, search = TeamFactory(name="Payments"), TeamFactory(name="Search")
    for team in (payments, search):
        manager = UserFactory(roles=["manager"])
        for _ in range(2):
            EngineerFactory(team=team, manager=manager)
    return payments, search


@pytest.mark.django_db
def test_a_cycle_for_one_team_opens_reviews_for_that_team_only(
    hr: Any, published: Any, two_teams: tuple[Any, Any]
) -> None:
    payments, search = two_teams
    response = client_for(hr).post(
        "/api/cycles/",
        {
            "name": "2027 H1 — Payments",
            "rubric": published.rubric.slug,
            "rubric_version": published.number,
            "teams": [payments.slug],
            **DATES,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["teams"] == [payments.slug]
    cycle_id = response.json()["id"]
    opened = client_for(hr).post(f"/api/cycles/{cycle_id}/open/")
    assert opened.status_code == 200
    teams = set(Review.objects.filter(cycle_id=cycle_id).values_list("team_id", flat=True))
    assert teams == {payments.pk}
    assert Review.objects.filter(cycle_id=cycle_id).count() == 2

    outsider = Engineer.objects.filter(team=search).first()
    with pytest.raises(ValidationFailed) as refused:
        cycle_add_engineer(actor=hr, cycle=ReviewCycle.objects.get(pk=cycle_id), engineer=outsider)
    assert refused.value.errors == {"engineer": ["is not in a team the cycle covers"]}


@pytest.mark.django_db
def test_a_cycle_without_teams_covers_everyone_with_a_manager(
    hr: Any, published: Any, two_teams: tuple[Any, Any]
) -> None:
    dates = {k: datetime.date.fromisoformat(v) for k, v in DATES.items()}
    cycle = cycle_create(actor=hr, name="2027 H1", rubric_version=published, **dates)
    cycle_open(actor=hr, cycle=cycle)
    assert cycle.reviews.count() == Engineer.objects.with_manager().count() == 4


@pytest.mark.django_db
def test_an_unknown_team_is_named(hr: Any, published: Any) -> None:
    response = client_for(hr).post(
        "/api/cycles/",
        {
            "name": "2027 H1",
            "rubric": published.rubric.slug,
            "rubric_version": published.number,
            "teams": ["nowhere"],
            **DATES,
        },
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["teams"]
