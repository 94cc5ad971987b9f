"""The rubric API: shapes, errors and the score preview."""

from __future__ import annotations

from typing import Any

import pytest
from knox.models import AuthToken

from rubrics.models import RubricVersion
from tests.conftest import client_for, ladder

BASE = "/api/rubrics/backend-engineering"


def test_list_and_detail(published: RubricVersion, engineer: Any) -> None:
    client = client_for(engineer)
    listing = client.get("/api/rubrics/").json()
    assert listing == [
        {
            "slug": "backend-engineering",
            "name": "Backend engineering",
            "requires_second_approval": False,
            "published_version": 1,
            "latest_version": 1,
        }
    ]
    detail = client.get(f"{BASE}/").json()
    assert [v["number"] for v in detail["versions"]] == [1]
    assert detail["versions"][0]["published_by"] == "hr-harriet"


def test_version_detail_has_everything(published: RubricVersion, engineer: Any) -> None:
    body = client_for(engineer).get(f"{BASE}/versions/1/").json()
    assert body["status"] == "published"
    assert body["scale"]["min"] == 1 and body["scale"]["anchors"]["3"].startswith("Meets")
    assert [lv["code"] for lv in body["levels"]] == ["L3", "L4", "L5", "L6"]
    reliability = next(d for d in body["dimensions"] if d["key"] == "reliability")
    assert reliability["weight"] == "20.00"
    assert reliability["weight_percent"] == "20.00"
    assert reliability["gate"] == {"below": 2, "cap": "3.00"}
    assert reliability["owner"] == "Head of SRE"
    assert reliability["criteria"]["L4"].startswith("Owns a service's reliability")


def test_score_preview(published: RubricVersion, engineer: Any) -> None:
    ratings = {
        "delivery": 5,
        "technical_quality": 5,
        "reliability": 1,
        "collaboration": 5,
        "mentoring": 3,
        "scope": 3,
    }
    response = client_for(engineer).post(
        f"{BASE}/versions/1/score-preview/", {"ratings": ratings}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    # v1 weights 25/20/20/15/10/10: (125 + 100 + 20 + 75 + 30 + 30) / 100 = 3.80, capped at 3.
    assert body["composite"] == "3.00"
    assert body["uncapped"] == "3.80"
    assert body["advisory"] is True
    assert body["rubric_version"] == 1
    assert body["formula_version"] == "weighted-mean-gated/1"
    term = next(t for t in body["terms"] if t["dimension"] == "delivery")
    assert term == {
        "dimension": "delivery",
        "name": "Delivery",
        "weight": "25.00",
        "weight_share": "0.2500",
        "weight_percent": "25.00",
        "rating": 5,
        "contribution": "1.2500",
    }
    assert body["gates"] == [
        {
            "dimension": "reliability",
            "name": "Reliability",
            "below": 2,
            "cap": "3.00",
            "applied": True,
            "reason": "Reliability was rated 1, below 2, so the composite is capped at 3.00.",
        }
    ]


@pytest.mark.parametrize(
    ("ratings", "field", "text"),
    [
        ({"delivery": 6}, "ratings.delivery", "outside the scale 1–5"),
        ({"velocity": 3}, "ratings.velocity", "unknown dimension"),
        ({"delivery": "high"}, "ratings.delivery", "whole number"),
        ({}, "ratings", "at least one rating"),
        ("nope", "ratings", ""),
    ],
)
def test_score_preview_errors_are_400_naming_the_field(
    published: RubricVersion, engineer: Any, ratings: Any, field: str, text: str
) -> None:
    response = client_for(engineer).post(
        f"{BASE}/versions/1/score-preview/", {"ratings": ratings}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert field in body["errors"]
    assert text in body["errors"][field][0]
    assert body["message"]


def test_diff_endpoint(two_versions: Any, engineer: Any) -> None:
    response = client_for(engineer).get(f"{BASE}/diff/?from=1&to=2")
    assert response.status_code == 200
    assert "Weight of Reliability changed from 20 to 25." in response.json()["summary"]
    bad = client_for(engineer).get(f"{BASE}/diff/?from=1")
    assert bad.status_code == 400 and "to" in bad.json()["errors"]
    missing = client_for(engineer).get(f"{BASE}/diff/?from=1&to=9")
    assert missing.status_code == 404
    assert missing.json()["message"].startswith("Not found")


def test_changelog(two_versions: Any, engineer: Any) -> None:
    entries = client_for(engineer).get(f"{BASE}/changelog/").json()["entries"]
    assert [e["number"] for e in entries] == [2, 1]
    assert entries[0]["rationale"].startswith("Reliability weighs more")
    assert "Mentoring × L4: criterion reworded." in entries[0]["changes"]
    assert entries[1]["changes"] == ["First published version."]


def test_hr_drafts_edits_and_publishes_through_the_api(published: RubricVersion, hr: Any) -> None:
    client = client_for(hr)
    created = client.post(f"{BASE}/versions/")
    assert created.status_code == 201 and created.json()["status"] == "draft"
    document = ladder(2)
    edited = client.put(f"{BASE}/versions/2/", document, format="json")
    assert edited.status_code == 200, edited.json()
    lint = client.get(f"{BASE}/versions/2/lint/").json()
    assert lint == {"ok": True, "problems": [], "warnings": []}
    no_reason = client.post(f"{BASE}/versions/2/publish/", {}, format="json")
    assert no_reason.status_code == 400 and "rationale" in no_reason.json()["errors"]
    done = client.post(f"{BASE}/versions/2/publish/", {"rationale": "Rebalance"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "published"
    again = client.put(f"{BASE}/versions/2/", document, format="json")
    assert again.status_code == 409
    assert "only drafts change" in again.json()["message"]


def test_invalid_document_is_400_with_paths(hr: Any) -> None:
    document = ladder(1)
    document["dimensions"][1]["weight"] = "heavy"
    response = client_for(hr).post("/api/rubrics/", document, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"dimensions[1].weight": ["must be a positive number"]}
    assert RubricVersion.objects.count() == 0


def test_export_yaml(published: RubricVersion, engineer: Any) -> None:
    response = client_for(engineer).get(f"{BASE}/versions/1/export.yaml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/yaml"
    assert b"key: reliability" in response.content


def test_token_authentication(published: RubricVersion, engineer: Any) -> None:
    from rest_framework.test import APIClient

    _, token = AuthToken.objects.create(user=engineer)
    client = APIClient()
    assert client.get("/api/rubrics/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/rubrics/").status_code == 200


def test_schema_and_docs(engineer: Any) -> None:
    from django.test import Client

    client = Client()
    client.force_login(engineer)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/rubrics/{slug}/versions/{number}/score-preview/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn." not in docs.content  # served from our own static files


def test_me(engineer: Any) -> None:
    assert client_for(engineer).get("/api/me/").json()["roles"] == ["engineer"]
