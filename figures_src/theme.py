"""One look for every chart: palette, type and the Vega config (light, and dark applied in the browser).

Colours are colour-blind safe (Okabe & Ito), and nothing relies on hue alone:

* An architecture has ONE colour, dash and point shape on every page (`ARCHITECTURE_COLORS`,
  `ARCHITECTURE_DASHES`, `ARCHITECTURE_SHAPES`); a chart gets all three from
  `charts.architecture_encodings(names)`. A new architecture gets an entry in each of the three.
* A width n of plain networks has one colour (light sky blue for narrow, through the plain blue, to violet
  for wide: ordered, as widths are), dash (dotted for narrow, solid for wide) and end-of-line shape
  (`WIDTH_COLORS`, `WIDTH_DASHES`, `WIDTH_SHAPES`), from `charts.width_encodings(widths)`.
* Lines are named by direct labels at their ends (`charts.end_labels`) rather than by a far legend.
* Theory is always a grey dashed line; annotations (text and rules pointing at what the caption asks the
  reader to see) are grey too (`ANNOTATION_COLOR`).

tests/test_chart_style.py walks every exported spec and checks each colour scale against these mappings.
"""

import altair as alt

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
STATIC_WIDTH = 640  # px: width of the static SVG (print, PDF, no JavaScript); on the web charts fill the column
HEIGHT = 300

ARCHITECTURE_COLORS = {
    "plain": "#0072B2",  # blue
    "batch norm": "#D55E00",  # vermillion
    "residual": "#009E73",  # bluish green
    "residual + batch norm": "#CC79A7",  # reddish purple
    "LSUV": "#E69F00",  # orange
    "MetaInit": "#56B4E9",  # sky blue
}
ARCHITECTURE_DASHES = {
    "plain": [1, 0],  # solid
    "batch norm": [7, 3],
    "residual": [3, 2],
    "residual + batch norm": [7, 2, 2, 2],
    "LSUV": [1, 2],
    "MetaInit": [10, 3],
}
ARCHITECTURE_SHAPES = {
    "plain": "circle",
    "batch norm": "square",
    "residual": "triangle-up",
    "residual + batch norm": "diamond",
    "LSUV": "triangle-down",
    "MetaInit": "cross",
}
THEORY_COLOR = "#808080"
THEORY_DASH = [6, 4]
ANNOTATION_COLOR = "#808080"  # mid grey: readable on the light page and in dark mode alike

# Plain networks of growing width: from sky blue through the plain blue to violet, dotted to solid.
WIDTH_COLORS = {32: "#8CCBF0", 64: "#56B4E9", 128: "#3A93D0", 256: "#0072B2", 512: "#4B5FB8", 1024: "#7B4DB0"}
WIDTH_DASHES = {32: [1, 2], 64: [2, 2], 128: [4, 2], 256: [7, 3], 512: [12, 3], 1024: [1, 0]}
WIDTH_SHAPES = {32: "triangle-down", 64: "circle", 128: "diamond", 256: "square", 512: "cross", 1024: "triangle-up"}
WIDTH_SHADES = WIDTH_COLORS  # the name docs/notebooks/reasons.py imports
CATEGORICAL = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9"]

LIGHT = {
    # Marks, axes and legends stay out of the accessibility tree: a chart speaks through its title and
    # text alternative (the spec's description), not through hundreds of points.
    "aria": False,
    "background": "#ffffff",
    "font": FONT,
    "view": {"stroke": None},
    "axis": {"labelColor": "#3b3b3b", "titleColor": "#1f1f1f", "gridColor": "#e6e6e6",
             "domainColor": "#8c8c8c", "tickColor": "#8c8c8c", "labelFontSize": 12,
             "titleFontSize": 13, "titleFontWeight": "normal"},
    "legend": {"labelColor": "#3b3b3b", "titleColor": "#1f1f1f", "labelFontSize": 12,
               "titleFontSize": 12, "titleFontWeight": "normal", "orient": "bottom",
               "fillColor": "rgba(255, 255, 255, 0.85)"},  # a legend inside a plot stays readable over lines
    "title": {"color": "#1f1f1f", "subtitleColor": "#3b3b3b", "fontSize": 14, "fontWeight": "normal",
              "anchor": "start"},
    "header": {"labelColor": "#1f1f1f", "titleColor": "#1f1f1f"},
    "text": {"color": "#1f1f1f"},
    "range": {"category": CATEGORICAL},
}

# Applied in the browser on top of a chart's own config when the page is in dark mode.
DARK = {
    "background": "transparent",
    "axis": {"labelColor": "#d0d0d0", "titleColor": "#ececec", "gridColor": "#3a3f4b",
             "domainColor": "#8c8c8c", "tickColor": "#8c8c8c"},
    "legend": {"labelColor": "#d0d0d0", "titleColor": "#ececec", "fillColor": "rgba(30, 33, 41, 0.85)"},
    "title": {"color": "#ececec", "subtitleColor": "#d0d0d0"},
    "header": {"labelColor": "#ececec", "titleColor": "#ececec"},
    "text": {"color": "#ececec"},
}


@alt.theme.register("deep-collapse", enable=True)
def site_theme() -> alt.theme.ThemeConfig:
    return {"config": LIGHT}

