"""Where each direct label of a chart goes, so that no line, point, rule, note or other label crosses it.

`charts.end_labels` writes each label right-aligned at the end of its line, moved by `label_offset`, a
[dx, dy] in pixels looked up by the label's text. `place` draws the chart's scene graph in each of its
control states (Vega, through vl-convert: the same drawing as the static SVG), measures everything the labels
could collide with, and chooses for every label the nearest offset where nothing is crossed in any state;
bands (confidence intervals) and faint guide rules (a rule mark named `guide…`, such as one marking a control's
value: the label's halo breaks it) cost a little, hard marks (lines, rules, points, text, the plot's edges) a lot.

A label is placed for the narrowest plot the site ever draws the spec in (`min_column`): its box is
right-aligned at a fixed fraction of the plot's width and is at most as wide, in that fraction, as in the
narrowest plot, while every mark keeps its fractions and its height in pixels. A placement that is free in
the narrowest plot is therefore free in every wider one, in the browser as in the SVG.
"""

import itertools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import vl_convert

from figures_src.charts import GUIDE_NAME, LABEL_OFFSET
from figures_src.theme import HALO

MAX_COLUMN = 800  # px: wider than Material's widest content column
LABEL_NAME = "end_label_{}"  # Vega-Lite names of the labels (and of their halos, + "_halo")

# Offsets tried for each label, nearest first: just above or below its line's end, then further away
# vertically, then further left along the line.
DX = (-3, -10, -18, -27, -37, -48, -60, -75, -95)
DY = tuple(sign * dy for dy in range(8, 62, 3) for sign in (-1, 1))
CANDIDATES = sorted(((dx, dy) for dx in DX for dy in DY), key=lambda o: abs(o[1]) + abs(o[0]) / 2)
MAX_PERMUTED = 5  # labels in one plot up to which every order of placing them is tried
HARD = 1000.0  # the cost of crossing one line segment, point, rule or text, or leaving the plot
AMBIGUOUS = 200.0  # the cost of sitting nearer another line than the label's own
BAND = 40.0    # the cost of covering a band (an area mark) entirely
CLEARANCE = 2.5  # px kept free around a label being placed: a line just touching its letters reads as crossing
GUIDE = 60.0   # the cost of crossing a faint guide rule: the label's halo breaks it, legibly


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: "Box") -> bool:
        return self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1

    def crosses(self, ax: float, ay: float, bx: float, by: float) -> bool:
        """Whether the segment a–b passes through the box (Liang–Barsky clipping)."""
        t0, t1, dx, dy = 0.0, 1.0, bx - ax, by - ay
        for p, q in ((-dx, ax - self.x0), (dx, self.x1 - ax), (-dy, ay - self.y0), (dy, self.y1 - ay)):
            if p == 0:
                if q < 0:
                    return False
            elif p < 0:
                t0 = max(t0, q / p)
            else:
                t1 = min(t1, q / p)
            if t0 > t1:
                return False
        return True


def text_width(text: str, font_size: float, bold: bool) -> float:
    """A generous estimate of a text's width: per-character advances of a wide sans-serif (DejaVu Sans,
    Linux's usual fallback), so that a label placed for it has room in any reader's font."""
    def advance(ch: str) -> float:
        if ch in " .,:;'|!ijlt()[]":
            return 0.36
        if ch in "mwMW∞":
            return 0.98
        if ch.isupper() or ch in "=+−–≈×÷":
            return 0.80
        return 0.68 if ch.isdigit() else 0.64
    return font_size * sum(map(advance, text)) * (1.0 if bold else 0.92)


def text_box(item: dict, stretch: float = 1.0) -> Box:
    """The box of a scene-graph text item; `stretch` widens it away from its anchor (a narrower plot)."""
    size = item.get("fontSize", 11)
    width = text_width(str(item.get("text", "")), size, str(item.get("fontWeight", "")) in ("bold", "700"))
    x = item.get("x", 0) + item.get("dx", 0)
    y = item.get("y", 0) + item.get("dy", 0)
    align, baseline = item.get("align", "left"), item.get("baseline", "alphabetic")
    reach = width * stretch
    x0 = {"left": x, "center": x - reach / 2, "right": x - reach}[align]
    top = {"top": y, "middle": y - size / 2, "bottom": y - size, "line-top": y, "line-bottom": y - size}.get(
        baseline, y - 0.8 * size)
    return Box(x0, top, x0 + reach, top + size)


