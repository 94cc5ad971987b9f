"""Every input is bounded: an oversized or malformed one gets a clear 400/413 (or a form or
command error) naming what is wrong, and nothing is written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core import limits
from reviews.models import Evidence, TeamMetrics
from rubrics.models import Rubric
from tests.conftest import client_for, ladder
from tests.promotions.test_promotions import nominate, promo  # noqa: F401
from tests.reviews.conftest import Org, org  # noqa: F401
from tests.workers import database_url_for_subprocess

ROOT = Path(__file__).resolve().parent.parent
GOOD_CSV = (
    "team,deployment_frequency,deployment_frequency_unit,lead_time,lead_time_unit,"
    "change_failure_rate,time_to_restore,time_to_restore_unit\n"
    "Payments,12,per_week,26,hours,14,3.5,hours\n"
)


def test_deeply_nested_json_is_a_400_not_a_500(org: Org) -> None:
    review = org.review(org.engineer)
    body = "[" * 100_000 + "]" * 100_000
    response = client_for(org.engineer).post(
        f"/api/reviews/{review.pk}/evidence/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "nested deeper than 32 levels" in response.json()["message"]
    # Deep enough to refuse, far too shallow to exhaust Python's recursion.
    deep = "{" + '"a":{' * 40 + "}" * 41
    response = client_for(org.engineer).post(
        f"/api/reviews/{review.pk}/evidence/", deep, content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["code"] == "parse_error"


def test_an_oversized_json_body_is_a_413(org: Org) -> None:
    review = org.review(org.engineer)
    body = json.dumps({"url": "https://x.example/1", "contribution": "x" * 1_100_000})
    response = client_for(org.engineer).post(
        f"/api/reviews/{review.pk}/evidence/", body, content_type="application/json"
    )
    assert response.status_code == 413 and response.json()["code"] == "too_large"
    assert not Evidence.objects.exists()


@pytest.mark.parametrize(
    ("field", "size", "bound"),
    [("contribution", limits.TEXT + 1, limits.TEXT), ("title", 201, 200)],
)
def test_long_texts_are_refused_by_name(org: Org, field: str, size: int, bound: int) -> None:
    review = org.review(org.engineer)
    response = client_for(org.engineer).post(
        f"/api/reviews/{review.pk}/evidence/",
        {"url": "https://x.example/1", field: "x" * size},
        format="json",
    )
    assert response.status_code == 400 and field in response.json()["errors"]
    assert not Evidence.objects.exists()


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_dates_outside_a_sane_range_are_refused(org: Org, day: str) -> None:
    review = org.review(org.engineer)
    response = client_for(org.engineer).post(
        f"/api/reviews/{review.pk}/evidence/",
        {"url": "https://x.example/1", "occurred_on": day},
        format="json",
    )
    assert response.status_code == 400 and "occurred_on" in response.json()["errors"]
    cycle = client_for(org.hr).post(
        "/api/cycles/",
        {
            "name": "Far away",
            "rubric": "backend-engineering",
            "rubric_version": 1,
            "self_review_ends": day,
            "manager_review_ends": day,
            "calibration_ends": day,
            "finalisation_ends": day,
        },
        format="json",
    )
    assert cycle.status_code == 400 and "self_review_ends" in cycle.json()["errors"]


def test_a_paste_holds_a_bounded_number_of_links(org: Org) -> None:
    review = org.review(org.engineer)
    text = "\n".join(f"https://x.example/pr/{n}" for n in range(limits.MAX_PASTE_LINES + 1))
    response = client_for(org.engineer).post(
        f"/api/reviews/{review.pk}/evidence/paste/", {"text": text}, format="json"
    )
    assert response.status_code == 400
    assert f"at most {limits.MAX_PASTE_LINES} links" in response.json()["message"]
    assert not Evidence.objects.exists()


def test_a_narrative_too_long_is_refused(promo: dict[str, Any]) -> None:
    case = nominate(promo)
    response = client_for(promo["org"].manager).put(
        f"/api/promotions/{case['id']}/axes/scope/",
        {"narrative": "x" * (limits.LONG_TEXT + 1)},
        format="json",
    )
    assert response.status_code == 400 and "narrative" in response.json()["errors"]


# ---- rubric documents -------------------------------------------------------------------------

ALIAS_BOMB = """
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
"""


def test_yaml_aliases_and_repeated_keys_are_refused() -> None:
    from core.errors import ValidationFailed
    from rubrics.document import load_yaml

    with pytest.raises(ValidationFailed, match="aliases"):
        load_yaml(ALIAS_BOMB)
    with pytest.raises(ValidationFailed, match="the key 'name' appears twice"):
        load_yaml("rubric: x\nname: One\nname: Two\n")
    with pytest.raises(ValidationFailed, match="larger than 1,000,000 characters"):
        load_yaml("# " + "x" * limits.MAX_UPLOAD_BYTES)


def test_unknown_keys_in_a_rubric_document_are_named(hr: Any) -> None:
    document = ladder(1)
    document["dimensions"][2]["gates"] = document["dimensions"][2].pop("gate", {"below": 2})
    document["descripton"] = "typo"
    response = client_for(hr).post("/api/rubrics/", document, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "did you mean 'gate'?" in errors["dimensions[2].gates"][0]
    assert "did you mean 'description'?" in errors["descripton"][0]
    assert not Rubric.objects.exists()


def test_a_huge_rubric_description_is_refused(hr: Any) -> None:
    document = {**ladder(1), "description": "x" * (limits.LONG_TEXT + 1)}
    response = client_for(hr).post("/api/rubrics/", document, format="json")
    assert response.status_code == 400 and "description" in response.json()["errors"]


def test_import_rubric_refuses_an_alias_bomb_quickly(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(ALIAS_BOMB)
    result = subprocess.run(
        [sys.executable, "manage.py", "import_rubric", str(bomb)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "aliases" in result.stderr
    assert "Traceback" not in result.stderr


# ---- DORA CSV files ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD_CSV.replace("12,", "1E+999,", 1), "must be at most"),
        (GOOD_CSV.replace("26,", "9" * 5000 + ",", 1), "must be at most"),
        (GOOD_CSV + "Payments\x00,1,per_week,1,hours,1,1,hours\n", "no team called"),
        (GOOD_CSV.replace("Payments", '"Payments', 1), "no team called"),
        (GOOD_CSV.replace("Payments", "P" * 200_000, 1), "not a readable CSV"),
    ],
)
def test_malformed_dora_files_are_errors_not_crashes(org: Org, text: str, message: str) -> None:
    from core.errors import ValidationFailed
    from reviews.team_metrics import team_metrics_import

    with pytest.raises(ValidationFailed) as refused:
        team_metrics_import(actor=org.hr, cycle=org.cycle, text=text)
    shown = json.dumps(refused.value.errors)
    assert message in shown and len(shown) < 5_000
    assert not TeamMetrics.objects.exists()


def test_a_huge_dora_upload_gets_a_short_form_error(org: Org) -> None:
    client = Client()
    client.force_login(org.hr)
    upload = SimpleUploadedFile("big.csv", GOOD_CSV.encode() * 40_000, "text/csv")
    response = client.post(f"/reviews/cycles/{org.cycle.pk}/metrics/", {"file": upload})
    assert response.status_code == 400 and len(response.content) < 50_000
    assert "Import it in parts" in response.content.decode()
    assert not TeamMetrics.objects.exists()


def test_a_file_with_thousands_of_bad_rows_lists_the_first_ones(org: Org) -> None:
    from core.errors import ValidationFailed
    from reviews.team_metrics import team_metrics_import

    bad = GOOD_CSV + "Nowhere,1,per_week,1,hours,1,1,hours\n" * 5_000
    with pytest.raises(ValidationFailed) as refused:
        team_metrics_import(actor=org.hr, cycle=org.cycle, text=bad)
    assert len(refused.value.errors) == limits.MAX_ERRORS_LISTED + 1
    assert "more problems not listed" in refused.value.errors["more"][0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "content",
    [
        b"team\x00,x\n",
        b"\xff\xfe garbage",
        GOOD_CSV.replace("12,", "1E+999,").encode(),
        GOOD_CSV.replace("Payments", '"Payments').encode(),
    ],
)
def test_the_import_command_reports_bad_files_without_a_traceback(
    org: Org, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "metrics.csv"
    path.write_bytes(content)
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "import_team_metrics",
            str(path),
            "--cycle",
            str(org.cycle.pk),
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url_for_subprocess()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr and str(path) in result.stderr
