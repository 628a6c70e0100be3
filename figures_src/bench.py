"""Benchmark (`nox -s bench`, or `python -m figures_src.bench [--quick] [--figure ID]`).

Measures, and prints next to its target (asserts nothing); it builds nothing itself, calling the site's one
build function (figures_src/mkdocs_plugin/build.py):
  * clean build: every figure from an empty cache, the notebooks, the pages, the PDF, the offline copy
    (target ≤ 5 min on 2 cores); each stage and the total;
  * prose-only rebuild: the web stage again with nothing changed (target ≤ 5 % of the clean total);
  * one-figure rebuild: the web stage after dropping one figure's cache entry;
  * compute time of each figure (clean cache);
  * the test suite, cold (a copy of the project without caches: every figure computed) and warm (the same
    copy again), target ≤ 4 min warm;
  * page weight: each page's HTML and the figure data it loads, and the scripts and styles every page
    shares; each figure's chart spec against its budget (≤ 60 KB);
  * time to first chart in headless Chromium, against a chart-free page's load event (target ≤ 2×);
  * Lighthouse (pinned version, installed from the npm registry into a cache folder) on every kind of page,
    mobile and desktop: performance, layout shift, blocking time, largest paint, accessibility, best
    practices, SEO;
  * the curvature engine against power iteration (figures_src/curvature_bench.py).

The report is Markdown: it is printed and written to docs/benchmark.md. `--quick` skips the clean build
and the cold test run, and starts from a copy of the project's caches in .cache/ (never the caches
themselves), to iterate quickly. `--lighthouse-only SITE_DIR` audits a built site and replaces only the
Lighthouse section of docs/benchmark.md.
"""

import argparse
import datetime
import functools
import gzip
import html.parser
import json
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
from figures_src.curvature_bench import curvature_section
from figures_src.mkdocs_plugin.browser import CHROMIUM_ARGS, GzipHandler, find_chromium, serve_site
from figures_src.mkdocs_plugin.build import build_site
from figures_src.workers import usable_cpus

ROOT = pipeline.package_root()
PROJECT_CACHES = ROOT / ".cache"  # figures/ and notebooks/: the figures plugin's default cache folders
REPORT = ROOT / "docs" / "benchmark.md"

CLEAN_TARGET_S = 300  # clean build on 2 cores
PROSE_TARGET_RATIO = 0.05  # prose-only rebuild, as a fraction of the clean build
TESTS_WARM_TARGET_S = 240  # the whole test suite, figure cache warm
FIRST_CHART_TARGET_RATIO = 2.0  # first chart drawn, against a chart-free page's load event
REPEATS = 3  # browser measurements per page; the median is reported
SPEC_BUDGET_KB = 60  # one chart's spec (figures/js/<id>.js): the rows it draws, aggregated, and its encoding


START = time.perf_counter()


def progress(message: str) -> None:
    # stderr: stdout carries only the report, so it can be redirected to a file.
    print(f"[bench {time.perf_counter() - START:5.0f} s] {message}", file=sys.stderr, flush=True)


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


# ---------------------------------------------------------------- builds

@dataclass
class CleanBuild:
    stages: dict[str, float]  # seconds per stage of build_site
    figure_seconds: dict[str, float]  # compute time of each figure, from its cache entry

    @property
    def total_s(self) -> float:
        return self.stages["total"]  # wall time: the offline build runs beside the PDF


def clean_build(caches: Path, site: Path) -> CleanBuild:
    progress("clean build: every figure, notebook, page, the PDF and the offline copy (a few minutes)")
    stages = build_site(ROOT, site, cache_dir=caches / "figures", notebook_cache_dir=caches / "notebooks", quiet=True)
    return CleanBuild(stages, pipeline.compute_seconds(pipeline.discover(), caches / "figures"))


def web_build(caches: Path, site: Path) -> float:
    return build_site(ROOT, site, cache_dir=caches / "figures", notebook_cache_dir=caches / "notebooks",
                      pdf=False, offline=False, quiet=True)["web"]


STAGE_NAMES = {"web": "web site (figures computed in parallel, notebooks executed, pages)",
               "pdf": "PDF", "offline": "offline copy (second MkDocs build, beside the PDF; zip)"}


