"""The scoring engine: worked examples and hypothesis properties."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from rubrics.scoring import (
    FORMULA_VERSION,
    DimensionSpec,
    ScaleSpec,
    ScoringError,
    compute,
)

SCALE = ScaleSpec(1, 5)
README = Path(__file__).resolve().parents[2] / "README.md"

# The README's worked example.
EXAMPLE = [
    DimensionSpec("delivery", "Delivery", Decimal(20)),
    DimensionSpec("technical_quality", "Technical quality", Decimal(20)),
    DimensionSpec("reliability", "Reliability", Decimal(25), gate_below=2, gate_cap=Decimal(3)),
    DimensionSpec("collaboration", "Collaboration", Decimal(15)),
    DimensionSpec("mentoring", "Mentoring", Decimal(10)),
    DimensionSpec("scope", "Scope and ambiguity", Decimal(10)),
]
EXAMPLE_RATINGS = {
    "delivery": 4,
    "technical_quality": 3,
    "reliability": 4,
    "collaboration": 5,
    "mentoring": 3,
    "scope": 3,
}


def test_worked_example_matches_the_readme() -> None:
    result = compute(dimensions=EXAMPLE, ratings=EXAMPLE_RATINGS, scale=SCALE, rubric_version=2)
    # (20·4 + 20·3 + 25·4 + 15·5 + 10·3 + 10·3) / 100 = 375 / 100
    assert result.composite == Decimal("3.75")
    assert result.capped is False
    contributions = {t.dimension: t.contribution for t in result.terms}
    assert contributions["reliability"] == Decimal("1.0000")
    assert contributions["collaboration"] == Decimal("0.7500")
    readme = README.read_text()
    assert "composite = 3.75" in readme

    gated = compute(dimensions=EXAMPLE, ratings={**EXAMPLE_RATINGS, "reliability": 1}, scale=SCALE)
    # (80 + 60 + 25 + 75 + 30 + 30) / 100 = 3.00 uncapped; the gate caps at 3.00 anyway,
    # so the README uses the higher-output variant below.
    assert gated.uncapped == Decimal("3.00")
    strong = compute(
        dimensions=EXAMPLE,
        ratings={**EXAMPLE_RATINGS, "reliability": 1, "delivery": 5, "technical_quality": 5},
        scale=SCALE,
    )
    assert strong.uncapped == Decimal("3.60")
    assert strong.composite == Decimal("3.00")
    assert strong.capped is True
    reliability_gate = strong.gates[0]
    assert reliability_gate.applied
    assert reliability_gate.reason == (
        "Reliability was rated 1, below 2, so the composite is capped at 3.00."
    )
    assert re.search(r"uncapped 3\.60.*capped at 3\.00", readme, re.DOTALL)


def test_breakdown_lists_every_term_with_share_and_contribution() -> None:
    result = compute(dimensions=EXAMPLE, ratings={"delivery": 4, "reliability": 2}, scale=SCALE)
    by_key = {t.dimension: t for t in result.terms}
    assert len(result.terms) == len(EXAMPLE)
    # Only rated dimensions count: shares are over delivery (20) + reliability (25).
    assert by_key["delivery"].weight_share == Decimal("0.4444")
    assert by_key["delivery"].weight_percent == Decimal("44.44")
    assert by_key["reliability"].contribution == Decimal("1.1111")
    assert by_key["mentoring"].rating is None and by_key["mentoring"].weight_share is None
    assert result.composite == Decimal("2.89")  # (80 + 50) / 45 = 2.888…
    assert result.formula_version == FORMULA_VERSION
    assert result.advisory is True


def test_rounding_is_half_even_and_happens_once() -> None:
    dims = [DimensionSpec("a", "A", Decimal(1)), DimensionSpec("b", "B", Decimal(7))]
    # (3 + 7·2) / 8 = 2.125 → half-even → 2.12 (half-up would give 2.13)
    assert compute(dimensions=dims, ratings={"a": 3, "b": 2}, scale=SCALE).composite == Decimal(
        "2.12"
    )
    # (5 + 7·2)/8 = 2.375 → 2.38 (the even neighbour)
    assert compute(dimensions=dims, ratings={"a": 5, "b": 2}, scale=SCALE).composite == Decimal(
        "2.38"
    )


def test_unknown_dimension_and_out_of_scale_are_named() -> None:
    with pytest.raises(ScoringError) as excinfo:
        compute(
            dimensions=EXAMPLE, ratings={"velocity": 3, "delivery": 9, "scope": "4"}, scale=SCALE
        )
    assert set(excinfo.value.errors) == {"velocity", "delivery", "scope"}
    assert "outside the scale 1–5" in excinfo.value.errors["delivery"]
    assert "unknown dimension" in excinfo.value.errors["velocity"]


def test_no_ratings_gives_no_composite() -> None:
    result = compute(dimensions=EXAMPLE, ratings={}, scale=SCALE)
    assert result.composite is None
    assert all(not g.applied for g in result.gates)


def test_lowest_cap_wins_when_two_gates_apply() -> None:
    dims = [
        DimensionSpec("a", "A", Decimal(1), gate_below=3, gate_cap=Decimal("3.5")),
        DimensionSpec("b", "B", Decimal(1), gate_below=3, gate_cap=Decimal("2.5")),
        DimensionSpec("c", "C", Decimal(8)),
    ]
    result = compute(dimensions=dims, ratings={"a": 2, "b": 2, "c": 5}, scale=SCALE)
    assert result.composite == Decimal("2.50")
    assert [g.applied for g in result.gates] == [True, True]


# ---- properties ---------------------------------------------------------------------------

weights = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000"), places=2)


@st.composite
def scored_rubric(draw: st.DrawFn) -> tuple[list[DimensionSpec], dict[str, int], ScaleSpec]:
    lo = draw(st.integers(0, 3))
    hi = draw(st.integers(lo + 2, lo + 8))
    n = draw(st.integers(1, 8))
    dims = []
    for i in range(n):
        gated = draw(st.booleans())
        dims.append(
            DimensionSpec(
                key=f"d{i}",
                name=f"D{i}",
                weight=draw(weights),
                gate_below=draw(st.integers(lo + 1, hi)) if gated else None,
                gate_cap=Decimal(draw(st.integers(lo, hi))) if gated else None,
            )
        )
    ratings = {d.key: draw(st.integers(lo, hi)) for d in dims}
    return dims, ratings, ScaleSpec(lo, hi)


@given(scored_rubric())
def test_composite_stays_within_the_scale(case: tuple) -> None:
    dims, ratings, scale = case
    result = compute(dimensions=dims, ratings=ratings, scale=scale)
    assert result.composite is not None
    assert scale.minimum <= result.composite <= scale.maximum


@given(scored_rubric(), st.data())
def test_composite_never_decreases_when_one_rating_rises(case: tuple, data: st.DataObject) -> None:
    dims, ratings, scale = case
    key = data.draw(st.sampled_from(sorted(ratings)))
    assume(ratings[key] < scale.maximum)
    higher = {**ratings, key: data.draw(st.integers(ratings[key] + 1, scale.maximum))}
    before = compute(dimensions=dims, ratings=ratings, scale=scale).composite
    after = compute(dimensions=dims, ratings=higher, scale=scale).composite
    assert after >= before


@given(
    scored_rubric(), st.decimals(min_value=Decimal("0.01"), max_value=Decimal("10000"), places=2)
)
def test_scaling_all_weights_changes_nothing(case: tuple, factor: Decimal) -> None:
    dims, ratings, scale = case
    scaled = [
        DimensionSpec(d.key, d.name, d.weight * factor, d.gate_below, d.gate_cap) for d in dims
    ]
    a = compute(dimensions=dims, ratings=ratings, scale=scale)
    b = compute(dimensions=scaled, ratings=ratings, scale=scale)
    assert a.composite == b.composite
    assert [t.weight_share for t in a.terms] == [t.weight_share for t in b.terms]


@given(scored_rubric())
def test_a_triggered_gate_caps_the_composite(case: tuple) -> None:
    dims, ratings, scale = case
    result = compute(dimensions=dims, ratings=ratings, scale=scale)
    for gate in result.gates:
        if gate.applied:
            assert result.composite <= gate.cap
            assert ratings[gate.dimension] < gate.below
        else:
            assert ratings[gate.dimension] >= gate.below


@given(scored_rubric())
def test_uncapped_composite_is_the_weighted_mean(case: tuple) -> None:
    dims, ratings, scale = case
    result = compute(dimensions=dims, ratings=ratings, scale=scale)
    total = sum(d.weight for d in dims)
    mean = sum(d.weight * ratings[d.key] for d in dims) / total
    assert abs(result.uncapped - mean) <= Decimal("0.005")
