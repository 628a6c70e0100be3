"""Build benchmark (`nox -s bench`, or `python -m figures_src.bench [--quick] [--figure ID]`).

Measures, and prints next to its target (asserts nothing):
  * clean build: every figure from an empty cache, `mkdocs build`, the PDF; each part and the total
    (target ≤ 3 min on 2 cores);
  * prose-only rebuild: `mkdocs build` again with nothing changed (target ≤ 5 % of the clean total);
  * one-figure rebuild: `mkdocs build` after dropping one figure's cache entry;
  * compute time of each figure (clean cache);
  * page weight: each page's HTML and the figure data it loads, and the scripts and styles every page
    shares;
  * time to first chart in headless Chromium, against a chart-free page's load event (target ≤ 2×);
  * the chapter-3 curvature engine.

The report is Markdown: it is printed and written to docs/benchmark.md. `--quick` skips the clean build
and starts from a copy of the project's caches in .cache/ (never the caches themselves), to iterate
quickly.
"""

import argparse
import datetime
import functools
import gzip
import html.parser
import os
import platform
import posixpath
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from figures_src import pipeline
from figures_src.mkdocs_plugin.browser import CHROMIUM, CHROMIUM_ARGS, serve_site
from figures_src.mkdocs_plugin.site_config import site_extra, write_config

ROOT = pipeline.package_root()
PROJECT_CACHES = ROOT / ".cache"  # figures/ and notebooks/: the figures plugin's default cache folders
REPORT = ROOT / "docs" / "benchmark.md"
PDF = site_extra(ROOT)["pdf"]  # where the pages link the PDF

CLEAN_TARGET_S = 180  # clean build on 2 cores
PROSE_TARGET_RATIO = 0.05  # prose-only rebuild, as a fraction of the clean build
FIRST_CHART_TARGET_RATIO = 2.0  # first chart drawn, against a chart-free page's load event
REPEATS = 3  # browser measurements per page; the median is reported


START = time.perf_counter()


def progress(message: str) -> None:
    # stderr: stdout carries only the report, so it can be redirected to a file.
    print(f"[bench {time.perf_counter() - START:5.0f} s] {message}", file=sys.stderr, flush=True)


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def run(command: list[str], what: str, **env: str) -> float:
    """Seconds `command` took; exits with its output if it fails."""
    result, seconds = timed(lambda: subprocess.run(command, capture_output=True, text=True,
                                                   env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **env}))
    if result.returncode:
        sys.exit(f"{what} failed:\n{(result.stdout + result.stderr)[-3000:]}")
    return seconds


def mkdocs_build(config: Path, site: Path, **env: str) -> float:
    return run([sys.executable, "-m", "mkdocs", "build", "--quiet", "--strict", "-f", str(config), "-d", str(site)],
               "mkdocs build", **env)


def offline_copy(config: Path, site: Path) -> float:
    """The second build of `nox -s build`: the copy to read from disk, zipped with the PDF into the site."""
    offline = site.parent / "offline-copy"
    seconds = mkdocs_build(config, offline, DL_OFFLINE="true")
    return seconds + run([sys.executable, "-m", "figures_src.mkdocs_plugin.offline", str(offline), str(site / PDF),
                          str(site / "offline" / "copy.zip")], "offline copy")


def print_pdf(site: Path) -> float:
    return run([sys.executable, "-m", "figures_src.mkdocs_plugin.pdf", str(site), str(site / PDF)], "PDF")


# ---------------------------------------------------------------- builds

@dataclass
class CleanBuild:
    computed: dict[str, pipeline.Computed]
    figures_s: float
    mkdocs_s: float
    pdf_s: float
    offline_s: float

    @property
    def total_s(self) -> float:
        return self.figures_s + self.mkdocs_s + self.pdf_s + self.offline_s