@dataclass
class View:
    """One plot of a chart, in its own pixels: what labels must avoid, and its labels by mark name."""
    width: float
    height: float
    segments: list[tuple[float, float, float, float]]
    strokes: list[str | None]  # the colour of each segment's line; None for rules
    bands: list[tuple[float, float, float, float, float, float]]  # x_a, top_a, bottom_a, x_b, top_b, bottom_b
    boxes: list[Box]
    guides: list[tuple[float, float, float, float]]  # faint rules, such as one marking a control's value
    texts: list[dict]  # other text items (notes, hand-placed labels), sized per stretch
    labels: dict[str, list[dict]]


SKIPPED_ROLES = {"axis", "legend", "title", "frame"}


def visible(item: dict) -> bool:
    """Drawn at all: points kept only for their tooltips are transparent."""
    return item.get("opacity", 1) > 0 and (item.get("fillOpacity", 1) > 0 or item.get("strokeOpacity", 1) > 0)


def collect(marks: list[dict], view: View, ox: float, oy: float) -> None:
    """Adds the marks of one plot (with nested groups, such as lines per colour) to `view`."""
    for mark in marks:
        if mark.get("role") in SKIPPED_ROLES:
            continue
        name, kind, items = mark.get("name") or "", mark.get("marktype"), mark.get("items", [])
        if kind == "group":
            for item in items:
                collect(item.get("items", []), view, ox + item.get("x", 0), oy + item.get("y", 0))
        elif kind == "text" and name.startswith("end_label_"):
            if not name.endswith("_halo_marks"):
                view.labels[name] = [item | {"x": item.get("x", 0) + ox, "y": item.get("y", 0) + oy} for item in items]
        elif kind == "text":
            view.texts += [item | {"x": item.get("x", 0) + ox, "y": item.get("y", 0) + oy} for item in items
                           if item.get("text") not in (None, "") and item.get("opacity", 1) > 0]
        elif not any(map(visible, items)):
            continue  # hover rules and tooltip points: transparent until pointed at
        elif kind == "line":
            points = [(ox + i["x"], oy + i["y"]) for i in items if i.get("defined", True)
                      and math.isfinite(i.get("x", math.nan)) and math.isfinite(i.get("y", math.nan))]
            view.segments += [(*a, *b) for a, b in zip(points, points[1:])]
            view.strokes += [items[0].get("stroke")] * (len(points) - 1)
        elif kind == "area":
            edges = [(ox + i["x"], oy + min(i["y"], i["y2"]), oy + max(i["y"], i["y2"])) for i in items
                     if i.get("defined", True) and all(math.isfinite(i.get(k, math.nan)) for k in ("x", "y", "y2"))]
            view.bands += [(*a, *b) for a, b in zip(edges, edges[1:])]
        elif kind == "rule":
            for i in filter(visible, items):
                x, y = ox + i.get("x", 0), oy + i.get("y", 0)
                segment = (x, y, ox + i.get("x2", i.get("x", 0)), oy + i.get("y2", i.get("y", 0)))
                if name.startswith(GUIDE_NAME):
                    view.guides.append(segment)
                else:
                    view.segments.append(segment)
                    view.strokes.append(None)
        elif kind == "symbol":
            for i in filter(visible, items):
                r = math.sqrt(i.get("size", 64)) / 2 + i.get("strokeWidth", 1) / 2
                x, y = ox + i.get("x", 0), oy + i.get("y", 0)
                view.boxes.append(Box(x - r, y - r, x + r, y + r))
        elif kind == "rect":
            for i in filter(visible, items):
                x, y = ox + i.get("x", 0), oy + i.get("y", 0)
                w, h = i.get("width", i.get("x2", x) - x), i.get("height", i.get("y2", y) - y)
                view.boxes.append(Box(min(x, x + w), min(y, y + h), max(x, x + w), max(y, y + h)))


