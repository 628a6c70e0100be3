"""Chart pieces several figures share: controls (the layer slider, the depth menu), encodings (widths,
architectures, the angle along a circle of inputs) and panels (the class strip, dot plots per measure).

Colours and type come from `theme`; what several figures draw alike is built here once, so it looks alike.
"""

import json
import textwrap

import altair as alt

from figures_src import theme
from figures_src.figure import Row, table

# ---------------------------------------------------------------- data

def drawn(rows: list[Row], columns: list[str], digits: int = 4, codes: dict[str, str] | None = None) -> list[Row]:
    """The rows as a chart embeds them: only the `columns` it draws, numbers to `digits` significant digits
    (a few hundred pixels need no more) and long labels replaced by short `codes`. The figure's CSV keeps
    every column and digit; this keeps the page light."""
    codes = codes or {}

    def short(value):
        if isinstance(value, float):
            return float(f"{value:.{digits}g}")
        return codes.get(value, value) if isinstance(value, str) else value
    return [{column: short(row.get(column)) for column in columns} for row in rows]


# ---------------------------------------------------------------- controls

LAYER = "layer"  # the layer slider's parameter, read by the Vega expressions below


def layer_slider(default: int, depth: int, first: int = 0, label: str = "layer l ") -> alt.Parameter:
    return alt.param(name=LAYER, value=default, bind=alt.binding_range(min=first, max=depth, step=1, name=label))


def shown_layer(stored_layers: list[int]) -> str:
    """Vega expression for the deepest stored layer at or below the slider: data stays small
    (a few dozen layers stored) while the slider moves through every layer."""
    expr = str(stored_layers[0])
    for layer in sorted(stored_layers)[1:]:
        expr = f"{LAYER} >= {layer} ? {layer} : ({expr})"
    return expr


def at_slider_layer(chart: alt.Chart, stored_layers: list[int]) -> alt.Chart:
    return chart.transform_filter(f"datum.layer == ({shown_layer(stored_layers)})")


def layer_title(text: str, stored_layers: list[int], before: tuple[str, ...] = (), noun: str = "layer",
                **options) -> alt.Title:
    """A title whose last line is `text` and the stored layer shown (after the lines `before`). The data hold
    some layers only: when the slider stands between two of them, a line more says that the layer shown is the
    stored one below the slider's, so the title and the slider never seem to disagree. `noun`: what the
    slider names the layer (a depth, where it sets the network's last layer)."""
    shown = shown_layer(stored_layers)
    lines = [json.dumps(line, ensure_ascii=False) for line in before] + [
        f"{json.dumps(text + ' ', ensure_ascii=False)} + ({shown})"]
    note = f"'(the stored {noun} nearest below ' + {LAYER} + ')'"
    return alt.Title(alt.expr(f"({shown}) == {LAYER} ? [{', '.join(lines)}] : [{', '.join(lines + [note])}]"),
                     **options)


def depth_menu(depths: list[int], default: int) -> alt.Parameter:
    return alt.param(name="depth", value=default, bind=alt.binding_select(options=depths, name="depth L "))


# ---------------------------------------------------------------- encodings

def line_legend(**options) -> alt.Legend:
    """A legend whose symbols are strokes, like the lines they name, 22 px long: long enough to show a
    line's dash (a short stroke of a long dash looks solid)."""
    return alt.Legend(**{"symbolType": "stroke", "symbolStrokeWidth": 2.5, "symbolOpacity": 1, "symbolSize": 22 ** 2,
                         **options})


def width_encodings(widths: list[int], **legend) -> tuple[alt.Color, alt.StrokeDash, alt.Shape]:
    """Colour, dash and point shape by width n, from `theme.WIDTH_COLORS`, `WIDTH_DASHES`, `WIDTH_SHAPES`.
    `legend` options give the colour and dash one legend; without them lines carry direct labels
    (`end_labels`)."""
    options = {"legend": line_legend(**legend) if legend else None}
    return (alt.Color("width:O", title="width n", scale=alt.Scale(
                domain=widths, range=[theme.WIDTH_COLORS[w] for w in widths]), **options),
            alt.StrokeDash("width:O", title="width n", scale=alt.Scale(
                domain=widths, range=[theme.WIDTH_DASHES[w] for w in widths]), **options),
            # nominal: a shape has no order, and Vega-Lite warns in the console when it encodes an ordinal
            alt.Shape("width:N", title="width n", scale=alt.Scale(
                domain=widths, range=[theme.WIDTH_SHAPES[w] for w in widths]), legend=None))


def architecture_encodings(names: list[str], field: str = "architecture",
                           **legend) -> tuple[alt.Color, alt.StrokeDash, alt.Shape]:
    """Colour, dash and point shape by network, from `theme.ARCHITECTURE_COLORS`, `_DASHES`, `_SHAPES`.
    `legend` options give the colour a legend (merged with the dash's); without them lines carry direct
    labels (`end_labels`)."""
    shown = line_legend(**legend) if legend else None
    return (alt.Color(f"{field}:N", title="network", legend=shown,
                      scale=alt.Scale(domain=names, range=[theme.ARCHITECTURE_COLORS[n] for n in names])),
            alt.StrokeDash(f"{field}:N", title="network", legend=shown,
                           scale=alt.Scale(domain=names, range=[theme.ARCHITECTURE_DASHES[n] for n in names])),
            alt.Shape(f"{field}:N", title="network", legend=None,
                      scale=alt.Scale(domain=names, range=[theme.ARCHITECTURE_SHAPES[n] for n in names])))


