"""One look for every chart: palette, type and the Vega config (light, and dark applied in the browser).

Colours are colour-blind safe (Okabe & Ito). An architecture keeps its colour on every page; widths of
the same architecture are shades of that colour and also differ in dash, so nothing relies on hue alone.
Theory is always a grey dashed line.
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
THEORY_COLOR = "#808080"
THEORY_DASH = [6, 4]

# Plain networks of growing width: darker and more solid as width grows.
WIDTH_SHADES = {64: "#7FB5E0", 256: "#2E86C9", 1024: "#0B4F8A"}
WIDTH_DASHES = {64: [2, 2], 256: [7, 3], 1024: [1, 0]}
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
               "titleFontSize": 12, "titleFontWeight": "normal", "orient": "bottom"},
    "title": {"color": "#1f1f1f", "fontSize": 14, "fontWeight": "normal", "anchor": "start"},
    "header": {"labelColor": "#1f1f1f", "titleColor": "#1f1f1f"},
    "text": {"color": "#1f1f1f"},
    "range": {"category": CATEGORICAL},
}

# Applied in the browser on top of a chart's own config when the page is in dark mode.
DARK = {
    "background": "transparent",
    "axis": {"labelColor": "#d0d0d0", "titleColor": "#ececec", "gridColor": "#3a3f4b",
             "domainColor": "#8c8c8c", "tickColor": "#8c8c8c"},
    "legend": {"labelColor": "#d0d0d0", "titleColor": "#ececec"},
    "title": {"color": "#ececec"},
    "header": {"labelColor": "#ececec", "titleColor": "#ececec"},
    "text": {"color": "#ececec"},
}


@alt.theme.register("deep-collapse", enable=True)
def site_theme() -> alt.theme.ThemeConfig:
    return {"config": LIGHT}

