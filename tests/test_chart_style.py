"""One look across charts: an architecture or a width is drawn alike in every figure (colour, dash and
shape from the mappings in figures_src/theme.py), and never by hue alone."""

import json

import pytest

from figures_src import theme

# channel → (architecture mapping, width mapping)
MAPPINGS = {
    "color": (theme.ARCHITECTURE_COLORS, theme.WIDTH_COLORS),
    "strokeDash": (theme.ARCHITECTURE_DASHES, theme.WIDTH_DASHES),
    "shape": (theme.ARCHITECTURE_SHAPES, theme.WIDTH_SHAPES),
}


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
    architecture's colour/dash/shape, a `width` field gets the width's, whatever the figure."""
    seen = {"architecture": set(), "width": set()}
    for fid, spec in exported_specs(site_dir).items():
        for channel, field, domain, range_ in scales(spec):
            architectures, widths = MAPPINGS[channel]
            for value, drawn in zip(domain, range_):
                if field == "width":
                    assert drawn == widths[value], f"{fid}: width {value} drawn with {channel} {drawn}"
                    seen["width"].add((fid, channel))
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
