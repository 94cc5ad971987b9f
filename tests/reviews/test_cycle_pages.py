"""HR runs a cycle from its pages: plan it for chosen teams, open it, see who is not done
before moving on, reopen a phase, add a late joiner, finalise reviews one by one or every
ready one at once. Anyone else finds nothing there (404), and nothing changes."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from people.models import Team
from reviews.models import Review, ReviewCycle
from reviews.services import (
    rating_set_manager,
    rating_set_overall,
    rating_set_self,
    review_submit_manager,
    review_submit_self,
)
from tests.factories import EngineerFactory, UserFactory
from tests.reviews.conftest import ALL_MIDPOINT, Org

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def plan(client: Client, published: Any, **changes: Any) -> Any:
    data = {
        "name": "2027 H1",
        "rubric_version": published.pk,
        "self_review_ends": "2027-01-08",
        "manager_review_ends": "2027-01-22",
        "calibration_ends": "2027-01-29",
        "finalisation_ends": "2027-02-05",
        **changes,
    }
    return client.post("/reviews/cycles/", data)


def through_manager_review(org: Org, *people: Any) -> None:
    for person in people:
        review = org.review(person)
        rating_set_self(actor=person, review=review, ratings=ALL_MIDPOINT)
        review_submit_self(actor=person, review=review)
    org.advance("manager_review")
    for person in people:
        review = org.review(person)
        rating_set_manager(actor=org.manager, review=review, ratings=ALL_MIDPOINT)
        rating_set_overall(actor=org.manager, review=review, overall=3, growth=3)
        review_submit_manager(actor=org.manager, review=review)


def test_hr_plans_a_cycle_for_one_team_and_opens_it(org: Org, published: Any) -> None:
    hr = signed_in(org.hr)
    payments = Team.objects.get(name="Payments")
    refused = plan(hr, published, teams=[payments.pk], calibration_ends="2026-12-01")
    assert refused.status_code == 400
    assert "phases must end in order" in refused.content.decode()
    assert not ReviewCycle.objects.filter(name="2027 H1").exists()

    created = plan(hr, published, teams=[payments.pk])
    cycle = ReviewCycle.objects.get(name="2027 H1")
    assert created.headers["Location"] == f"/reviews/cycles/{cycle.pk}/"
    assert list(cycle.teams.all()) == [payments]
    page = hr.get(f"/reviews/cycles/{cycle.pk}/").content.decode()
    assert "covers Payments." in page and "Open the self-review phase" in page

    hr.post(f"/reviews/cycles/{cycle.pk}/open/")
    cycle.refresh_from_db()
    assert cycle.phase == "self_review"
    assert set(cycle.reviews.values_list("team__name", flat=True)) == {"Payments"}


def test_before_moving_on_hr_sees_who_is_not_done(org: Org) -> None:
    through_manager_review(org, org.engineer)  # Ada done; Ben's self-review never came
    hr = signed_in(org.hr)
    warning = hr.get(f"/reviews/cycles/{org.cycle.pk}/advance/").content.decode()
    waiting = Review.objects.in_cycle(org.cycle).exclude(state="manager_submitted")
    assert waiting.count() >= 2  # Ben, and the others of the organisation
    assert f"{waiting.count()} reviews are not done for manager review." in warning
    ben = str(org.review(org.peer).engineer)
    assert ben in warning and "the engineer&#x27;s self-review" in warning
    assert str(org.review(org.engineer).engineer) not in warning
    moved = hr.post(f"/reviews/cycles/{org.cycle.pk}/advance/", follow=True)
    assert "2026 H2 is now in Calibration." in moved.content.decode()


def test_a_late_joiner_is_added_from_the_cycle_page(org: Org) -> None:
    joiner = UserFactory(username="late", first_name="Lee", last_name="Late", roles=["engineer"])
    engineer = EngineerFactory(user=joiner, team=org.review(org.engineer).team, manager=org.manager)
    hr = signed_in(org.hr)
    option = f'<option value="{engineer.pk}">Lee Late'
    assert option in hr.get(f"/reviews/cycles/{org.cycle.pk}/").content.decode()
    refused = hr.post(f"/reviews/cycles/{org.cycle.pk}/engineers/", {"engineer": 999999})
    assert refused.status_code == 400
    assert "Select a valid choice" in refused.content.decode()
    hr.post(f"/reviews/cycles/{org.cycle.pk}/engineers/", {"engineer": engineer.pk})
    assert Review.objects.filter(cycle=org.cycle, engineer=engineer).exists()
    assert option not in hr.get(f"/reviews/cycles/{org.cycle.pk}/").content.decode()


def test_hr_finalises_one_review_then_every_ready_one(org: Org) -> None:
    through_manager_review(org, org.engineer, org.peer)
    org.advance("finalisation")
    hr = signed_in(org.hr)
    page = hr.get(f"/reviews/cycles/{org.cycle.pk}/").content.decode()
    assert "Finalise all 2 ready" in page
    ada = org.review(org.engineer)
    hr.post(f"/reviews/{ada.pk}/finalise/")
    assert org.review(org.engineer).state == "finalized"
    assert org.review(org.peer).state == "manager_submitted"
    done = hr.post(f"/reviews/cycles/{org.cycle.pk}/finalise/", follow=True).content.decode()
    assert "Finalised 1 review(s) of 2026 H2." in done
    assert org.review(org.peer).state == "finalized"
    others = Review.objects.in_cycle(org.cycle).exclude(engineer__user__in=[org.engineer, org.peer])
    assert others.exists() and not others.filter(state="finalized").exists()


def test_the_cycle_page_lists_a_few_ready_reviews_and_counts_them_all(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("reviews.cycle_views.LISTED", 1)
    through_manager_review(org, org.engineer, org.peer)
    org.advance("finalisation")
    page = signed_in(org.hr).get(f"/reviews/cycles/{org.cycle.pk}/").content.decode()
    table = page[page.index('id="ready-table"') :]
    table = table[: table.index("</table>")]
    assert table.count("/finalise/") == 1  # one row listed, with its own button
    assert "Finalise all 2 ready" in page and "The first 1 of 2 are listed." in page


@pytest.mark.parametrize("who", ["manager", "engineer", "director"])
def test_cycle_pages_are_hr_only(org: Org, published: Any, who: str) -> None:
    client = signed_in(getattr(org, who))
    pk, review = org.cycle.pk, org.review(org.engineer).pk
    for url in (
        "/reviews/cycles/",
        f"/reviews/cycles/{pk}/",
        f"/reviews/cycles/{pk}/advance/",
        f"/reviews/cycles/{pk}/metrics/",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        "/reviews/cycles/",
        f"/reviews/cycles/{pk}/open/",
        f"/reviews/cycles/{pk}/advance/",
        f"/reviews/cycles/{pk}/reopen/",
        f"/reviews/cycles/{pk}/engineers/",
        f"/reviews/cycles/{pk}/finalise/",
        f"/reviews/{review}/finalise/",
    ):
        assert client.post(url, {"reason": "Because of the long holiday."}).status_code == 404
    assert ReviewCycle.objects.get(pk=pk).phase == "self_review"
    assert ReviewCycle.objects.count() == 1
