"""The API's case list: newest first, a page at a time, with what each case needs read in a
fixed number of queries however many cases the page holds."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.pagination import PageNumberPagination

from promotions.services import case_nominate
from tests.conftest import client_for
from tests.promotions.test_promotions import promo  # noqa: F401 (a fixture)


def nominate_both(promo: dict[str, Any]) -> list[int]:
    org = promo["org"]
    return [
        case_nominate(
            actor=org.manager, engineer=person.engineer, cycle=org.cycle, target_level="L5"
        ).pk
        for person in (org.engineer, org.peer)
    ]


def test_the_case_list_comes_a_page_at_a_time(
    promo: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = nominate_both(promo)
    monkeypatch.setattr(PageNumberPagination, "page_size", 1)  # every list's paging
    client = client_for(promo["org"].manager)
    page = client.get("/api/promotions/").json()
    assert page["count"] == 2
    assert [case["id"] for case in page["results"]] == [second]  # newest first
    assert page["previous"] is None and page["next"].endswith("/api/promotions/?page=2")
    following = client.get(page["next"]).json()
    assert [case["id"] for case in following["results"]] == [first]
    assert following["next"] is None
    assert client.get("/api/promotions/?page=3").status_code == 404


def test_the_case_list_reads_the_same_queries_for_one_case_or_two(
    promo: dict[str, Any],
    django_assert_num_queries: Any,
) -> None:
    first, _second = nominate_both(promo)
    hr = promo["org"].hr
    client_for(hr).get("/api/promotions/")  # what a process has read before (content types)
    client = client_for(type(hr).objects.get(pk=hr.pk))  # nothing cached on the user
    # roles, count, the page of cases (people, cycle, scale), axes, their evidence (review,
    # cycle), committees
    with django_assert_num_queries(6):
        both = client.get("/api/promotions/").json()
    assert both["count"] == 2 and {c["id"] for c in both["results"]} >= {first}
    assert all(len(case["axes"]) == 3 for case in both["results"])


def test_the_schema_documents_the_paged_list(hr: Any) -> None:
    schema = client_for(hr).get("/api/schema/?format=json").json()
    listed = schema["paths"]["/api/promotions/"]["get"]["responses"]["200"]["content"]
    reference = listed["application/json"]["schema"]["$ref"]
    paged = schema["components"]["schemas"][reference.rsplit("/", 1)[1]]
    assert {"count", "next", "previous", "results"} <= set(paged["properties"])
