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

import ast
import hashlib
import importlib
import importlib.util
import json
import logging
import math
import multiprocessing
import os
import pkgutil
import platform
import re
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Callable

import altair as alt
import jsonschema
import numpy
import torch
import vl_convert

from figures_src import theme
from figures_src.figure import Figure, Result, Row, csv_text

log = logging.getLogger("mkdocs.plugins.figures")

PACKAGE = "figures_src"
FIGURE_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SIGNIFICANT_DIGITS = 6  # published numbers are rounded so a rebuild on another machine gives the same bytes
VALUE = re.compile(r"\{\{\s*value\s*:\s*([a-z0-9-]+)\.(\w+)\s*(?:\|\s*([^}]*?)\s*)?\}\}")
MARKER_OF_VALUE = re.compile(r"\{\{\s*value\s*:[^}]*\}\}")


class FigureError(Exception):
    """A figure cannot be built; the message names the figure and its file."""


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


def module_file(module_name: str) -> Path:
    return Path(importlib.util.find_spec(module_name).origin)


def package_root() -> Path:
    return module_file(PACKAGE).parent.parent


def local_imports(module_name: str) -> set[str]:
    """The `figures_src` modules this module's code depends on, itself included, transitively."""
    seen: set[str] = set()
    todo = [module_name]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = module_file(name)
        stat = path.stat()
        todo += direct_imports(name, path, (stat.st_mtime_ns, stat.st_size))
    return seen


@cache
def direct_imports(name: str, path: Path, stamp: tuple[int, int]) -> list[str]:
    """The `figures_src` modules `name` imports itself; parsed once per version of the file (`stamp`)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), name.rpartition(".")[0]) \
                if node.level else node.module
            candidates = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [c for c in candidates if c.split(".")[0] == PACKAGE and is_module(c)]
    return found


def is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # `package.module.attribute`: the parent is a module, not a package
        return False


def code_hash(figure: Figure) -> str:
    digest = hashlib.sha256()
    for name in sorted(local_imports(module_of(figure))):
        digest.update(name.encode() + b"\0" + module_file(name).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def library_versions() -> dict[str, str]:
    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__,
            "altair": alt.__version__, "vl-convert": vl_convert.__version__}


def cache_key(figure: Figure) -> str:
    material = {"code": code_hash(figure), "params": figure.params, "versions": library_versions()}
    return hashlib.sha256(canonical_json(material).encode()).hexdigest()


# ---------------------------------------------------------------- compute

def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


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


def clean_result(figure: Figure, result: Result) -> Result:
    if not isinstance(result, Result) or not result.rows:
        raise FigureError(f"figure {figure.id!r} ({module_file(module_of(figure))}): the experiment must "
                          f"return a Result with at least one row")
    values = {name: clean_number(v) for name, v in result.values.items()}
    for name, v in values.items():
        if not isinstance(v, (int, float)) or (isinstance(v, float) and not math.isfinite(v)):
            raise FigureError(f"figure {figure.id!r}: living number {name!r} is {v!r}; it must be a finite number")
    return Result(rows=clean_rows(result.rows), values=values)


def load_cached(figure: Figure, path: Path, key: str) -> Result | None:
    if not path.exists():
        return None
    try:
        entry = json.loads(path.read_text())
        payload = entry["payload"]
        intact = entry["checksum"] == hashlib.sha256(canonical_json(payload).encode()).hexdigest()
    except (ValueError, KeyError, TypeError):
        intact = False
    if not intact:
        log.warning(f"figure {figure.id}: cache entry {path} is corrupt; recomputing")
        return None
    if entry.get("key") != key:
        return None
    return Result(rows=payload["rows"], values=payload["values"])


def store(path: Path, key: str, result: Result) -> None:
    payload = {"rows": result.rows, "values": result.values}
    entry = {"key": key, "checksum": hashlib.sha256(canonical_json(payload).encode()).hexdigest(),
             "payload": payload}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(entry, allow_nan=False))
    os.replace(tmp, path)  # atomic: an interrupted build never leaves half an entry


def run_experiment(compute: Callable[[dict[str, Any]], Result], params: dict[str, Any]) -> Result:
    """One experiment, on one torch thread: the same arithmetic, hence the same bytes, whether it runs in
    this process or in a worker. Experiments seed their own generators; the global seed guards any that
    forgets."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    try:
        return compute(params)
    finally:
        torch.set_num_threads(threads)


