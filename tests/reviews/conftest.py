from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest

from reviews.models import Review, ReviewCycle
from reviews.services import cycle_advance, cycle_create, cycle_open
from tests.factories import EngineerFactory, TeamFactory, UserFactory

ALL_MIDPOINT = {
    key: {"rating": 3}
    for key in (
        "delivery",
        "technical_quality",
        "reliability",
        "collaboration",
        "mentoring",
        "scope",
    )
}


@dataclass
class Org:
    hr: Any
    director: Any
    manager: Any
    engineer: Any
    peer: Any
    stranger: Any
    cycle: ReviewCycle

    def review(self, who: Any) -> Review:
        return Review.objects.get(cycle=self.cycle, engineer__user=who)

    def advance(self, to: str) -> None:
        while self.cycle.phase != to:
            self.cycle = cycle_advance(actor=self.hr, cycle=self.cycle)


@pytest.fixture
def org(published: Any, hr: Any) -> Org:
    return build_org(published, hr)


def build_org(published: Any, hr: Any) -> Org:
    """Two teams, a director, a manager with two reports, and the cycle "2026 H2" opened."""
    team, other = TeamFactory(name="Payments"), TeamFactory(name="Search")
    director = UserFactory(username="director", roles=["manager"])
    manager = UserFactory(username="manager", roles=["manager"])
    EngineerFactory(user=manager, team=team, manager=director, level_code="L5")
    engineer = UserFactory(username="ada", first_name="Ada", last_name="Okafor", roles=["engineer"])
    EngineerFactory(user=engineer, team=team, manager=manager, level_code="L4")
    peer = UserFactory(username="ben", roles=["engineer"])
    EngineerFactory(user=peer, team=team, manager=manager, level_code="L3")
    other_manager = UserFactory(username="other-manager", roles=["manager"])
    stranger = UserFactory(username="stranger", roles=["engineer"])
    EngineerFactory(user=stranger, team=other, manager=other_manager)
    today = datetime.date(2026, 11, 1)
    cycle = cycle_create(
        actor=hr,
        name="2026 H2",
        rubric_version=published,
        self_review_ends=today,
        manager_review_ends=today + datetime.timedelta(days=14),
        calibration_ends=today + datetime.timedelta(days=28),
        finalisation_ends=today + datetime.timedelta(days=42),
    )
    cycle = cycle_open(actor=hr, cycle=cycle)
    return Org(hr, director, manager, engineer, peer, stranger, cycle)