def build_section(clean: CleanBuild | None, prose_s: float, one_s: float, figure_id: str) -> str:
    lines = ["## Build", "", "| step | seconds | target | result |", "|---|---:|---|---|"]
    if clean:
        lines += [f"| clean: {STAGE_NAMES[stage]} | {seconds:.1f} | | |" for stage, seconds in clean.stages.items()
                  if stage != "total"]
        lines.append(f"| **clean build, total** | **{clean.total_s:.1f}** | ≤ {CLEAN_TARGET_S} s "
                     f"| {verdict(clean.total_s <= CLEAN_TARGET_S)} |")
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
    lines = ["## Compute time per figure (clean cache)", "",
             "Each figure in its worker, one torch thread; runs several figures share are computed once, by "
             "whichever figure asks first, so their time shows there.", "",
             "| figure | seconds |", "|---|---:|"]
    for fid, seconds in sorted(clean.figure_seconds.items(), key=lambda item: -item[1]):
        lines.append(f"| {fid} | {seconds:.2f} |")
    lines.append(f"| **all {len(clean.figure_seconds)}** | **{sum(clean.figure_seconds.values()):.1f}** | |")
    return "\n".join(lines)


# ---------------------------------------------------------------- the test suite

def project_copy(folder: Path) -> Path:
    """The project as it is (uncommitted edits included), without caches, builds or environments."""
    shutil.copytree(ROOT, folder, ignore=shutil.ignore_patterns(
        ".cache", ".nox", ".venv", "site", "site.tmp", "site-offline.tmp", ".git", "__pycache__", "*.egg-info"))
    return folder


def test_suite_seconds(folder: Path) -> float:
    progress(f"test suite in {folder}")
    result, seconds = timed(lambda: subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                                                   cwd=folder, capture_output=True, text=True,
                                                   env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}))
    if result.returncode:
        sys.exit(f"the test suite failed:\n{(result.stdout + result.stderr)[-3000:]}")
    return seconds


def tests_section(cold_s: float | None, warm_s: float) -> str:
    cold = f"{cold_s:.0f}" if cold_s is not None else "not measured (--quick)"
    return "\n".join([
        "## Test suite", "",
        "`pytest` on a copy of the project. Cold: no caches, so it computes every figure and executes every "
        "notebook first (as CI on a fresh machine does). Warm: the same copy again, caches filled.", "",
        "| run | seconds | target | result |", "|---|---:|---|---|",
        f"| cold | {cold} | | |",
        f"| warm | {warm_s:.0f} | ≤ {TESTS_WARM_TARGET_S} s | {verdict(warm_s <= TESTS_WARM_TARGET_S)} |"])


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


class BenchError(Exception):
    pass


# The chart scripts name the scripts they load as string literals relative to figures/ ("export.js",
# "vendor/vega.js"); following them from figures/loader.js (the one script in the HTML) counts what a page with
# charts really fetches, from the built site itself, with no list here to fall out of date.
LOADED_SCRIPT = re.compile(r"""["']([\w./-]+\.js)["']""")


@functools.cache
def chart_scripts(site: Path) -> frozenset[str]:
    """Site paths of the scripts figures/loader.js brings to pages with charts, and of those they bring."""
    found, unread = set(), ["loader.js"]
    while unread:
        name = unread.pop()
        try:
            source = (site / "figures" / name).read_text()
        except OSError as error:
            raise BenchError(f"{site}: cannot read figures/{name}, a chart script the pages load ({error})") from error
        for loaded in LOADED_SCRIPT.findall(source):
            if f"figures/{loaded}" not in found:
                found.add(f"figures/{loaded}")
                unread.append(loaded)
    return frozenset(found)


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
    assets = local(parser.assets) | (chart_scripts(site) if parser.charts else set())
    return Page(name, path.stat().st_size, parser.charts, local(parser.figure_data), assets)


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
    return "\n".join(lines + ["", spec_budget_table(site)])


def spec_budget_table(site: Path) -> str:
    """Each chart's spec, heaviest first, against `SPEC_BUDGET_KB`: a chart embeds the rows it draws
    (means and intervals, not every network), the CSV beside it keeps all the data."""
    lines = [f"Chart specs (`figures/js/<id>.js`, the chart's rows and encoding), target ≤ {SPEC_BUDGET_KB} KB "
             "each:", "", "| figure | KB | gz KB | target |", "|---|---:|---:|---|"]
    specs = sorted((site / "figures" / "js").glob("*.js"), key=lambda path: -path.stat().st_size)
    for path in specs:
        raw, gz = sizes(path)
        lines.append(f"| {path.stem} | {raw / 1024:.1f} | {gz / 1024:.1f} | {verdict(raw <= SPEC_BUDGET_KB * 1024)} |")
    return "\n".join(lines)


