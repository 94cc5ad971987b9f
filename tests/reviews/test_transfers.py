"""Reorgs never rewrite history: a review keeps the team and level it was opened with; a move
to another manager during a cycle is recorded, the new manager rates what is not rated yet,
and the previous manager keeps reading it."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from notify.models import Notification
from people.models import Transfer
from people.services import engineer_update, org_import
from reviews.models import Review, ReviewHandover
from reviews.services import cycle_advance
from tests.conftest import client_for
from tests.factories import EngineerFactory, TeamFactory, UserFactory, open_cycle

HEADER = "email,name,employee_id,team,manager_email,level,start_date,active\n"


def _row(email: str, team: str, manager: str, level: str = "L4") -> str:
    name = email.split("@")[0].title()
    return f"{email},{name} Person,,{team},{manager},{level},2021-03-01,true\n"


@pytest.fixture
def org(hr: Any, published: Any) -> dict[str, Any]:
    payments, search = (
        TeamFactory(name="Payments", slug="payments"),
        TeamFactory(name="Search", slug="search"),
    )
    old = UserFactory(username="old", email="old@acme.test", roles=["manager"])
    new = UserFactory(username="new", email="new@acme.test", roles=["manager"])
    for boss, team in ((old, payments), (new, search)):
        EngineerFactory(user=boss, team=team, level_code="L6")
    ana = EngineerFactory(
        team=payments, manager=old, user=UserFactory(username="ana", email="ana@acme.test")
    )
    bo = EngineerFactory(
        team=payments, manager=old, user=UserFactory(username="bo", email="bo@acme.test")
    )
    cycle = open_cycle(hr, published, name="2027 H1", self_review_ends=datetime.date(2027, 1, 8))
    return {"old": old, "new": new, "ana": ana, "bo": bo, "cycle": cycle}


def _review(engineer: Any) -> Review:
    return Review.objects.get(engineer=engineer)


@pytest.mark.django_db
def test_an_import_move_hands_an_unrated_review_to_the_new_manager(
    hr: Any, org: dict[str, Any]
) -> None:
    ana_review = _review(org["ana"])
    assert ana_review.manager == org["old"]
    csv = HEADER + "".join(
        [
            _row("old@acme.test", "Payments", "", "L6"),
            _row("new@acme.test", "Search", "", "L6"),
            _row("ana@acme.test", "Search", "new@acme.test", "L5"),
            _row("bo@acme.test", "Payments", "old@acme.test"),
        ]
    )
    assert org_import(actor=hr, data=csv, fmt="csv").ok
    ana_review.refresh_from_db()
    # The review keeps the team and level it was opened with; the new manager rates it.
    assert (ana_review.team.name, ana_review.level_code) == ("Payments", "L4")
    assert ana_review.manager == org["new"]
    handover = ReviewHandover.objects.get(review=ana_review)
    assert (handover.from_manager, handover.to_manager, handover.rater_moved) == (
        org["old"],
        org["new"],
        True,
    )
    assert handover.transfer == Transfer.objects.get(engineer=org["ana"])
    told = Notification.objects.get(kind="reviews.review.handed_over")
    assert told.recipient == org["new"] and told.url == f"/reviews/{ana_review.pk}/"
    # Both managers read it; only the new one may rate.
    for who in ("old", "new"):
        response = client_for(org[who]).get(f"/api/reviews/{ana_review.pk}/")
        assert response.status_code == 200, who
    assert _review(org["bo"]).manager == org["old"]
    cycle_advance(actor=hr, cycle=org["cycle"])  # manager review
    ana_review.refresh_from_db()
    assert ana_review.is_managed_by(org["new"]) and not ana_review.is_managed_by(org["old"])


@pytest.mark.django_db
def test_a_rated_review_stays_with_the_manager_who_rated_it(hr: Any, org: dict[str, Any]) -> None:
    review = _review(org["ana"])
    Review.objects.filter(pk=review.pk).update(state=Review.State.MANAGER_SUBMITTED)
    engineer_update(actor=hr, engineer=org["ana"], manager=org["new"])
    review.refresh_from_db()
    assert review.manager == org["old"]
    handover = ReviewHandover.objects.get(review=review)
    assert handover.rater_moved is False
    assert not Notification.objects.filter(kind="reviews.review.handed_over").exists()
    assert client_for(org["new"]).get(f"/api/reviews/{review.pk}/").status_code == 200
    move = Transfer.objects.get(engineer=org["ana"])
    assert (move.source, move.from_manager, move.to_manager) == (
        Transfer.Source.HR,
        org["old"],
        org["new"],
    )


@pytest.mark.django_db
def test_a_level_change_alone_moves_no_review(hr: Any, org: dict[str, Any]) -> None:
    engineer_update(actor=hr, engineer=org["ana"], level_code="L5")
    assert Transfer.objects.filter(engineer=org["ana"]).count() == 1
    assert not ReviewHandover.objects.exists()
    assert _review(org["ana"]).level_code == "L4"
