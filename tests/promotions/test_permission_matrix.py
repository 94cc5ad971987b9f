"""Role × endpoint × case stage for promotions: cases, packets, export jobs, batch exports.

The manager nominates Ada for L5 with evidence from two cycles; "committee-chair" sits on the
committee once the case is submitted. Who sees the case: the nominating manager, the
committee and HR; Ada once it is decided or shared with her; nobody else (404) — not the
director, who reads Ada's reviews but did not nominate her. Nobody decides their own case
or their own nomination.

Each stage's world is built once for the module and rolled back after it; each test runs in
its own savepoint (see tests/reviews/test_permission_matrix).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from calibration.services import session_create
from promotions.models import ExportJob
from promotions.services import (
    case_decide,
    case_nominate,
    case_share,
    case_submit,
    case_update,
    export_request,
)
from promotions.tasks import export_packet
from reviews.models import Review
from reviews.services import cycle_create, cycle_open, evidence_add
from tests.factories import UserFactory
from tests.reviews.test_permission_matrix import (
    ROLES,
    Endpoint,
    World,
    base_org,
    check,
    module_world,
    org_users,
)

PROMO_ROLES = (*ROLES, "committee")

# draft      nominated, every axis written with evidence (ready to submit);
# shared     the same draft, shared with Ada;
# submitted  submitted to the committee;
# decided    decided by the committee ("promoted"), its packet rendered.
STAGES = ("draft", "shared", "submitted", "decided")
SEES_CASE = {
    "draft": ("manager", "hr"),
    "shared": ("manager", "hr", "engineer"),
    "submitted": ("manager", "hr", "committee"),
    "decided": ("manager", "hr", "committee", "engineer"),
}
NARRATIVE = "Led the ledger rewrite across two teams."


def build_promotion_world(stage: str, media: Path) -> World:
    org, hr = base_org()
    earlier = cycle_create(
        actor=hr,
        name="2026 H1",
        rubric_version=org.cycle.rubric_version,
        self_review_ends=datetime.date(2026, 5, 1),
        manager_review_ends=datetime.date(2026, 5, 15),
        calibration_ends=datetime.date(2026, 5, 29),
        finalisation_ends=datetime.date(2026, 6, 12),
    )
    earlier = cycle_open(actor=hr, cycle=earlier)
    old = Review.objects.get(cycle=earlier, engineer__user=org.engineer)
    evidence = [
        evidence_add(
            actor=org.engineer,
            review=old,
            url="https://wiki.acme.io/postmortems/h1",
            title="H1 outage postmortem",
            dimensions=["reliability"],
        ),
        *(
            evidence_add(
                actor=org.engineer,
                review=org.review(org.engineer),
                url=f"https://github.com/acme/pay/pull/{n}",
                title=f"Ledger PR {n}",
                dimensions=["delivery", "scope"],
            )
            for n in (1, 2)
        ),
    ]
    users = org_users(org, hr)
    users["committee"] = UserFactory(username="committee-chair", roles=["committee"])
    case = case_nominate(
        actor=org.manager,
        engineer=org.engineer.engineer,
        cycle=org.cycle,
        target_level="L5",
    )
    for axis in ("scope", "complexity", "consistency"):
        case = case_update(
            actor=org.manager,
            case=case,
            axis=axis,
            rating=4,
            narrative=NARRATIVE,
            evidence_ids=[e.pk for e in evidence],
        )
    if stage == "shared":
        case = case_share(actor=org.manager, case=case)
    if stage in ("submitted", "decided"):
        case = case_submit(actor=org.manager, case=case, committee=[users["committee"]])
    if stage == "decided":
        case = case_decide(
            actor=users["committee"],
            case=case,
            outcome="promoted",
            feedback="Clear staff-level scope across two teams.",
        )
    # The manager asked for the packet; it is rendered (the worker's job, done here) only
    # once decided, so that there is a packet to download.
    job = export_request(actor=org.manager, case=case)
    if stage == "decided":
        with override_settings(MEDIA_ROOT=media):
            export_packet(str(job.id))
    # A scheduled session with nothing on its board: no case to export from it.
    session = session_create(
        actor=hr,
        cycle=org.cycle,
        name="Payments H2",
        facilitator=users["facilitator"],
        managers=[org.manager],
        observers=[hr],
    )
    return World(
        stage=stage,
        users=users,
        ids={"case": case.pk, "cycle": org.cycle.pk, "session": session.pk, "job": job.id},
    )


@pytest.fixture(scope="module")
def world(
    request: pytest.FixtureRequest,
    django_db_setup: None,
    django_db_blocker: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[World]:
    """The world at the stage a test names (indirectly); submitted unless it names one."""
    stage = getattr(request, "param", "submitted")
    media = tmp_path_factory.mktemp("media")
    yield from module_world(django_db_blocker, lambda: build_promotion_world(stage, media))


def by_stage(*codes: int) -> dict[str, int]:
    return dict(zip(STAGES, codes, strict=True))


# ---- the case ------------------------------------------------------------------------------

P = "/api/promotions/{case}"
CASE_ENDPOINTS = {
    "detail": Endpoint("get", f"{P}/"),
    "edit summary": Endpoint("patch", f"{P}/", {"summary": "Ready for **L5**."}),
    "edit axis": Endpoint("put", f"{P}/axes/scope/", {"rating": 5}),
    "submit": Endpoint("post", f"{P}/submit/", {"committee": ["committee-chair"]}),
    "decide": Endpoint(
        "post",
        f"{P}/decide/",
        {"outcome": "promoted", "feedback": "Clear staff-level scope across two teams."},
    ),
    "share": Endpoint("post", f"{P}/share/"),
    "export packet": Endpoint("post", f"{P}/packet/"),
}
ALWAYS = by_stage(200, 200, 200, 200)
# Who takes each step, and what they get at each stage; whoever else sees the case: 403.
# by_stage(draft, shared, submitted, decided)
ACTORS: dict[str, dict[str, dict[str, int]]] = {
    "detail": {role: ALWAYS for role in PROMO_ROLES},
    "edit summary": {"manager": by_stage(200, 200, 409, 409)},
    "edit axis": {"manager": by_stage(200, 200, 409, 409)},
    "submit": {"manager": by_stage(200, 200, 409, 409)},
    "decide": {
        "committee": by_stage(404, 404, 200, 409),  # seated (and seeing it) once submitted
        "hr": by_stage(409, 409, 200, 409),
    },
    "share": {"manager": ALWAYS, "hr": ALWAYS},
    # Every reader of the case may have its packet rendered (the job is queued: 202).
    "export packet": {role: by_stage(202, 202, 202, 202) for role in PROMO_ROLES},
}


def expected_for_case(stage: str, role: str, endpoint: str) -> int:
    if role == "anonymous":
        return 401
    if role not in SEES_CASE[stage]:
        return 404
    return ACTORS[endpoint].get(role, {}).get(stage, 403)


@pytest.mark.parametrize("endpoint", CASE_ENDPOINTS)
@pytest.mark.parametrize("role", PROMO_ROLES)
@pytest.mark.parametrize("world", STAGES, indirect=True)
def test_case_endpoints(world: World, db: None, role: str, endpoint: str) -> None:
    response = world.call(role, *CASE_ENDPOINTS[endpoint])
    check(response, expected_for_case(world.stage, role, endpoint))


@pytest.mark.parametrize("role", PROMO_ROLES)
@pytest.mark.parametrize("world", STAGES, indirect=True)
def test_case_list(world: World, db: None, role: str) -> None:
    response = world.call(role, "get", "/api/promotions/")
    if role == "anonymous":
        check(response, 401)
        return
    check(response, 200)
    expected = [world.ids["case"]] if role in SEES_CASE[world.stage] else []
    assert [c["id"] for c in response.json()["results"]] == expected


ALLOWED_ACTIONS = {
    "draft": {"manager": ["edit", "export", "share", "submit"], "hr": ["export", "share"]},
    "shared": {
        "manager": ["edit", "export", "share", "submit"],
        "hr": ["export", "share"],
        "engineer": ["export"],
    },
    "submitted": {
        "manager": ["export", "share"],  # never "decide": his own nomination
        "hr": ["decide", "export", "share"],
        "committee": ["decide", "export"],
    },
    "decided": {
        "manager": ["export", "share"],
        "hr": ["export", "share"],
        "committee": ["export"],
        "engineer": ["export"],
    },
}


@pytest.mark.parametrize("role", ["engineer", "manager", "committee", "hr"])
@pytest.mark.parametrize("world", STAGES, indirect=True)
def test_case_allowed_actions(world: World, db: None, role: str) -> None:
    response = world.call(role, "get", f"{P}/")
    if role not in SEES_CASE[world.stage]:
        check(response, 404)
        return
    check(response, 200)
    assert sorted(response.json()["allowed_actions"]) == ALLOWED_ACTIONS[world.stage][role]


@pytest.mark.parametrize("role", ["outsider", "peer", "director", "other_manager", "facilitator"])
def test_a_hidden_case_answers_like_a_missing_one(world: World, db: None, role: str) -> None:
    hidden = world.call(role, "get", f"{P}/")
    missing = world.call(role, "get", "/api/promotions/999999/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


# ---- packets and export jobs ---------------------------------------------------------------


@pytest.mark.parametrize("role", PROMO_ROLES)
@pytest.mark.parametrize("world", ["decided"], indirect=True)
def test_packet_download(world: World, db: None, role: str) -> None:
    """Every reader of the decided case downloads its packet; nobody else learns it exists."""
    response = world.call(role, "get", f"{P}/packet.pdf")
    if role == "anonymous":
        check(response, 401)
    elif role in SEES_CASE["decided"]:
        check(response, 200)
        # Read to the end, as a server would: that closes the file (and the test client then
        # keeps the database connection open).
        assert response.getvalue().startswith(b"%PDF")
    else:
        check(response, 404)


@pytest.mark.parametrize("role", PROMO_ROLES)
@pytest.mark.parametrize("world", ["decided"], indirect=True)
def test_export_job_status(world: World, db: None, role: str) -> None:
    """HR and whoever asked (the manager); not even the case's other readers."""
    response = world.call(role, "get", "/api/exports/{job}/")
    check(response, {"anonymous": 401, "hr": 200, "manager": 200}.get(role, 404))
    if response.status_code == 200:
        assert response.json()["status"] == ExportJob.Status.DONE


# The cycle is visible to whoever sees a review in it and to facilitators; the session to its
# facilitator, participants and HR. Bulk exports are HR's:
# the cycle has a case (202, queued); the session's board is empty, so it has none (409).
BATCH = {
    # (cycle, session)
    "anonymous": (401, 401),
    "outsider": (404, 404),
    "engineer": (403, 404),
    "peer": (403, 404),
    "manager": (403, 403),
    "director": (403, 404),
    "other_manager": (403, 404),
    "facilitator": (403, 403),
    "committee": (404, 404),
    "hr": (202, 409),
}


@pytest.mark.parametrize(
    ("column", "url"),
    [(0, "/api/cycles/{cycle}/packets/"), (1, "/api/calibration/sessions/{session}/packets/")],
    ids=["cycle", "session"],
)
@pytest.mark.parametrize("role", PROMO_ROLES)
def test_batch_exports(world: World, db: None, role: str, column: int, url: str) -> None:
    check(world.call(role, "post", url), BATCH[role][column])