LABEL_OFFSET = "label_offset"  # [dx, dy] of a direct label; label_layout.place fills it in
GUIDE_NAME = "guide"  # names a faint rule a label may cross (its halo breaks it); other rules, error bars too, not
Position = str | alt.X | alt.Y  # a quantitative field, or the panel's own channel when it fixes its scale


def position(channel: Position, kind: type) -> tuple[str, alt.X | alt.Y]:
    """(field, channel) of a label's position: a field name, or the channel of the marks it labels (a label
    with a bare field beside an explicit scale domain would widen that domain to its own data)."""
    if isinstance(channel, str):
        return channel, kind(f"{channel}:Q")
    return channel.to_dict()["field"], channel


def end_labels(chart: alt.Chart, x: Position, y: Position, group: str, text: str, color: alt.Color,
               at: str | None = None) -> alt.LayerChart:
    """A direct label for each line of `chart`, instead of a legend: `text` (a Vega expression over
    `datum`) at the point of each `group` with the largest `x` (or the points where the expression `at`
    holds), right-aligned so it stays inside the plot at any width, and moved by `label_offset` ([dx, dy]
    pixels by label text), which the build chooses from the drawn chart (`label_layout.place`) so that no
    line, point, note or other label crosses it."""
    (x_field, x), (y_field, y) = position(x, alt.X), position(y, alt.Y)
    points = chart.transform_filter(f"isValid(datum['{y_field}'])")
    ends = (points.transform_filter(at) if at else points.transform_joinaggregate(
        end=f"max({x_field})", groupby=[group]).transform_filter(f"datum['{x_field}'] == datum.end"))
    labelled = ends.transform_calculate(label=text).transform_calculate(**{LABEL_OFFSET: "[-3, -9]"})
    return haloed(labelled, {"x": x, "y": y, "text": "label:N", "color": color}, align="right", baseline="middle",
                  dx=alt.expr(f"datum.{LABEL_OFFSET}[0]"),
                  dy=alt.expr(f"datum.{LABEL_OFFSET}[1]"), fontSize=11, fontWeight="bold")


def haloed(data: alt.Chart, encoding: dict, **mark) -> alt.LayerChart:
    """A text mark drawn over its own halo (`theme.HALO`: the text outlined in the page's colour), so that
    it stays readable where it crosses lines and bands, in either colour scheme. The text is drawn inside
    the end of what it labels (right-aligned, a little to the left), never clipped by the plot's edge."""
    plain = {key: value for key, value in encoding.items() if key != "color"}
    return alt.layer(
        data.mark_text(**{key: value for key, value in mark.items() if key not in ("color", "style")},
                       style=theme.HALO).encode(**plain),
        data.mark_text(**mark).encode(**encoding))


def annotation(text: str, x: tuple[Position, float], y: tuple[Position, float], dx: int = 0, dy: int = 0,
               align: str = "left") -> alt.LayerChart:
    """A grey note at a data position of a panel, pointing at what the caption asks the reader to see.
    `x` and `y` are (field or channel, value) as in the panel, so the note shares its scales."""
    (x_field, x_channel), (y_field, y_channel) = position(x[0], alt.X), position(y[0], alt.Y)
    return haloed(alt.Chart(alt.Data(values=[{x_field: x[1], y_field: y[1]}])),
                  {"x": x_channel, "y": y_channel, "text": alt.value(text)},
                  align=align, baseline="middle", dx=dx, dy=dy, fontSize=11, fontStyle="italic", style=theme.NOTE)


ANGLE_DOMAIN = [0, 6.3]  # radians: the whole circle, 0 … 2π


def angle_x() -> alt.X:
    return alt.X("theta:Q", title="angle θ along the circle of inputs (radians)",
                 scale=alt.Scale(domain=ANGLE_DOMAIN, nice=False))


def unit_encodings() -> dict[str, alt.Color | alt.StrokeDash]:
    """Colour and dash of the few units of φ drawn along the circle: `theme.UNIT_COLORS`, hues that name no
    architecture and no class, so a unit is never read as a network."""
    return {"color": alt.Color("unit:N", title=None, scale=alt.Scale(range=theme.UNIT_COLORS)),
            "strokeDash": alt.StrokeDash("unit:N", title=None, scale=alt.Scale(range=theme.UNIT_DASHES))}


# ---------------------------------------------------------------- panels

CLASS_COLORS = [theme.ORANGE, "#009E73", "#CC79A7"]


