"""Calibration charts (SVG via pygal): the rating distribution, per-manager skew and process
health. Plain analytics data in, SVG markup out, so pages and PDFs can share them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pygal

from core.charts import chart_config, drawn_once

# The board page shows the distribution and skew charts side by side: draw them at the
# width they are shown, so their labels stay legible.
HALF_WIDTH = 480

# Bars outside the guidance band are drawn in the "look again" colour of the palette.
OUTSIDE_GUIDANCE = "#a33b5e"


def _count_axis(top: float) -> dict[str, Any]:
    """Whole-number y labels for small boards; pygal's own labels for large ones."""
    ceiling = max(int(top + 0.999), 1)
    if ceiling <= 10:
        return {"range": (0, ceiling), "y_labels": list(range(ceiling + 1))}
    return {"range": (0, ceiling)}


@drawn_once
def distribution_chart(distribution: Mapping[str, Any]) -> str:
    """How many composites round to each rating, and, when the session has guidance, how
    many the guidance expects. A bar more than 10 points off its guidance share is
    highlighted (the analytics' `outside_guidance`)."""
    buckets: Sequence[Mapping[str, Any]] = distribution["buckets"]
    total = int(distribution["total"])
    has_guidance = any(b["guidance"] is not None for b in buckets)
    expected = [
        round(float(b["guidance"]) * total, 1) if b["guidance"] is not None else None
        for b in buckets
    ]
    top = max([b["count"] for b in buckets] + [e or 0 for e in expected] + [1])
    title = f"Composites by rating (advisory), {total} review{'s' if total != 1 else ''}"
    chart = pygal.Bar(
        **{**chart_config(title, 360), "width": HALF_WIDTH, "show_legend": has_guidance},
        **_count_axis(top),
        value_formatter=lambda v: f"{v:g}",
        legend_at_bottom=True,
    )
    chart.x_labels = [str(b["rating"]) for b in buckets]
    chart.add(
        "Reviews",
        [
            {"value": b["count"], "color": OUTSIDE_GUIDANCE}
            if b["outside_guidance"]
            else {"value": b["count"]}
            for b in buckets
        ],
    )
    if has_guidance:
        chart.add("Guidance (expected)", expected)
    return str(chart.render(is_unicode=True))


@drawn_once
def skew_chart(skew: Sequence[Mapping[str, Any]]) -> str:
    """Each manager's mean composite minus the session mean, labelled with z and n."""
    rows = list(reversed(skew))  # pygal draws the first label at the bottom
    differences = [float(r["difference"] or 0) for r in rows]
    reach = max([abs(d) for d in differences] + [0.5])
    chart = pygal.HorizontalBar(
        **{
            **chart_config(
                "Manager mean − session mean (advisory)", max(240, 110 + 56 * len(rows))
            ),
            "width": HALF_WIDTH,
        },
        range=(-reach, reach),
        # Five ticks: the manager labels take half the width, so more would collide.
        y_labels=[round(reach * step / 2, 2) for step in (-2, -1, 0, 1, 2)],
        value_formatter=lambda v: f"{v:+.2f}",
        truncate_label=-1,
    )
    chart.x_labels = [f"{r['manager'] or '—'} (n={r['reviews']}, z={r['z']})" for r in rows]
    chart.add(
        "Difference",
        [
            {"value": d, "color": OUTSIDE_GUIDANCE} if r["flag"] else {"value": d}
            for d, r in zip(differences, rows, strict=True)
        ],
    )
    return str(chart.render(is_unicode=True))


PHASE_LABELS = {
    "self_review": "Self-review",
    "manager_review": "Manager review",
    "calibration": "Calibration",
    "finalisation": "Finalisation",
    "acknowledgement": "Acknowledgement",
}


def completion_chart(completion: Mapping[str, float | None]) -> str:
    """Share of the cycle's reviews past each phase, in percent."""
    chart = pygal.Bar(
        **chart_config("Reviews past each phase (%)", 340),
        range=(0, 100),
        y_labels=[0, 25, 50, 75, 100],
        value_formatter=lambda v: f"{v:.0f}%",
        truncate_label=-1,
    )
    chart.x_labels = [PHASE_LABELS.get(phase, phase) for phase in completion]
    chart.add(
        "Completion",
        [round(share * 100, 1) if share is not None else None for share in completion.values()],
    )
    return str(chart.render(is_unicode=True))


@drawn_once
def understanding_chart(labels: list[str], series: list[tuple[str, list[float | None]]]) -> str:
    """The pulse's means and the managers' confidence, cycle after cycle (1–5)."""
    chart = pygal.Line(
        **{
            **chart_config("Understanding and confidence across cycles", 320),
            "show_legend": True,
            "print_values": False,
        },
        range=(1, 5),
        truncate_label=-1,
        truncate_legend=-1,
        legend_at_bottom=True,
        allow_interruptions=True,
    )
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, values)
    return str(chart.render(is_unicode=True))
