"""One look across charts: an architecture or a width is drawn alike in every figure (colour, dash and
shape from the mappings in figures_src/theme.py), and never by hue alone."""

import csv
import json
import re

import pytest
import vl_convert

from figures_src import label_layout, pipeline, theme
from figures_src.pipeline import vl_version

# channel → (architecture mapping, width mapping)
MAPPINGS = {
    "color": (theme.ARCHITECTURE_COLORS, theme.WIDTH_COLORS),
    "strokeDash": (theme.ARCHITECTURE_DASHES, theme.WIDTH_DASHES),
    "shape": (theme.ARCHITECTURE_SHAPES, theme.WIDTH_SHAPES),
}

DEPTH_MAPPINGS = {"color": theme.DEPTH_COLORS, "strokeDash": theme.DEPTH_DASHES}


def scales(node, channel=None):
    """Every (channel, field, domain, range) of an explicit scale in a Vega-Lite spec."""
    if isinstance(node, list):
        for item in node:
            yield from scales(item, channel)
    elif isinstance(node, dict):
        scale = node.get("scale")
        if channel in MAPPINGS and isinstance(scale, dict) and isinstance(scale.get("domain"), list) \
                and isinstance(scale.get("range"), list):
            yield channel, node.get("field"), scale["domain"], scale["range"]
        for key, value in node.items():  # a channel's scale sits in its encoding, or in its condition
            yield from scales(value, key if key in MAPPINGS else channel if key == "condition" else None)


def exported_specs(site_dir):
    specs = {path.name.removesuffix(".vl.json"): json.loads(path.read_text())
             for path in sorted((site_dir / "figures").glob("*.vl.json"))}
    assert specs, "no exported specs"
    return specs


def test_every_figure_draws_an_architecture_and_a_width_alike(site_dir):
    """Walks every exported spec's colour, dash and shape scales: a value that names an architecture gets that
    architecture's colour/dash/shape, a `width` field gets the width's, a `depth` field the depth's, whatever
    the figure."""
    seen = {"architecture": set(), "width": set(), "depth": set()}
    for fid, spec in exported_specs(site_dir).items():
        for channel, field, domain, range_ in scales(spec):
            architectures, widths = MAPPINGS[channel]
            for value, drawn in zip(domain, range_):
                if field == "width":
                    assert drawn == widths[value], f"{fid}: width {value} drawn with {channel} {drawn}"
                    seen["width"].add((fid, channel))
                elif field == "depth" and channel in DEPTH_MAPPINGS:
                    assert drawn == DEPTH_MAPPINGS[channel][value], f"{fid}: depth {value} drawn with {channel} {drawn}"
                    seen["depth"].add((fid, channel))
                elif value in architectures:
                    assert drawn == architectures[value], \
                        f"{fid}: {value!r} drawn with {channel} {drawn}, not {architectures[value]} (theme.py)"
                    seen["architecture"].add((fid, channel))
    # The walk finds the figures that compare widths and architectures, by dash and shape too.
    width_figures = {fid for fid, _ in seen["width"]}
    assert {"correlation-by-depth", "curvature-by-depth", "meaningful-variance", "finite-width"} <= width_figures
    assert {channel for _, channel in seen["width"]} == set(MAPPINGS)
    architecture_figures = {fid for fid, _ in seen["architecture"]}
    assert {"bn-collapse", "residual-collapse", "solutions-training", "solutions-summary"} <= architecture_figures
    assert {channel for _, channel in seen["architecture"]} >= {"color", "strokeDash"}
    assert {("training-by-depth", "color"), ("training-by-depth", "strokeDash")} <= seen["depth"]


def test_no_figure_colours_widths_or_architectures_outside_the_mapping(site_dir):
    """A colour scale on an architecture or width field has an explicit domain and range (the mapping),
    never Vega's default scheme, which would colour the same network differently from figure to figure."""
    def walk(node, fid):
        if isinstance(node, list):
            for item in node:
                walk(item, fid)
        elif isinstance(node, dict):
            for channel in ("color", "strokeDash", "shape"):
                encoding = node.get(channel)
                if isinstance(encoding, dict) and encoding.get("field") in ("architecture", "network", "width"):
                    scale = encoding.get("scale") or {}
                    assert isinstance(scale.get("range"), list), \
                        f"{fid}: {channel} by {encoding['field']} without the theme's mapping"
            for value in node.values():
                walk(value, fid)
    for fid, spec in exported_specs(site_dir).items():
        walk(spec, fid)


