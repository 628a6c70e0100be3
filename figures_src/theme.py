"""One look for every chart: palette, type, controls.

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


def layer_slider(name: str = "layer", default: int = 50, depth: int = 100) -> alt.Parameter:
    return alt.param(name=name, value=default,
                     bind=alt.binding_range(min=0, max=depth, step=1, name="layer l "))


def shown_layer(stored_layers: list[int], slider: str = "layer") -> str:
    """Vega expression for the deepest stored layer at or above the slider: data stays small
    (a few dozen layers stored) while the slider moves through every layer."""
    expr = str(stored_layers[0])
    for layer in sorted(stored_layers)[1:]:
        expr = f"{slider} >= {layer} ? {layer} : ({expr})"
    return expr


def at_slider_layer(chart: alt.Chart, stored_layers: list[int], slider: str = "layer") -> alt.Chart:
    return chart.transform_filter(f"datum.layer == ({shown_layer(stored_layers, slider)})")


def layer_title(text: str, stored_layers: list[int], slider: str = "layer") -> alt.Title:
    return alt.Title(alt.expr(f"'{text} ' + ({shown_layer(stored_layers, slider)})"))


CLASS_COLORS = ["#E69F00", "#009E73", "#CC79A7"]


def class_strip(circle: alt.Chart, n_points: int, classes: int) -> alt.Chart:
    """The class a random linear readout predicts at each angle θ of the input circle, as a coloured strip.
    `circle` holds rows with `theta`, `unit` and `predicted_class`."""
    step = 2 * 3.141592653589793 / n_points
    return circle.transform_filter("datum.unit == 'unit 1'").transform_calculate(
        theta_end=f"datum.theta + {1.05 * step}"  # overlap: no hairline gaps
    ).mark_rect().encode(
        x=alt.X("theta:Q", title=None, axis=None, scale=alt.Scale(domain=[0, 6.3], nice=False)),
        x2="theta_end:Q",
        color=alt.Color("predicted_class:N", title="predicted class",
                        scale=alt.Scale(domain=list(range(1, classes + 1)), range=CLASS_COLORS[:classes])),
        tooltip=[alt.Tooltip("theta:Q", format=".2f"), "predicted_class:N"],
    ).properties(height=28, title=alt.Title("class predicted by a random linear readout", fontSize=12))