def clean_build(config: Path, cache: Path, site: Path) -> CleanBuild:
    """The steps of `nox -s build` from nothing, timed apart. The figures are computed here, in
    this process, so their time is known on its own; the mkdocs build then finds them in the cache and
    does everything else (exports, executing the notebooks into their own empty cache, pages)."""
    progress("clean build: computing every figure (a few minutes)")
    computed, figures_s = timed(lambda: pipeline.compute_all(pipeline.discover(), cache))
    progress("clean build: mkdocs build")
    mkdocs_s = mkdocs_build(config, site)
    progress("clean build: PDF")
    pdf_s = print_pdf(site)
    progress("clean build: offline copy")
    return CleanBuild(computed, figures_s, mkdocs_s, pdf_s, offline_copy(config, site))


def one_figure_rebuild(config: Path, cache: Path, site: Path, figure_id: str) -> float:
    """A rebuild after editing one figure: its cache entry (pipeline.compute stores each figure as
    <cache_dir>/<id>.json) is deleted, so exactly that figure is computed again."""
    (cache / f"{figure_id}.json").unlink()
    return mkdocs_build(config, site)


def build_section(clean: CleanBuild | None, prose_s: float, one_s: float, figure_id: str) -> str:
    lines = ["## Build", "", "| step | seconds | target | result |", "|---|---:|---|---|"]
    if clean:
        lines += [f"| clean: figures (empty cache) | {clean.figures_s:.1f} | | |",
                  f"| clean: mkdocs build (pages, exports, notebooks executed) | {clean.mkdocs_s:.1f} | | |",
                  f"| clean: PDF | {clean.pdf_s:.1f} | | |",
                  f"| clean: offline copy (second mkdocs build, zip) | {clean.offline_s:.1f} | | |",
                  f"| **clean build, total** | **{clean.total_s:.1f}** | ≤ {CLEAN_TARGET_S} s "
                  f"| {verdict(clean.total_s <= CLEAN_TARGET_S)} |"]
        ratio = prose_s / clean.total_s
        prose_result = f"{ratio:.1%}: {verdict(ratio <= PROSE_TARGET_RATIO)}"
    else:
        prose_result = "no clean build (--quick)"
    lines.append(f"| prose-only rebuild (warm cache, nothing changed) | {prose_s:.1f} "
                 f"| ≤ {PROSE_TARGET_RATIO:.0%} of the clean build | {prose_result} |")
    lines.append(f"| one-figure rebuild (`{figure_id}` recomputed) | {one_s:.1f} | | |")
    return "\n".join(lines)


def verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def per_figure_section(clean: CleanBuild | None) -> str:
    if clean is None:
        return "## Compute time per figure\n\nSkipped (--quick: no clean build)."
    lines = ["## Compute time per figure (clean cache)", "", "| figure | seconds | rows |", "|---|---:|---:|"]
    for fid, c in sorted(clean.computed.items(), key=lambda item: -item[1].seconds):
        lines.append(f"| {fid} | {c.seconds:.2f} | {len(c.result.rows)} |")
    lines.append(f"| **all {len(clean.computed)}** | **{sum(c.seconds for c in clean.computed.values()):.1f}** | |")
    return "\n".join(lines)


# ---------------------------------------------------------------- page weight

class References(html.parser.HTMLParser):
    """What a page makes the browser load: scripts, stylesheets, figure specs and images."""

    def __init__(self):
        super().__init__()
        self.assets: list[str] = []  # scripts and stylesheets
        self.figure_data: list[str] = []  # chart specs (loaded by figures.js) and images
        self.charts = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.assets.append(a["src"])
        elif tag == "link" and "stylesheet" in (a.get("rel") or "").split() and a.get("href"):
            self.assets.append(a["href"])
        elif tag == "img" and a.get("src"):
            self.figure_data.append(a["src"])
        if "dl-chart" in (a.get("class") or "").split():
            self.charts += 1
            if a.get("data-spec"):  # notebook charts carry their spec inline (data-spec-json): in the HTML
                self.figure_data.append(a["data-spec"])


@dataclass
class Page:
    name: str  # path of the page in the site, "" for the home page
    html: int
    charts: int
    figure_data: set[str]  # site paths
    assets: set[str]  # site paths


