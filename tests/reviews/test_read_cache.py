"""The cached review reads (list and score): served from the cache until review data changes,
never stale after a write, never shared between viewers, and the same as an uncached read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import readcache
from people.models import Engineer, Team
from people.services import engineer_update, person_update, team_update
from reviews.api import ReviewSerializer
from reviews.models import DimensionRating, Review
from reviews.selectors import reviews_for_user
from reviews.services import evidence_add, evidence_withdraw, rating_set_self
from tests.conftest import client_for
from tests.reviews.conftest import ALL_MIDPOINT, Org


def listed(user: Any, query: str = "") -> list[dict[str, Any]]:
    response = client_for(user).get(f"/api/reviews/{query}")
    assert response.status_code == 200, response.content
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def item(user: Any, review: Review) -> dict[str, Any]:
    return next(row for row in listed(user) if row["id"] == review.pk)


def queries_for(user: Any, url: str) -> int:
    client = client_for(type(user).objects.get(pk=user.pk))  # roles not yet looked up
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_a_repeated_read_is_served_from_the_cache(org: Org) -> None:
    review = org.review(org.engineer)
    for url in ("/api/reviews/", f"/api/reviews/{review.pk}/score/"):
        first = queries_for(org.manager, url)
        # Only the viewer's roles are looked up: nothing about reviews is queried again.
        assert queries_for(org.manager, url) == 1 < first


def test_cached_reads_equal_uncached_reads(org: Org, settings: Any) -> None:
    review = org.review(org.engineer)
    rating_set_self(actor=org.engineer, review=review, ratings=ALL_MIDPOINT)
    urls = ["/api/reviews/", "/api/reviews/?state=draft", f"/api/reviews/{review.pk}/score/"]
    for viewer in (org.engineer, org.manager, org.hr):
        client = client_for(viewer)
        cached = [client.get(url).json() for url in urls * 2]
        settings.LEVELSET_READ_CACHE = False
        fresh = [client.get(url).json() for url in urls]
        settings.LEVELSET_READ_CACHE = True
        assert cached == fresh * 2


def test_list_items_match_the_documented_serializer(org: Org, rf: Any) -> None:
    """The list builds its items from plain rows; they are what ReviewSerializer would give."""
    review = org.review(org.engineer)
    rating_set_self(actor=org.engineer, review=review, ratings=ALL_MIDPOINT)
    evidence_add(
        actor=org.engineer, review=review, url="https://x.example/pr/1", dimensions=["scope"]
    )
    for viewer in (org.engineer, org.manager, org.hr):
        request = rf.get("/api/reviews/")
        request.user = viewer
        expected = {
            r.pk: ReviewSerializer(r, context={"request": request}).data
            for r in reviews_for_user(viewer)
        }
        rows = listed(viewer)
        assert rows and {row["id"]: row for row in rows} == expected


def _rename(org: Org) -> None:
    person_update(actor=org.hr, user=org.engineer, last_name="Okafor-Reyes")


def _withdraw(org: Org) -> None:
    review = org.review(org.engineer)
    evidence_withdraw(actor=org.engineer, evidence=review.evidence.get(), reason="wrong link")


# Each write: who reads Ada's list item, what they read off it, the write, what they then see.
WRITES: dict[str, tuple[str, Callable[[dict[str, Any]], Any], Callable[[Org], Any], Any]] = {
    "self ratings (service)": (
        "manager",
        lambda row: {r["self_rating"] for r in row["ratings"]},
        lambda org: rating_set_self(
            actor=org.engineer, review=org.review(org.engineer), ratings=ALL_MIDPOINT
        ),
        {3},
    ),
    "self ratings, read by the skip-level (service)": (
        "director",
        lambda row: {r["self_rating"] for r in row["ratings"]},
        lambda org: rating_set_self(
            actor=org.engineer, review=org.review(org.engineer), ratings=ALL_MIDPOINT
        ),
        {3},
    ),
    "evidence (service)": (
        "engineer",
        lambda row: row["evidence_count"],
        lambda org: evidence_add(
            actor=org.engineer, review=org.review(org.engineer), url="https://x.example/a"
        ),
        1,
    ),
    "withdrawn evidence (service)": (
        "hr",
        lambda row: row["evidence_count"],
        _withdraw,
        0,
    ),
    "name (save)": ("manager", lambda row: row["engineer"]["name"], _rename, "Ada Okafor-Reyes"),
    "team (service)": (
        "hr",
        lambda row: row["team"]["name"],
        lambda org: team_update(
            actor=org.hr, team=Team.objects.get(name="Payments"), name="Payments Platform"
        ),
        "Payments Platform",
    ),
}


@pytest.mark.parametrize("write", WRITES)
def test_a_write_is_seen_by_the_next_read(org: Org, write: str) -> None:
    who, read, do, expected = WRITES[write]
    viewer, review = getattr(org, who), org.review(org.engineer)
    if write.startswith("withdrawn"):
        evidence_add(actor=org.engineer, review=review, url="https://x.example/w")
    before = read(item(viewer, review))  # now cached
    assert queries_for(viewer, "/api/reviews/") == 1
    do(org)
    assert read(item(viewer, review)) == expected != before


def test_a_write_keeps_the_entries_of_those_who_cannot_read_it(org: Org) -> None:
    """Ada's self-rating moves the reads of Ada, her manager, her skip-level and HR; Ben's list,
    Ben's score and the stranger's list are still served from the cache."""
    ben = org.review(org.peer)
    kept = [
        (org.peer, "/api/reviews/"),
        (org.peer, f"/api/reviews/{ben.pk}/score/"),
        (org.manager, f"/api/reviews/{ben.pk}/score/"),
        (org.stranger, "/api/reviews/"),
    ]
    moved = [(who, "/api/reviews/") for who in (org.engineer, org.manager, org.director, org.hr)]
    for viewer, url in kept + moved:
        queries_for(viewer, url)
    rating_set_self(actor=org.engineer, review=org.review(org.engineer), ratings=ALL_MIDPOINT)
    assert [queries_for(viewer, url) for viewer, url in kept] == [1] * len(kept)
    assert all(queries_for(viewer, url) > 1 for viewer, url in moved)


def test_a_write_that_changes_nothing_moves_nothing(org: Org) -> None:
    review = org.review(org.engineer)
    rating_set_self(actor=org.engineer, review=review, ratings=ALL_MIDPOINT)
    url = f"/api/reviews/{review.pk}/ratings/self/"
    scopes = (
        "all",
        "hr",
        f"review:{review.pk}",
        f"cycle:{review.cycle_id}",
        f"person:{org.engineer.pk}",
    )
    before = readcache.generations(*scopes)
    listed(org.manager)  # now cached
    response = client_for(org.engineer).put(url, {"ratings": ALL_MIDPOINT}, format="json")
    assert response.status_code == 200, response.content
    assert readcache.generations(*scopes) == before
    assert queries_for(org.manager, "/api/reviews/") == 1


def test_a_reorg_is_seen_at_once_by_skip_level_visibility(org: Org) -> None:
    ada = org.review(org.engineer)
    assert ada.pk in {row["id"] for row in listed(org.director)}
    # The manager moves under someone else: the director no longer sees their reports.
    engineer_update(actor=org.hr, engineer=Engineer.objects.get(user=org.manager), manager=org.hr)
    assert ada.pk not in {row["id"] for row in listed(org.director)}


def test_viewers_never_share_an_entry(org: Org) -> None:
    """The engineer does not see the manager's ratings before submission, even right after
    the manager read the same URL."""
    review = org.review(org.engineer)
    DimensionRating.objects.create(review=review, dimension_key="scope", manager_rating=4)
    assert item(org.manager, review)["ratings"][0]["manager_rating"] == 4
    assert item(org.engineer, review)["ratings"][0]["manager_rating"] is None
    url = f"/api/reviews/{review.pk}/score/"
    assert client_for(org.manager).get(url).status_code == 200
    assert client_for(org.peer).get(url).status_code == 404


def test_a_write_moves_the_generation_now_and_after_commit(
    org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    start = readcache.generation()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        team_update(actor=org.hr, team=Team.objects.get(name="Search"), name="Search & Discovery")
        assert readcache.generation() == start + 1  # at once, for the writer's own reads
    assert callbacks and readcache.generation() == start + 2  # and again once committed


def test_a_login_does_not_move_the_generation(org: Org) -> None:
    from django.contrib.auth.models import update_last_login

    start = readcache.generation()
    update_last_login(None, org.engineer)
    assert readcache.generation() == start


def test_the_browsable_api_is_rendered_afresh(org: Org) -> None:
    client = client_for(org.manager)
    assert client.get("/api/reviews/").status_code == 200
    page = client.get("/api/reviews/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
