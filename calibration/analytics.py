"""Calibration analytics over board rows: plain data in, plain data out (no ORM), so the same
functions serve the board API, the charts and the benchmarks.

A row is a dict with at least: review, engineer, team, level, manager, tenure_band,
composite (Decimal | None), overall (int | None), growth (int | None), ratings
({key: int}), evidence_by_dimension ({key: int}), previous_composite (Decimal | None).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

TWO = Decimal("0.01")
Row = Mapping[str, Any]


def _q(value: float | Decimal | None) -> str | None:
    if value is None:
        return None
    return str(Decimal(str(value)).quantize(TWO, rounding=ROUND_HALF_EVEN))


def _scored(rows: Iterable[Row]) -> list[Row]:
    return [r for r in rows if r["composite"] is not None]


def distribution(
    rows: Iterable[Row],
    *,
    scale_min: int,
    scale_max: int,
    guidance: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """How many composites round to each point of the scale, with optional guidance shares."""
    scored = _scored(rows)
    counts = {point: 0 for point in range(scale_min, scale_max + 1)}
    for row in scored:
        point = int(Decimal(row["composite"]).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
        counts[min(max(point, scale_min), scale_max)] += 1
    total = len(scored)
    buckets = []
    for point, count in counts.items():
        share = count / total if total else 0.0
        band = (guidance or {}).get(str(point))
        buckets.append(
            {
                "rating": point,
                "count": count,
                "share": _q(share),
                "guidance": _q(band) if band is not None else None,
                "outside_guidance": band is not None and abs(share - float(band)) > 0.10,
            }
        )
    return {"total": total, "buckets": buckets}


def manager_skew(rows: Iterable[Row]) -> list[dict[str, Any]]:
    """Each manager's mean composite against the session mean, with a z-score.

    z = (manager mean − session mean) / (session standard deviation / √n): how many standard
    errors the manager's mean sits from everyone's, so a lenient or severe rater stands out
    while a manager with two reports does not look extreme by chance.
    """
    scored = _scored(rows)
    values = [float(r["composite"]) for r in scored]
    if not values:
        return []
    mean = statistics.fmean(values)
    sd = statistics.pstdev(values) if len(values) > 1 else 0.0
    by_manager: dict[Any, list[float]] = defaultdict(list)
    names: dict[Any, str] = {}
    for row in scored:
        by_manager[row["manager_id"]].append(float(row["composite"]))
        names[row["manager_id"]] = row["manager"]
    out = []
    for manager_id, composites in by_manager.items():
        m = statistics.fmean(composites)
        n = len(composites)
        z = (m - mean) / (sd / n**0.5) if sd > 0 else 0.0
        out.append(
            {
                "manager_id": manager_id,
                "manager": names[manager_id],
                "reviews": n,
                "mean": _q(m),
                "session_mean": _q(mean),
                "difference": _q(m - mean),
                "z": _q(z),
                "flag": "lenient" if z >= 2 else "severe" if z <= -2 else None,
            }
        )
    return sorted(out, key=lambda r: float(r["z"] or 0), reverse=True)


def outliers(
    rows: Iterable[Row], *, midpoint: Decimal, change_threshold: Decimal = Decimal(1)
) -> list[dict[str, Any]]:
    """Reviews worth a second look, each with the reasons."""
    out = []
    for row in rows:
        reasons = []
        composite = row["composite"]
        if composite is not None and row.get("overall") is not None:
            gap = abs(Decimal(composite) - Decimal(row["overall"]))
            if gap > 1:
                reasons.append(
                    f"composite {_q(composite)} and overall rating {row['overall']} are "
                    f"{_q(gap)} apart"
                )
        evidence = row.get("evidence_by_dimension") or {}
        # Ratings are ints and a Decimal midpoint compares with them exactly; no conversion.
        unbacked = [
            key
            for key, value in (row.get("ratings") or {}).items()
            if value is not None and value != midpoint and not evidence.get(key)
        ]
        if unbacked:
            reasons.append(
                f"away from the midpoint without evidence: {', '.join(sorted(unbacked))}"
            )
        previous = row.get("previous_composite")
        if composite is not None and previous is not None:
            change = Decimal(composite) - Decimal(previous)
            if abs(change) > change_threshold:
                reasons.append(f"changed {_q(change)} since last cycle ({_q(previous)})")
        if reasons:
            out.append({"review": row["review"], "engineer": row["engineer"], "reasons": reasons})
    return out


PERFORMANCE_BANDS = ((Decimal("2.5"), "low"), (Decimal("3.5"), "moderate"))
GROWTH_BANDS = ((3, "low"), (4, "moderate"))


def _band(value: Any, bands: tuple[tuple[Any, str], ...]) -> str:
    for limit, name in bands:
        if value < limit:
            return name
    return "high"


def nine_box(rows: Iterable[Row]) -> dict[str, Any]:
    """Performance (composite: <2.5 low, <3.5 moderate, else high) × growth (manager's growth
    rating: 1–2 low, 3 moderate, 4–5 high), with the people in each box."""
    boxes: dict[tuple[str, str], list[dict[str, Any]]] = {
        (p, g): [] for p in ("low", "moderate", "high") for g in ("low", "moderate", "high")
    }
    unplaced = []
    for row in rows:
        if row["composite"] is None or row.get("growth") is None:
            unplaced.append({"review": row["review"], "engineer": row["engineer"]})
            continue
        key = (
            _band(Decimal(row["composite"]), PERFORMANCE_BANDS),
            _band(int(row["growth"]), GROWTH_BANDS),
        )
        boxes[key].append({"review": row["review"], "engineer": row["engineer"]})
    return {
        "boxes": [
            {"performance": p, "growth": g, "count": len(people), "people": people}
            for (p, g), people in boxes.items()
        ],
        "unplaced": unplaced,
    }


GROUP_KEYS = ("team", "level", "tenure_band")
HR_GROUP_KEY = "hr_attribute"  # only in rows built for HR (see board_rows)


def groups(
    rows: Iterable[Row],
    *,
    threshold: Decimal = Decimal("0.5"),
    keys: Iterable[str] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Mean composite by team, level and tenure band (and the HR attribute, when the rows
    carry it); a group whose mean differs from the rest of the session by more than
    `threshold` is flagged, with both group sizes."""
    scored = _scored(rows)
    if keys is None:
        keys = (*GROUP_KEYS, *((HR_GROUP_KEY,) if scored and HR_GROUP_KEY in scored[0] else ()))
    out: dict[str, list[dict[str, Any]]] = {}
    for key in keys:
        by_group: dict[Any, list[float]] = defaultdict(list)
        for row in scored:
            by_group[row[key]].append(float(row["composite"]))
        total = sum(sum(v) for v in by_group.values())
        count = sum(len(v) for v in by_group.values())
        entries = []
        for name, values in sorted(by_group.items(), key=lambda item: str(item[0])):
            rest_n = count - len(values)
            mean = statistics.fmean(values)
            rest_mean = (total - sum(values)) / rest_n if rest_n else None
            difference = mean - rest_mean if rest_mean is not None else None
            entries.append(
                {
                    "group": name,
                    "size": len(values),
                    "mean": _q(mean),
                    "rest_size": rest_n,
                    "rest_mean": _q(rest_mean),
                    "difference": _q(difference),
                    "flagged": difference is not None and abs(difference) > float(threshold),
                }
            )
        out[key] = entries
    return out


def tenure_band(years: float) -> str:
    if years < 1:
        return "<1y"
    if years < 3:
        return "1–3y"
    if years < 6:
        return "3–6y"
    return "6y+"
