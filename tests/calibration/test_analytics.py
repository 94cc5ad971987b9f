"""Calibration analytics: pure functions checked on hand-made boards."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from calibration import analytics


def row(n: int, composite: str | None, manager: str = "m1", **extra: Any) -> dict[str, Any]:
    base = {
        "review": n,
        "engineer": f"E{n}",
        "team": "Payments",
        "level": "L4",
        "manager": manager,
        "manager_id": manager,
        "tenure_band": "1–3y",
        "composite": Decimal(composite) if composite else None,
        "overall": None,
        "growth": None,
        "ratings": {},
        "evidence_by_dimension": {},
        "previous_composite": None,
    }
    return {**base, **extra}


def test_distribution_rounds_half_even_and_compares_guidance() -> None:
    rows = [row(1, "2.50"), row(2, "3.50"), row(3, "3.49"), row(4, None)]
    result = analytics.distribution(rows, scale_min=1, scale_max=5, guidance={"3": "0.2"})
    counts = {b["rating"]: b["count"] for b in result["buckets"]}
    assert counts == {1: 0, 2: 1, 3: 1, 4: 1, 5: 0}  # 2.5→2, 3.5→4, 3.49→3
    three = next(b for b in result["buckets"] if b["rating"] == 3)
    assert three["share"] == "0.33" and three["guidance"] == "0.20" and three["outside_guidance"]
    assert result["total"] == 3


def test_manager_skew_flags_a_lenient_rater() -> None:
    rows = [row(i, "3.00", "m1") for i in range(8)] + [row(10 + i, "4.60", "m2") for i in range(8)]
    rows += [row(30 + i, "3.10", "m3") for i in range(8)]
    skew = {s["manager"]: s for s in analytics.manager_skew(rows)}
    assert skew["m2"]["flag"] == "lenient" and float(skew["m2"]["z"]) > 2
    assert skew["m1"]["flag"] == "severe"
    assert skew["m2"]["reviews"] == 8 and skew["m2"]["mean"] == "4.60"


def test_outliers_name_their_reasons() -> None:
    rows = [
        row(1, "4.50", overall=3),
        row(2, "3.00", ratings={"delivery": 5, "scope": 3}, evidence_by_dimension={}),
        row(3, "3.00", previous_composite=Decimal("4.20")),
        row(4, "3.00", overall=3, ratings={"delivery": 4}, evidence_by_dimension={"delivery": 1}),
    ]
    found = {o["review"]: o["reasons"] for o in analytics.outliers(rows, midpoint=Decimal(3))}
    assert set(found) == {1, 2, 3}
    assert found[1] == ["composite 4.50 and overall rating 3 are 1.50 apart"]
    assert found[2] == ["away from the midpoint without evidence: delivery"]
    assert found[3] == ["changed -1.20 since last cycle (4.20)"]


def test_nine_box_places_people() -> None:
    rows = [
        row(1, "4.00", growth=5),
        row(2, "2.00", growth=1),
        row(3, "3.00", growth=3),
        row(4, "3.0"),
    ]
    boxes = {(b["performance"], b["growth"]): b for b in analytics.nine_box(rows)["boxes"]}
    assert boxes[("high", "high")]["people"] == [{"review": 1, "engineer": "E1"}]
    assert boxes[("low", "low")]["count"] == 1 and boxes[("moderate", "moderate")]["count"] == 1
    assert analytics.nine_box(rows)["unplaced"] == [{"review": 4, "engineer": "E4"}]


def test_groups_flag_a_team_that_differs() -> None:
    rows = [row(i, "3.00", team="Payments") for i in range(4)]
    rows += [row(10 + i, "4.00", team="Search") for i in range(2)]
    teams = {g["group"]: g for g in analytics.groups(rows, threshold=Decimal("0.5"))["team"]}
    assert teams["Search"]["flagged"] and teams["Search"]["size"] == 2
    assert teams["Search"]["rest_size"] == 4 and teams["Search"]["difference"] == "1.00"
    assert teams["Payments"]["difference"] == "-1.00"


@given(st.lists(st.decimals(min_value=1, max_value=5, places=2), min_size=1, max_size=40))
def test_distribution_counts_every_scored_review_once(values: list[Decimal]) -> None:
    rows = [row(i, str(v)) for i, v in enumerate(values)]
    result = analytics.distribution(rows, scale_min=1, scale_max=5)
    assert sum(b["count"] for b in result["buckets"]) == len(values) == result["total"]
