"""Bad input to the audit log's page and API is answered with what is wrong: a 400 naming the
parameter in the API, the form's error on the page; never a server error."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.audit.test_pagination import grow_log, page_client
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

CURSOR_PROBLEM = "not a cursor this API gave: follow the `next` and `previous` links"


def _cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "é",
        _cursor("p=abc"),
        _cursor("p=-1"),
        _cursor("p=1.5"),
        _cursor("p=" + "9" * 30),
        _cursor("o=3&p=10"),  # an offset: the cursors given never carry one
        _cursor("o=x"),
        _cursor("r=x&p=10"),
    ],
)
def test_a_cursor_the_api_did_not_give_is_a_400(hr: Any, cursor: str) -> None:
    grow_log(hr, 60)
    response = client_for(hr).get("/api/audit/events/", {"cursor": cursor})
    assert response.status_code == 400
    assert response.json()["errors"] == {"cursor": [CURSOR_PROBLEM]}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"actor": "x" * 151}, "actor"),
        ({"target_type": "x" * 101, "target_id": "1"}, "target_type"),
        ({"target_type": "t", "target_id": "x" * 65}, "target_id"),
        ({"area": "nowhere"}, "area"),
        ({"action": "calibration."}, "action"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2020-13-01T00:00Z"}, "until"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(hr: Any, query: dict[str, str], field: str) -> None:
    response = client_for(hr).get("/api/audit/events/", query)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"before": "abc"}, "Enter a whole number."),
        ({"before": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"after": "-1"}, "Ensure this value is greater than or equal to 0."),
        ({"before": "9" * 30}, "Ensure this value is less than or equal to"),
        ({"before": "5", "after": "2"}, "A page starts before an event or after one, not both."),
    ],
)
def test_a_broken_page_link_is_said_so_on_the_page(
    hr: Any, query: dict[str, str], problem: str
) -> None:
    response = page_client(hr).get("/audit/", query)
    assert response.status_code == 400
    html = response.content.decode()
    assert "This page link is broken:" in html and problem in html
    assert '<tr id="event-' not in html


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"since": "0001-01-01"}, "must be between 1970-01-01 and 2100-12-31"),
        ({"until": "someday"}, "Enter a valid date."),
        ({"area": "nowhere"}, "Select a valid choice."),
        ({"actor": "x" * 151}, "Ensure this value has at most 150 characters"),
    ],
)
def test_a_bad_filter_is_said_so_beside_its_field(
    hr: Any, query: dict[str, str], problem: str
) -> None:
    response = page_client(hr).get("/audit/", query)
    assert response.status_code == 400
    html = response.content.decode()
    assert problem in html and 'class="error" role="alert"' in html
    assert "Correct the filter above to see the events it matches." in html


PARAMETERS = ["actor", "area", "action", "target_type", "target_id", "since", "until"]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    values=st.dictionaries(
        st.sampled_from([*PARAMETERS, "before", "after", "cursor"]),
        st.text(max_size=40) | st.integers(-(2**70), 2**70).map(str),
        max_size=4,
    )
)
def test_no_input_is_a_server_error(hr: Any, values: dict[str, str]) -> None:
    page = page_client(hr).get("/audit/", values)
    assert page.status_code in (200, 400), values
    api = client_for(hr).get("/api/audit/events/", values)
    assert api.status_code in (200, 400), values
    if api.status_code == 400:
        assert set(api.json()["errors"]) <= {*PARAMETERS, "cursor"}
    people = page_client(hr).get("/audit/people/", {"actor": values.get("actor", "")})
    assert people.status_code in (200, 400), values


@pytest.mark.parametrize("text", ["a\x00b", "x" * 201])
def test_a_person_search_it_cannot_run_finds_no_one(hr: Any, text: str) -> None:
    response = page_client(hr).get("/audit/people/", {"actor": text})
    assert response.status_code == 400
    assert "<option" not in response.content.decode()