# ---------------------------------------------------------------- time to first chart

# Notes the moment the first chart is drawn, from navigation start (performance.now()), rather than the
# moment Playwright's polling notices it. The chart is asked for as soon as the page is parsed, as when a
# link points at it or the reader reaches for it; left alone, a first-screen chart shows its static SVG
# and draws once the page has settled (figures.js).
FIRST_CHART_PROBE = """
document.addEventListener('DOMContentLoaded', () => {
  const chart = document.querySelector('.dl-chart');
  if (chart && window.dlFigures) window.dlFigures.draw(chart);
});
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
        browser = playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        progress(f"browser: /{plain_page} (no chart)")
        reference = median_of(browser, base + plain_page, chart=False)
        results = {}
        for name in chart_pages:
            progress(f"browser: /{name}")
            results[name] = median_of(browser, base + name, chart=True)
        browser.close()
    lines = ["## Time to first chart (headless Chromium, empty cache)", "",
             f"From navigation start to the first chart drawn, asked for as soon as the page is parsed "
             f"(as when a link points at it), median of {REPEATS} fresh browser contexts, site served locally. "
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


# ---------------------------------------------------------------- Lighthouse

LIGHTHOUSE_VERSION = "12.2.3"  # 13.x needs Node 22
LIGHTHOUSE_PAGES = {"home": "", "observation": "observation/", "reasons": "reasons/",
                    "consequences": "consequences/", "solutions": "solutions/", "overview": "overview/",
                    "summary": "summary/", "notebook": "notebooks/observation/"}
LIGHTHOUSE_TARGETS = {"mobile": 90, "desktop": 98}  # performance score; the other categories: 100
# Runs per page, reported by their median: one simulated-throttling run of the same page varies by several points
# (86 to 92 for a notebook page on this project), and Lighthouse's own guidance on variability is the median run.
LIGHTHOUSE_RUNS = 3
CLS_TARGET = 0.02
LIGHTHOUSE_TITLE = "## Lighthouse"


def lighthouse_cli() -> Path:
    """Lighthouse's command-line script, installed from the npm registry into a cache folder on first use."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dl-optimization"
    folder = cache / f"lighthouse-{LIGHTHOUSE_VERSION}"
    cli = folder / "node_modules" / "lighthouse" / "cli" / "index.js"
    if not cli.exists():
        if not shutil.which("npm"):
            sys.exit("The Lighthouse benchmark needs Node.js and npm (Node 18 or later) on PATH.")
        progress(f"installing Lighthouse {LIGHTHOUSE_VERSION} into {folder}")
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(folder), "--no-audit", "--no-fund", "--loglevel=error",
                        f"lighthouse@{LIGHTHOUSE_VERSION}"], check=True)
    return cli


def lighthouse_run(cli: Path, url: str, form: str, output: Path) -> dict:
    flags = "--headless --no-sandbox --disable-gpu --disable-background-networking"
    command = ["node", str(cli), url, "--output=json", f"--output-path={output}", "--quiet",
               f"--chrome-flags={flags}", "--only-categories=performance,accessibility,best-practices,seo"]
    if form == "desktop":
        command.append("--preset=desktop")
    subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": find_chromium()})
    report = json.loads(output.read_text())
    scores = {name: round(100 * report["categories"][name]["score"])
              for name in ("performance", "accessibility", "best-practices", "seo")}
    audits = report["audits"]
    return scores | {"cls": audits["cumulative-layout-shift"]["numericValue"],
                     "tbt": audits["total-blocking-time"]["numericValue"],
                     "lcp": audits["largest-contentful-paint"]["numericValue"]}


