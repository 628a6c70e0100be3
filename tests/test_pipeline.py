"""The figure pipeline: cache, determinism, validation, errors that name what is wrong."""

import json
import logging
import math
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
import sys

import altair as alt
import pytest

from figures_src import cache, pipeline
from figures_src.figure import Figure, Result

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
VERSION = "{marker}"
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


def test_a_chart_edit_redraws_the_figure_from_the_computed_results(figure_package, tmp_path):
    """Editing only how a figure draws or what it says (its chart function, its caption; charts.py and
    theme.py, which only charts import) keeps its results and exports the new drawing; a comment changes
    nothing at all."""
    package, load = figure_package
    cache_dir = tmp_path / "cache"
    first = pipeline.compute_all(load(), cache_dir)["beta"]
    before = pipeline.export(first, {}, tmp_path / "exports")
    source = (package / "beta.py").read_text()
    (package / "beta.py").write_text(source.replace('mark_line()', 'mark_point()').replace('caption="c"', 'caption="d"')
                                     + "# a comment\n")
    redrawn = pipeline.compute_all(load(), cache_dir)["beta"]
    assert redrawn.cache_hit and redrawn.code_hash == first.code_hash
    after = pipeline.export(redrawn, {}, tmp_path / "exports")
    assert '"point"' in after["beta.vl.json"] and '"line"' in before["beta.vl.json"]
    figures = pipeline.discover()
    deps_of = {fid: pipeline.code_hash(figure) for fid, figure in figures.items()}
    assert deps_of == {fid: pipeline.code_hash(figure) for fid, figure in figures.items()}  # deterministic
    charts_only = cache.compute_digest("figures_src.figures.meaningful_variance", {"chart"})
    with_chart = cache.compute_digest("figures_src.figures.meaningful_variance", set())
    assert charts_only != with_chart  # the chart function's code is left out


def test_a_module_edited_while_the_site_builds_is_keyed_as_the_code_that_ran(figure_package, tmp_path):
    """The caches are keyed on the source the build imported, not on the file as it is when the key is
    read: results and drawings of the old code never stand for the edited code (stale at the next build)."""
    package, load = figure_package
    cache_dir = tmp_path / "cache"
    figures = load()  # the build imports v1 …
    (package / "beta.py").write_text(FIGURE_TEMPLATE.format(fid="beta", marker="v2 edited"))  # … then beta changes
    during = pipeline.compute_all(figures, cache_dir)
    exported = pipeline.export(during["beta"], {}, tmp_path / "exports")
    assert 'VERSION = "v1"' in exported["src/beta.py"]  # the published source is the code that ran
    after = pipeline.compute_all(load(), cache_dir)
    assert after["alpha"].cache_hit and not after["beta"].cache_hit
    assert 'VERSION = "v2 edited"' in pipeline.export(after["beta"], {}, tmp_path / "exports")["src/beta.py"]


def test_parallel_workers_and_one_process_give_the_same_numbers(figure_package, tmp_path):
    _, load = figure_package
    parallel = pipeline.compute_all(load(), tmp_path / "a", workers=2)
    serial = pipeline.compute_all(load(), tmp_path / "b", workers=1)
    assert {fid: c.result for fid, c in parallel.items()} == {fid: c.result for fid, c in serial.items()}
    numbers = pipeline.living_numbers(serial)
    assert pipeline.export(parallel["beta"], numbers) == pipeline.export(serial["beta"], numbers)  # same bytes


def test_cache_key_covers_imported_modules_and_parameters():
    figures = pipeline.discover()
    deps = cache.local_imports(pipeline.module_of(figures["correlation-by-depth"]))
    assert {"figures_src.model", "figures_src.measures", "figures_src.theory", "figures_src.theme"} <= deps
    assert "figures_src.mkdocs_plugin.plugin" not in deps  # site glue does not invalidate experiments
    figure = figures["collapse-similarity"]
    changed = Figure(**{**figure.__dict__, "params": {**figure.params, "seed": 2}})
    assert pipeline.cache_key(changed) != pipeline.cache_key(figure)


@pytest.mark.parametrize("damage", ["truncate", "tamper"])
def test_corrupt_cache_entry_is_recomputed(figure_package, tmp_path, caplog, damage):
    caplog.set_level(logging.INFO, logger="mkdocs.plugins.figures")
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


def test_a_non_finite_living_number_is_kept_as_what_happened_never_a_placeholder():
    figure = pipeline.discover()["collapse-similarity"]
    cleaned = pipeline.clean_result(figure, Result([{"a": 1}], {"x": math.nan, "steps": math.inf, "c": 0.5}))
    assert cleaned.values == {"x": None, "steps": None, "c": 0.5}
    assert cleaned.status == {"x": "nan", "steps": "inf"}
    computed = {figure.id: pipeline.Computed(figure, cleaned, False, 0.0, "")}
    numbers = pipeline.living_numbers(computed)
    assert numbers["collapse-similarity.steps"] == "inf" and numbers["collapse-similarity.c"] == 0.5
    with pytest.raises(TypeError):  # a check over it cannot pass
        assert numbers["collapse-similarity.steps"] < 100
    with pytest.raises(pipeline.FigureError, match=r"collapse-similarity.*'x' is 'high'"):
        pipeline.clean_result(figure, Result([{"a": 1}], {"x": "high"}))


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


def slow_square(item: dict) -> dict:
    """A run that takes long enough for two processes to meet; it says which process computed it."""
    import time
    time.sleep(0.2)
    return {"square": item["n"] ** 2, "pid": os.getpid()}


def runs_in_a_worker(folder: str) -> list[dict]:
    from figures_src import cache
    os.environ[cache.RUNS_ENV] = folder
    return cache.shared_runs("squares", [{"n": n} for n in range(8)], slow_square, "figures_src.cache")


def test_processes_needing_the_same_runs_split_them_and_share_the_results(tmp_path):
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        first, second = pool.map(runs_in_a_worker, [str(tmp_path)] * 2)
    assert first == second  # both see every result, whoever computed it
    assert [r["square"] for r in first] == [n * n for n in range(8)]
    assert len({r["pid"] for r in first}) == 2  # the work was split between the two processes
    assert runs_in_a_worker(str(tmp_path)) == first  # a third asker finds them all on disk


def test_a_build_reports_each_figure_as_it_finishes(figure_package, tmp_path):
    _, load = figure_package
    heard = []
    pipeline.compute_all(load(), tmp_path / "cache", workers=1, progress=heard.append)
    assert [m.split(":")[0] for m in heard] == ["figure alpha", "figure beta"]
    assert "[1/2" in heard[0] and "to go: beta" in heard[0] and "[2/2" in heard[1]
    heard.clear()
    pipeline.compute_all(load(), tmp_path / "cache", workers=1, progress=heard.append)
    assert heard == ["figures: 2 of 2 from the cache"]
