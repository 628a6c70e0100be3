"""One look for every chart: palette, type and the Vega config (light, and dark applied in the browser).

Colours are colour-blind safe (Okabe & Ito hues), and nothing relies on hue alone. Every colour a mark or
label is drawn in has a contrast of at least 3:1 against both backgrounds a chart sits on, the light page
(`LIGHT_BACKGROUND`) and the dark one (`DARK_BACKGROUND`): where an Okabe–Ito colour is too pale (orange, sky
blue) a darker tone of the same hue stands in.

* An architecture has ONE colour, dash and point shape on every page (`ARCHITECTURE_COLORS`,
  `ARCHITECTURE_DASHES`, `ARCHITECTURE_SHAPES`); a chart gets all three from
  `charts.architecture_encodings(names)`. A new architecture gets an entry in each of the three.
* A width n of plain networks has one colour (sky blue for narrow, through the plain blue, to violet for
  wide: ordered, as widths are), dash (dotted for narrow, solid for wide) and end-of-line shape
  (`WIDTH_COLORS`, `WIDTH_DASHES`, `WIDTH_SHAPES`), from `charts.width_encodings(widths)`.
* A depth L of plain networks, where depths are compared line by line, likewise (`DEPTH_COLORS`, `DEPTH_DASHES`).
* Lines are named by direct labels at their ends (`charts.end_labels`) rather than by a far legend.
* Theory is always a grey dashed line; annotations (text and rules pointing at what the caption asks the
  reader to see) are grey too (`ANNOTATION_COLOR`; notes take the `NOTE` style, a darker or lighter grey
  as the page is light or dark).

tests/test_chart_style.py walks every exported spec and checks each colour scale against these mappings.
"""

import altair as alt

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
STATIC_WIDTH = 640  # px: width of the static SVG (print, PDF, no JavaScript); on the web charts fill the column
HEIGHT = 300
# Columns a chart is drawn in: side-by-side views only from MIN_SIDE_BY_SIDE px up (figures.css's container
# query stacks them below), anything down to MIN_COLUMN px, the column of a 360-px phone.
MIN_SIDE_BY_SIDE = 600
MIN_COLUMN = 328

