"""SCIM 2.0 provisioning: an identity provider creates, finds, updates, moves and deactivates
people, and manages teams as groups, with an HR account's API token."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from audit.models import AuditEvent
from people.models import Engineer, Team, Transfer
from people.services import token_issue
from tests.factories import EngineerFactory, TeamFactory, UserFactory

SCIM = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LEVELSET = "urn:ietf:params:scim:schemas:extension:levelset:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class Idp:
    """An identity provider's SCIM client."""

    def __init__(self, token: str) -> None:
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def __call__(self, method: str, path: str, body: Any = None) -> Any:
        call = getattr(self.client, method)
        if body is None:
            return call(f"/scim/v2/{path}")
        return call(f"/scim/v2/{path}", json.dumps(body), content_type=SCIM)


@pytest.fixture
def idp(hr: Any) -> Idp:
    _, token = token_issue(actor=hr)
    return Idp(token)


def _user(**extra: Any) -> dict[str, Any]:
    return {
        "schemas": [USER, ENTERPRISE, LEVELSET],
        "userName": "ana@acme.test",
        "name": {"givenName": "Ana", "familyName": "Lima"},
        "emails": [{"value": "ana@acme.test", "primary": True, "type": "work"}],
        "active": True,
        ENTERPRISE: {"employeeNumber": "E1", "department": "Payments"},
        LEVELSET: {"level": "L4", "startDate": "2021-03-01"},
        **extra,
    }


@pytest.mark.django_db
def test_create_find_and_read_a_user(idp: Idp) -> None:
    created = idp("post", "Users", _user())
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["userName"] == "ana@acme.test" and body["active"] is True
    assert body[ENTERPRISE]["department"] == "Payments"
    assert body[LEVELSET] == {"level": "L4", "startDate": "2021-03-01"}
    assert body["groups"][0]["display"] == "Payments"
    engineer = Engineer.objects.select_related("user", "team").get()
    assert (engineer.user.first_name, engineer.team.name, engineer.employee_id) == (
        "Ana",
        "Payments",
        "E1",
    )
    found = idp("get", 'Users?filter=userName eq "ana@acme.test"')
    assert found.status_code == 200
    assert [r["id"] for r in found.json()["Resources"]] == [body["id"]]
    assert idp("get", f"Users/{body['id']}").json()["name"]["familyName"] == "Lima"
    assert AuditEvent.objects.filter(action="people.person.created").count() == 1


@pytest.mark.django_db
def test_a_user_without_a_complete_place_is_refused_whole(idp: Idp) -> None:
    response = idp("post", "Users", _user(**{LEVELSET: {"level": "L4"}}))
    assert response.status_code == 400
    assert "startDate missing" in response.json()["detail"]
    assert not get_user_model().objects.filter(username="ana@acme.test").exists()


@pytest.mark.django_db
def test_levels_must_be_codes_of_the_rubric_in_use(idp: Idp, published: Any) -> None:
    response = idp("post", "Users", _user(**{LEVELSET: {"level": "L9", "startDate": "2021-03-01"}}))
    assert response.status_code == 400 and "'L9' is not a level" in response.json()["detail"]


@pytest.mark.django_db
def test_patch_moves_manager_and_records_a_transfer(idp: Idp) -> None:
    boss = EngineerFactory(team=TeamFactory(name="Search", slug="search"))
    ana = idp("post", "Users", _user()).json()
    response = idp(
        "patch",
        f"Users/{ana['id']}",
        {
            "schemas": [PATCH],
            "Operations": [
                {"op": "replace", "path": f"{ENTERPRISE}:manager", "value": str(boss.user.pk)},
                {"op": "replace", "value": {"name.givenName": "Anna"}},
            ],
        },
    )
    assert response.status_code == 200, response.content
    assert response.json()[ENTERPRISE]["manager"]["value"] == str(boss.user.pk)
    assert response.json()["name"]["givenName"] == "Anna"
    move = Transfer.objects.get()
    assert (move.source, move.to_manager) == (Transfer.Source.SCIM, boss.user)


