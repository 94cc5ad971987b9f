"""The reviews API: visibility per role, errors as JSON, the score and what-if endpoints."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reviews.models import Review, ScoreSnapshot
from reviews.services import evidence_add, rating_set_self, review_submit_self
from tests.conftest import client_for
from tests.factories import EngineerFactory
from tests.reviews.conftest import ALL_MIDPOINT, Org


def ids(response: Any) -> set[int]:
    return {r["id"] for r in response.json()["results"]}


def test_list_shows_only_what_each_role_may_see(org: Org) -> None:
    mine = org.review(org.engineer).pk
    peer = org.review(org.peer).pk
    manager_own = org.review(org.manager).pk
    stranger = org.review(org.stranger).pk
    assert ids(client_for(org.engineer).get("/api/reviews/")) == {mine}
    assert ids(client_for(org.manager).get("/api/reviews/")) == {mine, peer, manager_own}
    assert ids(client_for(org.director).get("/api/reviews/")) == {mine, peer, manager_own}
    assert ids(client_for(org.hr).get("/api/reviews/")) == {mine, peer, manager_own, stranger}
    assert client_for(None).get("/api/reviews/").status_code == 401


@pytest.mark.parametrize("who", ["peer", "stranger", "hr_anon"])
def test_detail_is_404_for_reviews_you_may_not_see(org: Org, who: str) -> None:
    review = org.review(org.engineer)
    user = {"peer": org.peer, "stranger": org.stranger, "hr_anon": None}[who]
    response = client_for(user).get(f"/api/reviews/{review.pk}/")
    assert response.status_code == (401 if user is None else 404)
    missing = client_for(user).get("/api/reviews/999999/")
    assert missing.status_code == response.status_code
    if user is not None:
        assert response.json() == missing.json()


def test_filters(org: Org) -> None:
    client = client_for(org.hr)
    team = org.review(org.engineer).team_id
    assert len(ids(client.get(f"/api/reviews/?team={team}"))) == 3
    assert len(ids(client.get(f"/api/reviews/?cycle={org.cycle.pk}&state=draft"))) == 4
    assert ids(client.get("/api/reviews/?state=finalized")) == set()
    bad = client.get("/api/reviews/?state=bogus")
    assert bad.status_code == 400 and "state" in bad.json()["errors"]


def test_engineer_flow_through_the_api(org: Org) -> None:
    review = org.review(org.engineer)
    client = client_for(org.engineer)
    url = f"/api/reviews/{review.pk}"
    added = client.post(
        f"{url}/evidence/",
        {
            "url": "https://github.com/acme/pay/pull/42",
            "title": "Idempotent payouts",
            "dimensions": ["reliability"],
            "contribution": "Designed and shipped it",
        },
        format="json",
    )
    assert added.status_code == 201 and added.json()["kind"] == "pull_request"
    bad = client.post(f"{url}/evidence/", {"url": "data:text/html,hi"}, format="json")
    assert bad.status_code == 400 and "Only http and https" in bad.json()["errors"]["url"][0]
    pasted = client.post(
        f"{url}/evidence/paste/",
        {"text": "https://wiki.acme.io/postmortems/p1\nnot a link\n"},
        format="json",
    )
    assert pasted.status_code == 201
    assert pasted.json()["accepted"] == 1 and pasted.json()["refused"] == 1
    assert pasted.json()["lines"][1]["line"] == 2
    rated = client.put(f"{url}/ratings/self/", {"ratings": ALL_MIDPOINT}, format="json")
    assert rated.status_code == 200
    etag = rated["ETag"]
    submitted = client.post(f"{url}/submit-self/")
    assert submitted.status_code == 200 and submitted.json()["state"] == "self_submitted"
    assert submitted["ETag"] != etag
    again = client.post(f"{url}/submit-self/")
    assert again.status_code == 409
    assert "Now the manager can return the self-review" in again.json()["message"]


def test_manager_rates_and_the_evidence_rule_is_a_400(org: Org) -> None:
    review = org.review(org.engineer)
    evidence_add(
        actor=org.engineer, review=review, url="https://x.example/pr/1", dimensions=["delivery"]
    )
    rating_set_self(actor=org.engineer, review=review, ratings=ALL_MIDPOINT)
    review_submit_self(actor=org.engineer, review=review)
    org.advance("manager_review")
    client = client_for(org.manager)
    url = f"/api/reviews/{review.pk}/ratings/manager/"
    refused = client.put(
        url, {"ratings": {"mentoring": {"rating": 5, "justification": "x"}}}, format="json"
    )
    assert refused.status_code == 400
    assert (
        "needs an evidence item tagged to Mentoring"
        in refused.json()["errors"]["ratings.mentoring"][0]
    )
    skip = client_for(org.director).put(url, {"ratings": ALL_MIDPOINT}, format="json")
    assert skip.status_code == 403
    ok = client.put(
        url,
        {"ratings": {**ALL_MIDPOINT, "delivery": {"rating": 5, "justification": "Ledger"}}},
        format="json",
    )
    assert ok.status_code == 200
    assert ScoreSnapshot.objects.filter(review=review).count() == 1
    # The engineer does not see the manager's ratings before the manager submits.
    own = client_for(org.engineer).get(f"/api/reviews/{review.pk}/").json()
    assert {r["manager_rating"] for r in own["ratings"]} == {None}
    assert client.post(f"/api/reviews/{review.pk}/submit-manager/").status_code == 200
    own = client_for(org.engineer).get(f"/api/reviews/{review.pk}/").json()
    assert {r["dimension"]: r["manager_rating"] for r in own["ratings"]}["delivery"] == 5


def test_score_and_what_if(org: Org) -> None:
    review = org.review(org.engineer)
    evidence_add(
        actor=org.engineer, review=review, url="https://x.example/pr/1", dimensions=["delivery"]
    )
    rating_set_self(
        actor=org.engineer,
        review=review,
        ratings={**ALL_MIDPOINT, "delivery": {"rating": 4, "justification": "Shipped"}},
    )
    client = client_for(org.engineer)
    body = client.get(f"/api/reviews/{review.pk}/score/").json()
    assert body["basis"] == "self" and body["advisory"] is True
    # (25·4 + 75·3) / 100 = 3.25
    assert body["composite"] == "3.25"
    delivery = next(t for t in body["terms"] if t["dimension"] == "delivery")
    assert delivery["self_rating"] == 4 and delivery["evidence_count"] == 1
    assert delivery["criteria"].startswith("Delivers multi-week projects")  # L4 criterion
    before = ScoreSnapshot.objects.count()
    what_if = client.post(
        f"/api/reviews/{review.pk}/score/what-if/",
        {"ratings": {"delivery": 5, "reliability": 1}},
        format="json",
    ).json()
    assert what_if["basis"] == "what_if" and what_if["composite"] == "3.00"
    assert what_if["gates"][0]["applied"] is True
    assert ScoreSnapshot.objects.count() == before
    bad = client.post(
        f"/api/reviews/{review.pk}/score/what-if/", {"ratings": {"delivery": 7}}, format="json"
    )
    assert bad.status_code == 400 and "ratings.delivery" in bad.json()["errors"]
    assert client_for(org.peer).get(f"/api/reviews/{review.pk}/score/").status_code == 404


@pytest.mark.parametrize(
    ("who", "method", "path", "expected"),
    [
        ("engineer", "post", "/api/cycles/", 403),
        ("manager", "post", "/api/cycles/OPEN/advance/", 403),
        ("engineer", "post", "/api/cycles/OPEN/advance/", 403),
        ("hr", "post", "/api/cycles/OPEN/advance/", 200),
        ("stranger", "post", "/api/reviews/REVIEW/submit-self/", 404),
        ("manager", "post", "/api/reviews/REVIEW/submit-self/", 403),
        ("hr", "post", "/api/reviews/REVIEW/finalize/", 409),
        ("manager", "post", "/api/reviews/REVIEW/finalize/", 403),
        ("engineer", "post", "/api/reviews/REVIEW/acknowledge/", 409),
        ("peer", "get", "/api/reviews/REVIEW/evidence/", 404),
        ("director", "get", "/api/reviews/REVIEW/evidence/", 200),
        ("director", "post", "/api/reviews/REVIEW/return/", 403),
    ],
)
def test_role_matrix(org: Org, who: str, method: str, path: str, expected: int) -> None:
    user = getattr(org, who)
    path = path.replace("OPEN", str(org.cycle.pk)).replace(
        "REVIEW", str(org.review(org.engineer).pk)
    )
    response = getattr(client_for(user), method)(
        path, {"name": "x"} if path.endswith("cycles/") else {}, format="json"
    )
    assert response.status_code == expected, response.json()
    if expected >= 400:
        assert response.json()["message"]


def test_team_metrics_visibility(org: Org) -> None:
    team = org.review(org.engineer).team_id
    assert client_for(org.engineer).get(f"/api/teams/{team}/metrics/").status_code == 200
    assert client_for(org.stranger).get(f"/api/teams/{team}/metrics/").status_code == 404
    body = client_for(org.hr).get(f"/api/teams/{team}/metrics/").json()
    assert body["metrics"] == [] and "Never an input" in body["note"]


def count_queries(user: Any, url: str) -> int:
    client = client_for(type(user).objects.get(pk=user.pk))
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_review_list_queries_do_not_grow_with_reviews(org: Org) -> None:
    few = count_queries(org.manager, "/api/reviews/")
    for _ in range(40):
        joiner = EngineerFactory(manager=org.manager)
        from reviews.services import cycle_add_engineer

        review = cycle_add_engineer(actor=org.hr, cycle=org.cycle, engineer=joiner)
        evidence_add(
            actor=joiner.user, review=review, url="https://x.example/a", dimensions=["scope"]
        )
        rating_set_self(actor=joiner.user, review=review, ratings=ALL_MIDPOINT)
    assert Review.objects.filter(manager=org.manager).count() == 42
    assert count_queries(org.manager, "/api/reviews/") == few
    review = org.review(org.engineer)
    assert count_queries(org.engineer, f"/api/reviews/{review.pk}/score/") <= 12


def test_manager_sets_overall_and_growth(org: Org) -> None:
    review = org.review(org.engineer)
    rating_set_self(actor=org.engineer, review=review, ratings=ALL_MIDPOINT)
    review_submit_self(actor=org.engineer, review=review)
    org.advance("manager_review")
    url = f"/api/reviews/{review.pk}/ratings/manager/"
    client = client_for(org.manager)
    bad = client.put(
        url, {"ratings": ALL_MIDPOINT, "overall_rating": 9, "growth_rating": 0}, format="json"
    )
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"overall_rating", "growth_rating"}
    assert not ScoreSnapshot.objects.exists()  # all or nothing: the ratings were not kept
    ok = client.put(
        url, {"ratings": ALL_MIDPOINT, "overall_rating": 3, "growth_rating": 4}, format="json"
    )
    assert ok.status_code == 200
    assert (ok.json()["overall_rating"], ok.json()["growth_rating"]) == (3, 4)
