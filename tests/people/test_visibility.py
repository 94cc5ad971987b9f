"""Engineer profiles: the one access rule for who may see whom."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404

from people.selectors import engineers_for_user, get_engineer_for_user, teams_for_user
from tests.factories import EngineerFactory, TeamFactory, UserFactory


@pytest.fixture
def org(db: None) -> dict[str, Any]:
    team, other = TeamFactory(name="Payments"), TeamFactory(name="Search")
    director = UserFactory(username="director", roles=["manager"])
    manager = EngineerFactory(
        user=UserFactory(username="mgr", roles=["manager"]), team=team, manager=director
    )
    reports = [EngineerFactory(team=team, manager=manager.user) for _ in range(3)]
    stranger = EngineerFactory(team=other)
    return {
        "director": director,
        "manager": manager,
        "reports": reports,
        "stranger": stranger,
        "hr": UserFactory(username="hr", roles=["hr"]),
    }


def visible(user: Any) -> set[int]:
    return set(engineers_for_user(user).values_list("pk", flat=True))


def test_engineer_sees_only_themselves(org: dict[str, Any]) -> None:
    me = org["reports"][0]
    assert visible(me.user) == {me.pk}
    with pytest.raises(Http404):
        get_engineer_for_user(me.user, org["reports"][1].pk)


def test_manager_sees_reports_and_self(org: dict[str, Any]) -> None:
    manager = org["manager"]
    assert visible(manager.user) == {manager.pk, *(r.pk for r in org["reports"])}
    assert org["reports"][0].is_managed_by(manager.user)


def test_skip_level_reads_but_does_not_manage(org: dict[str, Any]) -> None:
    director = org["director"]
    assert {r.pk for r in org["reports"]} <= visible(director)
    assert org["stranger"].pk not in visible(director)
    assert not org["reports"][0].is_managed_by(director)


def test_hr_sees_everyone_and_outsiders_nobody(org: dict[str, Any]) -> None:
    assert org["stranger"].pk in visible(org["hr"])
    assert visible(UserFactory(username="nobody")) == set()
    assert [t.name for t in teams_for_user(org["hr"])] == ["Payments", "Search"]
