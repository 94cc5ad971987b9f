"""Server-rendered SVG charts (pygal): one chart serves the page and the PDF alike."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pygal
from pygal.style import Style

from rubrics.models import RubricVersion

LEVELSET_STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#7b8794",
    colors=("#3b6ea5", "#d9822b", "#5a9e6f", "#a33b5e", "#7a5ea8", "#2a9d8f"),
    font_family="DejaVu Sans, Helvetica, Arial, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=12,
    title_font_size=15,
)


def chart_config(title: str, height: int) -> dict[str, Any]:
    # js=[]: no tooltip script from a CDN; the chart must render with no network at all.
    return {
        "title": title,
        "style": LEVELSET_STYLE,
        "height": height,
        "width": 720,
        "js": [],
        "disable_xml_declaration": True,
        "show_legend": False,
        "print_values": True,
        "explicit_size": False,
    }


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
