"""The board's summary (its order, the whole board's figures, the reviews waiting to join it)
is kept in the cache, and the page renders its figures once per summary: every change to what
they show is seen at once, by the next request."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from calibration.services import session_create, session_open
from people.services import person_update
from reviews.services import (
    evidence_withdraw,
    rating_set_manager,
    rating_set_overall,
    review_submit_manager,
)
from tests.calibration.conftest import Calibration, submit_for_calibration
from tests.calibration.test_sessions import adjust, open_session, url
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.reviews.conftest import ALL_MIDPOINT, build_org

pytestmark = pytest.mark.django_db


def name(user: Any) -> str:
    return str(user.get_full_name() or user.get_username())


def counts(client: Any, cal: Any) -> dict[int, int]:
    """The distribution of composites by rating, from the analytics endpoint."""
    figures = client.get(url(cal, "analytics/")).json()
    return {b["rating"]: b["count"] for b in figures["distribution"]["buckets"] if b["count"]}


def page(user: Any, cal: Any) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/calibration/{cal.session.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_an_adjustment_shows_at_once(cal: Calibration) -> None:
    open_session(cal)
    facilitator = client_for(cal.facilitator)
    assert counts(facilitator, cal) == {3: 1, 4: 1}  # Ada 3.25, Ben 3.50
    assert "No change yet." in page(cal.facilitator, cal)
    assert "Led the ledger" not in facilitator.get(url(cal, "export.csv")).content.decode()
    review = cal.review(cal.org.engineer)
    made = adjust(facilitator, cal, review, evidence=[review.evidence.get().pk])
    assert made.status_code == 201, made.json()
    assert counts(facilitator, cal) == {4: 2}  # Ada 3.50 now
    html = page(cal.facilitator, cal)
    assert "No change yet." not in html and "Led the ledger rewrite across two teams" in html
    assert 'id="distribution-table"' in html and '<td>4</td><td class="num">2</td>' in html
    rows = facilitator.get(url(cal, "board/")).json()["rows"]
    assert next(r for r in rows if r["review"] == review.pk)["composite"] == "3.50"
    export = facilitator.get(url(cal, "export.csv")).content.decode()
    assert "delivery 4→5 — Led the ledger rewrite across two teams" in export


def test_an_evidence_change_shows_at_once(cal: Calibration) -> None:
    open_session(cal)
    facilitator = client_for(cal.facilitator)
    figures = facilitator.get(url(cal, "analytics/")).json()
    assert figures["outliers"] == []
    assert "badge flag" not in page(cal.facilitator, cal).split('id="board-table"')[1]
    ben = cal.review(cal.org.peer)  # rated 5 on delivery, backed by his one PR
    evidence_withdraw(actor=cal.org.peer, evidence=ben.evidence.get(), reason="Wrong PR")
    figures = facilitator.get(url(cal, "analytics/")).json()
    assert figures["outliers"] == [
        {
            "review": ben.pk,
            "engineer": name(cal.org.peer),
            "reasons": ["away from the midpoint without evidence: delivery"],
        }
    ]
    assert "1 flag" in page(cal.facilitator, cal)


def test_a_name_change_shows_at_once(cal: Calibration) -> None:
    open_session(cal)
    facilitator = client_for(cal.facilitator)
    assert "Ada Okafor" in page(cal.facilitator, cal)
    person_update(actor=cal.org.hr, user=cal.org.engineer, last_name="Okafor-Smith")
    html = page(cal.facilitator, cal)
    nine_box = html.split('id="nine-box"')[1].split("</section>")[0]
    assert "Ada Okafor-Smith" in nine_box
    rows = facilitator.get(url(cal, "board/")).json()["rows"]
    assert "Ada Okafor-Smith" in {r["engineer"] for r in rows}


@pytest.fixture
def preview(published: Any, hr: Any) -> Calibration:
    """A scheduled session over Ada and Ben: Ben's manager review submitted, Ada's rated
    (delivery 4) but not submitted, so the manager can still change it."""
    org = build_org(published, hr)
    for user in (org.engineer, org.peer):
        submit_for_calibration(org, user)
    org.advance("manager_review")
    for user in (org.engineer, org.peer):
        review = org.review(user)
        rate(org.manager, review, 4)
        rating_set_overall(actor=org.manager, review=review, overall=3, growth=4)
    review_submit_manager(actor=org.manager, review=org.review(org.peer))
    facilitator = UserFactory(username="fatima", roles=["facilitator"])
    session = session_create(
        actor=org.hr,
        cycle=org.cycle,
        name="Payments H2",
        facilitator=facilitator,
        managers=[org.manager],
        teams=[org.review(org.engineer).team],
    )
    return Calibration(org, facilitator, UserFactory(username="not-invited"), session)


def rate(manager: Any, review: Any, delivery: int) -> None:
    rating_set_manager(
        actor=manager,
        review=review,
        ratings={
            **ALL_MIDPOINT,
            "delivery": {"rating": delivery, "justification": "Shipped the ledger"},
        },
    )


def test_a_rating_change_shows_at_once_on_a_scheduled_board(preview: Calibration) -> None:
    facilitator = client_for(preview.facilitator)
    assert counts(facilitator, preview) == {3: 2}  # 3.25 each
    rate(preview.org.manager, preview.review(preview.org.engineer), 5)
    assert counts(facilitator, preview) == {3: 1, 4: 1}  # Ada 3.50
    rows = facilitator.get(url(preview, "board/")).json()["rows"]
    composites = {r["engineer"]: r["composite"] for r in rows}
    assert composites["Ada Okafor"] == "3.50" and composites[name(preview.org.peer)] == "3.25"


def test_a_review_leaving_the_board_shows_at_once(preview: Calibration) -> None:
    facilitator = client_for(preview.facilitator)
    board = facilitator.get(url(preview, "board/")).json()
    # Ada, Ben and their manager (not rated yet) are in scope.
    assert board["count"] == 3 and counts(facilitator, preview) == {3: 2}
    assert "Ada Okafor" in page(preview.facilitator, preview)
    # Opening puts only the submitted manager reviews on the board: Ada's leaves it.
    session_open(actor=preview.facilitator, session=preview.session)
    board = facilitator.get(url(preview, "board/")).json()
    assert board["count"] == 1 and [r["engineer"] for r in board["rows"]] == [
        name(preview.org.peer)
    ]
    assert counts(facilitator, preview) == {3: 1}
    html = page(preview.facilitator, preview)
    assert "Ada Okafor" not in html.split('id="board-table"')[1].split("</table>")[0]
    assert "Ada Okafor" not in html.split('id="nine-box"')[1].split("</section>")[0]


def test_each_viewer_has_their_own_figures(cal: Calibration) -> None:
    """The summary is kept per viewer: HR's groups by the HR attribute never reach anyone
    else, and a participant's own review stays off their board."""
    open_session(cal)
    hr_groups = client_for(cal.org.hr).get(url(cal, "analytics/")).json()["groups"]
    assert "hr_attribute" in hr_groups
    groups = client_for(cal.facilitator).get(url(cal, "analytics/")).json()["groups"]
    assert "hr_attribute" not in groups
    ada = client_for(cal.org.engineer)
    assert ada.get(url(cal, "analytics/")).status_code == 404


