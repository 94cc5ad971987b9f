"""The notifications API: your own only, unread count, marking read, preferences."""

from __future__ import annotations

from typing import Any

import pytest

from notify import registry
from notify.api import MAX_IDS
from notify.models import Notification
from tests.conftest import client_for
from tests.notify.conftest import tell_news
from tests.notify.kinds import NEWS, WAITING

pytestmark = pytest.mark.django_db

LIST = "/api/notifications/"
COUNT = "/api/notifications/unread-count/"
READ = "/api/notifications/read/"
PREFERENCES = "/api/notifications/preferences/"


@pytest.fixture
def told(engineer: Any, manager: Any) -> dict[str, list[int]]:
    for i in range(3):
        tell_news([engineer, manager], key=f"news:{i}", title=f"News {i}")
    return {
        name: list(
            Notification.objects.filter(recipient=user).order_by("pk").values_list("pk", flat=True)
        )
        for name, user in (("engineer", engineer), ("manager", manager))
    }


def test_the_list_is_mine_newest_first(engineer: Any, told: dict[str, list[int]]) -> None:
    body = client_for(engineer).get(LIST).json()
    assert body["count"] == 3
    assert [row["id"] for row in body["results"]] == told["engineer"][::-1]
    first = body["results"][0]
    assert first["title"] == "News 2" and first["url"] == "/reviews/"
    assert first["kind"] == "tests.news" and first["kind_label"] == NEWS.label  # type: ignore[attr-defined]
    assert first["unread"] is True and first["read_at"] is None


def test_unread_only(engineer: Any, told: dict[str, list[int]]) -> None:
    client = client_for(engineer)
    client.post(READ, {"ids": told["engineer"][:1]}, format="json")
    unread = client.get(LIST, {"unread": "true"}).json()
    assert [row["id"] for row in unread["results"]] == told["engineer"][:0:-1]
    read = client.get(LIST, {"unread": "false"}).json()
    assert [row["id"] for row in read["results"]] == told["engineer"][:1]
    assert client.get(LIST, {"unread": "maybe"}).status_code == 400


def test_the_list_takes_a_pinned_number_of_queries(
    engineer: Any, told: dict[str, list[int]], django_assert_num_queries: Any
) -> None:
    for i in range(20):
        tell_news([engineer], key=f"more:{i}")
    client = client_for(engineer)
    # count, page (token and session authentication read nothing for a forced user)
    with django_assert_num_queries(2):
        assert client.get(LIST).status_code == 200
    with django_assert_num_queries(2):
        assert client.get(LIST, {"unread": "true"}).status_code == 200


def test_unread_count(engineer: Any, manager: Any, told: dict[str, list[int]]) -> None:
    assert client_for(engineer).get(COUNT).json() == {"unread": 3}
    client_for(manager).post(READ, {"all": True}, format="json")
    assert client_for(manager).get(COUNT).json() == {"unread": 0}
    assert client_for(engineer).get(COUNT).json() == {"unread": 3}


def test_mark_read_by_ids_marks_only_mine(
    engineer: Any, manager: Any, told: dict[str, list[int]]
) -> None:
    ids = [told["engineer"][0], told["manager"][0]]
    response = client_for(engineer).post(READ, {"ids": ids}, format="json")
    assert response.status_code == 200
    assert response.json() == {"marked": 1, "unread": 2}
    assert Notification.objects.get(pk=told["manager"][0]).read_at is None
    again = client_for(engineer).post(READ, {"ids": ids}, format="json")
    assert again.json() == {"marked": 0, "unread": 2}


def test_mark_all_read(engineer: Any, manager: Any, told: dict[str, list[int]]) -> None:
    response = client_for(engineer).post(READ, {"all": True}, format="json")
    assert response.json() == {"marked": 3, "unread": 0}
    assert Notification.objects.filter(recipient=manager, read_at__isnull=True).count() == 3


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "non_field_errors"),
        ({"all": False}, "non_field_errors"),
        ({"ids": [1], "all": True}, "non_field_errors"),
        ({"ids": []}, "ids"),
        ({"ids": ["x"]}, "ids[0]"),
        ({"ids": [0]}, "ids[0]"),
        ({"ids": [2**63]}, "ids[0]"),
        ({"ids": list(range(1, MAX_IDS + 2))}, "ids"),
    ],
)
def test_mark_read_refuses_bad_input(engineer: Any, body: dict[str, Any], field: str) -> None:
    response = client_for(engineer).post(READ, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_mark_read_takes_up_to_500_ids(engineer: Any, told: dict[str, list[int]]) -> None:
    ids = [*told["engineer"], *range(10**6, 10**6 + MAX_IDS - 3)]
    response = client_for(engineer).post(READ, {"ids": ids}, format="json")
    assert response.json() == {"marked": 3, "unread": 0}


def test_anonymous_callers_are_refused(db: None) -> None:
    for path in (LIST, COUNT, PREFERENCES):
        assert client_for(None).get(path).status_code == 401
    assert client_for(None).post(READ, {"all": True}, format="json").status_code == 401


# ---- preferences ---------------------------------------------------------------------------


def test_preferences_list_every_kind(engineer: Any) -> None:
    body = client_for(engineer).get(PREFERENCES).json()
    kinds = {row["code"]: row for row in body["kinds"]}
    assert set(kinds) == {str(k) for k in registry.all_kinds()}
    assert kinds[str(NEWS)] == {
        "code": "tests.news",
        "label": NEWS.label,  # type: ignore[attr-defined]
        "essential": False,
        "on": True,
    }
    assert kinds[str(WAITING)]["essential"] is True and kinds[str(WAITING)]["on"] is True
    assert body["off"] == []


def test_switching_off_and_on(engineer: Any) -> None:
    client = client_for(engineer)
    response = client.put(PREFERENCES, {"off": [str(NEWS)]}, format="json")
    assert response.status_code == 200 and response.json()["off"] == [str(NEWS)]
    assert tell_news([engineer]) == 0
    assert client.put(PREFERENCES, {"off": []}, format="json").json()["off"] == []
    assert tell_news([engineer]) == 1


def test_an_essential_kind_cannot_be_switched_off(engineer: Any) -> None:
    response = client_for(engineer).put(
        PREFERENCES, {"off": [str(NEWS), str(WAITING)]}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "always on" in body["message"] and WAITING.label in body["message"]  # type: ignore[attr-defined]
    assert body["errors"] == {"off": ["always on: tests.waiting"]}
    assert client_for(engineer).get(PREFERENCES).json()["off"] == []  # nothing changed


def test_an_unknown_kind_is_refused(engineer: Any) -> None:
    response = client_for(engineer).put(PREFERENCES, {"off": ["no.such.kind"]}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"off": ["unknown: no.such.kind"]}


def test_preferences_are_bounded(engineer: Any) -> None:
    too_many = client_for(engineer).put(PREFERENCES, {"off": ["x"] * (MAX_IDS + 1)}, format="json")
    too_long = client_for(engineer).put(PREFERENCES, {"off": ["x" * 101]}, format="json")
    missing = client_for(engineer).put(PREFERENCES, {}, format="json")
    assert too_many.status_code == too_long.status_code == missing.status_code == 400
