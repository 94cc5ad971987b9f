"""The process pulse and the managers' confidence: answered once, after acknowledging, kept
apart from who answered; process health shows the means only for groups of five or more."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEvent
from calibration.health import understanding
from calibration.models import PulseAnswer, PulseReceipt
from calibration.services import pulse_answer
from core.errors import Conflict, Forbidden, ValidationFailed
from reviews.models import Review
from reviews.services import (
    rating_set_manager,
    rating_set_overall,
    rating_set_self,
    review_acknowledge,
    review_finalize,
    review_submit_manager,
    review_submit_self,
)
from tests.conftest import client_for
from tests.reviews.conftest import ALL_MIDPOINT, Org, build_org


def acknowledged(org: Org) -> Review:
    review = org.review(org.engineer)
    rating_set_self(actor=org.engineer, review=review, ratings=ALL_MIDPOINT)
    review_submit_self(actor=org.engineer, review=review)
    org.advance("manager_review")
    rating_set_manager(actor=org.manager, review=review, ratings=ALL_MIDPOINT)
    rating_set_overall(actor=org.manager, review=review, overall=3, growth=3, confidence=4)
    review_submit_manager(actor=org.manager, review=review)
    org.advance("finalisation")
    review_finalize(actor=org.hr, review=review)
    return review_acknowledge(actor=org.engineer, review=review)


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def org(published: Any, hr: Any) -> Org:
    return build_org(published, hr)


def test_the_engineer_answers_once_and_nothing_links_the_answer_to_them(org: Org) -> None:
    review = org.review(org.engineer)
    with pytest.raises(Conflict, match="once you have acknowledged"):
        pulse_answer(actor=org.engineer, review=review, answers={"explain": 4})
    review = acknowledged(org)
    with pytest.raises(Forbidden):
        pulse_answer(actor=org.manager, review=review, answers={"explain": 4})
    with pytest.raises(ValidationFailed) as caught:
        pulse_answer(actor=org.engineer, review=review, answers={"explain": 9, "mood": 3})
    assert set(caught.value.errors) == {"explain", "mood"}
    with pytest.raises(ValidationFailed, match="at least one"):
        pulse_answer(actor=org.engineer, review=review, answers={})
    pulse_answer(actor=org.engineer, review=review, answers={"explain": 4, "criteria": 2})
    with pytest.raises(Conflict, match="already"):
        pulse_answer(actor=org.engineer, review=review, answers={"explain": 5})
    answer = PulseAnswer.objects.get()
    assert (answer.explain, answer.criteria, answer.evidence) == (4, 2, None)
    # The answer holds no person, review or time; the receipt holds no answer.
    assert {f.name for f in PulseAnswer._meta.get_fields()} == {
        "id",
        "cycle",
        "explain",
        "criteria",
        "evidence",
    }
    assert {f.name for f in PulseReceipt._meta.get_fields()} == {"id", "review"}
    event = AuditEvent.objects.filter(action="calibration.pulse.answered").get()
    assert event.payload == {} and str(answer.pk) not in str(event.__dict__)


def test_the_pulse_page_from_the_acknowledged_review(org: Org) -> None:
    review = acknowledged(org)
    client = signed_in(org.engineer)
    page = client.get(f"/reviews/{review.pk}/").content.decode()
    assert f'href="/calibration/reviews/{review.pk}/pulse/"' in page
    url = f"/calibration/reviews/{review.pk}/pulse/"
    form = client.get(url).content.decode()
    assert "I can explain how I was evaluated" in form and 'id="pulse-form"' in form
    refused = client.post(url, {"explain": "7"}).content.decode()
    assert "Select a valid choice. 7 is not one of the available choices." in refused
    assert not PulseAnswer.objects.exists()
    response = client.post(url, {"explain": "5", "criteria": "4", "evidence": ""})
    assert response.status_code == 302
    assert 'id="pulse-answered"' in client.get(url).content.decode()
    assert signed_in(org.manager).get(url).status_code == 404
    assert signed_in(org.peer).get(url).status_code == 404


def test_means_are_shown_only_for_groups_of_five(org: Org) -> None:
    cycle = org.cycle
    for n in range(4):
        PulseAnswer.objects.create(cycle=cycle, explain=2 + n % 2, criteria=4, evidence=None)
    figures = understanding([cycle.pk])[cycle.pk]
    assert figures["pulse"] == {
        "answers": 4,
        "means": {"explain": None, "criteria": None, "evidence": None},
    }
    PulseAnswer.objects.create(cycle=cycle, explain=5, criteria=None, evidence=1)
    figures = understanding([cycle.pk])[cycle.pk]
    # explain: 2, 3, 2, 3, 5 → 3.0; criteria answered by four only: hidden; evidence by one.
    assert figures["pulse"]["answers"] == 5
    assert figures["pulse"]["means"] == {"explain": 3.0, "criteria": None, "evidence": None}


def test_managers_confidence_is_validated_kept_from_the_engineer_and_shown_in_aggregate(
    org: Org, hr: Any
) -> None:
    review = org.review(org.engineer)
    rating_set_self(actor=org.engineer, review=review, ratings=ALL_MIDPOINT)
    review_submit_self(actor=org.engineer, review=review)
    org.advance("manager_review")
    with pytest.raises(ValidationFailed) as caught:
        rating_set_overall(actor=org.manager, review=review, overall=3, growth=3, confidence=6)
    assert list(caught.value.errors) == ["manager_confidence"]
    response = client_for(org.manager).put(
        f"/api/reviews/{review.pk}/ratings/manager/",
        {"ratings": ALL_MIDPOINT, "overall_rating": 3, "manager_confidence": 2},
        format="json",
    )
    assert response.status_code == 200 and response.json()["manager_confidence"] == 2
    review_submit_manager(actor=org.manager, review=review)
    own = client_for(org.engineer).get(f"/api/reviews/{review.pk}/").json()
    assert own["overall_rating"] == 3 and own["manager_confidence"] is None
    assert understanding([org.cycle.pk])[org.cycle.pk]["manager_confidence"] == {
        "ratings": 1,
        "mean": None,
    }
    page = signed_in(hr).get(f"/calibration/cycles/{org.cycle.pk}/health/").content.decode()
    section = page[page.index('id="understanding"') :]
    assert "at least 5 answers" in section and "(1)" in section
