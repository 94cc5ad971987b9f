"""The composite score: a pure function over plain data, so it can be explained and reproduced.

    composite = Σ (w_d · r_d) / Σ w_d        over the dimensions that were rated

then every gate whose dimension was rated below its threshold caps the composite at the gate's
cap (the lowest cap wins), and the result is rounded once, ROUND_HALF_EVEN to 2 places.
Intermediate values are exact `Decimal`s (28 significant digits); terms are shown rounded to
4 places for reading only and never feed back into the composite.

The score is advisory: a calibration input, never the final answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

# Bump whenever the formula or its rounding changes; stored with every score.
FORMULA_VERSION = "weighted-mean-gated/1"

TWO_PLACES = Decimal("0.01")
FOUR_PLACES = Decimal("0.0001")
PRECISION = 28


class ScoringError(ValueError):
    """Ratings that cannot be scored. `errors` maps the offending key to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{key}: {message}" for key, message in errors.items()))


@dataclass(frozen=True)
class ScaleSpec:
    minimum: int
    maximum: int

    def problem(self, value: Any) -> str | None:
        """Why `value` is not a rating on this scale, or None when it is one."""
        if isinstance(value, bool) or not isinstance(value, int):
            return "rating must be a whole number"
        if not self.minimum <= value <= self.maximum:
            return f"rating {value} is outside the scale {self.minimum}–{self.maximum}"
        return None

    @property
    def midpoint(self) -> Decimal:
        return (Decimal(self.minimum) + Decimal(self.maximum)) / 2


@dataclass(frozen=True)
class DimensionSpec:
    key: str
    name: str
    weight: Decimal
    gate_below: int | None = None
    gate_cap: Decimal | None = None


@dataclass(frozen=True)
class Term:
    dimension: str
    name: str
    weight: Decimal
    weight_share: Decimal | None  # fraction of the rated weight, None when not rated
    weight_percent: Decimal | None
    rating: int | None
    contribution: Decimal | None  # weight_share × rating, shown to 4 places


@dataclass(frozen=True)
class GateResult:
    dimension: str
    name: str
    below: int
    cap: Decimal
    applied: bool
    reason: str


@dataclass(frozen=True)
class Breakdown:
    composite: Decimal | None
    uncapped: Decimal | None
    capped: bool
    rubric_version: int | None
    formula_version: str
    scale: ScaleSpec
    terms: list[Term] = field(default_factory=list)
    gates: list[GateResult] = field(default_factory=list)
    advisory: bool = True

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: decimals as strings so no precision is lost in transit.

        Written out rather than `dataclasses.asdict`, which deep-copies and was half the cost
        of recomputing a cycle's scores."""
        return {
            "composite": _str(self.composite),
            "uncapped": _str(self.uncapped),
            "capped": self.capped,
            "rubric_version": self.rubric_version,
            "formula_version": self.formula_version,
            "scale": {"minimum": self.scale.minimum, "maximum": self.scale.maximum},
            "terms": [
                {
                    "dimension": t.dimension,
                    "name": t.name,
                    "weight": str(t.weight),
                    "weight_share": _str(t.weight_share),
                    "weight_percent": _str(t.weight_percent),
                    "rating": t.rating,
                    "contribution": _str(t.contribution),
                }
                for t in self.terms
            ],
            "gates": [
                {
                    "dimension": g.dimension,
                    "name": g.name,
                    "below": g.below,
                    "cap": str(g.cap),
                    "applied": g.applied,
                    "reason": g.reason,
                }
                for g in self.gates
            ],
            "advisory": self.advisory,
        }


def round_score(value: Decimal) -> Decimal:
    """The one rounding rule for anything shown as a score: half-to-even, 2 places."""
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_EVEN)


def mean_score(values: Sequence[Decimal]) -> Decimal | None:
    """The mean of scores, rounded by the same rule (None for no scores)."""
    if not values:
        return None
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return round_score(sum(values, Decimal(0)) / len(values))


def _str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _fmt(value: Decimal) -> str:
    return str(round_score(value))


def validate_ratings(
    dimensions: Sequence[DimensionSpec], ratings: Mapping[str, Any], scale: ScaleSpec
) -> dict[str, int]:
    """Return the ratings as ints, or raise ScoringError naming every bad key at once."""
    known = {d.key for d in dimensions}
    errors: dict[str, str] = {}
    clean: dict[str, int] = {}
    for key, raw in ratings.items():
        if key not in known:
            errors[key] = f"unknown dimension; expected one of {', '.join(sorted(known))}"
            continue
        if raw is None:
            continue
        problem = scale.problem(raw)
        if problem is not None:
            errors[key] = problem
            continue
        clean[key] = raw
    if errors:
        raise ScoringError(errors)
    return clean


def compute(
    *,
    dimensions: Sequence[DimensionSpec],
    ratings: Mapping[str, Any],
    scale: ScaleSpec,
    rubric_version: int | None = None,
) -> Breakdown:
    """Score `ratings` ({dimension key: int}) against `dimensions`; returns the full breakdown.

    Unrated dimensions are listed with no share and do not count. With no rating at all the
    composite is None.
    """
    rated = validate_ratings(dimensions, ratings, scale)
    with localcontext() as ctx:
        ctx.prec = PRECISION
        total_weight = sum((d.weight for d in dimensions if d.key in rated), Decimal(0))
        weighted_sum = sum(
            (d.weight * rated[d.key] for d in dimensions if d.key in rated), Decimal(0)
        )

        terms: list[Term] = []
        for d in dimensions:
            rating = rated.get(d.key)
            if rating is None:
                terms.append(Term(d.key, d.name, d.weight, None, None, None, None))
                continue
            share = d.weight / total_weight
            terms.append(
                Term(
                    dimension=d.key,
                    name=d.name,
                    weight=d.weight,
                    weight_share=share.quantize(FOUR_PLACES, rounding=ROUND_HALF_EVEN),
                    weight_percent=(share * 100).quantize(TWO_PLACES, rounding=ROUND_HALF_EVEN),
                    rating=rating,
                    contribution=(share * rating).quantize(FOUR_PLACES, rounding=ROUND_HALF_EVEN),
                )
            )

        uncapped = weighted_sum / total_weight if rated else None
        gates: list[GateResult] = []
        cap: Decimal | None = None
        for d in dimensions:
            if d.gate_below is None or d.gate_cap is None:
                continue
            gate_cap = Decimal(d.gate_cap)
            rating = rated.get(d.key)
            applied = rating is not None and rating < d.gate_below
            if applied:
                cap = gate_cap if cap is None else min(cap, gate_cap)
                reason = f"{d.name} was rated {rating}, below {d.gate_below}, so the composite "
                if uncapped is not None and uncapped > gate_cap:
                    reason += f"is capped at {_fmt(gate_cap)}."
                else:
                    reason += f"may not exceed {_fmt(gate_cap)} (it is below that already)."
            elif rating is None:
                reason = (
                    f"{d.name} was not rated, so its gate (below {d.gate_below}) did not apply."
                )
            else:
                reason = (
                    f"{d.name} was rated {rating}, not below {d.gate_below}, so no cap applies."
                )
            gates.append(GateResult(d.key, d.name, d.gate_below, gate_cap, applied, reason))

        composite = uncapped
        capped = False
        if composite is not None and cap is not None and cap < composite:
            composite, capped = cap, True

    return Breakdown(
        composite=None if composite is None else round_score(composite),
        uncapped=None if uncapped is None else round_score(uncapped),
        capped=capped,
        rubric_version=rubric_version,
        formula_version=FORMULA_VERSION,
        scale=scale,
        terms=terms,
        gates=gates,
    )
