"""Changes made in the Django admin go through the people services: checked and audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEvent
from people.models import Engineer
from tests.factories import EngineerFactory, TeamFactory, UserFactory


@pytest.fixture
def admin_client(db: None) -> tuple[Client, Any]:
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(superuser)
    return client, superuser


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def test_granting_the_hr_role_is_audited(admin_client: tuple[Client, Any]) -> None:
    client, root = admin_client
    person = UserFactory(username="dana", roles=["engineer"])
    response = client.post(
        f"/admin/auth/user/{person.pk}/change/",
        {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "email": person.email,
            "is_active": "on",
            "roles": ["engineer", "hr"],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert set(person.groups.values_list("name", flat=True)) == {"engineer", "hr"}
    [event] = events("people.person.roles_changed")
    assert (event.actor, event.payload) == (
        root,
        {"before": ["engineer"], "after": ["engineer", "hr"]},
    )


def test_deactivating_a_leaver_is_audited_and_keeps_them(admin_client: tuple[Client, Any]) -> None:
    client, _ = admin_client
    person = UserFactory(username="leaver", roles=["engineer"])
    client.post(
        f"/admin/auth/user/{person.pk}/change/",
        {
            "first_name": "Lee",
            "last_name": "Ver",
            "email": "lee@example.com",
            "roles": ["engineer"],
        },
    )
    person.refresh_from_db()
    assert person.is_active is False and person.first_name == "Lee"
    [event] = events("people.person.changed")
    assert event.payload["after"]["is_active"] is False
    assert client.post(f"/admin/auth/user/{person.pk}/delete/", {"post": "yes"}).status_code == 403


def test_changing_an_engineers_manager_level_and_attribute_is_audited(
    admin_client: tuple[Client, Any],
) -> None:
    client, _ = admin_client
    team = TeamFactory(name="Payments")
    boss, other = (UserFactory(username=n, roles=["manager"]) for n in ("boss", "other"))
    engineer = EngineerFactory(team=team, manager=boss, level_code="L3")
    response = client.post(
        f"/admin/people/engineer/{engineer.pk}/change/",
        {
            "team": team.pk,
            "level_code": "L4",
            "manager": other.pk,
            "start_date": "2022-01-01",
            "hr_attribute": "Lisbon",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    [event] = events("people.engineer.changed")
    assert event.payload["before"] == {"level_code": "L3", "manager": "boss", "hr_attribute": ""}
    assert event.payload["after"] == {
        "level_code": "L4",
        "manager": "other",
        "hr_attribute": "Lisbon",
    }


def test_a_loop_of_managers_is_refused_beside_the_field(admin_client: tuple[Client, Any]) -> None:
    client, _ = admin_client
    team = TeamFactory(name="Payments")
    top = EngineerFactory(team=team, manager=None)
    below = EngineerFactory(team=team, manager=top.user)
    response = client.post(
        f"/admin/people/engineer/{top.pk}/change/",
        {"team": team.pk, "level_code": "L5", "manager": below.user.pk, "start_date": "2022-01-01"},
    )
    assert response.status_code == 200
    assert "would make a loop of managers" in response.content.decode()
    assert Engineer.objects.get(pk=top.pk).manager is None
    assert not events("people.engineer.changed")


def test_renaming_a_team_is_audited(admin_client: tuple[Client, Any]) -> None:
    client, _ = admin_client
    team = TeamFactory(name="Payments", slug="payments")
    client.post(
        f"/admin/people/team/{team.pk}/change/", {"name": "Payments Platform", "slug": "payments"}
    )
    [event] = events("people.team.changed")
    assert event.payload == {"before": {"name": "Payments"}, "after": {"name": "Payments Platform"}}


def test_adding_a_person_in_the_admin_is_audited(admin_client: tuple[Client, Any]) -> None:
    client, _ = admin_client
    response = client.post(
        "/admin/auth/user/add/",
        {
            "username": "newbie",
            "password1": "a-long-Pass-phrase-9",
            "password2": "a-long-Pass-phrase-9",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    [event] = events("people.person.created")
    assert event.payload["username"] == "newbie"
