"""The scorecard's trend charts (SVG via pygal): one per key, a bar per period."""

from __future__ import annotations

import pygal

from core.charts import chart_config, drawn_once


@drawn_once
def trend_chart(title: str, labels: list[str], values: list[float | None], unit: str) -> str:
    chart = pygal.Bar(
        **chart_config(title, 260),
        value_formatter=lambda v: f"{v:g}{unit}",
        truncate_label=-1,
        x_label_rotation=20,
    )
    chart.x_labels = labels
    chart.add(title, values)
    return str(chart.render(is_unicode=True))
