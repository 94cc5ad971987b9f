"""The audit page and API cost the same however long the log grows: they page by event number
(keyset: "newer" / "older" on the page, cursors in the API), count nothing, and run the same
queries at N events as at 10×N. Walking the pages visits every matching event once, in order,
in both directions."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from audit.models import AuditEvent
from bench.audit import append_events
from tests.audit.actions import TEST_EVENT
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CALIBRATION_CODE = "calibration.adjustment.made"
REVIEWS_CODE = "reviews.review.self_submitted"


def grow_log(hr: Any, total: int) -> None:
    """Synthetic events until the log holds `total`: two people in turn, three actions of
    three areas in turn, targets `bench.*` (audit.record's chaining and hashing, in bulk)."""
    other = UserFactory(username="eng-otto")
    held = AuditEvent.objects.count()
    append_events(
        actor=hr,
        count=total - held,
        actors=[hr, other],
        codes=[CALIBRATION_CODE, REVIEWS_CODE, str(TEST_EVENT)],
    )


def newest_first(**filters: Any) -> list[int]:
    return list(AuditEvent.objects.filter(**filters).order_by("-seq").values_list("seq", flat=True))


def page_client(hr: Any) -> Client:
    client = Client()
    client.force_login(hr)
    return client


ROW = re.compile(r'<tr id="event-(\d+)"')
OLDER = re.compile(r'<a rel="next" href="\?([^"]*)">Older')
NEWER = re.compile(r'<a rel="prev" href="\?([^"]*)">← Newer')


def walk_page(client: Client, query: dict[str, str]) -> tuple[list[int], list[int]]:
    """Every event the page lists, following "Older →" from the newest page to the oldest,
    then "← Newer" back up: the numbers met on each way down and up."""
    down: list[int] = []
    html = client.get("/audit/", query).content.decode()
    pages = [html]
    while True:
        down += [int(n) for n in ROW.findall(html)]
        older = OLDER.search(html)
        if older is None:
            break
        html = client.get(f"/audit/?{older.group(1).replace('&amp;', '&')}").content.decode()
        pages.append(html)
    up: list[int] = []
    while True:
        up = [int(n) for n in ROW.findall(html)] + up
        newer = NEWER.search(html)
        if newer is None:
            break
        html = client.get(f"/audit/?{newer.group(1).replace('&amp;', '&')}").content.decode()
    return down, up


def walk_api(client: Any, query: dict[str, str]) -> tuple[list[int], list[int]]:
    """The same through the API: `next` to the end, then `previous` back to the start."""
    down: list[int] = []
    body = client.get("/api/audit/events/", query).json()
    assert "count" not in body  # nothing is counted
    while True:
        down += [e["seq"] for e in body["results"]]
        if body["next"] is None:
            break
        body = client.get(body["next"]).json()
    up: list[int] = []
    while True:
        up = [e["seq"] for e in body["results"]] + up
        if body["previous"] is None:
            break
        body = client.get(body["previous"]).json()
    return down, up


FILTERS: dict[str, tuple[dict[str, str], Callable[[Any], dict[str, Any]]]] = {
    "none": ({}, lambda hr: {}),
    "actor": ({"actor": "hr-harriet"}, lambda hr: {"actor_repr": "hr-harriet"}),
    "area": ({"area": "calibration"}, lambda hr: {"action__startswith": "calibration."}),
    "action": ({"action": REVIEWS_CODE}, lambda hr: {"action": REVIEWS_CODE}),
    "target type": ({"target_type": "bench.note"}, lambda hr: {"target_type": "bench.note"}),
    "target": (
        {"target_type": "bench.note", "target_id": "3"},
        lambda hr: {"target_type": "bench.note", "target_id": "3"},
    ),
    "actor and area": (
        {"actor": "eng-otto", "area": "reviews"},
        lambda hr: {"actor_repr": "eng-otto", "action__startswith": "reviews."},
    ),
}


@pytest.mark.parametrize("name", FILTERS)
def test_the_page_walks_every_matching_event_once_in_order(hr: Any, name: str) -> None:
    grow_log(hr, 400)
    query, expected = FILTERS[name]
    want = newest_first(**expected(hr))
    assert len(want) > 50 or name == "target"  # more than a page, except one target's history
    down, up = walk_page(page_client(hr), query)
    assert down == want
    assert up == want


@pytest.mark.parametrize("name", FILTERS)
def test_the_api_walks_every_matching_event_once_in_order(hr: Any, name: str) -> None:
    grow_log(hr, 400)
    query, expected = FILTERS[name]
    down, up = walk_api(client_for(hr), query)
    assert down == newest_first(**expected(hr))
    assert up == down


def test_the_page_says_how_many_events_the_log_holds_without_counting(
    hr: Any, django_assert_num_queries: Any
) -> None:
    grow_log(hr, 120)
    html = page_client(hr).get("/audit/").content.decode()
    assert "120 events in the log." in html
    assert "Events #120 to #71" in html
    assert "?before=71" in html and "Newer" not in html  # the newest page
    older = page_client(hr).get("/audit/", {"before": 71}).content.decode()
    assert "Events #70 to #21" in older
    assert "?after=70" in older and "?before=21" in older
    newer = page_client(hr).get("/audit/", {"after": 70}).content.decode()
    assert "Events #120 to #71" in newer and "?after=" not in newer


# The queries of each read, pinned (the same at N events and at 10×N): page (its session from the
# cache): user, roles, unread notifications (the navigation), the chain's status (the latest check,
# the newest event's number, a whole check under way), the page of events; from an event (`before` /
# `after`): whether there are events on the other side. API: roles, the page of events (the cursor
# says which side has more).
READS = {
    "page": ("/audit/", 7),
    "page, older": ("/audit/?before=40", 8),
    "page, newer": ("/audit/?after=40", 8),
    "page, actor": ("/audit/?actor=eng-otto", 7),
    "page, area": ("/audit/?area=calibration", 7),
    "page, action": (f"/audit/?action={REVIEWS_CODE}", 7),
    "page, target": ("/audit/?target_type=bench.note&target_id=3", 7),
    "page, days": ("/audit/?since=2020-01-01&until=2099-12-31", 7),
    "page, everything": (
        "/audit/?"
        + urlencode(
            {
                "actor": "eng-otto",
                "area": "reviews",
                "action": REVIEWS_CODE,
                "target_type": "bench.document",
                "since": "2020-01-01",
                "until": "2099-12-31",
                "before": "60",
            }
        ),
        8,
    ),
    "api": ("/api/audit/events/", 1),
    "api, older": ("/api/audit/events/?cursor=cD00MA%3D%3D", 1),  # p=40
    "api, newer": ("/api/audit/events/?cursor=cj0xJnA9NDA%3D", 1),  # r=1&p=40
    "api, actor": ("/api/audit/events/?actor=eng-otto", 1),
    "api, area": ("/api/audit/events/?area=calibration", 1),
    "api, action": (f"/api/audit/events/?action={REVIEWS_CODE}", 1),
    "api, target": ("/api/audit/events/?target_type=bench.note&target_id=3", 1),
    "api, moments": (
        "/api/audit/events/?since=2020-01-01T00:00Z&until=2099-12-31T00:00Z",
        1,
    ),
}


@pytest.mark.parametrize("size", [60, 600])
@pytest.mark.parametrize("read", READS)
def test_each_read_runs_the_same_queries_at_n_and_10n_events(
    hr: Any, read: str, size: int, django_assert_num_queries: Any
) -> None:
    grow_log(hr, size)
    url, queries = READS[read]
    client: Any = client_for(hr) if read.startswith("api") else page_client(hr)
    assert client.get(url).status_code == 200  # per-process caches warm
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200


def test_a_tampered_event_is_one_link_away_however_deep_in_the_log(hr: Any) -> None:
    from audit.tasks import verify_audit_chain
    from tests.audit.test_chain import tampering

    grow_log(hr, 300)
    with tampering() as cursor:
        cursor.execute("UPDATE audit_auditevent SET payload = %s WHERE seq = 7", ['{"x": 1}'])
    verify_audit_chain()
    html = page_client(hr).get("/audit/").content.decode()
    assert '<a href="?before=8#event-7">Go to event #7</a>' in html
    found = page_client(hr).get("/audit/", {"before": 8}).content.decode()
    assert '<tr id="event-7" class="tampered">' in found