def views(scene: dict) -> Iterator[View]:
    """Every plot of a scene graph that has direct labels."""
    def walk(mark: dict, ox: float, oy: float) -> Iterator[View]:
        if mark.get("marktype") != "group":
            return
        for item in mark.get("items", []):
            x, y = ox + item.get("x", 0), oy + item.get("y", 0)
            children = item.get("items", [])
            if any(str(m.get("name", "")).startswith("end_label_") for m in children):
                view = View(item.get("width", 0), item.get("height", 0), [], [], [], [], [], [], {})
                collect(children, view, 0, 0)
                yield view
            for child in children:
                if child.get("role") not in SKIPPED_ROLES:
                    yield from walk(child, x, y)
    yield from walk(scene["scenegraph"], 0, 0)


def distance(box: Box, segment: tuple[float, float, float, float]) -> float:
    """The distance between a box and a segment (0 if it crosses)."""
    if box.crosses(*segment):
        return 0.0
    ax, ay, bx, by = segment

    def to_segment(px: float, py: float) -> float:
        dx, dy = bx - ax, by - ay
        t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
        return math.hypot(ax + t * dx - px, ay + t * dy - py)

    def to_box(px: float, py: float) -> float:
        return math.hypot(max(box.x0 - px, 0, px - box.x1), max(box.y0 - py, 0, py - box.y1))
    corners = [(box.x0, box.y0), (box.x1, box.y0), (box.x0, box.y1), (box.x1, box.y1)]
    return min([to_segment(*c) for c in corners] + [to_box(ax, ay), to_box(bx, by)])


def ambiguous(box: Box, colour: str | None, view: View) -> bool:
    """Whether a label sits nearer another line than its own (the line drawn in its colour), a grey theory
    line included: it would seem to name that line. Rules (axes, thresholds) do not count."""
    own = [s for s, stroke in zip(view.segments, view.strokes) if stroke == colour]
    others = [s for s, stroke in zip(view.segments, view.strokes) if stroke is not None and stroke != colour]
    if not own or not others:
        return False
    return min(distance(box, s) for s in others) < min(distance(box, s) for s in own)


def band_cover(box: Box, band: tuple[float, ...]) -> float:
    """The fraction of the box's width over which a band segment overlaps it."""
    xa, ta, ba, xb, tb, bb = band
    lo, hi = max(box.x0, min(xa, xb)), min(box.x1, max(xa, xb))
    if hi <= lo or xa == xb:
        return 0.0
    hits = 0
    for k in range(5):
        x = lo + (hi - lo) * k / 4
        t = (x - xa) / (xb - xa)
        top, bottom = ta + t * (tb - ta), ba + t * (bb - ba)
        hits += top < box.y1 and bottom > box.y0
    return hits / 5 * (hi - lo) / (box.x1 - box.x0)


def cost(box: Box, view: View, placed: list[Box], stretch: float, colour: str | None = None) -> float:
    """Hard marks crossed (each HARD), sitting nearer another line than the label's own (`colour`,
    AMBIGUOUS), the bands covered (BAND for one band's whole width) and faint guides crossed (GUIDE each);
    `stretch` widens the notes as label_box widens the label."""
    hard = sum(box.crosses(*s) for s in view.segments)
    hard += sum(box.overlaps(b) for b in view.boxes + placed)
    hard += sum(box.overlaps(text_box(item, stretch)) for item in view.texts)
    hard += 3 * (box.x0 < 0 or box.y0 < 0 or box.y1 > view.height)
    if hard:
        return HARD * hard
    return (AMBIGUOUS * ambiguous(box, colour, view) + BAND * sum(band_cover(box, band) for band in view.bands)
            + GUIDE * sum(box.crosses(*guide) for guide in view.guides))


@dataclass(frozen=True)
class Stretch:
    """How much wider (in the scene's pixels) a fixed pixel width is in the narrowest plot the site draws a
    view in (`narrow` ≥ 1), and in the widest (`wide` ≤ 1)."""
    narrow: float
    wide: float


