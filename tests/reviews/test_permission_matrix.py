"""Role × endpoint × review stage: who may read, who may act, and who gets a 404.

Every role asks every endpoint about Ada's review (Ada reports to the manager, who reports
to the director). The answers follow one rule: 401 without signing in; 404 for whoever may
not see the object, exactly as for one that does not exist; 403 with a sentence when they
see it but the step is someone else's; 409 when the step is theirs but not now.

A world takes ~0.1 s to build and the matrix has hundreds of cells, so each stage's world is
built once per module inside a transaction that is rolled back at the end; every test runs
in a savepoint inside it (pytest-django's `db`), so no request's writes reach the next test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import override_settings

from people.models import Engineer
from reviews.services import (
    evidence_add,
    rating_set_manager,
    rating_set_self,
    review_finalize,
    review_submit_manager,
    review_submit_self,
)
from rubrics.services import rubric_import
from tests.conftest import client_for, ladder
from tests.factories import EngineerFactory, UserFactory
from tests.reviews.conftest import ALL_MIDPOINT, Org, build_org

T = TypeVar("T")

ROLES = (
    "anonymous",
    "outsider",  # signed in, no role
    "engineer",  # Ada, whose review it is
    "peer",  # Ben, another report of the same manager
    "manager",  # Ada's manager
    "director",  # the manager's manager: reads, never rates
    "other_manager",  # manages someone on another team
    "facilitator",
    "hr",
)
REVIEW_READERS = ("engineer", "manager", "director", "hr")
NOT_READERS = tuple(r for r in ROLES if r not in REVIEW_READERS)


# ---- one world per stage, kept for the module ----------------------------------------------


def module_world(django_db_blocker: Any, build: Callable[[], T]) -> Iterator[T]:
    """Build a world once for a module; roll it back after the module's last test.

    Each test still runs in its own savepoint (pytest-django's `db`), so what a test writes
    is gone before the next one. Users are built with the fast hasher the per-test settings
    fixture would have chosen.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with override_settings(
                PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
            ):
                world = build()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    try:
        yield world
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@dataclass(frozen=True)
class World:
    stage: str
    users: dict[str, Any]
    ids: dict[str, Any]  # what URL templates and bodies name: {review}, {cycle}, ...

    def url(self, template: str) -> str:
        return template.format(**self.ids)

    def call(self, role: str, method: str, template: str, body: Any = None) -> Any:
        """`role` asks `template` (ids filled in); a callable body is given the ids."""
        if callable(body):
            body = body(self.ids)
        client = client_for(self.users[role])
        return getattr(client, method)(self.url(template), body, format="json")


class Endpoint(NamedTuple):
    method: str
    url: str
    body: Any = None  # JSON, or a function of the world's ids returning it


def check(response: Any, expected: int) -> None:
    """The exact status; an error is JSON with a sentence a person can act on (a 409 says
    where the object stands)."""
    assert response.status_code == expected, response.content[:400]
    if expected >= 400:
        body = response.json()
        assert body["message"], body
        if expected == 409:
            assert body["code"] == "conflict", body


def org_users(org: Org, hr: Any) -> dict[str, Any]:
    return {
        "anonymous": None,
        "outsider": UserFactory(username="outsider"),
        "engineer": org.engineer,
        "peer": org.peer,
        "manager": org.manager,
        "director": org.director,
        "other_manager": get_user_model().objects.get(username="other-manager"),
        "facilitator": UserFactory(username="fatima", roles=["facilitator"]),
        "hr": hr,
    }


def base_org() -> tuple[Org, Any]:
    """`build_org` without the per-test fixtures: HR, the published ladder, the opened cycle."""
    hr = UserFactory(username="hr-harriet", roles=["hr"])
    published = rubric_import(actor=hr, data=ladder(1), publish=True)
    return build_org(published, hr), hr


STAGES = ("self_review", "manager_review", "finalisation", "finalized")


def build_world(stage: str) -> World:
    """Ada's review at `stage`:

    self_review     draft, with one evidence item and every self rating (ready to submit);
    manager_review  self-submitted, every manager rating set (ready to submit);
    finalisation    manager-submitted, the cycle in finalisation (ready to finalise);
    finalized       finalised by HR.

    A late joiner (a new report of the manager) has no review in the cycle yet.
    """
    org, hr = base_org()
    ada = org.review(org.engineer)
    joiner = EngineerFactory(
        user=UserFactory(username="late-joiner", roles=["engineer"]),
        team=ada.team,
        manager=org.manager,
    )
    evidence = evidence_add(
        actor=org.engineer,
        review=ada,
        url="https://github.com/acme/pay/pull/1",
        title="Ledger rewrite",
        dimensions=["delivery"],
    )
    rating_set_self(actor=org.engineer, review=ada, ratings=ALL_MIDPOINT)
    peers_evidence = evidence_add(
        actor=org.peer,
        review=org.review(org.peer),
        url="https://github.com/acme/pay/pull/2",
        dimensions=["delivery"],
    )
    if stage != "self_review":
        review_submit_self(actor=org.engineer, review=org.review(org.engineer))
        org.advance("manager_review")
        rating_set_manager(actor=org.manager, review=org.review(org.engineer), ratings=ALL_MIDPOINT)
    if stage in ("finalisation", "finalized"):
        review_submit_manager(actor=org.manager, review=org.review(org.engineer))
        org.advance("finalisation")
    if stage == "finalized":
        review_finalize(actor=hr, review=org.review(org.engineer))
    return World(
        stage=stage,
        users=org_users(org, hr),
        ids={
            "review": ada.pk,
            "evidence": evidence.pk,
            "peers_evidence": peers_evidence.pk,
            "cycle": org.cycle.pk,
            "team": ada.team_id,
            "joiner": joiner.pk,
            "stranger": Engineer.objects.get(user=org.stranger).pk,
            "ada": ada.engineer_id,
        },
    )


@pytest.fixture(scope="module")
def world(
    request: pytest.FixtureRequest, django_db_setup: None, django_db_blocker: Any
) -> Iterator[World]:
    """The world at the stage a test names (indirectly); self-review unless it names one."""
    stage = getattr(request, "param", "self_review")
    yield from module_world(django_db_blocker, lambda: build_world(stage))


def by_stage(*codes: int) -> dict[str, int]:
    assert len(codes) == len(STAGES)
    return dict(zip(STAGES, codes, strict=True))


# ---- reading a review ----------------------------------------------------------------------

REVIEW_READS = {
    "detail": Endpoint("get", "/api/reviews/{review}/"),
    "evidence list": Endpoint("get", "/api/reviews/{review}/evidence/"),
    "score": Endpoint("get", "/api/reviews/{review}/score/"),
    "what-if": Endpoint("post", "/api/reviews/{review}/score/what-if/", {"ratings": {"scope": 4}}),
}


@pytest.mark.parametrize("endpoint", REVIEW_READS)
@pytest.mark.parametrize("role", ROLES)
def test_review_reads(world: World, db: None, role: str, endpoint: str) -> None:
    method, url, body = REVIEW_READS[endpoint]
    expected = 401 if role == "anonymous" else 200 if role in REVIEW_READERS else 404
    check(world.call(role, method, url, body), expected)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", None),
        ("outsider", []),
        ("engineer", ["ada"]),
        ("peer", ["ben"]),
        ("manager", ["ada", "ben", "manager"]),
        ("director", ["ada", "ben", "manager"]),  # the manager's own review, and skip-level
        ("other_manager", ["stranger"]),
        ("facilitator", []),
        ("hr", ["ada", "ben", "manager", "stranger"]),
    ],
)
def test_review_list_holds_only_visible_reviews(
    world: World, db: None, role: str, expected: list[str] | None
) -> None:
    response = world.call(role, "get", "/api/reviews/")
    if expected is None:
        check(response, 401)
        return
    check(response, 200)
    assert sorted(r["engineer"]["username"] for r in response.json()["results"]) == expected


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 401),
        ("outsider", 404),
        ("engineer", 200),
        ("peer", 200),  # same team: Ben's own review is in it
        ("manager", 200),
        ("director", 200),
        ("other_manager", 404),  # manages only on Search
        ("facilitator", 404),
        ("hr", 200),
    ],
)
def test_team_metrics(world: World, db: None, role: str, expected: int) -> None:
    check(world.call(role, "get", "/api/teams/{team}/metrics/"), expected)