def class_strip(circle: alt.Chart, n_points: int, classes: int) -> alt.Chart:
    """The class a random linear readout predicts at each angle θ of the input circle, as a coloured strip.
    `circle` holds rows with `theta`, `unit` and `predicted_class`."""
    step = 2 * 3.141592653589793 / n_points
    return circle.transform_filter("datum.unit == 'unit 1'").transform_calculate(
        theta_end=f"datum.theta + {1.05 * step}"  # overlap: no hairline gaps
    ).mark_rect().encode(
        x=alt.X("theta:Q", title=None, axis=None, scale=alt.Scale(domain=ANGLE_DOMAIN, nice=False)),
        x2="theta_end:Q",
        color=alt.Color("predicted_class:N", title="predicted class",
                        scale=alt.Scale(domain=list(range(1, classes + 1)), range=CLASS_COLORS[:classes])),
        tooltip=[alt.Tooltip("theta:Q", format=".2f"), "predicted_class:N"],
    ).properties(height=28, title=alt.Title("class predicted by a random linear readout", fontSize=12))


# ---- chapter 4 (Solutions)

def mean_panels(rows: list[Row], labels: list[str], measures: list[tuple[str, str, str]], architectures: list[str],
                row_field: str = "case", stacked: bool = False) -> alt.HConcatChart | alt.VConcatChart:
    """One small panel per measure (field, title, "linear" or "log"), side by side (or `stacked`, one above
    another, each naming its rows: the layout of a narrow column), a row per network, a dot at the mean over
    networks and a bar over its 95% interval (`<field>_ci_low` … `<field>_ci_high`), in the colour and shape of
    the architecture named by `color_key` (one of `architectures`). Every panel has a row for every label, in
    line with the row names; a mean that is not a finite number is left out, and a row's `<field>_note` (such
    as how many runs diverged) is written above its dot, ending at it."""
    data = alt.Chart(table(rows))
    color, _, shape = architecture_encodings(architectures, field="color_key")
    panels = []
    for i, (field, title, scale) in enumerate(measures):
        y = alt.Y(f"{row_field}:N", sort=labels, title=None, scale=alt.Scale(domain=labels),
                  axis=alt.Axis(labels=stacked or i == 0, ticks=stacked or i == 0, labelLimit=220, labelFontSize=12))
        # 8 px of room at each end: a log panel's data span it from edge to edge (an interval ending on the axis
        # looks cut), and a mean cosine of 0 or 1 would sit on the axis or the plot's edge.
        x_scale = alt.Scale(type="log", padding=8) if scale == "log" else alt.Scale(domain=[0, 1], padding=8)
        x = alt.X(f"{field}:Q", title=None, scale=x_scale,
                  axis=alt.Axis(tickCount=4, format="~g" if scale != "log" else ".0e"))
        tooltip = [alt.Tooltip(f"{row_field}:N", title="network"), alt.Tooltip("networks:Q"),
                   alt.Tooltip(f"{field}:Q", title=f"{title} (mean)", format=".4~g"),
                   alt.Tooltip(f"{field}_ci_low:Q", title="95% interval from", format=".4~g"),
                   alt.Tooltip(f"{field}_ci_high:Q", title="to", format=".4~g")]
        shown = data.transform_filter(f"isValid(datum.{field})")
        panels.append(alt.layer(
            shown.mark_rule(strokeWidth=2.5).encode(x=alt.X(f"{field}_ci_low:Q", scale=x_scale),
                                                    x2=f"{field}_ci_high:Q", y=y, color=color),
            shown.mark_point(size=80, filled=True, opacity=1).encode(x=x, y=y, color=color, shape=shape, tooltip=tooltip),
            # Above the row's dot, ending at it: inside its row (the last row's bottom is the axis), haloed
            # over the grid.
            haloed(data.transform_filter(f"isValid(datum.{field}_note)"),
                   {"x": alt.X(f"{field}:Q", scale=x_scale), "y": y, "text": f"{field}_note:N"},
                   align="right", baseline="bottom", dx=6, dy=-6, fontSize=10, style=theme.NOTE),
        ).properties(height=34 * len(labels), title=alt.Title(title if stacked else textwrap.wrap(title, 16), fontSize=12)))
    if stacked:
        return alt.vconcat(*panels, spacing=16)
    return alt.hconcat(*panels, spacing=12)  # titles in two lines: apart, and the row fits a laptop column


def two_by_row(views: list, stacked: bool, spacing: int) -> alt.VConcatChart | alt.ConcatChart:
    """Views one above another in a narrow column (`stacked`), two by row in a wide one: one above another,
    five views made a chart too tall for a screen, and printed on a page its text shrank to a few points."""
    if stacked:
        return alt.vconcat(*views, spacing=spacing)
    return alt.concat(*views, columns=2, spacing=spacing)


def stacked(panels: list[tuple[alt.Chart | alt.LayerChart, alt.Title]], control: alt.Parameter,
            width: int, height: int) -> alt.VConcatChart:
    """Panels of one size, each with its title, one above the other (readable at phone width) and driven by
    one `control`."""
    return alt.vconcat(*(panel.properties(width=width, height=height, title=title) for panel, title in panels),
                       spacing=28).add_params(control)
