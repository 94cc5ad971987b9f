"""Trust under attack: nobody decides their own promotion or calibrates their own review,
only the right people take a seat, and nothing shows before its time."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest

from calibration.services import adjustment_make, session_close, session_create, session_open
from core.errors import ValidationFailed
from promotions.models import PromotionCase
from promotions.packets import packet_context
from promotions.services import case_nominate
from reviews.services import (
    evidence_add,
    rating_set_manager,
    rating_set_overall,
    rating_set_self,
    review_finalize,
    review_submit_manager,
    review_submit_self,
)
from tests.calibration.conftest import Calibration, cal  # noqa: F401
from tests.conftest import client_for
from tests.factories import EngineerFactory, TeamFactory, UserFactory
from tests.promotions.test_promotions import nominate, promo  # noqa: F401
from tests.reviews.conftest import ALL_MIDPOINT, Org, build_org, org  # noqa: F401

SENTENCE = "The linked work shows this clearly for the whole half."


# ---- promotion committees --------------------------------------------------------------------


def _ready_case(promo: dict[str, Any]) -> dict[str, Any]:
    org = promo["org"]
    case = nominate(promo)
    ids = [e.pk for e in promo["new"]] + [promo["old"].pk]
    for axis in ("scope", "complexity", "consistency"):
        client_for(org.manager).put(
            f"/api/promotions/{case['id']}/axes/{axis}/",
            {"rating": 4, "narrative": "Led the ledger rewrite across two teams.", "evidence": ids},
            format="json",
        )
    return case


@pytest.mark.parametrize(
    ("member", "accepted"),
    [
        ("ada", False),  # the engineer
        ("manager", False),  # the nominating manager
        ("ben", False),  # a peer engineer
        ("fatima", False),  # a facilitator runs sessions, not promotions
        ("staff-manager", True),  # a manager above the engineer's level
        ("junior-manager", False),  # a manager at the engineer's level
        ("committee-chair", True),  # appointed by HR
        ("hr-harriet", True),
    ],
)
def test_only_eligible_people_sit_on_a_committee(
    promo: dict[str, Any], member: str, accepted: bool
) -> None:
    org = promo["org"]
    UserFactory(username="fatima", roles=["facilitator"])
    team = TeamFactory(name="Search")
    for username, level in (("staff-manager", "L6"), ("junior-manager", "L4")):
        EngineerFactory(
            user=UserFactory(username=username, roles=["manager"]),
            team=team,
            manager=org.director,
            level_code=level,
        )
    case = _ready_case(promo)
    response = client_for(org.manager).post(
        f"/api/promotions/{case['id']}/submit/", {"committee": [member]}, format="json"
    )
    if accepted:
        assert response.status_code == 200, response.json()
        assert response.json()["committee"] == [member]
    else:
        assert response.status_code == 400
        assert "committee" in response.json()["errors"]
        assert PromotionCase.objects.get(pk=case["id"]).status == PromotionCase.Status.DRAFT


def test_the_case_page_offers_only_eligible_members(promo: dict[str, Any]) -> None:
    from django.test import Client

    org = promo["org"]
    case = _ready_case(promo)
    page = Client()
    page.force_login(org.manager)
    offered: set[str] = set()
    for user in (org.engineer, org.peer, org.manager, org.director, promo["committee"], org.hr):
        found = page.get(f"/promotions/{case['id']}/committee/", {"q": user.username})
        offered |= set(re.findall(r'name="committee" value="([^"]+)"', found.content.decode()))
    assert offered == {
        promo["committee"].username,
        org.hr.username,
    }  # not Ada, Ben or the nominator


def test_nobody_decides_a_case_they_nominated_even_as_hr(promo: dict[str, Any]) -> None:
    org = promo["org"]
    hr_manager = UserFactory(username="hr-manager", roles=["hr", "manager"])
    org.engineer.engineer.manager = hr_manager
    org.engineer.engineer.save()
    case = case_nominate(
        actor=hr_manager, engineer=org.engineer.engineer, cycle=org.cycle, target_level="L5"
    )
    detail = client_for(hr_manager).get(f"/api/promotions/{case.pk}/").json()
    assert "decide" not in detail["allowed_actions"]


# ---- seats in a calibration session -----------------------------------------------------------


@pytest.mark.parametrize("seat", ["facilitator", "managers", "observers"])
def test_hr_cannot_seat_an_engineer_in_a_session(cal: Calibration, seat: str) -> None:
    engineer = cal.org.peer
    seats: dict[str, Any] = {"facilitator": cal.facilitator, "managers": [], "observers": []}
    seats[seat] = engineer if seat == "facilitator" else [engineer]
    with pytest.raises(ValidationFailed) as refused:
        session_create(actor=cal.org.hr, cycle=cal.org.cycle, name="Seated", **seats)
    assert seat in refused.value.errors


# ---- nothing before its time ------------------------------------------------------------------


def test_the_engineer_sees_no_manager_rating_before_submission(org: Org) -> None:
    review = org.review(org.engineer)
    rating_set_self(actor=org.engineer, review=review, ratings=ALL_MIDPOINT)
    review_submit_self(actor=org.engineer, review=review)
    org.advance("manager_review")
    rating_set_manager(actor=org.manager, review=review, ratings=ALL_MIDPOINT)
    rating_set_overall(actor=org.manager, review=review, overall=4, growth=5)
    mine = client_for(org.engineer)
    detail = mine.get(f"/api/reviews/{review.pk}/").json()
    listed = next(r for r in mine.get("/api/reviews/").json()["results"] if r["id"] == review.pk)
    for body in (detail, listed):
        assert (body["overall_rating"], body["growth_rating"]) == (None, None)
        assert {r["manager_rating"] for r in body["ratings"]} == {None}
    manager_view = client_for(org.manager).get(f"/api/reviews/{review.pk}/").json()
    assert (manager_view["overall_rating"], manager_view["growth_rating"]) == (4, 5)
    review_submit_manager(actor=org.manager, review=review)
    after = mine.get(f"/api/reviews/{review.pk}/").json()
    assert (after["overall_rating"], after["growth_rating"]) == (4, 5)


@pytest.fixture
def own_review_on_board(published: Any, hr: Any) -> tuple[Org, Any, Any]:
    """The Payments board holds the manager's own review (rated by the director) beside
    Ada's; the manager takes part in the session. The facilitator changes both."""
    org = build_org(published, hr)
    for user in (org.engineer, org.manager):
        review = org.review(user)
        evidence_add(
            actor=user, review=review, url=f"https://x.example/{user}", dimensions=["delivery"]
        )
        rating_set_self(actor=user, review=review, ratings=ALL_MIDPOINT)
        review_submit_self(actor=user, review=review)
    org.advance("manager_review")
    for rater, user in ((org.manager, org.engineer), (org.director, org.manager)):
        review = org.review(user)
        rating_set_manager(actor=rater, review=review, ratings=ALL_MIDPOINT)
        review_submit_manager(actor=rater, review=review)
    facilitator = UserFactory(username="fatima", roles=["facilitator"])
    session = session_create(
        actor=hr,
        cycle=org.cycle,
        name="Payments H2",
        facilitator=facilitator,
        managers=[org.manager],
        teams=[org.review(org.engineer).team],
    )
    session = session_open(actor=facilitator, session=session)
    for user in (org.engineer, org.manager):
        review = org.review(user)
        adjustment_make(
            actor=facilitator,
            session=session,
            review=review,
            dimension_key="delivery",
            rating=4,
            rationale=SENTENCE,
            evidence_ids=list(review.evidence.values_list("pk", flat=True)),
        )
    return org, facilitator, session


