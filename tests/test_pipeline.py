"""The figure pipeline: cache, determinism, validation, errors that name what is wrong."""

import json
import math
import sys
from pathlib import Path

import altair as alt
import pytest

from figures_src import pipeline
from figures_src.figure import Figure, Result
from tests.conftest import ROOT, run_mkdocs, scratch_config

FIGURE_TEMPLATE = '''
import altair as alt
from figures_src.figure import Figure, Result, table
from figures_src.model import seeded
import torch


def compute(p):
    g = seeded(p["seed"])
    return Result([{{"x": i, "y": torch.randn(1, generator=g).item()}} for i in range(5)], {{"n": 5}})


def chart(rows, p):
    return alt.Chart(table(rows)).mark_line().encode(x="x:Q", y="y:Q").properties(width="container")


FIGURE = Figure(id="{fid}", title="t", caption="c", alt_text="a", params={{"seed": 1}},
                compute=compute, chart=chart)
# {marker}
'''


@pytest.fixture
def figure_package(tmp_path, monkeypatch):
    """A throwaway package of two figures, importable as `scratchfigs`."""
    package = tmp_path / "scratchfigs"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for fid in ("alpha", "beta"):
        (package / f"{fid}.py").write_text(FIGURE_TEMPLATE.format(fid=fid, marker="v1"))
    monkeypatch.syspath_prepend(str(tmp_path))

    def load():
        for name in [n for n in sys.modules if n.startswith("scratchfigs")]:
            del sys.modules[name]
        return pipeline.discover("scratchfigs")

    yield package, load
    for name in [n for n in sys.modules if n.startswith("scratchfigs")]:
        del sys.modules[name]


def test_cache_hits_and_recomputes_only_the_edited_figure(figure_package, tmp_path):
    package, load = figure_package
    cache = tmp_path / "cache"
    first = pipeline.compute_all(load(), cache)
    assert not any(c.cache_hit for c in first.values())
    assert all(c.cache_hit for c in pipeline.compute_all(load(), cache).values())

    (package / "beta.py").write_text(FIGURE_TEMPLATE.format(fid="beta", marker="v2 edited"))
    third = pipeline.compute_all(load(), cache)
    assert third["alpha"].cache_hit and not third["beta"].cache_hit
    assert third["beta"].code_hash != first["beta"].code_hash


def test_parallel_workers_and_one_process_give_the_same_numbers(figure_package, tmp_path):
    _, load = figure_package
    parallel = pipeline.compute_all(load(), tmp_path / "a", workers=2)
    serial = pipeline.compute_all(load(), tmp_path / "b", workers=1)
    assert {fid: c.result for fid, c in parallel.items()} == {fid: c.result for fid, c in serial.items()}
    assert (tmp_path / "a" / "beta.json").read_bytes() == (tmp_path / "b" / "beta.json").read_bytes()


def test_cache_key_covers_imported_modules_and_parameters():
    figures = pipeline.discover()
    deps = pipeline.local_imports(pipeline.module_of(figures["correlation-by-depth"]))
    assert {"figures_src.model", "figures_src.measures", "figures_src.theory", "figures_src.theme"} <= deps
    assert "figures_src.mkdocs_plugin.plugin" not in deps  # site glue does not invalidate experiments
    figure = figures["collapse-similarity"]
    changed = Figure(**{**figure.__dict__, "params": {**figure.params, "seed": 2}})
    assert pipeline.cache_key(changed) != pipeline.cache_key(figure)


@pytest.mark.parametrize("damage", ["truncate", "tamper"])
def test_corrupt_cache_entry_is_recomputed(figure_package, tmp_path, caplog, damage):
    _, load = figure_package
    cache = tmp_path / "cache"
    good = pipeline.compute_all(load(), cache)["alpha"].result
    entry = cache / "alpha.json"
    if damage == "truncate":
        entry.write_text(entry.read_text()[:40])
    else:  # valid JSON, wrong data
        data = json.loads(entry.read_text())
        data["payload"]["rows"][0]["y"] = 123.0
        entry.write_text(json.dumps(data))
    again = pipeline.compute_all(load(), cache)["alpha"]
    assert not again.cache_hit
    assert again.result.rows == good.rows
    assert "alpha" in caplog.text and "corrupt" in caplog.text
    assert pipeline.compute_all(load(), cache)["alpha"].cache_hit  # repaired


