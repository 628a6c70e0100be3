"""The one site build: web site → PDF → offline copy → zip, with the paths mkdocs.yml names.

`nox -s build`, the benchmark and the test fixtures all call `build_site`; it returns the seconds each
stage took. It builds into staging folders and swaps the result in only when every stage succeeded: a
failed build never leaves a half-written site.

    python -m figures_src.mkdocs_plugin.build [--site-dir DIR] [--pdf-only]

Two MkDocs builds of the same pages: the web site (directory URLs, instant navigation) and, with
DL_OFFLINE=true, the copy readers open from disk (pages as name.html, search index inlined), which the
web site offers as a zip with the PDF inside.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures_src.mkdocs_plugin.print_page import source_key
from figures_src.mkdocs_plugin.site_config import site_extra, site_url_of, write_config

ROOT = Path(__file__).resolve().parents[2]
STAGE_TITLES = {"web": "web site (figures, notebooks, pages)", "pdf": "PDF",
                "offline": "offline copy (pages as name.html, search inlined), zipped with the PDF"}


class BuildError(RuntimeError):
    """A stage failed; the message names it and ends with its output."""


def build_site(root: Path = ROOT, site_dir: Path | None = None, *, site_url: str | None = None,
               cache_dir: Path | None = None, notebook_cache_dir: Path | None = None,
               pdf: bool = True, offline: bool = True, quiet: bool = False) -> dict[str, float]:
    """Build the site of `root/mkdocs.yml` into `site_dir` (default `root/site`); returns seconds per stage.

    `site_url` and the caches override mkdocs.yml's (tests serve the site locally; the benchmark starts
    from empty caches). `quiet` keeps MkDocs' output for the error message instead of printing it. The
    offline copy carries the PDF, so it needs `pdf`."""
    if offline and not pdf:
        raise ValueError("the offline copy includes the PDF: build it with pdf=True")
    site_dir = (site_dir or root / "site").resolve()
    extra = site_extra(root)
    staging = site_dir.with_name(site_dir.name + ".tmp")
    offline_dir = site_dir.with_name(site_dir.name + "-offline.tmp")
    for folder in (staging, offline_dir):
        shutil.rmtree(folder, ignore_errors=True)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        config = root / "mkdocs.yml"
        if site_url or cache_dir or notebook_cache_dir:
            config = write_config(Path(scratch) / "mkdocs.yml", root, site_url=site_url, cache_dir=cache_dir,
                                  notebook_cache_dir=notebook_cache_dir)
        mkdocs = ["-m", "mkdocs", "build", "--strict", "-f", str(config)]
        seconds["web"] = run_stage("web", [*mkdocs, "-d", str(staging)], quiet)
        # The offline build (CPU-bound MkDocs) runs while Chromium prints the PDF: on two cores the two overlap.
        offline_build = start_stage("offline", [*mkdocs, "-d", str(offline_dir)], quiet, DL_OFFLINE="true") \
            if offline else None
        try:
            if pdf:
                seconds["pdf"] = print_pdf(staging, extra, published_url(root), site_url, quiet)
        except BaseException:
            if offline_build is not None:
                offline_build[2].kill()
            raise
        if offline_build is not None:
            seconds["offline"] = finish_stage(*offline_build)
            from figures_src.mkdocs_plugin.offline import package
            package(offline_dir, staging / extra["pdf"], staging / extra["offline_copy"])
            shutil.rmtree(offline_dir)
    shutil.rmtree(site_dir, ignore_errors=True)
    staging.rename(site_dir)
    seconds["total"] = time.perf_counter() - start  # stages overlap: less than their sum
    return seconds


def print_pdf(site_dir: Path, extra: dict, published: str, built_url: str | None = None, quiet: bool = False) -> float:
    """Print the built site in `site_dir` to the PDFs mkdocs.yml's `extra` names (`pdf`, `chapter_pdfs`), their
    links to `published` (in its own process: Playwright's synchronous API cannot run inside a caller that
    already drives a browser)."""
    chapters = [f"--chapter={source_key(source)}={site_dir / path}"
                for source, path in (extra.get("chapter_pdfs") or {}).items()]
    return run_stage("pdf", ["-m", "figures_src.mkdocs_plugin.pdf", str(site_dir), str(site_dir / extra["pdf"]),
                             f"--published-url={published}", *([f"--built-url={built_url}"] if built_url else []),
                             *chapters], quiet)


def published_url(root: Path) -> str:
    """mkdocs.yml's site_url: where the PDFs' links lead, whatever site_url a test build used."""
    url = site_url_of(root)
    if not url:
        raise BuildError(f"{root / 'mkdocs.yml'}: site_url is not set; the PDFs' links need the published address")
    return url if url.endswith("/") else url + "/"


def run_stage(stage: str, arguments: list[str], quiet: bool, **env: str) -> float:
    return finish_stage(*start_stage(stage, arguments, quiet, **env))


def start_stage(stage: str, arguments: list[str], quiet: bool, **env: str) -> tuple:
    if not quiet:
        print(f"site build: {STAGE_TITLES[stage]}", flush=True)
    # Quiet output goes to a file, not a pipe: a pipe nobody reads while another stage runs would fill and stall it.
    log = tempfile.TemporaryFile("w+") if quiet else None
    process = subprocess.Popen([sys.executable, *arguments], stdout=log, stderr=subprocess.STDOUT if quiet else None,
                               text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **env})
    return stage, arguments, process, log, time.perf_counter()


def finish_stage(stage: str, arguments: list[str], process: subprocess.Popen, log, start: float) -> float:
    """Seconds from the stage's start to its end (it may have run beside another); raises if it failed."""
    process.wait()
    seconds = time.perf_counter() - start
    if process.returncode:
        output = "(output above)"
        if log is not None:
            log.seek(0)
            output = log.read()[-4000:]
        raise BuildError(f"site build, stage {stage!r} failed: {' '.join(arguments)}\n{output}")
    if log is not None:
        log.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site-dir", type=Path, default=ROOT / "site")
    parser.add_argument("--pdf-only", action="store_true", help="print the PDF again from an existing site")
    args = parser.parse_args()
    try:
        if args.pdf_only:
            seconds = {"pdf": print_pdf(args.site_dir, site_extra(ROOT), published_url(ROOT))}
        else:
            seconds = build_site(ROOT, args.site_dir)
    except BuildError as error:
        sys.exit(str(error))
    stages = ", ".join(f"{stage} {s:.0f} s" for stage, s in seconds.items() if stage != "total")
    print(f"site built in {args.site_dir} ({stages}; total {seconds.get('total', sum(seconds.values())):.0f} s)")


if __name__ == "__main__":
    main()
