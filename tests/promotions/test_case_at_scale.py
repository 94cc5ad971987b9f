"""The promotion case page and the case API cost the same whatever the size of the
organisation: the committee is chosen by typing usernames or with a search suggesting at most
ten people, never a checkbox per person who may sit, and only whoever may submit the case
reads who may sit at all."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from promotions.models import PromotionCase
from promotions.permissions import can_sit_on_committee
from promotions.selectors import SUGGESTED, committee_candidates
from promotions.services import case_submit
from tests.factories import EngineerFactory, TeamFactory, UserFactory
from tests.promotions.test_case_pages import signed_in, whole_case
from tests.promotions.test_promotions import nominate, promo  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

SIZES = ((0, 4), (4, 40))  # (first number, how many more managers): a small org, then larger


def grow(promo: dict[str, Any], start: int, count: int) -> None:
    """`count` more managers, every other one above the engineer's level, with a report each."""
    org = promo["org"]
    team = TeamFactory(name=f"Platform {start}")
    for n in range(start, start + count):
        boss = UserFactory(username=f"boss{n}", last_name=f"Boss{n}", roles=["manager"])
        level = "L6" if n % 2 else "L4"
        EngineerFactory(user=boss, team=team, manager=org.director, level_code=level)
        EngineerFactory(user=UserFactory(username=f"dev{n}"), team=team, manager=boss)


def ready_case(promo: dict[str, Any]) -> int:
    case_id = int(nominate(promo)["id"])
    signed_in(promo["org"].manager).post(f"/promotions/{case_id}/", whole_case(promo))
    return case_id


def submitted_case(promo: dict[str, Any]) -> int:
    case_id = ready_case(promo)
    case = PromotionCase.objects.get(pk=case_id)
    case_submit(actor=promo["org"].manager, case=case, committee=[promo["committee"]])
    return case_id


def checkboxes(html: str) -> list[str]:
    return re.findall(r'name="committee" value="([^"]+)"', html)


# Every page (its session from the cache): user, roles, the case (engineer, team, cycle, scale,
# nominator, decider), its axes, their evidence (each with its review and cycle), the committee (4
# for the case), [whoever may edit it: the evidence it may cite], [whoever may export it: the latest
# packet], unread notifications. The picker reads nothing until someone is searched for or ticked.
CASE = 4
EDITOR = 2 + CASE + 3
READER = 2 + CASE + 2


@pytest.mark.parametrize(
    ("viewer", "state", "queries"),
    [("manager", "draft", EDITOR), ("hr", "draft", READER), ("hr", "submitted", READER)],
)
def test_the_case_page_costs_the_same_at_two_sizes(
    promo: dict[str, Any], django_assert_num_queries: Any, viewer: str, state: str, queries: int
) -> None:
    case_id = ready_case(promo) if state == "draft" else submitted_case(promo)
    client = signed_in(getattr(promo["org"], viewer))
    for start, count in SIZES:
        grow(promo, start, count)
        with django_assert_num_queries(queries):
            page = client.get(f"/promotions/{case_id}/")
        assert page.status_code == 200
        html = page.content.decode()
        assert checkboxes(html) == []  # no checkbox per person who may sit
        assert ('id="committee-search"' in html) == (viewer == "manager")


def test_the_committee_sees_its_case_at_the_same_cost(
    promo: dict[str, Any], django_assert_num_queries: Any
) -> None:
    case_id = submitted_case(promo)
    client = signed_in(promo["committee"])
    for start, count in SIZES:
        grow(promo, start, count)
        with django_assert_num_queries(READER):
            html = client.get(f"/promotions/{case_id}/").content.decode()
        assert 'id="decide-form"' in html and 'id="submit-form"' not in html


def test_the_case_api_costs_the_same_at_two_sizes(
    promo: dict[str, Any], django_assert_num_queries: Any
) -> None:
    case_id = ready_case(promo)
    client = signed_in(promo["org"].manager)
    for start, count in SIZES:
        grow(promo, start, count)
        # user, roles (the session from the cache), then the case (read again to answer)
        with django_assert_num_queries(2 + CASE):
            body = client.get(f"/api/promotions/{case_id}/").json()
        assert "submit" in body["allowed_actions"]


