"""Direct labels go where nothing crosses them: the geometry, a chart built to make them collide, and every
figure of the site drawn in the narrowest and a wide column."""

import json
import re

import altair as alt
import pytest
import vl_convert

from figures_src import label_layout, theme
from figures_src.charts import end_labels
from figures_src.figure import FigureError
from figures_src.pipeline import placed_labels, static_spec, vl_version

WIDE_COLUMN = 760  # Material's widest content column


def scene(spec: dict) -> dict:
    drawn = vl_convert.vegalite_to_scenegraph(spec, vl_version=vl_version())
    return json.loads(drawn) if isinstance(drawn, str) else drawn


def in_column(spec: dict, column: float) -> dict:
    """The spec as figures.js draws it in a column of `column` px: a single view fills it, side-by-side
    views share what their axes leave (measured from the static drawing, as figures.js measures it)."""
    spec = json.loads(json.dumps(spec))
    if spec.get("width") == "container":
        spec["width"] = column
        return spec
    views = spec.get("hconcat") or spec.get("vconcat") or [spec]
    per_row = len(spec["hconcat"]) if "hconcat" in spec else 1
    natural = scene(static_spec(spec))["width"]
    widths = [view["width"] for view in views if isinstance(view.get("width"), (int, float))]
    if not widths:
        return spec
    shrink = (natural - column) / per_row
    for view in views:
        if isinstance(view.get("width"), (int, float)):
            view["width"] = view["width"] - shrink
    return spec


def crowded_chart(ends: list[float]) -> alt.LayerChart:
    """Lines that end close together and cross just before their ends: labels above each end collide."""
    rows = [{"x": x, "y": end + (0.3 if x == 9 else 0) * (-1) ** k, "line": f"line {k}"}
            for k, end in enumerate(ends) for x in range(11)]
    rows = [r | {"y": r["y"] if r["x"] != 10 else ends[int(r["line"][-1])]} for r in rows]
    data = alt.Chart(alt.Data(values=rows))
    color = alt.Color("line:N", legend=None)
    return alt.layer(data.mark_line().encode(x="x:Q", y=alt.Y("y:Q", scale=alt.Scale(domain=[0, 4])), color=color),
                     end_labels(data, "x", alt.Y("y:Q", scale=alt.Scale(domain=[0, 4])), "line", "datum.line", color)
                     ).properties(width="container", height=200)


def test_a_segment_crosses_a_box_only_where_it_passes_through_it():
    box = label_layout.Box(0, 0, 10, 10)
    assert box.crosses(-5, 5, 15, 5)       # straight through
    assert box.crosses(2, 2, 3, 3)         # wholly inside
    assert box.crosses(-5, -4, 6, 20)      # through a corner region
    assert not box.crosses(-5, 11, 15, 11)  # passes below
    assert not box.crosses(11, -5, 20, 30)  # passes to the right
    assert not box.crosses(-5, 4, -1, 9)   # ends before the box


def test_crowded_labels_collide_as_drawn_and_are_placed_apart_in_any_column():
    spec = crowded_chart([2.0, 2.1, 2.2]).to_dict()
    named = label_layout.named(spec)
    before = label_layout.crossed(scene(in_column(named, theme.MIN_COLUMN)))
    assert before, "the fixture is meant to make the unplaced labels collide"
    placed, placement = label_layout.place(spec, static_spec(spec), theme.MIN_COLUMN, vl_version())
    assert not placement.crossings
    offsets = placement.offsets["end_label_0_marks"]
    assert sorted(offsets) == ["line 0", "line 1", "line 2"]
    assert len({tuple(o) for o in offsets.values()}) == 3  # three lines ending together: three places
    for column in (theme.MIN_COLUMN, 500, WIDE_COLUMN):
        assert label_layout.crossed(scene(in_column(placed, column))) == [], column


