"""Server-rendered SVG charts (pygal): one chart serves the page and the PDF alike."""

from __future__ import annotations

from decimal import Decimal

import pygal

from core.charts import chart_config, drawn_once
from rubrics.models import RubricVersion


def weights_chart(version: RubricVersion) -> str:
    """Each dimension's share of the total weight, as a horizontal bar chart (SVG markup)."""
    return _weights_chart(version.number, [(d.name, d.weight) for d in version.dimensions.all()])


@drawn_once
def _weights_chart(number: int, dimensions: list[tuple[str, Decimal]]) -> str:
    total = sum((weight for _, weight in dimensions), Decimal(0)) or Decimal(1)
    shares = [float(weight / total * 100) for _, weight in dimensions]
    chart = pygal.HorizontalBar(
        **chart_config(f"Weights, v{number} (% of total)", 80 + 42 * len(dimensions)),
        value_formatter=lambda v: f"{v:.1f}%",
        range=(0, max(50, *shares) if shares else 50),
    )
    # pygal draws the first label at the bottom; reverse so the chart reads like the table.
    chart.x_labels = [name for name, _ in reversed(dimensions)]
    chart.add("Share", list(reversed(shares)))
    return str(chart.render(is_unicode=True))