def median_run(runs: list[dict]) -> dict:
    """The middle run, ranked by performance score and then by total blocking time (less ranks higher), reported
    whole so that its metrics belong together."""
    ranked = sorted(runs, key=lambda r: (r["performance"], -r["tbt"]))
    return ranked[len(ranked) // 2]


def lighthouse_section(site: Path) -> str:
    cli = lighthouse_cli()
    rows = []
    with serve_site(site, GzipHandler) as base, tempfile.TemporaryDirectory() as tmp:
        for form in LIGHTHOUSE_TARGETS:
            for kind, path in LIGHTHOUSE_PAGES.items():
                progress(f"Lighthouse {form}: /{path} ({LIGHTHOUSE_RUNS} runs)")
                runs = [lighthouse_run(cli, base + path, form, Path(tmp) / "report.json") for _ in range(LIGHTHOUSE_RUNS)]
                rows.append((form, kind, path, median_run(runs)))
    lines = [LIGHTHOUSE_TITLE, "",
             f"Lighthouse {LIGHTHOUSE_VERSION} (simulated throttling) with {find_chromium()}, the median of "
             f"{LIGHTHOUSE_RUNS} runs per page by performance score, site served locally "
             f"under its own path, gzipped as GitHub Pages sends it. Targets: performance ≥ {LIGHTHOUSE_TARGETS['mobile']} on mobile and "
             f"≥ {LIGHTHOUSE_TARGETS['desktop']} on desktop, layout shift (CLS) < {CLS_TARGET}, accessibility, "
             "best practices and SEO 100.", "",
             "| form | page | performance | CLS | TBT ms | LCP s | accessibility | best practices | SEO | targets |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for form, kind, path, r in rows:
        met = (r["performance"] >= LIGHTHOUSE_TARGETS[form] and r["cls"] < CLS_TARGET
               and r["accessibility"] == r["best-practices"] == r["seo"] == 100)
        lines.append(f"| {form} | /{path} ({kind}) | {r['performance']} | {r['cls']:.3f} | {r['tbt']:.0f} | "
                     f"{r['lcp'] / 1000:.1f} | {r['accessibility']} | {r['best-practices']} | {r['seo']} | "
                     f"{verdict(met)} |")
    return "\n".join(lines)


def replace_section(report: str, title: str, section: str) -> str:
    """The report with the section under `title` replaced by `section` (appended if it has none)."""
    parts = re.split(r"(?m)^(?=## )", report.rstrip("\n") + "\n")
    kept = [section + "\n\n" if part.startswith(title + "\n") else part for part in parts]
    if kept == parts:
        kept.append("\n" + section + "\n")
    return "".join(kept).rstrip("\n") + "\n"


# ---------------------------------------------------------------- report

def header(quick: bool) -> str:
    import torch

    cpus = usable_cpus()
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
                        help="skip the clean build and the cold test run; start from a copy of the project's caches")
    parser.add_argument("--figure", default="relu-variance", help="figure recomputed in the one-figure rebuild")
    parser.add_argument("--lighthouse-only", type=Path, metavar="SITE_DIR",
                        help="audit this built site with Lighthouse and replace only that section of the report")
    args = parser.parse_args()
    if args.lighthouse_only:
        section = lighthouse_section(args.lighthouse_only)
        REPORT.write_text(replace_section(REPORT.read_text() if REPORT.exists() else "", LIGHTHOUSE_TITLE,
                                          f"{section}\n\nAudited alone (`--lighthouse-only`), commit {commit()}."))
        print(section)
        return
    if args.figure not in pipeline.discover():
        parser.error(f"unknown figure {args.figure!r}")

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        caches, site = scratch / "cache", scratch / "site"
        clean = None
        if args.quick:
            if PROJECT_CACHES.exists():  # a copy: the benchmark never changes the project's caches
                shutil.copytree(PROJECT_CACHES, caches, ignore=shutil.ignore_patterns("*.tmp", "*.lock"))
            progress("--quick: first build, from a copy of the project's caches")
            web_build(caches, site)
        else:
            clean = clean_build(caches, site)
        progress("prose-only rebuild")
        prose_s = web_build(caches, site)
        progress(f"one-figure rebuild ({args.figure})")
        (caches / "figures" / f"{args.figure}.json").unlink()
        one_s = web_build(caches, site)
        sections = [header(args.quick), build_section(clean, prose_s, one_s, args.figure),
                    per_figure_section(clean), weight_section(site), first_chart_section(site),
                    lighthouse_section(site)]
        copy = project_copy(scratch / "project")
        cold_s = None if args.quick else test_suite_seconds(copy)
        if args.quick:
            shutil.copytree(caches, copy / ".cache")
        sections.append(tests_section(cold_s, test_suite_seconds(copy)))
    progress("curvature engine")
    sections.append(curvature_section())
    report = "\n\n".join(sections) + "\n"
    REPORT.write_text(report)
    print(report)
    progress(f"report written to {REPORT}")


if __name__ == "__main__":
    main()
