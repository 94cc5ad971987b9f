"""The house style of every chart: server-rendered SVG (pygal), one chart serving the page and
the PDF alike, drawn without any script or network access."""

from __future__ import annotations

from typing import Any

from pygal.style import Style

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