def site_pages(site: Path) -> list[Path]:
    """Every HTML page of the site but the 404 page (not a reading page), the home page first."""
    return sorted((p for p in site.rglob("*.html")
                   if p.name != "404.html" and not {"assets", "figures", "search"} & set(p.relative_to(site).parts)),
                  key=lambda p: p.parent.relative_to(site).parts)


def read_page(site: Path, path: Path) -> Page:
    parser = References()
    parser.feed(path.read_text())
    folder = path.parent.relative_to(site).as_posix()

    def local(urls: list[str]) -> set[str]:
        # A page's references are relative to its folder; other hosts are not part of the site's weight.
        found = set()
        for url in urls:
            parsed = urlparse(url)
            if not parsed.scheme and not parsed.netloc and parsed.path:
                found.add(posixpath.normpath(posixpath.join(folder, parsed.path)))
        return found

    name = "" if folder == "." else folder + "/"
    return Page(name, path.stat().st_size, parser.charts, local(parser.figure_data), local(parser.assets))


@functools.cache
def sizes(path: Path) -> tuple[int, int]:
    """Bytes as stored and gzipped (what a static host such as GitHub Pages sends)."""
    data = path.read_bytes() if path.exists() else b""
    return len(data), len(gzip.compress(data, compresslevel=6))


def total(site: Path, paths) -> tuple[int, int]:
    both = [sizes(site / p) for p in paths]
    return sum(b[0] for b in both), sum(b[1] for b in both)


