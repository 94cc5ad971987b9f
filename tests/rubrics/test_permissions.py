"""Role × endpoint: who may read, who may change, and who gets a 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rubrics.document import version_to_document
from rubrics.models import RubricVersion
from rubrics.selectors import with_content
from rubrics.services import rubric_import, version_create_draft, version_grant_draft_access
from tests.conftest import client_for, ladder
from tests.factories import UserFactory

BASE = "/api/rubrics/backend-engineering"
ROLES = ["anonymous", "outsider", "engineer", "manager", "facilitator", "hr"]
PREVIEW = {"ratings": {"delivery": 3}}


@pytest.fixture
def world(published: RubricVersion, hr: Any) -> dict[str, Any]:
    """v1 published, v2 an open draft; one user per role."""
    version_create_draft(actor=hr, rubric=published.rubric)
    users: dict[str, Any] = {"anonymous": None, "hr": hr}
    for role in ROLES[1:-1]:
        users[role] = UserFactory(
            username=f"perm-{role}", roles=[] if role == "outsider" else [role]
        )
    return users


READS = [
    ("get", "/api/rubrics/", None),
    ("get", f"{BASE}/", None),
    ("get", f"{BASE}/changelog/", None),
    ("get", f"{BASE}/versions/1/", None),
    ("get", f"{BASE}/versions/1/export.yaml", None),
    ("get", f"{BASE}/diff/?from=1&to=1", None),
    ("post", f"{BASE}/versions/1/score-preview/", PREVIEW),
    ("get", "/api/me/", None),
]
DRAFT_READS = [
    ("get", f"{BASE}/versions/2/", None),
    ("get", f"{BASE}/versions/2/lint/", None),
    ("get", f"{BASE}/diff/?from=1&to=2", None),
    ("post", f"{BASE}/versions/2/score-preview/", PREVIEW),
]
WRITES_ON_PUBLISHED = [
    ("post", f"{BASE}/versions/1/retire/", None),
    ("post", f"{BASE}/versions/1/approve/", None),
    ("post", f"{BASE}/versions/1/publish/", {"rationale": "x"}),
    ("post", f"{BASE}/versions/", None),
]
WRITES_ON_DRAFT = [
    ("put", f"{BASE}/versions/2/", "DOC"),
    ("post", f"{BASE}/versions/2/publish/", {"rationale": "Because"}),
    ("post", f"{BASE}/versions/2/draft-readers/", {"username": "perm-engineer"}),
]


def call(user: Any, method: str, url: str, data: Any) -> Any:
    if data == "DOC":
        data = ladder(2)
    return getattr(client_for(user), method)(url, data, format="json")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "url", "data"), READS)
def test_published_reads(
    world: dict[str, Any], role: str, method: str, url: str, data: Any
) -> None:
    response = call(world[role], method, url, data)
    assert response.status_code == (401 if role == "anonymous" else 200)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "url", "data"), DRAFT_READS)
def test_drafts_are_hidden_from_everyone_but_hr(
    world: dict[str, Any], role: str, method: str, url: str, data: Any
) -> None:
    response = call(world[role], method, url, data)
    expected = {"anonymous": 401, "hr": 200}.get(role, 404)
    assert response.status_code == expected


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "url", "data"), WRITES_ON_PUBLISHED)
def test_only_hr_may_change_a_visible_rubric(
    world: dict[str, Any], role: str, method: str, url: str, data: Any
) -> None:
    response = call(world[role], method, url, data)
    if role == "hr":
        # HR may try; the state decides (v1 is published, a draft is already open).
        assert response.status_code in (200, 409)
    else:
        assert response.status_code == (401 if role == "anonymous" else 403)
        assert response.json()["message"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "url", "data"), WRITES_ON_DRAFT)
def test_writes_on_a_draft(
    world: dict[str, Any], role: str, method: str, url: str, data: Any
) -> None:
    response = call(world[role], method, url, data)
    expected = {"anonymous": 401, "hr": (200, 204)}.get(role, 404)
    assert response.status_code in (expected if isinstance(expected, tuple) else (expected,))


def test_create_rubric_is_hr_only(world: dict[str, Any]) -> None:
    document = {**ladder(1), "rubric": "frontend"}
    for role in ROLES[:-1]:
        assert call(world[role], "post", "/api/rubrics/", document).status_code in (401, 403)
    assert call(world["hr"], "post", "/api/rubrics/", document).status_code == 201


def test_an_invited_reader_sees_the_draft_but_cannot_change_it(world: dict[str, Any]) -> None:
    draft = RubricVersion.objects.get(number=2)
    reader = world["engineer"]
    assert call(reader, "get", f"{BASE}/versions/2/", None).status_code == 404
    version_grant_draft_access(actor=world["hr"], version=draft, user=reader)
    reader = type(reader).objects.get(pk=reader.pk)  # fresh permission cache
    assert call(reader, "get", f"{BASE}/versions/2/", None).status_code == 200
    assert (
        call(reader, "post", f"{BASE}/versions/2/publish/", {"rationale": "x"}).status_code == 403
    )
    assert call(world["manager"], "get", f"{BASE}/versions/2/", None).status_code == 404


def test_unknown_rubric_and_hidden_rubric_look_the_same(world: dict[str, Any]) -> None:
    rubric_import(actor=world["hr"], data={**ladder(1), "rubric": "secret-draft"})
    engineer = world["engineer"]
    hidden = call(engineer, "get", "/api/rubrics/secret-draft/", None)
    missing = call(engineer, "get", "/api/rubrics/does-not-exist/", None)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert [r["slug"] for r in call(engineer, "get", "/api/rubrics/", None).json()] == [
        "backend-engineering"
    ]


def count_queries(user: Any, url: str) -> int:
    client = client_for(type(user).objects.get(pk=user.pk))  # no cached roles
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("role", ["engineer", "hr"])
def test_rubric_list_query_count_is_constant(world: dict[str, Any], role: str) -> None:
    user = world[role]
    few = count_queries(user, "/api/rubrics/")
    for n in range(6):
        rubric_import(actor=world["hr"], data={**ladder(1), "rubric": f"extra-{n}"}, publish=True)
    assert count_queries(user, "/api/rubrics/") == few <= 4


def test_version_detail_query_count_does_not_grow_with_content(world: dict[str, Any]) -> None:
    user = world["engineer"]
    small = count_queries(user, f"{BASE}/versions/1/")
    big = ladder(1)
    big["rubric"] = "big"
    big["levels"] += [{"code": f"X{i}", "name": f"Extra {i}"} for i in range(6)]
    for d in big["dimensions"]:
        d["criteria"].update({f"X{i}": "More" for i in range(6)})
    for i in range(4):
        extra = dict(big["dimensions"][3], key=f"extra_{i}", name=f"Extra {i}")
        big["dimensions"].append(extra)
    rubric_import(actor=world["hr"], data=big, publish=False)
    version = with_content(RubricVersion.objects).get(rubric__slug="big")
    assert len(version_to_document(version)["dimensions"]) == 10
    from rubrics.services import version_publish

    version_publish(actor=world["hr"], version=version, rationale="Big")
    assert count_queries(user, "/api/rubrics/big/versions/1/") == small <= 8
    assert count_queries(user, f"{BASE}/changelog/") == count_queries(
        user, "/api/rubrics/big/changelog/"
    )