# ---- acting on a review, stage by stage ------------------------------------------------------

REVIEW_WRITES = {
    "add evidence": Endpoint(
        "post",
        "/api/reviews/{review}/evidence/",
        {"url": "https://github.com/acme/pay/pull/77", "dimensions": ["delivery"]},
    ),
    "paste evidence": Endpoint(
        "post", "/api/reviews/{review}/evidence/paste/", {"text": "https://wiki.acme.io/ledger\n"}
    ),
    "edit evidence": Endpoint(
        "patch", "/api/reviews/{review}/evidence/{evidence}/", {"title": "The ledger rewrite"}
    ),
    "withdraw evidence": Endpoint(
        "post",
        "/api/reviews/{review}/evidence/{evidence}/withdraw/",
        {"reason": "Linked the wrong pull request"},
    ),
    "self ratings": Endpoint(
        "put", "/api/reviews/{review}/ratings/self/", {"ratings": ALL_MIDPOINT}
    ),
    "submit self": Endpoint("post", "/api/reviews/{review}/submit-self/"),
    "manager ratings": Endpoint(
        "put", "/api/reviews/{review}/ratings/manager/", {"ratings": ALL_MIDPOINT}
    ),
    "return": Endpoint("post", "/api/reviews/{review}/return/", {"reason": "Add the postmortem"}),
    "submit manager": Endpoint("post", "/api/reviews/{review}/submit-manager/"),
    "finalize": Endpoint("post", "/api/reviews/{review}/finalize/"),
    "acknowledge": Endpoint("post", "/api/reviews/{review}/acknowledge/"),
}

