"""Server-rendered SVG charts (pygal): one chart serves the page and the PDF alike."""

from __future__ import annotations

from decimal import Decimal

import pygal

from core.charts import chart_config
from rubrics.models import RubricVersion


def weights_chart(version: RubricVersion) -> str:
    """Each dimension's share of the total weight, as a horizontal bar chart (SVG markup)."""
    dimensions = list(version.dimensions.all())
    total = sum((d.weight for d in dimensions), Decimal(0)) or Decimal(1)
    shares = [float(d.weight / total * 100) for d in dimensions]
    chart = pygal.HorizontalBar(
        **chart_config(f"Weights, v{version.number} (% of total)", 80 + 42 * len(dimensions)),
        value_formatter=lambda v: f"{v:.1f}%",
        range=(0, max(50, *shares) if shares else 50),
    )
    # pygal draws the first label at the bottom; reverse so the chart reads like the table.
    chart.x_labels = [d.name for d in reversed(dimensions)]
    chart.add("Share", list(reversed(shares)))
    return str(chart.render(is_unicode=True))