def test_two_clean_builds_give_identical_bytes(tmp_path):
    figures = {fid: f for fid, f in pipeline.discover().items() if fid in ("collapse-function", "collapse-similarity")}
    outputs = []
    for run in ("a", "b"):
        computed = pipeline.compute_all(figures, tmp_path / run)
        numbers = pipeline.living_numbers(computed)
        outputs.append({fid: pipeline.export(c, numbers) for fid, c in computed.items()})
        assert not any(c.cache_hit for c in computed.values())
    assert outputs[0] == outputs[1]


def test_non_finite_values_stay_valid_json_and_visible():
    rows = pipeline.clean_rows([{"step": 1, "loss": 0.5}, {"step": 2, "loss": math.inf}, {"step": 3, "loss": math.nan}])
    text = json.dumps(rows, allow_nan=False)  # raises on NaN/Infinity
    assert json.loads(text)[1] == {"step": 2, "loss": None, "loss_status": "inf"}
    assert rows[2]["loss_status"] == "nan"
    assert "loss_status" in pipeline.csv_text(rows).splitlines()[0]


def test_a_non_finite_living_number_is_an_error_naming_the_figure():
    figure = pipeline.discover()["collapse-similarity"]
    with pytest.raises(pipeline.FigureError, match="collapse-similarity.*'x'"):
        pipeline.clean_result(figure, Result([{"a": 1}], {"x": math.nan}))


def test_failing_experiment_names_figure_and_file(figure_package, tmp_path):
    package, load = figure_package
    (package / "alpha.py").write_text(FIGURE_TEMPLATE.format(fid="alpha", marker="").replace(
        'g = seeded(p["seed"])', 'raise RuntimeError("boom")'))
    with pytest.raises(pipeline.FigureError, match=r"'alpha' \(.*alpha\.py\) failed: RuntimeError: boom"):
        pipeline.compute_all(load(), tmp_path / "cache")
    assert not (tmp_path / "cache" / "alpha.json").exists()


def test_exports_are_cached_and_a_damaged_entry_is_exported_again(figure_package, tmp_path):
    package, load = figure_package
    computed = pipeline.compute_all(load(), tmp_path / "cache")["alpha"]
    fresh = pipeline.export(computed, {})
    assert pipeline.export(computed, {}, tmp_path / "cache") == fresh
    entry = tmp_path / "cache" / "alpha.exports.json"
    entry.write_text("{damaged")
    assert pipeline.export(computed, {}, tmp_path / "cache") == fresh
    (package / "alpha.py").write_text(FIGURE_TEMPLATE.format(fid="alpha", marker="v2").replace(
        "mark_line()", "mark_point()"))  # the chart's code changed: its files too
    edited = pipeline.compute_all(load(), tmp_path / "cache")["alpha"]
    assert '"point"' in pipeline.export(edited, {}, tmp_path / "cache")["alpha.vl.json"]


def test_specs_validate_against_the_vega_lite_schema():
    validator = pipeline.vega_lite_validator()
    good = alt.Chart(alt.Data(values=[{"x": 1}])).mark_point().encode(x="x:Q").to_dict()
    assert not list(validator.iter_errors(good))
    assert list(validator.iter_errors({**good, "mark": {"type": "no-such-mark"}}))


def test_invalid_chart_fails_with_the_figure_name(figure_package, tmp_path):
    package, load = figure_package
    (package / "alpha.py").write_text(FIGURE_TEMPLATE.format(fid="alpha", marker="").replace(
        'mark_line()', 'mark_line(interpolate="no-such-interpolation")'))
    computed = pipeline.compute_all(load(), tmp_path / "cache")["alpha"]
    with pytest.raises(pipeline.FigureError, match="figure 'alpha'"):
        pipeline.export(computed, {})