def test_a_participant_never_sees_their_own_review_on_the_board(
    own_review_on_board: tuple[Org, Any, Any],
) -> None:
    org, facilitator, session = own_review_on_board
    base = f"/api/calibration/sessions/{session.pk}"
    own, ada = org.review(org.manager).pk, org.review(org.engineer).pk
    manager, everyone = client_for(org.manager), client_for(facilitator)
    assert {r["review"] for r in everyone.get(f"{base}/board/").json()["rows"]} == {own, ada}
    assert {r["review"] for r in manager.get(f"{base}/board/").json()["rows"]} == {ada}
    assert {a["review"] for a in manager.get(f"{base}/adjustments/").json()} == {ada}
    rows = list(csv.DictReader(io.StringIO(manager.get(f"{base}/export.csv").content.decode())))
    assert [int(r["review"]) for r in rows] == [ada]
    analytics = manager.get(f"{base}/analytics/").json()
    assert analytics["distribution"]["total"] == 1
    from django.test import Client

    page = Client()
    page.force_login(org.manager)
    html = page.get(f"/calibration/{session.pk}/").content.decode()
    assert f'id="review-{own}"' not in html and f'id="review-{ada}"' in html


def test_a_packet_shows_no_calibration_before_the_review_is_final(
    own_review_on_board: tuple[Org, Any, Any],
) -> None:
    org, facilitator, session = own_review_on_board
    session_close(actor=facilitator, session=session)
    case = PromotionCase.objects.create(
        engineer=org.engineer.engineer,
        cycle=org.cycle,
        current_level="L4",
        target_level="L5",
        nominated_by=org.manager,
    )
    # Calibrated, not yet final: the packet (which the engineer may read) shows no history.
    assert packet_context(case)["history"] == []
    org.advance("finalisation")
    review_finalize(actor=org.hr, review=org.review(org.engineer))
    [history] = packet_context(case)["history"]
    assert [e["what"] for e in history["events"]] == ["Delivery: 3 → 4"]


