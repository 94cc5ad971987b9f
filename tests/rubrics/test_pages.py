"""The rubric browser pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rubrics.models import RubricVersion
from rubrics.services import version_create_draft


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pages_need_a_sign_in(published: RubricVersion) -> None:
    response = Client().get("/rubrics/backend-engineering/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_sign_in_page_shows_errors_beside_the_form(db: None) -> None:
    response = Client().post("/login/", {"username": "nobody", "password": "wrong"})
    assert response.status_code == 200
    assert b'class="error" role="alert"' in response.content
    assert b"Please enter a correct username and password" in response.content


def test_rubric_detail_shows_matrix_weights_governance_and_changelog(
    two_versions: Any, engineer: Any
) -> None:
    page = signed_in(engineer).get("/rubrics/backend-engineering/").content.decode()
    assert "v2 · Published" in page
    assert "Owns a service&#x27;s reliability" in page  # matrix cell, escaped
    assert "<svg" in page and "Weights, v2" in page  # the weights chart
    assert "a rating below 2 caps the composite at 3.00" in page
    assert "Head of SRE" in page  # governance
    assert "Weight of Reliability changed from 20 to 25." in page  # changelog
    assert "advisory" in page


def test_older_version_and_diff_pages(two_versions: Any, engineer: Any) -> None:
    client = signed_in(engineer)
    old = client.get("/rubrics/backend-engineering/?version=1").content.decode()
    assert "v1 · Retired" in old
    diff = client.get("/rubrics/backend-engineering/diff/?from=1&to=2").content.decode()
    assert "Weight of Delivery changed from 25 to 20." in diff
    assert "sponsors them for visible work" in diff


@pytest.mark.parametrize(
    "url",
    [
        "/rubrics/backend-engineering/?version=2",
        "/rubrics/backend-engineering/diff/?from=1&to=2",
        "/rubrics/backend-engineering/?version=abc",
        "/rubrics/nope/",
    ],
)
def test_hidden_or_missing_versions_are_404(
    published: RubricVersion, hr: Any, engineer: Any, url: str
) -> None:
    version_create_draft(actor=hr, rubric=published.rubric)
    assert signed_in(engineer).get(url).status_code == 404


def test_hr_sees_the_draft(published: RubricVersion, hr: Any) -> None:
    version_create_draft(actor=hr, rubric=published.rubric)
    page = signed_in(hr).get("/rubrics/backend-engineering/?version=2").content.decode()
    assert "v2 · Draft" in page


def test_rubric_list(two_versions: Any, engineer: Any) -> None:
    page = signed_in(engineer).get("/rubrics/").content.decode()
    assert "Backend engineering" in page and "v2" in page
