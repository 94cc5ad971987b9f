from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from core.errors import flatten_errors
from people.services import team_create
from tests.conftest import client_for


def test_nested_drf_errors_become_paths() -> None:
    detail = {
        "name": ["is required"],
        "dimensions": {2: {"weight": ["must be a positive number"]}},
        "levels": [{}, {"code": ["is required"]}],
        "non_field_errors": ["broken"],
    }
    assert flatten_errors(detail) == {
        "name": ["is required"],
        "dimensions[2].weight": ["must be a positive number"],
        "levels[1].code": ["is required"],
        "non_field_errors": ["broken"],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
def test_an_unknown_api_address_answers_json_404(method: str, engineer: object) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(engineer)
    response = getattr(client, method)(
        "/api/reviews/not-a-number/", content_type="application/json"
    )
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "/api/docs/" in response.json()["message"]


@pytest.mark.django_db
def test_a_failed_csrf_check_on_the_api_answers_json(engineer: object) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(engineer)
    response = client.post("/api/tokens/")
    assert response.status_code == 403
    assert response.json()["code"] in {"csrf_failed", "permission_denied"}
    assert "CSRF" in response.json()["message"]


@pytest.mark.django_db
def test_django_level_errors_under_api_are_json(settings: object, engineer: object) -> None:
    from core.api import bad_request, csrf_failure, server_error

    factory_request = Client().get("/").wsgi_request
    factory_request.path = "/api/reviews/"
    assert server_error(factory_request)["Content-Type"] == "application/json"
    assert bad_request(factory_request, ValueError())["Content-Type"] == "application/json"
    assert csrf_failure(factory_request).status_code == 403
    factory_request.path = "/reviews/"
    assert "text/html" in server_error(factory_request)["Content-Type"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    ["team=1.5", "cycle=-1", "cycle=0", "team=99999999999999999999999", "cycle=%C2%B2", "team=abc"],
)
def test_id_filters_refuse_what_is_not_an_id(query: str, engineer: object) -> None:
    response = client_for(engineer).get(f"/api/reviews/?{query}")
    assert response.status_code == 400
    name = query.split("=")[0]
    assert response.json()["errors"] == {name: ["must be an id: a whole number from 1"]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("0002-12-20T08:21:58.721572-22:38", "must have a UTC offset of at most 14 hours"),
        ("0001-01-01T00:00+05:00", "must be between 1970-01-01 and 2100-12-31"),
        ("9999-12-31T23:59-05:00", "must be between 1970-01-01 and 2100-12-31"),
    ],
)
def test_date_time_filters_refuse_moments_a_database_cannot_hold(
    value: str, problem: str, hr: object
) -> None:
    response = client_for(hr).get("/api/audit/events/", {"since": value, "until": value})
    assert response.status_code == 400
    assert response.json()["errors"] == {"since": [problem], "until": [problem]}


@pytest.mark.django_db
def test_a_date_time_filter_compares_in_utc(hr: object) -> None:
    team_create(actor=hr, slug="payments", name="Payments")
    client = client_for(hr)
    # The event happened just now: an hour ago, written in UTC+02:00, is before it.
    now = timezone.now()
    local = (now - timezone.timedelta(hours=1)).astimezone(timezone.get_fixed_timezone(120))
    found = client.get("/api/audit/events/", {"since": local.isoformat()}).json()["results"]
    assert [e["action"] for e in found] == ["people.team.created"]
    later = (now + timezone.timedelta(hours=1)).astimezone(timezone.get_fixed_timezone(-600))
    assert client.get("/api/audit/events/", {"since": later.isoformat()}).json()["results"] == []


@pytest.mark.django_db
def test_version_numbers_past_what_a_column_holds_are_not_found(
    hr: object, published: object
) -> None:
    client = client_for(hr)
    big = "9" * 30
    assert (
        client.get(f"/api/rubrics/{published.rubric.slug}/diff/?from=1&to={big}").status_code == 400
    )
    assert client.get(f"/api/rubrics/{published.rubric.slug}/versions/{big}/").status_code == 404
    page = Client()
    page.force_login(hr)
    assert page.get(f"/rubrics/{published.rubric.slug}/?version={big}").status_code == 404
    assert page.get(f"/rubrics/{published.rubric.slug}/diff/?from=1&to={big}").status_code == 404
