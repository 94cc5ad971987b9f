"""core.charts.drawn_once: a chart is drawn once for the same data, again for other data."""

from __future__ import annotations

from typing import Any

from calibration.charts import distribution_chart
from core.charts import drawn_once

drawn: list[Any] = []


@drawn_once
def _chart(values: list[int], *, title: str) -> str:
    drawn.append((values, title))
    return f"<svg>{title}: {values}</svg>"


def test_the_same_data_is_drawn_once() -> None:
    drawn.clear()
    assert _chart([1, 2], title="A") == _chart([1, 2], title="A") == "<svg>A: [1, 2]</svg>"
    assert drawn == [([1, 2], "A")]
    assert _chart([1, 3], title="A") == "<svg>A: [1, 3]</svg>"
    assert _chart([1, 2], title="B") == "<svg>B: [1, 2]</svg>"
    assert len(drawn) == 3


def test_a_board_chart_is_the_chart_drawn_afresh() -> None:
    buckets = [
        {"rating": r, "count": r, "guidance": None, "outside_guidance": False} for r in (1, 2, 3)
    ]
    distribution = {"buckets": buckets, "total": 6}
    first = distribution_chart(distribution)
    assert first.startswith("<svg") and "6 reviews" in first
    assert distribution_chart(distribution) == first
    assert distribution_chart.__wrapped__(distribution).count("<rect") == first.count("<rect")  # type: ignore[attr-defined]
