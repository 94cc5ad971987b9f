"""Role × endpoint for team metrics: HR sends events and manages their sources; a team's
scorecard is read by HR and by whoever may see one of its engineers (its members, their
managers, the skip-level); anyone else gets the 404 of a team that does not exist; without
signing in, 401."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from metrics.models import DeliverySource
from tests.conftest import client_for
from tests.reviews.test_permission_matrix import (
    ROLES,
    Endpoint,
    World,
    build_world,
    check,
    module_world,
)

TEAM_READERS = ("engineer", "peer", "manager", "director", "hr")


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    yield from module_world(django_db_blocker, lambda: build_world("self_review"))


def a_change(ids: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {
            "kind": "change",
            "team": "Payments",
            "service": "api",
            "id": "c1",
            "at": "2026-03-02T10:00:00Z",
        }
    ]


ENDPOINTS = {
    "scorecard": (
        Endpoint("get", "/api/teams/{team}/scorecard/"),
        {r: 200 for r in TEAM_READERS},
        404,
    ),
    "send events": (Endpoint("post", "/api/metrics/events/", a_change), {"hr": 201}, 403),
    "list sources": (Endpoint("get", "/api/metrics/sources/"), {"hr": 200}, 403),
    "add a source": (Endpoint("post", "/api/metrics/sources/", {"name": "ci"}), {"hr": 201}, 403),
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("role", ROLES)
def test_metrics_api(world: World, db: None, role: str, endpoint: str) -> None:
    (method, url, body), allowed, refused = ENDPOINTS[endpoint]
    response = world.call(role, method, url, body)
    check(response, 401 if role == "anonymous" else allowed.get(role, refused))


@pytest.mark.parametrize("role", ROLES)
def test_revoking_a_source(world: World, db: None, role: str) -> None:
    source = DeliverySource.objects.create(
        name="ci", token_digest="0" * 64, owner=world.users["hr"]
    )
    response = world.call(role, "post", f"/api/metrics/sources/{source.pk}/revoke/")
    check(response, {"anonymous": 401, "hr": 200}.get(role, 404))
    source.refresh_from_db()
    assert (source.revoked_at is not None) == (role == "hr")


@pytest.mark.parametrize("role", ROLES)
def test_importing_events_from_a_file(world: World, db: None, role: str) -> None:
    upload = SimpleUploadedFile(
        "events.csv", b"kind,team,service,id,at\nchange,Payments,api,c1,2026-03-02T10:00:00Z\n"
    )
    response = client_for(world.users[role]).post(
        "/api/metrics/events/import/", {"file": upload}, format="multipart"
    )
    check(response, {"anonymous": 401, "hr": 201}.get(role, 403))
