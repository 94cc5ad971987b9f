"""Charts of a review's score (SVG via pygal), shared by the score page and, later, the PDF."""

from __future__ import annotations

from typing import Any

import pygal

from rubrics.charts import chart_config


def contributions_chart(breakdown: dict[str, Any]) -> str:
    """Each rated dimension's contribution (weight share × rating) to the composite."""
    terms = [t for t in breakdown["terms"] if t["rating"] is not None]
    scale_max = breakdown["scale"]["maximum"]
    composite = breakdown["composite"]
    title = f"Contributions to the composite ({composite or '—'}, advisory)"
    chart = pygal.HorizontalBar(
        **chart_config(title, 80 + 42 * max(len(terms), 1)),
        value_formatter=lambda v: f"{v:.2f}",
        range=(0, max([float(t["contribution"]) for t in terms] + [scale_max / 4])),
    )
    chart.x_labels = [
        f"{t['name']} ({t['rating']} × {t['weight_percent']}%)" for t in reversed(terms)
    ]
    chart.add("Contribution", [float(t["contribution"]) for t in reversed(terms)])
    return str(chart.render(is_unicode=True))


def self_vs_manager_chart(rows: list[dict[str, Any]], scale_max: int) -> str:
    """Self rating beside manager rating per dimension."""
    chart = pygal.Bar(
        **{**chart_config("Self vs manager rating", 320), "show_legend": True},
        range=(0, scale_max),
    )
    chart.x_labels = [r["name"] for r in rows]
    chart.add("Self", [r["self_rating"] for r in rows])
    chart.add("Manager", [r["manager_rating"] for r in rows])
    return str(chart.render(is_unicode=True))