# ---- exports and links -------------------------------------------------------------------------


def test_the_calibration_export_neutralises_formulas(
    own_review_on_board: tuple[Org, Any, Any],
) -> None:
    from people.services import person_update

    org, facilitator, session = own_review_on_board
    person_update(actor=org.hr, user=org.engineer, first_name='=HYPERLINK("http://x.example")')
    body = client_for(facilitator).get(f"/api/calibration/sessions/{session.pk}/export.csv")
    rows = list(csv.DictReader(io.StringIO(body.content.decode())))
    names = {row["engineer"] for row in rows}
    assert '\'=HYPERLINK("http://x.example") Okafor' in names
    assert not any(value.startswith(("=", "+", "-", "@")) for row in rows for value in row.values())


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/acme/pay/pull/1\u200b",  # zero-width space
        "https://github.com/acme/pay/pull/\u202e1",  # right-to-left override
        "https://github.com/acme/\u2066pay/pull/1",  # left-to-right isolate
        "https://github.com/acme/pay/pull/1\x07",  # a control character
    ],
)
def test_links_with_invisible_or_control_characters_are_refused(org: Org, url: str) -> None:
    review = org.review(org.engineer)
    response = client_for(org.engineer).post(
        f"/api/reviews/{review.pk}/evidence/", {"url": url}, format="json"
    )
    assert response.status_code == 400 and "invisible" in response.json()["errors"]["url"][0]


def test_a_look_alike_host_is_flagged(org: Org) -> None:
    review = org.review(org.engineer)
    client = client_for(org.engineer)
    spoof = client.post(
        f"/api/reviews/{review.pk}/evidence/",
        {"url": "https://gіthub.com/acme/pay/pull/1"},  # a Cyrillic "і"
        format="json",
    ).json()
    assert "mixes writing systems (CYRILLIC, LATIN)" in spoof["warnings"][0]
    plain = client.post(
        f"/api/reviews/{review.pk}/evidence/",
        {"url": "https://github.com/acme/pay/pull/2"},
        format="json",
    ).json()
    assert plain["warnings"] == []
    from django.test import Client

    page = Client()
    page.force_login(org.engineer)
    assert "mixes writing systems" in page.get(f"/reviews/{review.pk}/").content.decode()
