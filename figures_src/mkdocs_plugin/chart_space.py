"""The space a chart takes on the page, known at build time so nothing moves when it is drawn, and the
placeholder that holds that space until figures.js draws the chart.

The static SVG gives the plot's size (the interactive chart keeps its height; its width follows the
column); each bound control (slider, menu, row of radio buttons) adds one row below the plot (figures.css
lays them out one per row; on a phone a long row of radio buttons wraps, and what it adds then lands below
the chart, out of the way of what is read above it). A chart of side-by-side views also has a stacked SVG:
in a narrow column (figures.css decides which, figures.js follows) its views stand one above another
(pipeline.stacked_spec), and the stacked height is reserved.
"""

import html
import json
import re
from dataclasses import dataclass

from figures_src.figure import FigureError

SVG_SIZE = re.compile(r'<svg\b[^>]*?\bwidth="(\d+(?:\.\d+)?)"[^>]*?\bheight="(\d+(?:\.\d+)?)"')


@dataclass(frozen=True)
class ChartSpace:
    width: int  # px, of the static SVG
    height: int  # px, of the static SVG and of the drawn plot
    controls: int  # bound controls drawn below the plot
    stacked: tuple[int, int] | None = None  # px, width and height of the stacked SVG, if the chart has one

    def style(self) -> str:
        style = f"--dl-plot-height: {self.height}px; --dl-controls: {self.controls}"
        if self.stacked:
            style += f"; --dl-stacked-plot-height: {self.stacked[1]}px"
        return style


def svg_size(figure_id: str, svg: str) -> tuple[int, int]:
    size = SVG_SIZE.search(svg)
    if size is None:
        raise FigureError(f"figure {figure_id!r}: its static SVG has no width and height")
    return round(float(size[1])), round(float(size[2]))


def chart_space(figure_id: str, svg: str, spec_json: str, stacked_svg: str | None = None) -> ChartSpace:
    width, height = svg_size(figure_id, svg)
    stacked = svg_size(figure_id, stacked_svg) if stacked_svg is not None else None
    return ChartSpace(width, height, len(bound_params(json.loads(spec_json))), stacked)


def placeholder_html(figure_id: str, *, script_url: str, svg_url: str, stacked_svg_url: str | None, alt_text: str,
                     space: ChartSpace, draw_at_once: bool = False) -> str:
    """The chart's element before it is drawn: its static SVG (both layouts when it has two; CSS shows
    the one the column fits, and a lazy image that is not shown is not downloaded) in its reserved space."""
    alt = html.escape(alt_text)
    at_once = ' data-draw="at-once"' if draw_at_once else ""
    images = [("dl-static dl-wide" if space.stacked else "dl-static", svg_url, (space.width, space.height))]
    if space.stacked:
        images.append(("dl-static dl-stacked", stacked_svg_url, space.stacked))
    return (f'<div class="dl-chart" data-figure="{figure_id}" data-spec="{script_url}"{at_once} style="{space.style()}">\n'
            + "".join(f'<img class="{css_class}" src="{url}" alt="{alt}" width="{w}" height="{h}" loading="lazy" '
                      f'decoding="async">\n' for css_class, url, (w, h) in images)
            + "</div>")


def bound_params(node) -> list[str]:
    """Names of the params bound to an input, in every nested view (figures.js finds the same ones)."""
    if isinstance(node, list):
        return [name for item in node for name in bound_params(item)]
    if not isinstance(node, dict):
        return []
    found = [p["name"] for p in node.get("params", []) if isinstance(p.get("bind"), dict) and "input" in p["bind"]]
    for key in ("vconcat", "hconcat", "layer", "concat"):
        found += bound_params(node.get(key))
    return list(dict.fromkeys(found))