def test_the_search_suggests_at_most_ten_who_may_sit(
    promo: dict[str, Any], django_assert_num_queries: Any
) -> None:
    case_id = ready_case(promo)
    client = signed_in(promo["org"].manager)
    url = f"/promotions/{case_id}/committee/"
    for start, count in SIZES:
        grow(promo, start, count)
        # user, roles, the case, then the levels and the candidates: ticked, found
        with django_assert_num_queries(2 + CASE + 2 + 2):
            found = client.get(url, {"q": "boss", "committee": ["boss1", "boss2"]})
        names = checkboxes(found.content.decode())
        assert names[0] == "boss1"  # the ticked stay ticked, first; boss2 may not sit
        assert 'value="boss1" checked' in found.content.decode()
        assert "boss2" not in names and len(names) == min(SUGGESTED, (start + count) // 2)
        assert all(int(name.removeprefix("boss")) % 2 for name in names)  # only the L6 ones
    assert checkboxes(client.get(url, {"q": "Okafor"}).content.decode()) == []  # the engineer
    assert checkboxes(client.get(url, {"q": "manager"}).content.decode()) == []  # the nominator
    assert "Nobody who may sit" in client.get(url, {"q": "zzz"}).content.decode()
    assert checkboxes(client.get(url, {"q": "harriet"}).content.decode()) == ["hr-harriet"]


def test_the_search_works_without_javascript(promo: dict[str, Any]) -> None:
    case_id = ready_case(promo)
    grow(promo, 0, 4)
    html = signed_in(promo["org"].manager).get(f"/promotions/{case_id}/?q=chair").content.decode()
    form = html[html.index('id="submit-form"') :]
    assert checkboxes(form[: form.index("</form>")]) == ["committee-chair"]
    assert 'id="committee-search-form"' in html and 'form="committee-search-form"' in html


def test_only_whoever_may_submit_searches(promo: dict[str, Any]) -> None:
    case_id = ready_case(promo)
    url = f"/promotions/{case_id}/committee/?q=chair"
    for user in (promo["org"].hr, promo["committee"], promo["org"].peer):
        assert signed_in(user).get(url).status_code == 404
    assert signed_in(promo["org"].manager).get(url).status_code == 200
    assert signed_in(promo["org"].manager).get("/promotions/999999/committee/").status_code == 404


def test_typed_usernames_are_checked_and_refusals_named_beside_the_field(
    promo: dict[str, Any],
) -> None:
    case_id = ready_case(promo)
    grow(promo, 0, 4)
    manager = signed_in(promo["org"].manager)
    refused = manager.post(
        f"/promotions/{case_id}/submit/", {"committee": "boss1, boss2 ada nobody"}
    )
    assert refused.status_code == 400
    html = refused.content.decode()
    error = re.search(r'<span class="error" role="alert">([^<]+)</span>', html)
    assert error is not None and error.group(1).startswith("boss2, ada, nobody may not sit")
    assert 'value="boss1, boss2 ada nobody"' in html  # what was typed is kept
    assert PromotionCase.objects.get(pk=case_id).status == "draft"

    done = manager.post(
        f"/promotions/{case_id}/submit/", {"committee": ["boss1,", "committee-chair"]}
    )
    assert done.status_code == 302
    case = PromotionCase.objects.get(pk=case_id)
    assert case.status == "submitted"
    assert sorted(u.username for u in case.committee.all()) == ["boss1", "committee-chair"]


def test_candidates_are_exactly_who_may_sit(promo: dict[str, Any]) -> None:
    """One query decides who is offered; the rule stays `can_sit_on_committee`'s."""
    org = promo["org"]
    grow(promo, 0, 6)
    UserFactory(username="fatima", roles=["facilitator"])
    UserFactory(username="profileless-manager", roles=["manager"])
    EngineerFactory(user=UserFactory(username="off-ladder", roles=["manager"]), level_code="X9")
    EngineerFactory(user=UserFactory(username="chair-l3", roles=["committee"]), level_code="L3")
    case = PromotionCase.objects.get(pk=ready_case(promo))
    levels = list(case.cycle.rubric_version.levels.values_list("code", flat=True))
    expected = {
        user.username
        for user in get_user_model().objects.all()
        if can_sit_on_committee(user, case, levels)
        and not (case.is_about(user) or case.is_nominator(user))
    }
    assert {user.username for user in committee_candidates(case)} == expected
    assert {"hr-harriet", "committee-chair", "chair-l3", "boss1"} <= expected
    assert not {"fatima", "profileless-manager", "off-ladder", "boss2", "director"} & expected
    assert org.manager.username not in expected
