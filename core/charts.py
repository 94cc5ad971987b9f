"""The house style of every chart: server-rendered SVG (pygal), one chart serving the page and
the PDF alike, drawn without any script or network access."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from pygal.style import Style

Drawing = TypeVar("Drawing", bound=Callable[..., str])
CHART_SECONDS = 3600

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


def drawn_once(draw: Drawing) -> Drawing:
    """A chart drawn once for the same data and kept in the cache: a chart is a pure function
    of its data, and drawing one with pygal costs more than most pages. Pages redrawn after a
    change that leaves the data as it was (a board's other rows, a second viewer) reuse it."""

    @functools.wraps(draw)
    def cached(*args: Any, **kwargs: Any) -> str:
        data = json.dumps([args, kwargs], sort_keys=True, default=str)
        digest = hashlib.sha256(data.encode()).hexdigest()[:32]
        key = f"levelset:chart:{draw.__module__}.{draw.__qualname__}:{digest}"
        svg = cache.get(key)
        if svg is None:
            svg = draw(*args, **kwargs)
            cache.set(key, svg, CHART_SECONDS)
        return str(svg)

    return cached  # type: ignore[return-value]