def test_living_numbers_are_formatted_and_unknown_names_fail():
    numbers = {"fig.c": 0.98765, "fig.n": 3}
    assert pipeline.expand_values("c = {{ value: fig.c | .2f }}, n = {{ value: fig.n }}", numbers, "page.md") \
        == "c = 0.99, n = 3"
    with pytest.raises(pipeline.FigureError, match=r"page\.md: unknown living number 'fig\.nope'"):
        pipeline.expand_values("{{ value: fig.nope }}", numbers, "page.md")
    with pytest.raises(pipeline.FigureError, match="malformed"):
        pipeline.expand_values("{{ value: fig.c.d }}", numbers, "page.md")


def scratch_site(tmp_path, broken: str, cited: str = "cho2009; he2015") -> Path:
    """A two-page site on the real figures and two entries of the real bibliography."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text(f"# Home\n\nKernels {{{{ cite: {cited} }}}}.\n\n{{{{ bibliography: cited }}}}\n")
    entries = (ROOT / "docs" / "references.bib").read_text().split("\n@")
    (docs / "references.bib").write_text("\n".join(
        "@" + e for e in entries if e.startswith(("inproceedings{cho2009,", "inproceedings{he2015,"))))
    (docs / "broken.md").write_text("---\nchapter: 9\n---\n# Broken\n\n" + broken)
    return scratch_config(tmp_path, docs)


@pytest.mark.parametrize("markdown, message", [
    ("{{ figure: no-such-figure }}\n", "broken.md: unknown figure id 'no-such-figure'"),
    ("A number: {{ value: correlation-by-depth.no_such_value }}.\n",
     "broken.md: unknown living number 'correlation-by-depth.no_such_value'"),
    ("See {{ figure: correlation-by-depth }} inline.\n", "must stand on a line of its own"),
    ("{{ chart: correlation-by-depth }}\n", "unknown marker"),
    ("As shown {{ cite: cho2009; no-such-paper }}.\n", "broken.md: unknown citation key 'no-such-paper'"),
    ("As {{ citet: cho2009; he2015 }} show.\n", "takes one key"),
    ("The list: {{ bibliography: cited }}\n", "must stand on a line of its own"),
    ("{{ bibliography: some }}\n", "use 'cited' or 'all'"),
    ("As {{ citet: he2015 }} show.\n", "cites 'he2015' but has no {{ bibliography: cited }}"),
])
def test_bad_markers_fail_the_build_with_page_and_name(tmp_path, markdown, message):
    result = run_mkdocs(scratch_site(tmp_path, markdown), tmp_path / "site")
    assert result.returncode != 0
    assert message in result.stderr


def test_citations_link_to_the_page_list_with_the_reference_on_hover(tmp_path):
    config = scratch_site(tmp_path, "As {{ citet: he2015 }} show.\n\n{{ bibliography: cited }}\n")
    result = run_mkdocs(config, tmp_path / "site")
    assert result.returncode == 0, result.stderr
    home = (tmp_path / "site" / "index.html").read_text()
    assert '<a class="dl-cite" href="#ref-cho2009" title="Y. Cho and L. K. Saul. Kernel methods' in home
    assert ">Cho &amp; Saul, 2009</a>; <a" in home and '<li id="ref-he2015">' in home
    broken = (tmp_path / "site" / "broken" / "index.html").read_text()
    assert '<a class="dl-cite" href="#ref-he2015"' in broken and ">He et al. (2015)</a>" in broken
    assert '<li id="ref-cho2009">' not in broken  # a page lists only what it cites


def test_an_entry_cited_nowhere_fails_the_strict_build(tmp_path):
    result = run_mkdocs(scratch_site(tmp_path, "No citation.\n", cited="cho2009"), tmp_path / "site")
    assert result.returncode != 0
    assert "entries cited nowhere: he2015" in result.stderr