def label_box(item: dict, offset: tuple[float, float], stretch: Stretch) -> Box:
    """The union over plot widths of a label right-aligned at its line's end and moved by `offset`: it
    reaches furthest left (its width and dx) in the narrowest plot, furthest right in the widest."""
    size = item.get("fontSize", 11)
    width = text_width(str(item.get("text", "")), size, True)
    x, y = item["x"], item["y"] + offset[1]
    return Box(x + (offset[0] - width) * stretch.narrow - CLEARANCE, y - size / 2 - CLEARANCE,
               x + offset[0] * stretch.wide + CLEARANCE, y + size / 2 + CLEARANCE)


Label = tuple[str, str]  # (label mark name, text): one label, in every control state that draws it


def greedy(order: list[Label], drawn: list[dict[Label, tuple[View, dict]]], stretch: Stretch) -> tuple[float, dict]:
    """Each label of `order` at its cheapest offset given those before it, its cost summed over the control
    states (`drawn`: per state, each label's view and text item there): the total cost, and per label its
    offset and its cost in the state where it is worst (a crossing in one state is not diluted by the others)."""
    placed: list[list[Box]] = [[] for _ in drawn]
    chosen = {}
    for label in order:
        def costs(offset: tuple[float, float]) -> list[float]:
            return [cost(label_box(item, offset, stretch), view, boxes, stretch.narrow, item.get("fill"))
                    for state, boxes in zip(drawn, placed) if label in state for view, item in [state[label]]]
        scored = [(costs(o), o) for o in CANDIDATES]
        per_state, offset = min(scored, key=lambda s: sum(s[0]))  # the nearest of equal costs
        for state, boxes in zip(drawn, placed):
            if label in state:
                boxes.append(label_box(state[label][1], offset, stretch))
        chosen[label] = (offset, sum(per_state), max(per_state))
    return sum(total for _, total, _ in chosen.values()), {label: (o, worst) for label, (o, _, worst) in chosen.items()}


@dataclass(frozen=True)
class Placement:
    offsets: dict[str, dict[str, tuple[int, int]]]  # label mark name -> text -> [dx, dy]
    crossings: dict[str, list[str]]  # label mark name -> texts that could not be placed free of hard marks


def layout(scenes: list[dict], min_column: float, per_row: int) -> Placement:
    """Offsets for every direct label of a chart drawn `scenes[0]["width"]` wide in each of its control states
    (one scene graph per state, the default first), valid in every state and in any column from `min_column`
    to `MAX_COLUMN` px, the drawing widening or shrinking by the same width in each of `per_row` plots."""
    offsets: dict[str, dict[str, tuple[int, int]]] = {}
    crossings: dict[str, list[str]] = {}
    shrink = max(0.0, scenes[0]["width"] - min_column) / per_row
    grow = max(0.0, MAX_COLUMN - scenes[0]["width"]) / per_row
    for plots in zip(*(list(views(scene)) for scene in scenes)):  # one plot, in every state
        width = plots[0].width
        stretch = Stretch(width / max(width - shrink, 60.0), width / (width + grow))
        drawn = [{(name, str(item.get("text"))): (view, item) for name, items in view.labels.items() for item in items}
                 for view in plots]
        default_y = {label: item["y"] for label, (_, item) in drawn[0].items()}
        labels = sorted({label for state in drawn for label in state},
                        key=lambda label: (label[0], default_y.get(label, math.inf), label[1]))
        # Greedy in every order (a plot has a handful of labels), keeping the cheapest: a label placed
        # first can take the only free place of another.
        orders = itertools.permutations(labels) if len(labels) <= MAX_PERMUTED else [labels]
        _, chosen = min((greedy(list(order), drawn, stretch) for order in orders), key=lambda result: result[0])
        for (name, text), (offset, score) in sorted(chosen.items()):
            offsets.setdefault(name, {})[text] = offset
            if score >= HARD:
                crossings.setdefault(name, []).append(text)
    return Placement(offsets, crossings)


def crossed(scene: dict) -> list[str]:
    """The direct labels of a drawn scene graph (at their own offsets) that a line, rule, point, text or
    another label crosses, or that leave their plot: for checking a drawing at any width."""
    found = []
    for view in views(scene):
        drawn = [(str(item.get("text")), text_box(item | {"fontWeight": "bold"})) for items in view.labels.values()
                 for item in items]
        for k, (text, box) in enumerate(drawn):
            others = [b for j, (_, b) in enumerate(drawn) if j != k]
            if cost(box, view, others, 1.0) >= HARD:
                found.append(text)
    return found


