"""Engineer profiles have no API of their own: who may see an engineer shows wherever an
engineer is named by id (adding a late joiner to a cycle, nominating for promotion), and in
the admin. An engineer you may not see answers 404, exactly as one that does not exist.

The world is the reviews matrix's self-review world (see tests/reviews/test_permission_matrix),
built once for the module and rolled back after it; each test runs in its own savepoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from tests.factories import UserFactory
from tests.reviews.test_permission_matrix import ROLES, World, build_world, check, module_world

MISSING = 999_999


def build_people_world() -> World:
    world = build_world("self_review")
    viewer = UserFactory(username="admin-viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_engineer"))
    admins = {
        "staff": UserFactory(username="admin-staff", is_staff=True),  # no model permission
        "staff_viewer": viewer,
        "superuser": UserFactory(username="admin-super", is_staff=True, is_superuser=True),
    }
    return World(world.stage, {**world.users, **admins}, {**world.ids, "missing": MISSING})


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    yield from module_world(django_db_blocker, build_people_world)


# Who sees whom: themselves, their manager, their manager's manager and HR. The late joiner
# and Ada report to the manager; the stranger reports to the other manager, on another team.
# Adding to a cycle also needs the cycle to be visible (the outsider and the facilitator see
# none), and is HR's step; nominating is the direct manager's.
ADD_TO_CYCLE = {
    # (joiner, stranger, missing)
    "anonymous": (401, 401, 401),
    "outsider": (404, 404, 404),
    "engineer": (404, 404, 404),
    "peer": (404, 404, 404),
    "manager": (403, 404, 404),
    "director": (403, 404, 404),
    "other_manager": (404, 403, 404),
    "facilitator": (404, 404, 404),
    "hr": (201, 409, 404),  # the stranger already has a review in the cycle
}
NOMINATE = {
    # (ada, stranger, missing)
    "anonymous": (401, 401, 401),
    "outsider": (404, 404, 404),
    "engineer": (403, 404, 404),  # Ada sees herself; nobody nominates themselves
    "peer": (404, 404, 404),
    "manager": (201, 404, 404),
    "director": (403, 404, 404),  # reads the skip-level report; only the manager nominates
    "other_manager": (404, 201, 404),
    "facilitator": (404, 404, 404),
    "hr": (403, 403, 404),
}
TARGETS = {"add": ("joiner", "stranger", "missing"), "nominate": ("ada", "stranger", "missing")}


def add_to_cycle(world: World, role: str, target: str) -> Any:
    return world.call(
        role, "post", "/api/cycles/{cycle}/engineers/", {"engineer": world.ids[target]}
    )


def nominate(world: World, role: str, target: str) -> Any:
    body = {"engineer": world.ids[target], "cycle": world.ids["cycle"], "target_level": "L5"}
    return world.call(role, "post", "/api/promotions/", body)


@pytest.mark.parametrize("target", range(3), ids=TARGETS["add"])
@pytest.mark.parametrize("role", ROLES)
def test_add_an_engineer_to_a_cycle(world: World, db: None, role: str, target: int) -> None:
    check(add_to_cycle(world, role, TARGETS["add"][target]), ADD_TO_CYCLE[role][target])


@pytest.mark.parametrize("target", range(3), ids=TARGETS["nominate"])
@pytest.mark.parametrize("role", ROLES)
def test_nominate_an_engineer(world: World, db: None, role: str, target: int) -> None:
    check(nominate(world, role, TARGETS["nominate"][target]), NOMINATE[role][target])


@pytest.mark.parametrize(
    ("role", "call", "target"),
    [
        ("outsider", add_to_cycle, "joiner"),
        ("engineer", add_to_cycle, "joiner"),
        ("other_manager", add_to_cycle, "joiner"),
        ("manager", add_to_cycle, "stranger"),
        ("peer", nominate, "ada"),
        ("facilitator", nominate, "ada"),
        ("manager", nominate, "stranger"),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_a_hidden_engineer_answers_like_a_missing_one(
    world: World, db: None, role: str, call: Any, target: str
) -> None:
    hidden, missing = call(world, role, target), call(world, role, "missing")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


# ---- the admin: staff only, and then by model permission ------------------------------------

ADMIN_PAGES = {
    "changelist": "/admin/people/engineer/",
    "change": "/admin/people/engineer/{ada}/change/",
}


@pytest.mark.parametrize("page", ADMIN_PAGES)
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 302),  # to the admin's sign-in page
        ("hr", 302),  # a role in Levelset is not admin access
        ("staff", 403),
        ("staff_viewer", 200),
        ("superuser", 200),
    ],
)
def test_engineer_admin(world: World, db: None, page: str, role: str, expected: int) -> None:
    client = Client()
    if world.users[role] is not None:
        client.force_login(world.users[role])
    response = client.get(world.url(ADMIN_PAGES[page]))
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"].startswith("/admin/login/")


# ---- the organisation import: HR's alone (a dry run, so the world is left as it is) ---------

IMPORT_CSV = (
    "email,name,employee_id,team,manager_email,level,start_date,active\n"
    "matrix@acme.test,Matrix Person,,Payments,,L4,2021-03-01,true\n"
)
IMPORT = {
    "anonymous": (401, 302),
    "outsider": (403, 404),
    "engineer": (403, 404),
    "peer": (403, 404),
    "manager": (403, 404),
    "director": (403, 404),
    "other_manager": (403, 404),
    "facilitator": (403, 404),
    "hr": (200, 200),
}


@pytest.mark.parametrize("role", ROLES)
def test_organisation_import(world: World, db: None, role: str) -> None:
    api = world.call(
        role,
        "post",
        "/api/people/import/",
        {"content": IMPORT_CSV, "format": "csv", "dry_run": True},
    )
    check(api, IMPORT[role][0])
    client = Client()
    if world.users[role] is not None:
        client.force_login(world.users[role])
    assert client.get("/people/import/").status_code == IMPORT[role][1]
