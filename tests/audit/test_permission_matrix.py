"""Role × endpoint for the audit log: HR reads it and asks for it to be verified (202: the
check is queued); anyone else signed in is refused with a sentence (the log's existence is no
secret); without signing in, 401.

The world is the reviews matrix's self-review world (see tests/reviews/test_permission_matrix),
built once for the module and rolled back after it; each test runs in its own savepoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from audit.tasks import verify_audit_chain
from tests.reviews.test_permission_matrix import (
    ROLES,
    Endpoint,
    World,
    build_world,
    check,
    module_world,
)


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    yield from module_world(django_db_blocker, lambda: build_world("self_review"))


AUDIT_ENDPOINTS = {
    "events": Endpoint("get", "/api/audit/events/"),
    "filtered events": Endpoint("get", "/api/audit/events/?area=reviews"),
    "chain status": Endpoint("get", "/api/audit/chain/"),
    "verify chain": Endpoint("post", "/api/audit/chain/"),
}


@pytest.mark.parametrize("endpoint", AUDIT_ENDPOINTS)
@pytest.mark.parametrize("role", ROLES)
def test_audit_api(world: World, db: None, role: str, endpoint: str) -> None:
    response = world.call(role, *AUDIT_ENDPOINTS[endpoint])
    allowed = 202 if endpoint == "verify chain" else 200
    check(response, {"anonymous": 401, "hr": allowed}.get(role, 403))
    if role not in ("anonymous", "hr"):
        assert response.json()["message"] == "Only HR can read the audit log."


def test_hr_reads_the_whole_log_and_an_intact_chain(world: World, db: None) -> None:
    events = world.call("hr", "get", "/api/audit/events/").json()
    assert "reviews.cycle.opened" in {e["action"] for e in events["results"]}
    # Verifying is queued (202); the status shows the result once the worker ran the check.
    job = world.call("hr", "post", "/api/audit/chain/").json()
    assert job["state"] == "queued"
    verify_audit_chain(job["id"])
    assert world.call("hr", "get", "/api/audit/chain/").json()["ok"] is True
