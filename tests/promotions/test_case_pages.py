"""The promotion case editor: the whole draft (summary and three axes) saved at once, so no
unsaved text is lost; a problem anywhere saves nothing and shows beside its field with every
typed word kept; target levels come from the rubric; submission needs a committee."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from promotions.models import PromotionCase
from tests.promotions.test_promotions import nominate, promo  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def whole_case(promo: dict[str, Any], **changes: str) -> dict[str, Any]:
    new = [str(e.pk) for e in promo["new"]]
    data: dict[str, Any] = {"summary": "Ada works at **L5** on scope and reliability."}
    for axis in ("scope", "complexity", "consistency"):
        data[f"{axis}-rating"] = "4"
        data[f"{axis}-narrative"] = f"The {axis} of the ledger rewrite, across two teams."
        data[f"{axis}-evidence"] = new
    data["consistency-evidence"] = [*new, str(promo["old"].pk)]
    return data | changes


def test_the_whole_case_is_saved_at_once_or_not_at_all(promo: dict[str, Any]) -> None:
    case_id = nominate(promo)["id"]
    manager = signed_in(promo["org"].manager)
    url = f"/promotions/{case_id}/"
    page = manager.get(url).content.decode()
    assert "Summary for the committee" in page
    assert "3 · Meets the level" in page  # ratings offered with their anchors

    refused = manager.post(url, whole_case(promo, **{"complexity-rating": "9"}))
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "Select a valid choice" in html
    assert "The scope of the ledger rewrite, across two teams." in html  # nothing typed is lost
    assert "Ada works at **L5**" in html
    case = PromotionCase.objects.get(pk=case_id)
    assert case.summary == "" and not any(a.narrative for a in case.axes.all())

    saved = manager.post(url, whole_case(promo))
    assert saved.status_code == 302
    case = PromotionCase.objects.get(pk=case_id)
    assert case.summary.startswith("Ada works at")
    assert {a.axis: a.rating for a in case.axes.all()} == {
        "scope": 4,
        "complexity": 4,
        "consistency": 4,
    }


def test_submission_names_a_missing_committee_beside_its_field(
    promo: dict[str, Any],
) -> None:
    case_id = nominate(promo)["id"]
    manager = signed_in(promo["org"].manager)
    manager.post(f"/promotions/{case_id}/", whole_case(promo))
    refused = manager.post(f"/promotions/{case_id}/submit/", {})
    assert refused.status_code == 400
    assert "name at least one member" in refused.content.decode()
    assert PromotionCase.objects.get(pk=case_id).status == "draft"
    manager.post(f"/promotions/{case_id}/submit/", {"committee": "committee-chair"})
    assert PromotionCase.objects.get(pk=case_id).status == "submitted"

    chair = signed_in(promo["committee"])
    refused = chair.post(f"/promotions/{case_id}/decide/", {"outcome": "maybe"})
    assert refused.status_code == 400 and "Select a valid choice" in refused.content.decode()
    chair.post(
        f"/promotions/{case_id}/decide/",
        {"outcome": "promoted", "feedback": "Clear L5 scope across two halves."},
    )
    decided = signed_in(promo["org"].manager).get(f"/promotions/{case_id}/").content.decode()
    assert "Decision: Promoted" in decided and "Clear L5 scope across two halves." in decided


def test_the_target_level_is_picked_from_the_rubric(promo: dict[str, Any]) -> None:
    page = signed_in(promo["org"].manager).get("/promotions/").content.decode()
    assert '<option value="L5">L5 · ' in page


def test_the_case_list_filters_by_status_and_name(promo: dict[str, Any]) -> None:
    case_id = nominate(promo)["id"]
    manager = signed_in(promo["org"].manager)
    listed = manager.get("/promotions/").content.decode()
    assert f'href="/promotions/{case_id}/"' in listed
    assert f'href="/promotions/{case_id}/"' in manager.get("/promotions/?q=okafor").content.decode()
    assert (
        "No promotion case matches." in manager.get("/promotions/?status=decided").content.decode()
    )
    assert "No promotion case matches." in manager.get("/promotions/?q=nobody").content.decode()