# Who takes each step, and what they get at each stage; whoever else sees the review: 403.
# by_stage(self_review, manager_review, finalisation, finalized)
ACTORS: dict[str, tuple[str, dict[str, int]]] = {
    "add evidence": ("engineer", by_stage(201, 409, 409, 409)),
    "paste evidence": ("engineer", by_stage(201, 409, 409, 409)),
    "edit evidence": ("engineer", by_stage(200, 409, 409, 409)),
    # Withdrawing (with a reason once submitted) stays open until the review is final.
    "withdraw evidence": ("engineer", by_stage(200, 200, 200, 409)),
    "self ratings": ("engineer", by_stage(200, 409, 409, 409)),
    "submit self": ("engineer", by_stage(200, 409, 409, 409)),
    "manager ratings": ("manager", by_stage(409, 200, 409, 409)),
    "return": ("manager", by_stage(409, 200, 409, 409)),
    "submit manager": ("manager", by_stage(409, 200, 409, 409)),
    "finalize": ("hr", by_stage(409, 409, 200, 409)),
    "acknowledge": ("engineer", by_stage(409, 409, 409, 200)),
}


def expected_for_review_write(stage: str, role: str, endpoint: str) -> int:
    actor, codes = ACTORS[endpoint]
    if role == "anonymous":
        return 401
    if role not in REVIEW_READERS:
        return 404
    return codes[stage] if role == actor else 403


@pytest.mark.parametrize("endpoint", REVIEW_WRITES)
@pytest.mark.parametrize("role", REVIEW_READERS)
@pytest.mark.parametrize("world", STAGES, indirect=True)
def test_review_writes_by_those_who_see_it(
    world: World, db: None, role: str, endpoint: str
) -> None:
    method, url, body = REVIEW_WRITES[endpoint]
    response = world.call(role, method, url, body)
    check(response, expected_for_review_write(world.stage, role, endpoint))


@pytest.mark.parametrize("endpoint", REVIEW_WRITES)
@pytest.mark.parametrize("role", NOT_READERS)
def test_review_writes_by_those_who_do_not_see_it(
    world: World, db: None, role: str, endpoint: str
) -> None:
    """The same answer at every stage: asked at the first one only."""
    method, url, body = REVIEW_WRITES[endpoint]
    response = world.call(role, method, url, body)
    check(response, expected_for_review_write(world.stage, role, endpoint))


# What the detail's "allowed_actions" offers each reader at each stage.
ALLOWED_ACTIONS = {
    "self_review": {
        "engineer": ["edit_self_review", "submit_self", "withdraw_evidence"],
        "manager": [],
        "director": [],
        "hr": [],
    },
    "manager_review": {
        "engineer": ["withdraw_evidence"],
        "manager": ["rate", "return_to_engineer", "submit_manager"],
        "director": [],
        "hr": [],
    },
    "finalisation": {
        "engineer": ["withdraw_evidence"],
        "manager": [],
        "director": [],
        "hr": ["finalize"],
    },
    "finalized": {
        "engineer": ["acknowledge", "appeal"],
        "manager": [],
        "director": [],
        "hr": ["change_on_appeal"],
    },
}


@pytest.mark.parametrize("role", REVIEW_READERS)
@pytest.mark.parametrize("world", STAGES, indirect=True)
def test_allowed_actions(world: World, db: None, role: str) -> None:
    response = world.call(role, "get", "/api/reviews/{review}/")
    check(response, 200)
    assert sorted(response.json()["allowed_actions"]) == ALLOWED_ACTIONS[world.stage][role]


