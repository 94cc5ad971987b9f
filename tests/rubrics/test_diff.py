from __future__ import annotations

from rubrics.diff import diff_documents
from tests.conftest import ladder


def test_diff_between_the_two_ladder_versions() -> None:
    diff = diff_documents(ladder(1), ladder(2))
    changed = {
        d["key"]: {c["field"]: (c["from"], c["to"]) for c in d["changes"]}
        for d in diff["dimensions"]["changed"]
    }
    assert changed["delivery"] == {"weight": (25, 20)}
    assert changed["reliability"] == {
        "weight": (20, 25),
        "review_cadence": ("half-yearly", "quarterly"),
    }
    assert [(c["dimension"], c["level"]) for c in diff["criteria"]["changed"]] == [
        ("mentoring", "L4"),
        ("mentoring", "L5"),
    ]
    assert diff["levels"] == {"added": [], "removed": [], "changed": []}
    assert not diff["unchanged"]
    assert "Weight of Delivery changed from 25 to 20." in diff["summary"]


def test_added_removed_levels_dimensions_and_gates() -> None:
    old, new = ladder(1), ladder(1)
    new["levels"].append({"code": "L7", "name": "Principal"})
    removed = new["dimensions"].pop(5)
    new["dimensions"].append({**removed, "key": "ownership", "name": "Ownership"})
    new["dimensions"][0]["gate"] = {"below": 2, "cap": 3}
    new["dimensions"][2]["gate"] = None
    diff = diff_documents(old, new)
    assert diff["levels"]["added"] == [{"code": "L7", "name": "Principal"}]
    assert [d["key"] for d in diff["dimensions"]["removed"]] == ["scope"]
    assert [d["key"] for d in diff["dimensions"]["added"]] == ["ownership"]
    assert "Gate on Delivery changed from none to below 2 caps at 3." in diff["summary"]
    assert "Gate on Reliability changed from below 2 caps at 3 to none." in diff["summary"]


def test_identical_documents() -> None:
    assert diff_documents(ladder(1), ladder(1))["unchanged"] is True
