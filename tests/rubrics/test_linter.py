from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from rubrics.linter import lint_document
from tests.conftest import ladder

MAX = Decimal("0.40")


def paths(document: dict) -> dict[str, str]:
    return {p.path: p.message for p in lint_document(document, max_share=MAX)}


def test_the_real_ladders_are_clean() -> None:
    assert lint_document(ladder(1), max_share=MAX) == []
    assert lint_document(ladder(2), max_share=MAX) == []


def test_weight_share_above_the_limit_is_refused() -> None:
    document = ladder(1)
    document["dimensions"][0]["weight"] = 100  # 100 of 175 = 57%
    problems = paths(document)
    assert "57.1% of the total weight" in problems["dimensions[0].weight"]
    assert "more than 40%" in problems["dimensions[0].weight"]
    assert lint_document(document, max_share=Decimal("0.60")) == []


@pytest.mark.parametrize(
    ("name", "purpose", "metric"),
    [
        ("Lines of code", "Output", "lines of code"),
        ("Throughput", "Number of commits per week", "commit counts"),
        ("PRs merged", "Shipping", "pull request counts"),
        ("Dedication", "Hours worked beyond the norm", "hours worked"),
        ("Velocity", "Story points completed per sprint", "story points"),
    ],
)
def test_individual_activity_metrics_are_refused_with_a_reason(
    name: str, purpose: str, metric: str
) -> None:
    document = ladder(1)
    document["dimensions"][3].update(name=name, purpose=purpose)
    message = paths(document)["dimensions[3]"]
    assert f"measures {metric}" in message
    assert "individual activity metric" in message
    assert "easy to game" in message


def test_anti_gaming_notes_may_mention_activity_metrics() -> None:
    document = ladder(1)
    document["dimensions"][0]["anti_gaming"] = "Never count lines of code or story points."
    assert lint_document(document, max_share=MAX) == []


def test_every_problem_is_listed_at_once() -> None:
    document = ladder(1)
    document["scale"]["anchors"].pop(3)
    document["dimensions"][1]["purpose"] = ""
    document["dimensions"][1]["review_cadence"] = " "
    document["dimensions"][4]["criteria"].pop("L3")
    document["dimensions"][5]["key"] = "story_points"
    problems = paths(document)
    assert set(problems) == {
        "scale.anchors",
        "dimensions[1].purpose",
        "dimensions[1].review_cadence",
        "dimensions[4].criteria",
        "dimensions[5]",
    }
    assert "missing for 3" in problems["scale.anchors"]
    assert (
        problems["dimensions[4].criteria"] == "dimensions[4] (mentoring): no criterion for level L3"
    )


def test_scale_needs_a_midpoint() -> None:
    document = ladder(1)
    document["scale"] = {"min": 1, "max": 2, "anchors": {1: "low", 2: "high"}}
    for d in document["dimensions"]:
        d.pop("gate", None)
    assert "three points" in paths(document)["scale"]


@pytest.mark.parametrize(
    ("criterion", "metric", "words"),
    [
        ("Commits at least 30 times per week and logs 45 hours", "commit counts", "Commits at"),
        ("Logs 45 hours a week on the roadmap", "hours worked", "Logs 45 hours"),
        ("Keeps the team's velocity above 40", "velocity", "velocity"),
        ("Has the most tickets closed in the team", "tickets closed", "tickets closed"),
        ("Raises PR throughput quarter on quarter", "throughput", "throughput"),
        ("Writes 2,000 lines changed per month", "lines of code", "lines changed"),
    ],
)
def test_criteria_are_read_too_naming_dimension_level_and_words(
    criterion: str, metric: str, words: str
) -> None:
    document = ladder(1)
    level = document["levels"][1]["code"]
    document["dimensions"][0]["criteria"][level] = criterion
    key = document["dimensions"][0]["key"]
    message = paths(document)[f"dimensions[0].criteria.{level}"]
    assert message.startswith(f'dimensions[0] ({key}), level {level}: "{words}')
    assert f"asks for {metric}" in message and "easy to game" in message


def test_scale_anchors_are_read_too() -> None:
    document = ladder(1)
    document["scale"]["anchors"][5] = "Closes 20 more tickets than anyone else"
    message = paths(document)["scale.anchors.5"]
    assert message.startswith('the anchor of rating 5: "Closes 20 more tickets"')
    assert "tickets closed" in message


def test_outcome_language_is_not_mistaken_for_an_activity_metric() -> None:
    document = ladder(1)
    document["dimensions"][0]["criteria"][document["levels"][0]["code"]] = (
        "Ships reviewed changes weekly that customers notice; closes the loop on incidents."
    )
    assert lint_document(document, max_share=MAX) == []


def eight_dimensions() -> dict:
    """The ladder with two more dimensions (copies of the first, new keys): eight in all."""
    import copy

    document = ladder(1)
    for n in (1, 2):
        extra = copy.deepcopy(document["dimensions"][0])
        extra["key"], extra["name"] = f"extra{n}", f"Extra {n}"
        document["dimensions"].append(extra)
    return document


def test_more_than_seven_dimensions_is_a_warning_not_a_refusal(hr: Any) -> None:
    from rubrics.linter import lint_warnings
    from rubrics.services import rubric_import
    from tests.conftest import client_for

    document = eight_dimensions()
    assert lint_warnings(ladder(1)) == []
    (warning,) = lint_warnings(document)
    assert warning.path == "dimensions" and "8 dimensions: keep to a small set" in warning.message
    assert paths(document) == {}  # nothing refused: it may be published
    draft = rubric_import(actor=hr, data=document)
    body = (
        client_for(hr).get(f"/api/rubrics/{draft.rubric.slug}/versions/{draft.number}/lint/").json()
    )
    assert body["ok"] is True and body["problems"] == []
    assert body["warnings"] == [{"path": "dimensions", "message": warning.message}]
    from django.test import Client

    page = Client()
    page.force_login(hr)
    html = page.get(f"/rubrics/{draft.rubric.slug}/versions/{draft.number}/").content.decode()
    assert 'id="lint-warning"' in html and "it does not stop publishing" in html