ARCHITECTURE_COLORS = {
    "plain": "#1F7FC2",  # blue, a little lighter than Okabe–Ito's to read on the dark page
    "batch norm": "#D55E00",  # vermillion
    "residual": "#009E73",  # bluish green
    "residual + batch norm": "#CC79A7",  # reddish purple
    "LSUV": "#BF8400",  # orange, darkened to read on white
    "MetaInit": "#3D98D6",  # sky blue, darkened to read on white
}
ARCHITECTURE_DASHES = {
    "plain": [1, 0],  # solid
    "batch norm": [7, 3],
    "residual": [3, 2],
    "residual + batch norm": [7, 2, 2, 2],
    "LSUV": [2, 2],  # dots of 2 px: 1-px dots made a pale legend swatch
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
# Notes (grey italic text in a plot) are small, so they take a stronger grey of each scheme, from a mark style.
NOTE = "note"
NOTE_COLORS = {"light": "#5c5c5c", "dark": "#b0b0b0"}
MIN_TEXT_CONTRAST = 4.5  # WCAG 2 for small text

# Plain networks of growing width: from sky blue through the plain blue and violet to magenta, dotted to solid.
# Widths two doublings apart (64 and 256, as the notebooks compare them) differ in hue, not only in shade.
WIDTH_COLORS = {32: "#3D98D6", 64: "#2F8CCD", 128: "#1F7FC2", 256: "#6F63C9", 512: "#8E58C0", 1024: "#A94E9E"}
WIDTH_DASHES = {32: [1, 2], 64: [2, 2], 128: [4, 2], 256: [7, 3], 512: [12, 3], 1024: [1, 0]}
WIDTH_SHAPES = {32: "triangle-down", 64: "circle", 128: "diamond", 256: "square", 512: "cross", 1024: "triangle-up"}
# Plain networks of growing depth L (one width): teal through blue, violet and magenta to rust; dots, short
# dashes, long dashes, dash-dot, solid. Hue and dash both change at each doubling.
DEPTH_COLORS = {2: "#1AA38A", 4: "#4A8FE0", 8: "#7D5FC8", 16: "#B34A96", 32: "#B85C40"}
DEPTH_DASHES = {2: [1, 3], 4: [4, 3], 8: [10, 3], 16: [10, 2, 2, 2], 32: [1, 0]}  # dots, dashes, long, dash-dot
WIDTH_SHADES = WIDTH_COLORS  # the name docs/notebooks/reasons.py imports
ORANGE = ARCHITECTURE_COLORS["LSUV"]  # Okabe–Ito orange, darkened: the second colour of a two-colour chart
SKY_BLUE = ARCHITECTURE_COLORS["MetaInit"]
BLUE = ARCHITECTURE_COLORS["plain"]
CATEGORICAL = [BLUE, ORANGE, "#009E73", "#D55E00", "#CC79A7", SKY_BLUE]
# A few units of one network drawn side by side: hues no architecture or class uses, told apart by dash too.
UNIT_COLORS = ["#8A56BC", "#A6761D", "#7E8C2A"]  # violet, brown, olive
# The two terms of one gradient step's Taylor expansion, in hues no architecture takes: beside the home page's
# architecture colours, a green first-order gain would read as the residual network.
FIRST_ORDER_COLOR, SECOND_ORDER_COLOR = "#8A56BC", "#A6761D"  # violet, brown
UNIT_DASHES = [[1, 0], [6, 3], [2, 2]]

LIGHT_BACKGROUND = "#ffffff"
DARK_BACKGROUND = "#1e2129"  # Material's slate page, hsl(225, 15%, 14%): dark charts are transparent over it
MIN_CONTRAST = 3.0  # WCAG 2 for graphics and large text; every mark and label colour reaches it on both

# A mark style drawn under every direct label and note: the label's own text outlined in the page's colour,
# so a label stays readable where it crosses a line or a band. Its colour follows the scheme (DARK below).
HALO = "label-halo"


def halo(background: str) -> dict:
    # "color", not only "fill": Vega-Lite fills text from the colour the text config gives it unless a style does
    return {"color": background, "fill": background, "stroke": background, "strokeWidth": 4, "strokeJoin": "round",
            "opacity": 0.9}


LIGHT = {
    # Marks, axes and legends stay out of the accessibility tree: a chart speaks through its title and
    # text alternative (the spec's description), not through hundreds of points.
    "aria": False,
    "background": LIGHT_BACKGROUND,
    "font": FONT,
    "view": {"stroke": None},
    # labelSeparation: tick labels that would come within 4 px of each other in a narrow column are thinned
    # (every axis thins overlapping labels) rather than drawn touching.
    "axis": {"labelSeparation": 4, "labelOverlap": True,
             "labelColor": "#3b3b3b", "titleColor": "#1f1f1f", "gridColor": "#e6e6e6",
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
    "style": {HALO: halo(LIGHT_BACKGROUND), NOTE: {"color": NOTE_COLORS["light"], "fill": NOTE_COLORS["light"]}},
}

# Applied in the browser on top of a chart's own config when the page is in dark mode.
DARK = {
    "background": "transparent",
    "axis": {"labelColor": "#d0d0d0", "titleColor": "#ececec", "gridColor": "#3a3f4b",
             "domainColor": "#8c8c8c", "tickColor": "#8c8c8c"},
    "legend": {"labelColor": "#d0d0d0", "titleColor": "#ececec", "fillColor": DARK_BACKGROUND + "d9"},  # 85 % opaque
    "title": {"color": "#ececec", "subtitleColor": "#d0d0d0"},
    "header": {"labelColor": "#ececec", "titleColor": "#ececec"},
    "text": {"color": "#ececec"},
    "style": {HALO: halo(DARK_BACKGROUND), NOTE: {"color": NOTE_COLORS["dark"], "fill": NOTE_COLORS["dark"]}},
}


@alt.theme.register("deep-collapse", enable=True)
def site_theme() -> alt.theme.ThemeConfig:
    return {"config": LIGHT}