@pytest.mark.parametrize("kind, mappings", [
    ("architecture", (theme.ARCHITECTURE_COLORS, theme.ARCHITECTURE_DASHES, theme.ARCHITECTURE_SHAPES)),
    ("width", (theme.WIDTH_COLORS, theme.WIDTH_DASHES, theme.WIDTH_SHAPES)),
])
def test_each_architecture_and_width_has_its_own_colour_dash_and_shape(kind, mappings):
    colors, dashes, shapes = mappings
    assert colors.keys() == dashes.keys() == shapes.keys(), f"every {kind} needs a colour, a dash and a shape"
    for mapping in mappings:
        drawn = [json.dumps(v) for v in mapping.values()]
        assert len(set(drawn)) == len(drawn), f"two {kind}s share {drawn}"
    assert theme.THEORY_COLOR not in colors.values()


HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def relative_luminance(color: str) -> float:
    """WCAG 2's relative luminance of a #rrggbb colour."""
    channels = [int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    darker, lighter = sorted([relative_luminance(a), relative_luminance(b)])
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_is_measured_as_wcag_defines_it():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic just-failing grey


def mark_colors(node):
    """Every #rrggbb colour a spec draws marks or labels in: scale ranges, fixed mark colours, conditions;
    not the config (axis and title colours, replaced in dark mode) nor the data."""
    if isinstance(node, list):
        for item in node:
            yield from mark_colors(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key not in ("config", "data", "datasets", "usermeta", "description"):
                yield from mark_colors(value)
    elif isinstance(node, str) and HEX_COLOR.fullmatch(node):
        yield node


PALETTES = {"ARCHITECTURE_COLORS": list(theme.ARCHITECTURE_COLORS.values()),
            "WIDTH_COLORS": list(theme.WIDTH_COLORS.values()), "DEPTH_COLORS": list(theme.DEPTH_COLORS.values()),
            "CATEGORICAL": theme.CATEGORICAL,
            "UNIT_COLORS": theme.UNIT_COLORS, "THEORY_COLOR": [theme.THEORY_COLOR],
            "ANNOTATION_COLOR": [theme.ANNOTATION_COLOR]}


@pytest.mark.parametrize("background", ["LIGHT_BACKGROUND", "DARK_BACKGROUND"])
@pytest.mark.parametrize("palette", PALETTES)
def test_the_palette_reads_on_the_light_and_the_dark_page(palette, background):
    page = getattr(theme, background)
    faint = {color: round(contrast(color, page), 2) for color in PALETTES[palette]
             if contrast(color, page) < theme.MIN_CONTRAST}
    assert not faint, f"theme.{palette} against {background} {page}: contrast below {theme.MIN_CONTRAST}: {faint}"


def test_every_chart_draws_in_colours_that_read_on_both_pages(site_dir):
    """Direct labels and lines take their colour from the marks they name: every colour of every exported
    spec, not only the theme's palettes, must stand out from the light and the dark (slate) page."""
    faint = set()
    for fid, spec in exported_specs(site_dir).items():
        for color in set(mark_colors(spec)):
            for page in (theme.LIGHT_BACKGROUND, theme.DARK_BACKGROUND):
                if contrast(color, page) < theme.MIN_CONTRAST:
                    faint.add((fid, color, page, round(contrast(color, page), 2)))
    assert not faint, f"colours below {theme.MIN_CONTRAST}:1 (figure, colour, page, contrast): {sorted(faint)}"


def text_marks(node):
    """Every text mark definition of a spec."""
    if isinstance(node, list):
        for item in node:
            yield from text_marks(item)
    elif isinstance(node, dict):
        if isinstance(node.get("mark"), dict) and node["mark"].get("type") == "text":
            yield node["mark"]
        for key, value in node.items():
            if key not in ("config", "data", "datasets"):
                yield from text_marks(value)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_notes_are_small_text_that_reads_on_their_page(scheme):
    background = {"light": theme.LIGHT_BACKGROUND, "dark": theme.DARK_BACKGROUND}[scheme]
    config = theme.LIGHT if scheme == "light" else theme.DARK
    assert contrast(config["style"][theme.NOTE]["fill"], background) >= theme.MIN_TEXT_CONTRAST


def test_every_italic_note_takes_the_note_style_of_the_page(site_dir):
    """A note coloured in its spec keeps that colour on both pages; from the style, it takes the page's grey."""
    fixed = sorted({fid for fid, spec in exported_specs(site_dir).items() for mark in text_marks(spec)
                    if mark.get("fontStyle") == "italic" and "color" in mark})
    assert not fixed, f"italic notes with their own colour, not the note style: {fixed}"
    notes = [mark for spec in exported_specs(site_dir).values() for mark in text_marks(spec)
             if theme.NOTE in ([mark.get("style")] if isinstance(mark.get("style"), str) else mark.get("style", []))]
    assert len(notes) >= 10, f"only {len(notes)} notes take the note style"


def texts_of(node, role: str):
    """For each mark of `role` in a Vega scene graph, in drawing order, its items' texts, each as its list of
    lines."""
    if isinstance(node, dict):
        if node.get("role") == role:
            yield [text if isinstance(text, list) else [text] for text in (i.get("text") for i in node.get("items", []))]
        for value in node.values():
            yield from texts_of(value, role)
    elif isinstance(node, list):
        for item in node:
            yield from texts_of(item, role)


def axis_labels(node):
    """The tick labels of each axis in a Vega scene graph, in drawing order."""
    for labels in texts_of(node, "axis-label"):
        yield [" ".join(lines) for lines in labels]  # a label's lines


def test_no_axis_repeats_a_tick_label_in_any_state_of_its_controls(site_dir):
    """A repeated label means ticks fell between whole values that the format rounds ("1 2 2 3 3" for the
    three weight matrices of a depth-2 network): every exported chart, in every state of its controls."""
    drawn = 0
    for fid, spec in exported_specs(site_dir).items():
        for state in label_layout.states(spec):
            scene = vl_convert.vegalite_to_scenegraph(state, vl_version=vl_version())
            for labels in axis_labels(json.loads(scene) if isinstance(scene, str) else scene):
                setting = {p["name"]: p["value"] for p in state.get("params", []) if "bind" in p}
                repeated = sorted({text for text in labels if text and labels.count(text) > 1})  # log: minor ticks ""
                assert not repeated, f"{fid} at {setting}: axis labels {labels} repeat {repeated}"
                drawn += 1
    assert drawn > 100, drawn  # every figure's axes, in each of its states


def test_a_layer_title_names_the_layer_drawn_and_says_when_the_slider_stands_elsewhere(site_dir):
    """The data hold some layers only (a figure's `stored_layers`); the title must name the stored layer
    drawn, the deepest at or below the slider, and add a line saying so exactly when that is not the slider's
    own layer."""
    figures, checked = pipeline.discover(), set()
    naming = re.compile(r"\b(?:layer|depth) (\d+)$")  # the title line naming the layer drawn
    for fid, spec in exported_specs(site_dir).items():
        slider = next((p for p in spec.get("params", []) if p["name"] == "layer" and "bind" in p), None)
        if slider is None:
            continue
        stored = sorted(figures[fid].params["stored_layers"])
        with open(site_dir / "figures" / f"{fid}.csv", newline="") as f:
            in_data = {int(row["layer"]) for row in csv.DictReader(f) if row.get("layer")}
        assert set(stored) <= in_data, f"{fid}: stored layers {sorted(set(stored) - in_data)} are not in its data"
        low, high = slider["bind"]["min"], slider["bind"]["max"]
        between = [layer + 1 for layer in stored if layer + 1 not in stored and low <= layer + 1 <= high]
        assert between, f"{fid}: every layer from {low} to {high} is stored; nothing to check"
        for at in sorted({low, high, *between, *(s for s in stored if low <= s <= high)}):
            state = json.loads(json.dumps(spec))
            next(p for p in state["params"] if p["name"] == "layer")["value"] = at
            scene = vl_convert.vegalite_to_scenegraph(state, vl_version=vl_version())
            titles = [lines for title in texts_of(json.loads(scene) if isinstance(scene, str) else scene, "title-text")
                      for lines in title if any(map(naming.search, lines))]
            assert len(titles) == 1, f"{fid} at layer {at}: titles naming a layer: {titles}"
            lines = titles[0]
            named = next(int(found.group(1)) for found in map(naming.search, lines) if found)
            expected = max(s for s in stored if s <= at)
            assert named == expected, f"{fid} at layer {at}: the title names {named}, the data's layer drawn is {expected}"
            notes = [line for line in lines if "nearest below" in line]
            if named == at:
                assert not notes, f"{fid} at stored layer {at}: the title needs no note, has {notes}"
            else:
                assert notes and notes[0].endswith(f"nearest below {at})"), f"{fid} at layer {at}: {lines}"
            checked.add(fid)
    assert checked >= {"bn-collapse", "collapse-function", "collapse-similarity", "finite-width"}, checked