def compute_all(figures: dict[str, Figure], cache_dir: Path, workers: int | None = None) -> dict[str, Computed]:
    """Every figure, from the cache when its key matches, else computed. Figures to compute run in parallel
    worker processes, one per core and one torch thread each: the experiments are many small matrix
    products, which a second thread in the same process barely speeds up, while a second process doubles
    the throughput on two cores."""
    start = time.perf_counter()
    keys = {fid: cache_key(figure) for fid, figure in figures.items()}
    cached = {fid: load_cached(figure, cache_dir / f"{fid}.json", keys[fid]) for fid, figure in figures.items()}
    groups = sharing_groups({fid: figure for fid, figure in figures.items() if cached[fid] is None})
    batches = [[(figures[fid].compute, dict(figures[fid].params)) for fid in group] for group in groups]
    workers = min(len(groups), workers or len(os.sched_getaffinity(0)))
    if workers > 1:
        # spawn, not fork: a forked child would inherit torch's thread pools mid-use.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            outcomes = list(pool.map(timed_experiments, batches))
    else:
        outcomes = [timed_experiments(batch) for batch in batches]
    computed = {}
    for group, group_outcomes in zip(groups, outcomes):
        for fid, outcome in zip(group, group_outcomes):
            result, seconds = experiment_result(figures[fid], outcome.unwrap)
            store(cache_dir / f"{fid}.json", keys[fid], result)
            log.info(f"figure {fid}: computed in {seconds:.2f} s")
            computed[fid] = Computed(figures[fid], result, False, seconds, code_hash(figures[fid]))
    for fid, figure in figures.items():
        if cached[fid] is not None:
            log.info(f"figure {fid}: cache hit")
            computed[fid] = Computed(figure, cached[fid], True, 0.0, code_hash(figure))
    computed = {fid: computed[fid] for fid in figures}  # in the figures' order
    log.debug(f"{len(figures)} figures in {time.perf_counter() - start:.1f} s with {max(workers, 1)} worker(s)")
    return computed


@dataclass
class Outcome:
    """A worker's answer for one figure: its result and time, or the error it raised."""
    value: tuple[Result, float] | None = None
    error: BaseException | None = None

    def unwrap(self) -> tuple[Result, float]:
        if self.error is not None:
            raise self.error
        return self.value


def timed_experiments(experiments: list[tuple[Callable, dict[str, Any]]]) -> list[Outcome]:
    """Several experiments in one worker, in order; one that fails does not stop the others."""
    outcomes = []
    for compute, params in experiments:
        start = time.perf_counter()
        try:
            outcomes.append(Outcome(value=(run_experiment(compute, params), time.perf_counter() - start)))
        except Exception as error:
            outcomes.append(Outcome(error=error))
    return outcomes


def sharing_groups(figures: dict[str, Figure]) -> list[list[str]]:
    """Figures whose modules import one another (and so share in-memory caches of runs) go to the same
    worker: computed apart, the shared runs would be computed twice. Largest groups first."""
    modules = {module_of(figure): fid for fid, figure in figures.items()}
    group_of = {fid: {fid} for fid in figures}
    for module, fid in modules.items():
        for imported in local_imports(module) & modules.keys():
            merged = group_of[fid] | group_of[modules[imported]]
            for member in merged:
                group_of[member] = merged
    groups = {id(group): sorted(group) for group in group_of.values()}
    return sorted(groups.values(), key=len, reverse=True)


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

def living_numbers(computed: dict[str, Computed]) -> dict[str, float]:
    return {f"{fid}.{name}": value for fid, c in computed.items() for name, value in c.result.values.items()}


