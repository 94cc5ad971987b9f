"""The metrics API end to end: a source's token sends events, a revoked one is refused; the
scorecard serves the four keys of a period and its trend; bad input is a JSON sentence."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from metrics.models import Change
from people.models import Team
from tests.conftest import client_for
from tests.factories import EngineerFactory
from tests.metrics.conftest import at, change, deployment, incident


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_a_source_sends_events_with_its_own_token_until_revoked(hr: Any, payments: Team) -> None:
    created = client_for(hr).post("/api/metrics/sources/", {"name": "deploy-bot"}, format="json")
    assert created.status_code == 201
    token, source = created.json()["token"], created.json()["source"]
    assert source["owner"] == hr.username and source["last_used_at"] is None
    sent = bearer(token).post(
        "/api/metrics/events/", [change("c1", 2), change("c2", 2)], format="json"
    )
    assert sent.status_code == 201 and sent.json() == {"received": 2, "new": 2, "known": 0}
    again = bearer(token).post("/api/metrics/events/", [change("c1", 2)], format="json")
    assert again.json() == {"received": 1, "new": 0, "known": 1}
    assert Change.objects.filter(source_id=source["id"]).count() == 2
    # The token opens nothing else.
    assert bearer(token).get("/api/metrics/sources/").status_code == 401
    listed = client_for(hr).get("/api/metrics/sources/").json()
    assert listed[0]["name"] == "deploy-bot" and listed[0]["last_used_at"]
    assert token not in str(listed)
    client_for(hr).post(f"/api/metrics/sources/{source['id']}/revoke/")
    refused = bearer(token).post("/api/metrics/events/", [change("c3", 2)], format="json")
    assert refused.status_code == 401
    assert refused.json()["message"] == "Unknown or revoked source token."
    assert bearer("made-up").post("/api/metrics/events/", [], format="json").status_code == 401


def test_person_fields_and_bad_events_are_refused_with_a_sentence(hr: Any, payments: Team) -> None:
    response = client_for(hr).post(
        "/api/metrics/events/", [{**change("c1", 2), "author": "ada"}, {"kind": "x"}], format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["message"].startswith("No event was saved: [0].author: names a person")
    assert set(body["errors"]) == {"[0].author", "[1].kind"}
    assert not Change.objects.exists()
    not_a_list = client_for(hr).post("/api/metrics/events/", {"kind": "change"}, format="json")
    assert (
        not_a_list.status_code == 400
        and not_a_list.json()["message"] == "Send a JSON list of events."
    )


def test_the_scorecard_serves_a_period_and_its_trend(
    hr: Any, payments: Team, django_assert_num_queries: Any
) -> None:
    client_for(hr).post(
        "/api/metrics/events/",
        [
            change("c1", 2, 0),
            deployment("d1", 2, 10, ["c1"]),
            deployment("d2", 20, 0, []),
            incident("i1", at(20, 1), at(20, 4), "d2"),
        ],
        format="json",
    )
    member = EngineerFactory(team=payments).user
    client = client_for(member)
    # team, roles, reports who manage (none), may see, the three figures, the leading indicators
    with django_assert_num_queries(8):
        card = client.get(
            f"/api/teams/{payments.pk}/scorecard/?start=2026-03-15&end=2026-03-28"
        ).json()
    assert card["team"] == {"id": payments.pk, "name": "Payments"}
    assert "Never an input to an individual's score" in card["note"]
    assert card["keys"]["start"] == "2026-03-15" and card["keys"]["deployments"] == 1
    assert card["keys"]["change_failure_rate"] == "100.00"
    assert card["keys"]["time_to_restore_hours"] == "3.00"
    assert [p["start"] for p in card["trend"]][-2:] == ["2026-03-01", "2026-03-15"]
    assert len(card["trend"]) == 6 and card["trend"][-1] == card["keys"]
    earlier = card["trend"][-2]
    assert (earlier["deployments"], earlier["lead_time_hours"], earlier["change_failure_rate"]) == (
        1,
        "10.00",
        "0.00",
    )
    assert card["trend"][0]["deployments"] == 0 and card["trend"][0]["change_failure_rate"] is None


def test_the_scorecard_names_a_bad_period(hr: Any, payments: Team) -> None:
    url = f"/api/teams/{payments.pk}/scorecard/"
    for query, field in [
        ("?start=2026-13-01", "start"),
        ("?end=soon", "end"),
        ("?start=2026-03-02&end=2026-03-01", "start"),
        ("?start=2020-01-01&end=2026-01-01", "start"),
    ]:
        response = client_for(hr).get(url + query)
        assert response.status_code == 400, query
        assert field in response.json()["errors"] and response.json()["message"]
    assert client_for(hr).get("/api/teams/999999/scorecard/").status_code == 404


def test_the_scorecard_is_read_once_until_the_teams_events_change(
    hr: Any, payments: Team, search: Team, django_assert_num_queries: Any
) -> None:
    client = client_for(hr)
    url = f"/api/teams/{payments.pk}/scorecard/?start=2026-03-01&end=2026-03-28"
    send = lambda events: client.post("/api/metrics/events/", events, format="json")  # noqa: E731
    send([change("c1", 2), deployment("d1", 2, 10, ["c1"])])
    assert client.get(url).json()["keys"]["deployments"] == 1
    # the team (the roles are known to this user already): the figures come from the cache
    with django_assert_num_queries(1):
        assert client.get(url).json()["keys"]["deployments"] == 1
    send([deployment("s1", 3, 0, [], team="search")])  # another team's: the entry holds
    with django_assert_num_queries(1):
        client.get(url)
    send([change("c1", 2)])  # known already: nothing moves
    with django_assert_num_queries(1):
        client.get(url)
    send([deployment("d2", 4, 0, [])])
    assert client.get(url).json()["keys"]["deployments"] == 2
    # An incident caused by Payments' deployment but filed under Search moves Payments' figures.
    send([{**incident("i1", at(5), at(5, 1), "d2"), "team": "search"}])
    assert client.get(url).json()["keys"]["change_failure_rate"] == "50.00"


def test_leading_indicators_are_stored_once_and_served_by_period(hr: Any, payments: Team) -> None:
    client = client_for(hr)

    def indicator(ident: str, day: int, name: str, value: Any) -> dict[str, Any]:
        return {
            "kind": "indicator",
            "team": "payments",
            "service": "api",
            "id": ident,
            "at": at(day),
            "name": name,
            "value": value,
        }

    sent = client.post(
        "/api/metrics/events/",
        [
            indicator("p1", 16, "cycle_time", 10),
            indicator("p2", 17, "cycle_time", "30.5"),
            indicator("p3", 18, "cycle_time", 20),
            indicator("w1", 16, "wip", 4),
            indicator("old", 2, "pr_size", 120),
        ],
        format="json",
    )
    assert sent.json() == {"received": 5, "new": 5, "known": 0}
    assert (
        client.post(
            "/api/metrics/events/", [indicator("p1", 16, "cycle_time", 99)], format="json"
        ).json()["known"]
        == 1
    )
    refused = client.post(
        "/api/metrics/events/", [indicator("x", 16, "velocity", -1)], format="json"
    ).json()
    assert set(refused["errors"]) == {"[0].name", "[0].value"}
    card = client.get(f"/api/teams/{payments.pk}/scorecard/?start=2026-03-15&end=2026-03-28").json()
    assert card["leading"][-1] == {
        "start": "2026-03-15",
        "end": "2026-03-28",
        "cycle_time_hours": "20.00",
        "first_review_time_hours": None,
        "pr_size_lines": None,
        "wip_items": "4.00",
    }
    assert card["leading"][-2]["pr_size_lines"] == "120.00"
    page = (
        signed_in_page(hr)
        .get(f"/metrics/teams/{payments.pk}/scorecard/?start=2026-03-15&end=2026-03-28")
        .content.decode()
    )
    section = page[page.index('id="scorecard-leading"') :]
    assert "<td>20.00 hours</td>" in section and "Time to first review" not in section


def signed_in_page(user: Any) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client