def test_a_label_and_its_halo_share_a_name_and_their_offsets():
    spec = label_layout.named(crowded_chart([1.0, 3.0]).to_dict())
    units = list(label_layout.label_units(spec))
    assert sorted(unit["name"] for unit in units) == ["end_label_0", "end_label_0_halo"]
    placed = label_layout.with_offsets(spec, {"end_label_0_marks": {"line 0": (-3, 9), "line 1": (-16, -15)}})
    tables = {json.dumps(t["calculate"]) for unit in label_layout.label_units(placed) for t in unit["transform"]
              if t.get("as") == "label_offset"}
    assert len(tables) == 1 and '\\"line 1\\": [-16, -15]' in tables.pop()


def test_a_label_with_no_free_place_is_an_error_naming_the_figure_and_the_label():
    rows = [{"x": x, "y": (x * 7919 % 13) / 3, "line": f"line {k}"} for k in range(12) for x in range(k, 40 + k)]
    data = alt.Chart(alt.Data(values=rows))
    y = alt.Y("y:Q", scale=alt.Scale(domain=[0, 4]))
    chart = alt.layer(data.mark_line().encode(x="x:Q", y=y, detail="line:N"),
                      end_labels(data, "x", y, "line", "'a label far too long to fit anywhere here'", alt.value("red"))
                      ).properties(width="container", height=60)
    with pytest.raises(FigureError, match=r"figure 'tangle'.*a label far too long"):
        placed_labels("tangle", chart.to_dict(), theme.MIN_COLUMN)


def test_the_side_by_side_threshold_is_the_one_figures_css_stacks_at():
    css = (label_layout.__file__.rsplit("/", 1)[0] + "/mkdocs_plugin/assets/figures.css")
    assert f"@container dl-figure (max-width: {theme.MIN_SIDE_BY_SIDE}px)" in open(css).read()


SPEC_LINE = re.compile(r'^\(window\.dlFigureSpecs = window\.dlFigureSpecs \|\| \{\}\)\[("[^"]+")\] = (.*);$')


def site_specs(site_dir):
    """(name, spec, narrowest column it is drawn in) of every chart with direct labels, as the pages get them
    (a chart of side-by-side views also as "<id> stacked", its layout for narrow columns)."""
    for path in sorted((site_dir / "figures" / "js").glob("*.js")):
        for line in path.read_text().splitlines():
            name, spec = (json.loads(part) for part in SPEC_LINE.match(line).groups())
            if any(True for _ in label_layout.label_units(spec)):
                yield name, spec, theme.MIN_SIDE_BY_SIDE if "hconcat" in spec else theme.MIN_COLUMN


def test_no_figure_draws_a_direct_label_under_a_line_a_point_or_a_note(site_dir):
    """Every exported chart with direct labels, in each state of its controls, drawn in its narrowest column,
    a middle one and the widest: nothing crosses a label and no label leaves its plot."""
    checked = []
    for name, spec, narrowest in site_specs(site_dir):
        for state in label_layout.states(spec):
            setting = {p["name"]: p["value"] for p in state.get("params", []) if "bind" in p}
            for column in sorted({narrowest, (narrowest + WIDE_COLUMN) // 2, WIDE_COLUMN}):
                assert label_layout.crossed(scene(in_column(state, column))) == [], \
                    f"{name} at {setting} in a {column}-px column"
            checked.append((name, json.dumps(setting)))
    names = {name for name, _ in checked}
    assert len(names) >= 5 and len(checked) > 2 * len(names), checked  # charts with controls, in their states


def test_a_chart_is_drawn_in_every_combination_of_its_controls_default_first():
    spec = {"params": [{"name": "depth", "value": 8, "bind": {"input": "select", "options": [1, 8, 64]}},
                       {"name": "layer", "value": 10, "bind": {"input": "range", "min": 0, "max": 100, "step": 1}},
                       {"name": "hover", "select": "point"}]}
    drawn = [tuple(p.get("value") for p in state["params"][:2]) for state in label_layout.states(spec)]
    assert drawn == [(8, 10), (8, 0), (8, 100), (1, 10), (1, 0), (1, 100), (64, 10), (64, 0), (64, 100)]
    many = {"params": [{"name": f"p{k}", "value": 0, "bind": {"input": "select", "options": list(range(5))}}
                       for k in range(3)]}
    with pytest.raises(ValueError, match="125 control states"):
        label_layout.states(many)