def test_the_board_comes_a_page_at_a_time(cal: Calibration) -> None:
    open_session(cal)
    facilitator = client_for(cal.facilitator)
    first = facilitator.get(url(cal, "board/"), {"page_size": 1}).json()
    assert first["count"] == 2 and first["previous"] is None and len(first["rows"]) == 1
    assert first["next"].endswith("page=2&page_size=1")
    second = facilitator.get(first["next"]).json()
    assert second["next"] is None and second["previous"] is not None
    whole = facilitator.get(url(cal, "board/")).json()
    assert whole["count"] == 2 and whole["next"] is None
    assert whole["rows"] == first["rows"] + second["rows"]  # in the board's order
    assert {r["engineer"] for r in whole["rows"]} == {"Ada Okafor", name(cal.org.peer)}
    assert facilitator.get(url(cal, "board/"), {"page": 3}).status_code == 404


def test_the_session_list_carries_the_summary_headline_only(cal: Calibration) -> None:
    open_session(cal)
    facilitator = client_for(cal.facilitator)
    # Open, the session has no figures yet: each is null, as the schema says.
    assert facilitator.get("/api/calibration/sessions/").json()[0]["summary"] == dict.fromkeys(
        ("reviews", "changed", "mean_before", "mean_after")
    )
    assert facilitator.post(url(cal, "close/")).status_code == 200
    listed = facilitator.get("/api/calibration/sessions/").json()[0]["summary"]
    assert listed == {"reviews": 2, "changed": 0, "mean_before": "3.38", "mean_after": "3.38"}
    detail = facilitator.get(url(cal)).json()["summary"]
    assert {r["engineer"] for r in detail["rows"]} == {"Ada Okafor", name(cal.org.peer)}
    assert {k: detail[k] for k in listed} == listed


def test_the_rows_shown_follow_pre_reads_and_the_session_state(cal: Calibration) -> None:
    """The page's rows are rendered once per content: a pre-read, or a lock that takes the
    adjustment forms away, shows at once."""
    open_session(cal)
    html = page(cal.facilitator, cal)
    assert "Adjust a rating for Ada Okafor" in html and "Ledger work was big" not in html
    review = cal.review(cal.org.engineer)
    facilitator = client_for(cal.facilitator)
    added = facilitator.post(
        url(cal, "prereads/"), {"review": review.pk, "text": "Ledger work was big"}, format="json"
    )
    assert added.status_code == 201, added.json()
    assert "Ledger work was big" in page(cal.facilitator, cal)
    assert facilitator.post(url(cal, "lock/")).status_code == 200
    html = page(cal.facilitator, cal)
    assert "Adjust a rating for Ada Okafor" not in html and "Ledger work was big" in html
