"""The space a chart takes on the page, known at build time so nothing moves when it is drawn.

The static SVG gives the plot's size (the interactive chart keeps its height; its width follows the
column); each bound control (slider, menu) adds one row below the plot (figures.css lays them out one
per row).
"""

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

    def style(self) -> str:
        return f"--dl-plot-height: {self.height}px; --dl-controls: {self.controls}"


def chart_space(figure_id: str, svg: str, spec_json: str) -> ChartSpace:
    size = SVG_SIZE.search(svg)
    if size is None:
        raise FigureError(f"figure {figure_id!r}: its static SVG has no width and height")
    return ChartSpace(round(float(size[1])), round(float(size[2])), len(bound_params(json.loads(spec_json))))


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
