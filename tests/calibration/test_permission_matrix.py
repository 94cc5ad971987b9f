"""Role × endpoint × session stage for calibration, appeals and process health.

The session "Payments H2" covers the Payments team: the facilitator runs it; Ada's and Ben's
manager takes part with his reports on the board; a second invited manager ("reader") has no
report in scope and reads along; HR observes. The director (skip-level, not invited), the
manager of another team and the engineers themselves are not in it and get a 404.

Each stage's world is built once for the module and rolled back after it; each test runs in
its own savepoint (see tests/reviews/test_permission_matrix).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from calibration.models import Appeal
from calibration.services import (
    appeal_create,
    session_close,
    session_create,
    session_lock,
    session_open,
)
from reviews.services import (
    cycle_add_engineer,
    rating_set_manager,
    rating_set_overall,
    review_finalize,
    review_submit_manager,
)
from tests.calibration.conftest import submit_for_calibration
from tests.factories import EngineerFactory, UserFactory
from tests.reviews.conftest import ALL_MIDPOINT, Org
from tests.reviews.test_permission_matrix import (
    ROLES,
    Endpoint,
    World,
    base_org,
    check,
    module_world,
    org_users,
)

CAL_ROLES = (*ROLES, "reader")  # "reader": an invited manager with no report in scope
IN_SESSION = ("manager", "reader", "facilitator", "hr")
NOT_IN_SESSION = tuple(r for r in CAL_ROLES if r not in IN_SESSION)
REVIEW_READERS = ("engineer", "manager", "director", "hr")  # of Ada's review

# scheduled  as created: the cycle in manager review, Ada's and Ben's reviews submitted;
# open       opened by the facilitator: both reviews on the board;
# waiting    open, and Cy's manager review came in since: Cy waits to join the board;
# locked     open, then locked;
# closed     open, then closed: the ratings written back;
# finalized  closed, the cycle in finalisation, Ada's review finalised and one of her
#            ratings appealed.
STAGES = ("scheduled", "open", "waiting", "locked", "closed", "finalized")
SESSION_STAGES = STAGES[:-1]


def rate_and_submit(org: Org, user: Any, delivery: int) -> None:
    review = org.review(user)
    rating_set_manager(
        actor=org.manager,
        review=review,
        ratings={
            **ALL_MIDPOINT,
            "delivery": {"rating": delivery, "justification": "Shipped the ledger"},
        },
    )
    rating_set_overall(actor=org.manager, review=review, overall=3, growth=4)
    review_submit_manager(actor=org.manager, review=review)


def build_calibration_world(stage: str) -> World:
    org, hr = base_org()
    team = org.review(org.engineer).team
    cy = UserFactory(username="cy", roles=["engineer"])
    cycle_add_engineer(
        actor=hr,
        cycle=org.cycle,
        engineer=EngineerFactory(user=cy, team=team, manager=org.manager),
    )
    for user in (org.engineer, org.peer, cy):
        submit_for_calibration(org, user)
    org.advance("manager_review")
    rate_and_submit(org, org.engineer, 4)
    rate_and_submit(org, org.peer, 5)
    users = org_users(org, hr)
    users["reader"] = UserFactory(username="reader", roles=["manager"])
    session = session_create(
        actor=hr,
        cycle=org.cycle,
        name="Payments H2",
        facilitator=users["facilitator"],
        managers=[org.manager, users["reader"]],
        observers=[hr],
        teams=[team],
    )
    facilitator = users["facilitator"]
    if stage != "scheduled":
        session = session_open(actor=facilitator, session=session)
    if stage == "waiting":
        rate_and_submit(org, cy, 3)
    if stage == "locked":
        session = session_lock(actor=facilitator, session=session)
    if stage in ("closed", "finalized"):
        session = session_close(actor=facilitator, session=session)
    ada = org.review(org.engineer)
    ids = {
        "session": session.pk,
        "cycle": org.cycle.pk,
        "review": ada.pk,
        "evidence": ada.evidence.get().pk,
        "appeal": 999_999,
    }
    if stage == "finalized":
        org.advance("finalisation")
        ada = review_finalize(actor=hr, review=ada)
        appeal = appeal_create(
            actor=org.engineer,
            review=ada,
            dimension_key="scope",
            reason="I owned the payouts roadmap for the whole half",
        )
        ids["appeal"] = appeal.pk
    return World(stage=stage, users=users, ids=ids)


@pytest.fixture(scope="module")
def world(
    request: pytest.FixtureRequest, django_db_setup: None, django_db_blocker: Any
) -> Iterator[World]:
    """The world at the stage a test names (indirectly); the open session unless it names one."""
    stage = getattr(request, "param", "open")
    yield from module_world(django_db_blocker, lambda: build_calibration_world(stage))


def by_stage(*codes: int) -> dict[str, int]:
    return dict(zip(SESSION_STAGES, codes, strict=True))


# ---- reading a session ---------------------------------------------------------------------

S = "/api/calibration/sessions/{session}"
SESSION_READS = {
    "detail": Endpoint("get", f"{S}/"),
    "board": Endpoint("get", f"{S}/board/"),
    "analytics": Endpoint("get", f"{S}/analytics/"),
    "adjustments": Endpoint("get", f"{S}/adjustments/"),
    "export": Endpoint("get", f"{S}/export.csv"),
}


@pytest.mark.parametrize("endpoint", SESSION_READS)
@pytest.mark.parametrize("role", IN_SESSION)
@pytest.mark.parametrize("world", ["scheduled", "open", "closed"], indirect=True)
def test_those_in_the_session_read_it(world: World, db: None, role: str, endpoint: str) -> None:
    check(world.call(role, *SESSION_READS[endpoint]), 200)


@pytest.mark.parametrize("endpoint", SESSION_READS)
@pytest.mark.parametrize("role", NOT_IN_SESSION)
def test_nobody_else_reads_it(world: World, db: None, role: str, endpoint: str) -> None:
    check(world.call(role, *SESSION_READS[endpoint]), 401 if role == "anonymous" else 404)


@pytest.mark.parametrize("role", [r for r in NOT_IN_SESSION if r != "anonymous"])
def test_a_hidden_session_answers_like_a_missing_one(world: World, db: None, role: str) -> None:
    hidden = world.call(role, "get", f"{S}/board/")
    missing = world.call(role, "get", "/api/calibration/sessions/999999/board/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


@pytest.mark.parametrize("role", CAL_ROLES)
def test_session_list(world: World, db: None, role: str) -> None:
    response = world.call(role, "get", "/api/calibration/sessions/")
    if role == "anonymous":
        check(response, 401)
        return
    check(response, 200)
    expected = ["Payments H2"] if role in IN_SESSION else []
    assert [s["name"] for s in response.json()] == expected


# ---- running a session, stage by stage --------------------------------------------------------

ADJUSTMENT = {
    "dimension": "delivery",
    "rating": 5,
    "rationale": "Led the ledger rewrite across two teams",
}
SESSION_WRITES = {
    "open": Endpoint("post", f"{S}/open/"),
    "lock": Endpoint("post", f"{S}/lock/"),
    "unlock": Endpoint("post", f"{S}/unlock/"),
    "close": Endpoint("post", f"{S}/close/"),
    "add reviews": Endpoint("post", f"{S}/reviews/", {}),
    "adjust": Endpoint(
        "post",
        f"{S}/adjustments/",
        lambda ids: {**ADJUSTMENT, "review": ids["review"], "evidence": [ids["evidence"]]},
    ),
    "pre-read": Endpoint(
        "post",
        f"{S}/prereads/",
        lambda ids: {"review": ids["review"], "text": "The ledger rewrite unblocked Search"},
    ),
}
RUN = ("facilitator",)
ADJUST = ("facilitator", "manager")  # the reader has no report in scope; HR observes
TAKE_PART = IN_SESSION  # pre-reads: every participant, observers too
# Who takes each step, and what they get in each stage; everyone else in the session: 403.
# by_stage(scheduled, open, waiting, locked, closed)
ACTORS: dict[str, tuple[tuple[str, ...], dict[str, int]]] = {
    "open": (RUN, by_stage(200, 409, 409, 409, 409)),
    "lock": (RUN, by_stage(409, 200, 200, 409, 409)),
    "unlock": (RUN, by_stage(409, 409, 409, 200, 409)),
    # While a review waits to join the board, the session does not close.
    "close": (RUN, by_stage(409, 200, 409, 200, 409)),
    "add reviews": (RUN, by_stage(409, 409, 200, 409, 409)),
    "adjust": (ADJUST, by_stage(409, 201, 201, 409, 409)),
    "pre-read": (TAKE_PART, by_stage(201, 201, 201, 409, 409)),
}


@pytest.mark.parametrize("endpoint", SESSION_WRITES)
@pytest.mark.parametrize("role", IN_SESSION)
@pytest.mark.parametrize("world", SESSION_STAGES, indirect=True)
def test_session_steps_by_those_in_it(world: World, db: None, role: str, endpoint: str) -> None:
    actors, codes = ACTORS[endpoint]
    expected = codes[world.stage] if role in actors else 403
    check(world.call(role, *SESSION_WRITES[endpoint]), expected)


@pytest.mark.parametrize("endpoint", SESSION_WRITES)
@pytest.mark.parametrize("role", NOT_IN_SESSION)
def test_session_steps_by_anyone_else(world: World, db: None, role: str, endpoint: str) -> None:
    check(world.call(role, *SESSION_WRITES[endpoint]), 401 if role == "anonymous" else 404)


ALLOWED_ACTIONS = {
    "scheduled": {
        "facilitator": ["add_preread", "open"],
        "manager": ["add_preread"],
        "reader": ["add_preread"],
        "hr": ["add_preread"],
    },
    "open": {
        "facilitator": ["add_preread", "add_reviews", "adjust", "close", "lock"],
        "manager": ["add_preread", "adjust"],
        "reader": ["add_preread"],
        "hr": ["add_preread"],
    },
    "locked": {"facilitator": ["close", "unlock"], "manager": [], "reader": [], "hr": []},
    "closed": {"facilitator": [], "manager": [], "reader": [], "hr": []},
}


@pytest.mark.parametrize("role", IN_SESSION)
@pytest.mark.parametrize("world", list(ALLOWED_ACTIONS), indirect=True)
def test_session_allowed_actions(world: World, db: None, role: str) -> None:
    response = world.call(role, "get", f"{S}/")
    check(response, 200)
    assert sorted(response.json()["allowed_actions"]) == ALLOWED_ACTIONS[world.stage][role]


# ---- scheduling a session ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 401),
        ("outsider", 403),
        ("engineer", 403),
        ("peer", 403),
        ("manager", 403),
        ("director", 403),
        ("other_manager", 403),
        ("facilitator", 201),
        ("reader", 403),
        ("hr", 201),
    ],
)
def test_schedule_a_session(world: World, db: None, role: str, expected: int) -> None:
    body = {"cycle": world.ids["cycle"], "name": "Second look"}  # facilitated by whoever asks
    check(world.call(role, "post", "/api/calibration/sessions/", body), expected)


# ---- the review's calibration history, appeals, process health ---------------------------------


@pytest.mark.parametrize("role", CAL_ROLES)
@pytest.mark.parametrize("world", ["scheduled", "finalized"], indirect=True)
def test_calibration_history(world: World, db: None, role: str) -> None:
    """Whoever sees the review sees its history; Ada only once her review is final (before,
    a 200 that says so). The facilitator does not see reviews outside the session."""
    response = world.call(role, "get", "/api/reviews/{review}/calibration-history/")
    if role == "anonymous":
        check(response, 401)
    elif role not in REVIEW_READERS:
        check(response, 404)
    else:
        check(response, 200)
        own_and_early = role == "engineer" and world.stage == "scheduled"
        assert response.json()["visible"] is not own_and_early


APPEAL = Endpoint(
    "post",
    "/api/reviews/{review}/appeals/",
    {"dimension": "delivery", "reason": "The ledger rewrite was staff-level scope"},
)


@pytest.mark.parametrize("role", CAL_ROLES)
@pytest.mark.parametrize("world", ["closed", "finalized"], indirect=True)
def test_appeal_a_rating(world: World, db: None, role: str) -> None:
    """Only Ada appeals, and only once her review is final (calibrated is not yet)."""
    if role == "anonymous":
        expected = 401
    elif role not in REVIEW_READERS:
        expected = 404
    elif role == "engineer":
        expected = 201 if world.stage == "finalized" else 409
    else:
        expected = 403
    check(world.call(role, *APPEAL), expected)


@pytest.mark.parametrize("role", CAL_ROLES)
@pytest.mark.parametrize("world", ["finalized"], indirect=True)
def test_appeal_list(world: World, db: None, role: str) -> None:
    response = world.call(role, "get", "/api/appeals/")
    if role == "anonymous":
        check(response, 401)
        return
    check(response, 200)
    mine = [world.ids["appeal"]] if role in ("engineer", "hr") else []
    assert [a["id"] for a in response.json()] == mine


@pytest.mark.parametrize("role", CAL_ROLES)
@pytest.mark.parametrize("world", ["finalized"], indirect=True)
def test_resolve_an_appeal(world: World, db: None, role: str) -> None:
    """HR alone; to anyone else an appeal does not exist, even to the engineer who made it."""
    body = {"outcome": "upheld", "resolution": "The rating matches the evidence on file"}
    response = world.call(role, "post", "/api/appeals/{appeal}/resolve/", body)
    check(response, {"anonymous": 401, "hr": 200}.get(role, 404))
    if role == "hr":
        assert Appeal.objects.get(pk=world.ids["appeal"]).status == "upheld"


@pytest.mark.parametrize("role", CAL_ROLES)
def test_cycle_health(world: World, db: None, role: str) -> None:
    # HR's report on the process: anyone else gets a 404, even those who see the cycle.
    response = world.call(role, "get", "/api/cycles/{cycle}/health/")
    check(response, {"anonymous": 401, "hr": 200}.get(role, 404))
