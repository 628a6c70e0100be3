"""The build-time figure pipeline, as explicit stages: discover → compute (with a cache) → export.

Each stage is a plain function so it can be tested alone; the MkDocs plugin only calls them.

* discover: every module in `figures_src/figures/` declares one `FIGURE`.
* compute: the experiment runs, or its result comes from the on-disk cache. The cache key covers the
  figure module's source, the source of every `figures_src` module it imports (transitively), its
  parameters and the library versions, so editing prose recomputes nothing and editing one figure
  recomputes that figure only. An entry carries a checksum; a corrupt entry is recomputed, never used.
* export: tidy CSV, Vega-Lite spec (validated against the Vega-Lite schema), static SVG, and a small
  script that hands the spec to the page (works from `file://`, where `fetch` does not).
"""

import importlib
import json
import logging
import math
import multiprocessing
import os
import pkgutil
import re
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Callable

import altair as alt
import jsonschema
import numpy
import torch
import vl_convert

from figures_src import label_layout, markers, theme
from figures_src.cache import (PACKAGE, RUNS_ENV, cached, compute_digest, digest, library_versions, module_file,
                               pin_sources, read_entry, source, source_digest, write_atomic, write_entry)
from figures_src.figure import Figure, FigureError, FigureFiles, Result, Row, csv_text
from figures_src.model import device
from figures_src.workers import usable_cpus

log = logging.getLogger("mkdocs.plugins.figures")

FIGURE_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SIGNIFICANT_DIGITS = 6  # published numbers are rounded so a rebuild on another machine gives the same bytes
@dataclass
class Computed:
    figure: Figure
    result: Result
    cache_hit: bool
    seconds: float  # time this build spent on the figure
    code_hash: str


# ---------------------------------------------------------------- discover

def discover(package: str = f"{PACKAGE}.figures") -> dict[str, Figure]:
    figures: dict[str, Figure] = {}
    pin_sources(*dict.fromkeys([PACKAGE, package.split(".")[0]]))  # the code as imported below keys the caches
    for info in sorted(pkgutil.iter_modules(importlib.import_module(package).__path__), key=lambda m: m.name):
        module_name = f"{package}.{info.name}"
        figure = getattr(importlib.import_module(module_name), "FIGURE", None)
        if not isinstance(figure, Figure):
            raise FigureError(f"{module_file(module_name)}: a figure module must define FIGURE = Figure(...)")
        if not FIGURE_ID.match(figure.id) or figure.id.replace("-", "_") != info.name:
            raise FigureError(f"{module_file(module_name)}: figure id {figure.id!r} must be the module name "
                              f"with '-' for '_' ({info.name.replace('_', '-')!r})")
        figures[figure.id] = figure
    return figures


def module_of(figure: Figure) -> str:
    return figure.compute.__module__


def package_root() -> Path:
    return module_file(PACKAGE).parent.parent


def code_hash(figure: Figure) -> str:
    """The code a figure's results depend on: its module without its chart functions (`compute_digest`)."""
    drawers = [getattr(f, "func", f) for f in (figure.chart, figure.stacked_chart) if f is not None]  # partials too
    charts = {getattr(f, "__name__", "") for f in drawers}
    return compute_digest(module_of(figure), charts)


def cache_key(figure: Figure) -> str:
    material = {"code": code_hash(figure), "params": figure.params, "versions": library_versions()}
    if device().type != "cpu":  # results from another device never stand in for the published CPU numbers
        material["device"] = str(device())
    return digest(material)


# ---------------------------------------------------------------- compute

def clean_number(x: Any) -> Any:
    """Round floats for reproducible bytes; tensors and numpy scalars become Python numbers."""
    if isinstance(x, (torch.Tensor, numpy.generic)):
        x = x.item()
    if isinstance(x, bool) or not isinstance(x, float):
        return x
    return float(f"{x:.{SIGNIFICANT_DIGITS}g}") if math.isfinite(x) else x


def clean_rows(rows: list[Row]) -> list[Row]:
    """Non-finite numbers (a diverged run) become null plus a `<column>_status` of 'inf', '-inf' or
    'nan': valid JSON and CSV, and a chart can show the divergence instead of silently dropping it."""
    cleaned = []
    for row in rows:
        out: Row = {}
        for key, value in row.items():
            value = clean_number(value)
            if isinstance(value, float) and not math.isfinite(value):
                out[key] = None
                out[f"{key}_status"] = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
            else:
                out[key] = value
        cleaned.append(out)
    return cleaned