def format_number(value: float, spec: str | None) -> str:
    if spec:
        return format(value, spec)
    if isinstance(value, int):
        return str(value)
    return f"{value:.3g}"


def expand_values(text: str, numbers: dict[str, float], where: str) -> str:
    """Replace every `{{ value: figure-id.name | format }}`; an unknown name is an error naming `where`."""
    def replace(match: re.Match) -> str:
        name = f"{match[1]}.{match[2]}"
        if name not in numbers:
            raise FigureError(f"{where}: unknown living number {name!r}")
        try:
            return format_number(numbers[name], match[3])
        except ValueError as error:
            raise FigureError(f"{where}: bad format {match[3]!r} for living number {name!r}: {error}") from error
    for marker in MARKER_OF_VALUE.findall(text):
        if not VALUE.fullmatch(marker):
            raise FigureError(f"{where}: malformed living number {marker!r}; "
                              f"write {{{{ value: figure-id.name }}}} or {{{{ value: figure-id.name | .3f }}}}")
    return VALUE.sub(replace, text)


# ---------------------------------------------------------------- export

@cache
def vega_lite_validator() -> jsonschema.Draft7Validator:
    schema = Path(alt.__file__).parent / "vegalite" / "v6" / "schema" / "vega-lite-schema.json"
    return jsonschema.Draft7Validator(json.loads(schema.read_text()))


def vega_lite_spec(c: Computed, description: str) -> dict[str, Any]:
    fig = c.figure
    try:
        spec = fig.chart(c.result.rows, dict(fig.params)).properties(description=description).to_dict()
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


def spec_script(figure_id: str, spec: dict[str, Any]) -> str:
    return (f"(window.dlFigureSpecs = window.dlFigureSpecs || {{}})[{json.dumps(figure_id)}] = "
            f"{json.dumps(spec, separators=(',', ':'), allow_nan=False)};\n")


def export(c: Computed, numbers: dict[str, float], cache_dir: Path | None = None) -> dict[str, str]:
    """All files of one figure, by name under `figures/`. With a cache folder they are kept there too:
    building, validating and rendering the chart is most of a rebuild that changed only prose. The key
    covers the figure's result (its cache key), its text alternative (living numbers of any figure) and
    the exporting code."""
    fid = c.figure.id
    description = expand_values(c.figure.alt_text, numbers, f"figure {fid!r} alt text")
    if cache_dir is None:
        return export_files(c, description)
    key = hashlib.sha256(canonical_json({
        "figure": cache_key(c.figure), "description": description,
        "exporter": [hashlib.sha256(module_file(m).read_bytes()).hexdigest() for m in (__name__, theme.__name__)],
    }).encode()).hexdigest()
    path = cache_dir / f"{fid}.exports.json"
    try:
        entry = json.loads(path.read_text())
        if entry["key"] == key:
            return entry["files"]
    except (OSError, ValueError, KeyError, TypeError):  # missing or damaged: export again
        pass
    files = export_files(c, description)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"key": key, "files": files}))
    os.replace(tmp, path)
    return files


def export_files(c: Computed, description: str) -> dict[str, str]:
    fid = c.figure.id
    spec = vega_lite_spec(c, description)
    return {
        f"{fid}.vl.json": json.dumps(spec, indent=1, allow_nan=False) + "\n",
        f"{fid}.csv": csv_text(c.result.rows),
        f"{fid}.svg": render_svg(fid, spec),
        f"js/{fid}.js": spec_script(fid, spec),
        f"src/{module_of(c.figure).rpartition('.')[2]}.py": module_file(module_of(c.figure)).read_text(),
    }


def theme_script() -> str:
    return f"window.dlChartThemes = {json.dumps({'light': theme.LIGHT, 'dark': theme.DARK})};\n"


def vega_bundle(cache_dir: Path) -> str:
    """Vega, Vega-Lite and vega-embed in one script served by the site (no CDN), cached per version."""
    path = cache_dir / f"vega-bundle-{vl_convert.__version__}.js"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(vl_convert.javascript_bundle())
        os.replace(tmp, path)
    return path.read_text()