@pytest.mark.parametrize("endpoint", ["detail", "score", "submit self", "add evidence"])
@pytest.mark.parametrize("role", [r for r in NOT_READERS if r != "anonymous"])
def test_a_hidden_review_answers_like_a_missing_one(
    world: World, db: None, role: str, endpoint: str
) -> None:
    method, url, body = {**REVIEW_READS, **REVIEW_WRITES}[endpoint]
    hidden = world.call(role, method, url, body)
    missing = world.call(role, method, url.replace("{review}", "999999"), body)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


@pytest.mark.parametrize("role", REVIEW_READERS)
@pytest.mark.parametrize(
    "endpoint",
    [
        Endpoint("patch", "/api/reviews/{review}/evidence/{peers_evidence}/", {"title": "x"}),
        Endpoint(
            "post",
            "/api/reviews/{review}/evidence/{peers_evidence}/withdraw/",
            {"reason": "Not mine"},
        ),
    ],
    ids=["edit", "withdraw"],
)
def test_evidence_is_reached_only_through_its_own_review(
    world: World, db: None, role: str, endpoint: Endpoint
) -> None:
    """Ben's evidence item, asked for under Ada's review, does not exist there."""
    check(world.call(role, *endpoint), 404)


# ---- cycles: HR's alone --------------------------------------------------------------------

CYCLE_BODY = {
    "name": "2027 H1",
    "rubric": "backend-engineering",
    "rubric_version": 1,
    "self_review_ends": "2027-05-01",
    "manager_review_ends": "2027-05-15",
    "calibration_ends": "2027-05-29",
    "finalisation_ends": "2027-06-12",
}
CYCLE_ACTIONS = {
    "create": Endpoint("post", "/api/cycles/", CYCLE_BODY),
    "open": Endpoint("post", "/api/cycles/{cycle}/open/"),
    "advance": Endpoint("post", "/api/cycles/{cycle}/advance/"),
    "reopen": Endpoint(
        "post", "/api/cycles/{cycle}/reopen/", {"reason": "Two self-reviews came in late"}
    ),
    "add engineer": Endpoint(
        "post", "/api/cycles/{cycle}/engineers/", lambda ids: {"engineer": ids["joiner"]}
    ),
    "recompute": Endpoint("post", "/api/cycles/{cycle}/recompute/"),
}
# HR's answer in each phase (self_review: the cycle was just opened; manager_review: advanced).
HR_CYCLE = {
    "self_review": {
        "create": 201,
        "open": 409,
        "advance": 200,
        "reopen": 409,  # nothing before self-review to reopen
        "add engineer": 201,
        "recompute": 202,
    },
    "manager_review": {
        "create": 201,
        "open": 409,
        "advance": 200,
        "reopen": 200,
        "add engineer": 201,
        "recompute": 202,
    },
}
# The cycle is visible to whoever sees a review in it, and to the facilitator (who schedules
# calibration sessions on it): not to the outsider.
CYCLE_VISIBLE = ("engineer", "peer", "manager", "director", "other_manager", "facilitator")
# Adding an engineer also needs the engineer to be visible: the late joiner is the manager's
# report, so only the manager and the director see them (and are then refused).
JOINER_VISIBLE = ("manager", "director")


def expected_for_cycle(stage: str, role: str, action: str) -> int:
    if role == "anonymous":
        return 401
    if role == "hr":
        return HR_CYCLE[stage][action]
    if action == "create":
        return 403  # no object to hide: every signed-in non-HR user is refused
    if role not in CYCLE_VISIBLE:
        return 404
    if action == "add engineer" and role not in JOINER_VISIBLE:
        return 404
    return 403


@pytest.mark.parametrize("action", CYCLE_ACTIONS)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("world", list(HR_CYCLE), indirect=True)
def test_cycle_actions(world: World, db: None, role: str, action: str) -> None:
    method, url, body = CYCLE_ACTIONS[action]
    response = world.call(role, method, url, body)
    check(response, expected_for_cycle(world.stage, role, action))


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", None),
        ("outsider", []),
        ("engineer", ["2026 H2"]),
        ("peer", ["2026 H2"]),
        ("manager", ["2026 H2"]),
        ("director", ["2026 H2"]),
        ("other_manager", ["2026 H2"]),
        ("facilitator", ["2026 H2"]),
        ("hr", ["2026 H2"]),
    ],
)
def test_cycle_list_holds_only_visible_cycles(
    world: World, db: None, role: str, expected: list[str] | None
) -> None:
    response = world.call(role, "get", "/api/cycles/")
    if expected is None:
        check(response, 401)
        return
    check(response, 200)
    assert [c["name"] for c in response.json()] == expected
    # One cycle: the same rule, and 404 for a cycle the person may not see.
    one = world.call(role, "get", "/api/cycles/{cycle}/")
    check(one, 200 if expected else 404)