def status_of(value: float) -> str:
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def clean_result(figure: Figure, result: Result) -> Result:
    """Rows and living numbers rounded and JSON-safe. A non-finite living number (a diverged run, a
    threshold never reached) becomes None with its status kept: quoting it fails the build, and a check
    over it cannot pass."""
    if not isinstance(result, Result) or not result.rows:
        raise FigureError(f"figure {figure.id!r} ({module_file(module_of(figure))}): the experiment must "
                          f"return a Result with at least one row")
    values, status = {}, {}
    for name, v in result.values.items():
        v = clean_number(v)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise FigureError(f"figure {figure.id!r}: living number {name!r} is {v!r}; it must be a number "
                              f"(NaN or infinity for a diverged or missing quantity)")
        if isinstance(v, float) and not math.isfinite(v):
            values[name], status[name] = None, status_of(v)
        else:
            values[name] = v
    summary = clean_rows(result.summary) if result.summary is not None else None
    return Result(rows=clean_rows(result.rows), values=values, status=status, summary=summary)


def load_cached(figure: Figure, path: Path, key: str) -> Result | None:
    payload = read_entry(path, key, f"figure {figure.id}")
    return None if payload is None else Result(payload["rows"], payload["values"], payload.get("status", {}),
                                               payload.get("summary"))


def store(path: Path, key: str, result: Result, seconds: float) -> None:
    # The compute time is kept for the benchmark; it is not part of anything published.
    write_entry(path, key, {"rows": result.rows, "values": result.values, "status": result.status,
                            "summary": result.summary,
                            "seconds": round(seconds, 3)})


def compute_seconds(figures: dict[str, Figure], cache_dir: Path) -> dict[str, float]:
    """How long each figure's current cache entry took to compute."""
    entries = {fid: read_entry(cache_dir / f"{fid}.json", cache_key(figure)) for fid, figure in figures.items()}
    return {fid: entry["seconds"] for fid, entry in entries.items() if entry is not None}


