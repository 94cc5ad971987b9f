"""Charts of a review's score (SVG via pygal), shared by the score page and, later, the PDF."""

from __future__ import annotations

from typing import Any

import pygal

from core.charts import chart_config, drawn_once


@drawn_once
def contributions_chart(breakdown: dict[str, Any]) -> str:
    """Each rated dimension's contribution (weight share × rating) to the composite."""
    terms = [t for t in breakdown["terms"] if t["rating"] is not None]
    scale_max = breakdown["scale"]["maximum"]
    composite = breakdown["composite"]
    top = max([float(t["contribution"]) for t in terms] + [scale_max / 4])
    title = f"Contributions to the composite ({composite or '—'}, advisory)"
    chart = pygal.HorizontalBar(
        **chart_config(title, 80 + 42 * max(len(terms), 1)),
        value_formatter=lambda v: f"{v:.2f}",
        range=(0, top),
        y_labels=[round(top * i / 4, 2) for i in range(5)],
        truncate_label=-1,  # never shorten "Delivery (4 × 25%)" to "Deli…"
    )
    chart.x_labels = [
        f"{t['name']} ({t['rating']} × {float(t['weight_percent']):g}%)" for t in reversed(terms)
    ]
    chart.add("Contribution", [float(t["contribution"]) for t in reversed(terms)])
    return str(chart.render(is_unicode=True))


@drawn_once
def self_vs_manager_chart(rows: list[dict[str, Any]], scale_max: int) -> str:
    """Self rating beside manager rating per dimension."""
    chart = pygal.Bar(
        **{**chart_config("Self vs manager rating", 320), "show_legend": True},
        range=(0, scale_max),
        truncate_label=-1,
        x_label_rotation=20,
    )
    chart.x_labels = [r["name"] for r in rows]
    chart.add("Self", [r["self_rating"] for r in rows])
    chart.add("Manager", [r["manager_rating"] for r in rows])
    return str(chart.render(is_unicode=True))


@drawn_once
def history_chart(
    labels: list[str], series: list[tuple[str, list[float | None]]], scale_max: int
) -> str:
    """Each dimension's rating and the composite, cycle after cycle."""
    chart = pygal.Line(
        **{
            **chart_config("Ratings and composite across cycles", 360),
            "show_legend": True,
            "print_values": False,
        },
        range=(0, scale_max),
        truncate_label=-1,
        truncate_legend=-1,
        legend_at_bottom=True,
        allow_interruptions=True,
    )
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, values, stroke_style={"width": 4} if name.startswith("Composite") else {})
    return str(chart.render(is_unicode=True))