@pytest.mark.django_db
def test_deactivation_keeps_the_person_and_their_place(idp: Idp) -> None:
    ana = idp("post", "Users", _user()).json()
    patched = idp(
        "patch",
        f"Users/{ana['id']}",
        {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": False}]},
    )
    assert patched.status_code == 200 and patched.json()["active"] is False
    assert (
        idp(
            "patch",
            f"Users/{ana['id']}",
            {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": True}}]},
        ).json()["active"]
        is True
    )
    assert idp("delete", f"Users/{ana['id']}").status_code == 204
    person = get_user_model().objects.get(pk=ana["id"])
    assert not person.is_active
    assert Engineer.objects.filter(user=person).exists()  # reviews and history stay


@pytest.mark.django_db
def test_groups_are_teams_and_adding_a_member_moves_them(idp: Idp) -> None:
    ana = idp("post", "Users", _user()).json()
    group = idp("post", "Groups", {"schemas": [], "displayName": "Search"})
    assert group.status_code == 201, group.content
    team_id = group.json()["id"]
    assert Team.objects.get(pk=team_id).name == "Search"
    added = idp(
        "patch",
        f"Groups/{team_id}",
        {
            "schemas": [PATCH],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": ana["id"]}]}],
        },
    )
    assert added.status_code == 200, added.content
    assert [m["value"] for m in added.json()["members"]] == [ana["id"]]
    assert Engineer.objects.get(user_id=ana["id"]).team.name == "Search"
    assert Transfer.objects.get().source == Transfer.Source.SCIM
    renamed = idp(
        "patch",
        f"Groups/{team_id}",
        {
            "schemas": [PATCH],
            "Operations": [{"op": "replace", "path": "displayName", "value": "Search & Discovery"}],
        },
    )
    assert renamed.json()["displayName"] == "Search & Discovery"
    found = idp("get", "Groups?" + urlencode({"filter": 'displayName eq "Search & Discovery"'}))
    assert [g["id"] for g in found.json()["Resources"]] == [team_id]
    refused = idp("delete", f"Groups/{team_id}")
    assert refused.status_code == 409 and "Levelset keeps teams" in refused.json()["detail"]


@pytest.mark.django_db
def test_only_hr_tokens_are_accepted(engineer: Any, hr: Any) -> None:
    _, token = token_issue(actor=engineer)
    for client in (
        Client(),
        Client(HTTP_AUTHORIZATION=f"Bearer {token}"),
        Client(HTTP_AUTHORIZATION="Bearer not-a-token"),
    ):
        response = client.get("/scim/v2/Users")
        assert response.status_code == 401
        assert "HR API token" in response.json()["detail"]
    session = Client()
    session.force_login(hr)
    assert session.get("/scim/v2/Users").status_code == 401  # a browser session is not enough


@pytest.mark.django_db
def test_unknown_and_malformed_ids_are_404(idp: Idp) -> None:
    assert idp("get", "Users/999999").status_code == 404
    assert idp("get", "Users/not-a-number").status_code == 404
    assert idp("get", "Groups/x").status_code == 404


@pytest.mark.django_db
def test_the_list_is_paged_and_never_shows_the_system_user(idp: Idp) -> None:
    from core.actors import system_actor

    system_actor()
    for n in range(3):
        UserFactory(username=f"p{n}")
    body = idp("get", "Users?startIndex=1&count=2").json()
    assert body["totalResults"] == 4  # three people and the HR account
    assert len(body["Resources"]) == 2
    names = {r["userName"] for r in idp("get", "Users?count=100000").json()["Resources"]}
    assert "levelset-system" not in names


@pytest.mark.django_db
def test_the_service_provider_config_names_the_bearer_token(idp: Idp) -> None:
    body = idp("get", "ServiceProviderConfig").json()
    assert body["authenticationSchemes"][0]["type"] == "oauthbearertoken"