def run_experiment(compute: Callable[[dict[str, Any]], Result], params: dict[str, Any],
                   runs_dir: Path | None = None) -> Result:
    """One experiment, on one torch thread: the same arithmetic, hence the same bytes, whether it runs in
    this process or in a worker. Experiments seed their own generators; the global seed guards any that
    forgets. Runs shared by several figures are cached in `runs_dir` (see cache.shared_runs)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    previous = os.environ.get(RUNS_ENV)
    if runs_dir is not None:
        os.environ[RUNS_ENV] = str(runs_dir)
    try:
        return compute(params)
    finally:
        torch.set_num_threads(threads)
        if previous is None:
            os.environ.pop(RUNS_ENV, None)
        else:
            os.environ[RUNS_ENV] = previous


def timed_experiment(compute: Callable[[dict[str, Any]], Result], params: dict[str, Any],
                     runs_dir: Path | None) -> tuple[Result, float]:
    start = time.perf_counter()
    result = run_experiment(compute, params, runs_dir)
    return result, time.perf_counter() - start


def compute_all(figures: dict[str, Figure], cache_dir: Path, workers: int | None = None,
                progress: Callable[[str], None] = log.info) -> dict[str, Computed]:
    """Every figure, from the cache when its key matches, else computed. Figures to compute run in parallel
    worker processes, one per core and one torch thread each: the experiments are many small matrix
    products, which a second thread in the same process barely speeds up, while a second process doubles
    the throughput on two cores. Runs several figures need are shared through the cache (`runs/`), not
    through memory, so any figure can go to any worker. `progress` hears of each figure as it finishes."""
    start = time.perf_counter()
    keys = {fid: cache_key(figure) for fid, figure in figures.items()}
    cached = {fid: load_cached(figure, cache_dir / f"{fid}.json", keys[fid]) for fid, figure in figures.items()}
    todo = [fid for fid in figures if cached[fid] is None]
    computed = {fid: Computed(figures[fid], cached[fid], True, 0.0, code_hash(figures[fid]))
                for fid in figures if cached[fid] is not None}
    if computed:
        progress(f"figures: {len(computed)} of {len(figures)} from the cache")
    runs_dir = cache_dir / "runs"

    def finish(fid: str, run: Callable[[], tuple[Result, float]]) -> None:
        result, seconds = experiment_result(figures[fid], run)
        store(cache_dir / f"{fid}.json", keys[fid], result, seconds)
        computed[fid] = Computed(figures[fid], result, False, seconds, code_hash(figures[fid]))
        running = sorted(set(todo) - computed.keys())
        progress(f"figure {fid}: computed in {seconds:.1f} s [{len(computed)}/{len(figures)}, "
                 f"{time.perf_counter() - start:.0f} s" + (f"; to go: {', '.join(running)}]" if running else "]"))

    # One process per core on the CPU; a GPU is shared by one process better than by several.
    workers = min(len(todo), workers or (usable_cpus() if device().type == "cpu" else 1))
    if workers > 1:
        # spawn, not fork: a forked child would inherit torch's thread pools mid-use.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            pending = {pool.submit(timed_experiment, figures[fid].compute, dict(figures[fid].params), runs_dir): fid
                       for fid in todo}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    finish(pending.pop(future), future.result)
    else:
        for fid in todo:
            finish(fid, lambda: timed_experiment(figures[fid].compute, dict(figures[fid].params), runs_dir))
    log.debug(f"{len(figures)} figures in {time.perf_counter() - start:.1f} s with {max(workers, 1)} worker(s)")
    return {fid: computed[fid] for fid in figures}  # in the figures' order


def experiment_result(figure: Figure, run: Callable[[], tuple[Result, float]]) -> tuple[Result, float]:
    """The cleaned result of `run()`, or a FigureError naming the figure and its file."""
    try:
        result, seconds = run()
        return clean_result(figure, result), seconds
    except FigureError:
        raise
    except Exception as error:
        raise FigureError(f"figure {figure.id!r} ({module_file(module_of(figure))}) failed: "
                          f"{type(error).__name__}: {error}") from error


# ---------------------------------------------------------------- living numbers

def living_numbers(computed: dict[str, Computed]) -> dict[str, markers.Number]:
    """Every living number by `<figure-id>.<name>`; a non-finite one as `markers.NonFinite(status)`."""
    return {f"{fid}.{name}": markers.NonFinite(c.result.status[name]) if value is None else value
            for fid, c in computed.items() for name, value in c.result.values.items()}


# ---------------------------------------------------------------- export

@cache
def vega_lite_validator() -> jsonschema.Draft7Validator:
    schema = Path(alt.__file__).parent / "vegalite" / "v6" / "schema" / "vega-lite-schema.json"
    return jsonschema.Draft7Validator(json.loads(schema.read_text()))


def vega_lite_spec(c: Computed, description: str, chart: Callable | None = None) -> dict[str, Any]:
    """The figure's chart (or `chart`, another layout of it) as a validated Vega-Lite spec."""
    fig = c.figure
    try:
        spec = (chart or fig.chart)(c.result.chart_rows, dict(fig.params)).properties(
            description=description).to_dict()
    except Exception as error:
        raise FigureError(f"figure {fig.id!r} ({module_file(module_of(fig))}): the chart cannot be built: "
                          f"{type(error).__name__}: {error}") from error
    # Altair validates while building; the explicit check also covers anything added afterwards.
    errors = sorted(vega_lite_validator().iter_errors(spec), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        raise FigureError(f"figure {fig.id!r}: invalid Vega-Lite spec at "
                          f"{'/'.join(map(str, first.absolute_path)) or '(top)'}: {first.message[:300]}")
    return spec


def static_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec at its default state with a fixed width, for the SVG."""
    static = json.loads(json.dumps(spec))
    if static.get("width") == "container":
        static["width"] = theme.STATIC_WIDTH
    return static


def stacked_spec(c: Computed, spec: dict[str, Any], description: str) -> dict[str, Any] | None:
    """A chart in a narrow column: the figure's own stacked layout if it has one (side-by-side views, or a
    facet with fewer columns), else its side-by-side views one above another as they are; None for any other
    chart (it fits a column by its views' widths alone)."""
    if c.figure.stacked_chart is not None:
        return vega_lite_spec(c, description, c.figure.stacked_chart)
    if "hconcat" not in spec:
        return None
    stacked = {key: value for key, value in spec.items() if key != "hconcat"}
    return stacked | {"vconcat": spec["hconcat"]}


def vl_version() -> str:
    return ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])