def weight_section(site: Path) -> str:
    pages = [read_page(site, p) for p in site_pages(site)]
    reading = [p for p in pages if p.name != "print_page/"]
    # Shared: what every reading page loads; a visitor fetches it once and the browser cache keeps it.
    shared = set.intersection(*(p.assets for p in reading)) if reading else set()
    kb = lambda n: f"{n / 1024:.0f}"  # noqa: E731
    lines = ["## Page weight", "",
             "Per page: its HTML, the figure data it loads (chart specs `figures/js/<id>.js` and the static "
             "SVGs in `<img>`; a notebook page carries its charts' specs in its HTML) and scripts or styles "
             "only it loads. KB = 1024 bytes; gz = gzip -6.", "",
             "| page | charts | HTML KB | figure data KB | own scripts/styles KB | total KB | total gz KB |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for page in reading + [p for p in pages if p not in reading]:
        own = page.assets - shared
        raw, gz = total(site, {page.name + "index.html"} | page.figure_data | own)
        label = f"/{page.name}" + (" (all chapters, for the PDF)" if page not in reading else "")
        lines.append(f"| {label} | {page.charts} | {kb(page.html)} | {kb(total(site, page.figure_data)[0])} | "
                     f"{kb(total(site, own)[0])} | {kb(raw)} | {kb(gz)} |")
    lines += ["", "Shared by every page (loaded once):", "", "| file | KB | gz KB |", "|---|---:|---:|"]
    for path in sorted(shared, key=lambda p: -sizes(site / p)[0]):
        raw, gz = sizes(site / path)
        lines.append(f"| {path} | {kb(raw)} | {kb(gz)} |")
    raw, gz = total(site, shared)
    lines.append(f"| **all shared** | **{kb(raw)}** | **{kb(gz)}** |")
    return "\n".join(lines)


# ---------------------------------------------------------------- time to first chart

# Notes the moment the first chart is drawn, from navigation start (performance.now()), rather than the
# moment Playwright's polling notices it.
FIRST_CHART_PROBE = """
new MutationObserver((_, observer) => {
  if (document.querySelector('.dl-chart.dl-rendered')) {
    window.dlFirstChart = performance.now();
    observer.disconnect();
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['class']});
"""
LOAD_EVENT = "() => performance.getEntriesByType('navigation')[0].loadEventStart"


def measure(browser, url: str, chart: bool) -> float | None:
    """Milliseconds from navigation start to the first drawn chart (or to the load event of a chart-free
    page), in a fresh context: an empty HTTP cache, as on a first visit. None if no chart is drawn."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.add_init_script(FIRST_CHART_PROBE)
        page.goto(url, wait_until="load" if not chart else "commit")
        if not chart:
            return page.evaluate(LOAD_EVENT)
        try:
            page.wait_for_selector(".dl-chart.dl-rendered", state="attached", timeout=60_000)
        except Exception:  # Playwright's TimeoutError: the chart failed or never came
            return None
        return page.evaluate("() => window.dlFirstChart")
    finally:
        context.close()


def median_of(browser, url: str, chart: bool) -> float | None:
    times = [measure(browser, url, chart) for _ in range(REPEATS)]
    return None if None in times else statistics.median(times)


def first_chart_section(site: Path) -> str:
    from playwright.sync_api import sync_playwright

    pages = [read_page(site, p) for p in site_pages(site)]
    chart_pages = [p.name for p in pages if p.charts and p.name != "print_page/"]
    plain_page = next(p.name for p in pages if not p.charts)  # the home page, pages being sorted so
    with serve_site(site) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        progress(f"browser: /{plain_page} (no chart)")
        reference = median_of(browser, base + plain_page, chart=False)
        results = {}
        for name in chart_pages:
            progress(f"browser: /{name}")
            results[name] = median_of(browser, base + name, chart=True)
        browser.close()
    lines = ["## Time to first chart (headless Chromium, empty cache)", "",
             f"From navigation start, median of {REPEATS} fresh browser contexts, site served locally. "
             f"Reference: the load event of /{plain_page}, a page without charts, {reference:.0f} ms. "
             f"Target: first chart ≤ {FIRST_CHART_TARGET_RATIO:g}× the reference.", "",
             "| page | first chart ms | × reference | target |", "|---|---:|---:|---|"]
    for name, ms in results.items():
        if ms is None:
            lines.append(f"| /{name} | no chart drawn within 60 s | | **missed** |")
        else:
            ratio = ms / reference
            lines.append(f"| /{name} | {ms:.0f} | {ratio:.2f} | {verdict(ratio <= FIRST_CHART_TARGET_RATIO)} |")
    return "\n".join(lines)


# ---------------------------------------------------------------- report

def header(quick: bool) -> str:
    import torch

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return "\n".join([
        "# Build benchmark", "",
        f"Written by `python -m figures_src.bench{' --quick' if quick else ''}` (`nox -s bench`); "
        "wall-clock times, so load from other work on the machine shows up in them.", "",
        f"- date: {datetime.datetime.now().isoformat(sep=' ', timespec='minutes')}",
        f"- machine: {cpus} CPUs usable ({os.cpu_count()} present), {cpu_model()}, {platform.system()}",
        f"- Python {platform.python_version()}, torch {torch.__version__}",
        f"- commit: {commit()}",
    ])


def cpu_model() -> str:
    try:
        return re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())[1].strip()
    except (OSError, TypeError):
        return platform.processor() or "unknown CPU"


def commit() -> str:
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + (" with uncommitted changes" if git("status", "--porcelain") else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="skip the clean build; start from a copy of the project's caches (.cache/)")
    parser.add_argument("--figure", default="relu-variance", help="figure recomputed in the one-figure rebuild")
    args = parser.parse_args()
    if args.figure not in pipeline.discover():
        parser.error(f"unknown figure {args.figure!r}")

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        caches, site = scratch / "cache", scratch / "site"
        cache = caches / "figures"
        config = write_config(scratch / "mkdocs.yml", ROOT, cache_dir=cache, notebook_cache_dir=caches / "notebooks")
        clean = None
        if args.quick:
            if PROJECT_CACHES.exists():  # a copy: the benchmark never changes the project's caches
                shutil.copytree(PROJECT_CACHES, caches, ignore=shutil.ignore_patterns("*.tmp"))
            progress("--quick: first build, from a copy of the project's caches")
            mkdocs_build(config, site)
        else:
            clean = clean_build(config, cache, site)
        progress("prose-only rebuild")
        prose_s = mkdocs_build(config, site)
        progress(f"one-figure rebuild ({args.figure})")
        one_s = one_figure_rebuild(config, cache, site, args.figure)
        sections = [header(args.quick), build_section(clean, prose_s, one_s, args.figure),
                    per_figure_section(clean), weight_section(site), first_chart_section(site)]
    progress("curvature engine")
    sections.append(curvature_section())
    report = "\n\n".join(sections) + "\n"
    REPORT.write_text(report)
    print(report)
    progress(f"report written to {REPORT}")


# ---------------------------------------------------------------- chapter 3: the curvature engine

def curvature_section() -> str:
    """Cost of a Hessian-vector product relative to a gradient, and Hessian-vector products (and seconds)
    to reach the top eigenvalue within 1e-4 (relative): Lanczos against power iteration, on plain, batch-norm
    and residual networks (width 256, depth 16, 32 samples of the chapter-3 teacher task, float64). The
    reference is a Lanczos run to a residual of 1e-10. Also times the curvature figure's whole sweep."""
    import torch

    from figures_src.curvature import HessianOperator, iterations_to, lanczos, power_iteration
    from figures_src.model import MLP, MLPConfig, seeded
    from figures_src.training import teacher_task

    def seconds_of(fn, repeat=5):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        return (time.perf_counter() - start) / repeat

    depth, width = 16, 256
    nets = {"plain": MLPConfig(d_in=32, width=width, depth=depth),
            "batch norm": MLPConfig(d_in=32, width=width, depth=depth, batch_norm=True),
            "residual (α² = 1/L)": MLPConfig(d_in=32, width=width, depth=depth, branch_scale=depth**-0.5)}
    lines = ["## Curvature engine (chapter 3)", "",
             "float64, one thread; width 256, depth 16, 32 samples. HVPs and seconds to reach the top "
             "eigenvalue within 1e-4 (relative).", "",
             "| network | HVP/grad | +graph | λ_max | gap | Lanczos HVPs | s | power HVPs | s | power returns |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    torch.set_num_threads(1)  # as the pipeline runs every experiment
    x, y = teacher_task(32, 32, 0, dtype=torch.float64)
    for name, config in nets.items():
        net = MLP(config, seeded(1), dtype=torch.float64)
        params = list(net.parameters())

        def gradient():
            loss = 0.5 * (net(x) - y).pow(2).mean()
            torch.autograd.grad(loss, params)
        grad_s = seconds_of(gradient)
        build_s = seconds_of(lambda: HessianOperator(net, x, y))
        op = HessianOperator(net, x, y)
        v = torch.randn(op.dim, generator=seeded(0), dtype=torch.float64)
        hvp_s = seconds_of(lambda: op(v))
        reference = lanczos(op, op.dim, tol=1e-10, max_steps=200, generator=seeded(2))
        gap = (reference.ritz_values[-1] - reference.ritz_values[-2]).item() / reference.top
        run = lanczos(op, op.dim, tol=0.0, max_steps=40, generator=seeded(3))
        power = power_iteration(op, op.dim, tol=0.0, max_steps=300, generator=seeded(3))
        k_lanczos = iterations_to(run.top_history, reference.top)
        k_power = iterations_to(power.history, reference.top)
        # Seconds: a run stopped after exactly the products it needs (Lanczos includes its reorthogonalisation).
        lanczos_s = k_lanczos and timed(lambda: lanczos(op, op.dim, tol=0.0, max_steps=k_lanczos,
                                                        generator=seeded(3)))[1]
        power_s = k_power and timed(lambda: power_iteration(op, op.dim, tol=0.0, max_steps=k_power,
                                                            generator=seeded(3)))[1]
        fmt = lambda k, s: f"{k} | {s:.2f}" if k else "never | "  # noqa: E731
        lines.append(f"| {name} | {hvp_s / grad_s:.2f} | {(build_s + hvp_s) / grad_s:.2f} | "
                     f"{reference.top:.4g} | {gap:.3f} | {fmt(k_lanczos, lanczos_s)} | "
                     f"{fmt(k_power, power_s)} | {power.eigenvalue:.5g} (λ_min {reference.bottom:.4g}) |")
    figure = pipeline.discover()["curvature-by-depth"]
    _, sweep = timed(lambda: pipeline.run_experiment(figure.compute, dict(figure.params)))
    lines += ["", f"curvature-by-depth, whole sweep: {sweep:.1f} s"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