# ---------------------------------------------------------------- the Vega-Lite side

def label_units(spec: Any) -> Iterator[dict]:
    """Every unit (a mark with its transforms) of a Vega-Lite spec that draws a direct label or its halo."""
    if isinstance(spec, list):
        for part in spec:
            yield from label_units(part)
    elif isinstance(spec, dict):
        if "mark" in spec and any(t.get("as") == LABEL_OFFSET for t in spec.get("transform", [])):
            yield spec
        for key in ("layer", "hconcat", "vconcat", "concat", "spec"):
            yield from label_units(spec.get(key))


def is_halo(unit: dict) -> bool:
    mark = unit["mark"]
    style = mark.get("style", []) if isinstance(mark, dict) else []
    return HALO in ([style] if isinstance(style, str) else style)


def named(spec: dict) -> dict:
    """The spec with its label units named `end_label_<k>` (halos `end_label_<k>_halo`) in document order:
    a label and its halo share their transforms."""
    spec = json.loads(json.dumps(spec))
    names: dict[str, str] = {}
    for unit in label_units(spec):
        if not is_halo(unit):
            names.setdefault(json.dumps(unit["transform"]), LABEL_NAME.format(len(names)))
    for unit in label_units(spec):
        name = names[json.dumps(unit["transform"])]
        unit["name"] = f"{name}_halo" if is_halo(unit) else name
    return spec


def with_offsets(spec: dict, offsets: dict[str, dict[str, tuple[int, int]]]) -> dict:
    """The spec with each label unit's offsets (by label text) written into its `label_offset` transform."""
    for unit in label_units(spec):
        mark_name = unit["name"].removesuffix("_halo") + "_marks"
        table = {text: list(offset) for text, offset in sorted(offsets.get(mark_name, {}).items())}
        for transform in unit["transform"]:
            if transform.get("as") == LABEL_OFFSET:
                transform["calculate"] = f"{json.dumps(table, ensure_ascii=False)}[datum.label] || [-3, -9]"
    return spec


def per_row(spec: dict) -> int:
    if "hconcat" in spec:
        return len(spec["hconcat"])
    return int(spec.get("columns", 1)) if "concat" in spec or "facet" in spec else 1


MAX_STATES = 64  # control states a chart's labels are placed in; beyond, a figure should say which matter


def states(spec: dict) -> list[dict]:
    """The spec in each of its control states, the default first: every combination of the options of its
    menus and radio buttons and of each slider's default, minimum and maximum."""
    controls = []
    for param in spec.get("params", []):
        bind, default = param.get("bind") or {}, param.get("value")
        values = bind.get("options") or ([bind["min"], bind["max"]] if "min" in bind and "max" in bind else [])
        if values:
            controls.append((param["name"], [default] + [v for v in values if v != default]))
    combinations = list(itertools.product(*(values for _, values in controls)))
    if len(combinations) > MAX_STATES:
        raise ValueError(f"{len(combinations)} control states (more than {MAX_STATES}) to place labels in")
    drawn = []
    for combination in combinations:
        chosen = dict(zip((name for name, _ in controls), combination))
        state = json.loads(json.dumps(spec))
        for param in state.get("params", []):
            if param["name"] in chosen:
                param["value"] = chosen[param["name"]]
        drawn.append(state)
    return drawn


def place(spec: dict, static: dict, min_column: float, vl_version: str) -> tuple[dict, Placement]:
    """`spec` with its direct labels placed, from the scene graphs of `static` (the same spec at a fixed
    width, as the SVG draws it) in each of its control states, for every column from `min_column` up: a
    label keeps its place when a control moves. Names the label units."""
    if not any(True for _ in label_units(spec)):
        return spec, Placement({}, {})
    scenes = [vl_convert.vegalite_to_scenegraph(state, vl_version=vl_version) for state in states(named(static))]
    placement = layout([json.loads(s) if isinstance(s, str) else s for s in scenes], min_column, per_row(static))
    return with_offsets(named(spec), placement.offsets), placement