SVG_COUNTER_ID = re.compile(r"\b(gradient_|clip)(\d+)\b")


def render_svg(figure_id: str, spec: dict[str, Any]) -> str:
    try:
        svg = vl_convert.vegalite_to_svg(static_spec(spec), vl_version=vl_version())
    except Exception as error:
        raise FigureError(f"figure {figure_id!r}: the static SVG cannot be rendered: {error}") from error
    # Vega numbers gradients and clip paths with a process-wide counter; renumber per file for
    # byte-identical rebuilds.
    renumbered: dict[str, str] = {}
    return SVG_COUNTER_ID.sub(
        lambda m: renumbered.setdefault(m[0], f"{m[1]}{sum(k.startswith(m[1]) for k in renumbered)}"), svg)


def spec_script(figure_id: str, spec: dict[str, Any], stacked: dict[str, Any] | None = None) -> str:
    """The script that hands a figure's spec to figures.js, and its stacked layout as "<id> stacked"."""
    specs = {figure_id: spec} | ({f"{figure_id} stacked": stacked} if stacked is not None else {})
    return "".join(f"(window.dlFigureSpecs = window.dlFigureSpecs || {{}})[{json.dumps(name)}] = "
                   f"{json.dumps(value, separators=(',', ':'), allow_nan=False)};\n" for name, value in specs.items())


def export(c: Computed, numbers: dict[str, float], cache_dir: Path | None = None) -> dict[str, str]:
    """All files of one figure, by name under `figures/`. With a cache folder they are kept there too:
    building, validating and rendering the chart is most of a rebuild that changed only prose. The key
    covers the figure's result (its cache key), its text alternative (living numbers of any figure), its
    chart code (the whole figure module, what it imports) and the exporting code."""
    fid = c.figure.id
    description = markers.expand_values(c.figure.alt_text, numbers, f"figure {fid!r} alt text")
    if cache_dir is None:
        return export_files(c, description)
    key = digest({"figure": cache_key(c.figure), "description": description,
                  "chart": source_digest([module_of(c.figure), __name__, theme.__name__])})
    return cached(cache_dir / f"{fid}.exports.json", key, lambda: export_files(c, description),
                  f"figure {fid} exports")[0]


def placed_labels(figure_id: str, spec: dict[str, Any], min_column: float) -> dict[str, Any]:
    """The spec with its direct labels placed for every column from `min_column` px up; a FigureError
    names a label that crosses a line wherever it goes."""
    try:
        placed, placement = label_layout.place(spec, static_spec(spec), min_column, vl_version())
    except ValueError as error:  # too many control states to place its labels in
        raise FigureError(f"figure {figure_id!r}: {error}") from error
    for mark, texts in placement.crossings.items():
        raise FigureError(f"figure {figure_id!r}: no place for the direct label(s) {', '.join(map(repr, texts))} "
                          f"({mark}) in a {min_column:.0f}-px column that no line, point or note crosses")
    return placed


def export_files(c: Computed, description: str) -> dict[str, str]:
    spec = vega_lite_spec(c, description)
    names = FigureFiles.of(c.figure.id, module_of(c.figure))
    stacked = stacked_spec(c, spec, description)
    spec = placed_labels(c.figure.id, spec, theme.MIN_SIDE_BY_SIDE if stacked else theme.MIN_COLUMN)
    stacked = placed_labels(c.figure.id, stacked, theme.MIN_COLUMN) if stacked is not None else None
    files = {
        names.spec: json.dumps(spec, indent=1, allow_nan=False) + "\n",
        names.csv: csv_text(c.result.rows),
        names.svg: render_svg(c.figure.id, spec),
        names.script: spec_script(c.figure.id, spec, stacked),
        names.source: source(module_of(c.figure)).decode(),
    }
    if stacked is not None:
        files[names.stacked_svg] = render_svg(c.figure.id, stacked)
    return files


def theme_script() -> str:
    return f"window.dlChartThemes = {json.dumps({'light': theme.LIGHT, 'dark': theme.DARK})};\n"


def vega_bundle(cache_dir: Path) -> str:
    """Vega, Vega-Lite and vega-embed in one script served by the site (no CDN), cached per version."""
    path = cache_dir / f"vega-bundle-{vl_convert.__version__}.js"
    if not path.exists():
        write_atomic(path, vl_convert.javascript_bundle())
    return path.read_text()
