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

from figures_src.mkdocs_plugin.site_config import site_extra, write_config

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
    with tempfile.TemporaryDirectory() as scratch:
        config = root / "mkdocs.yml"
        if site_url or cache_dir or notebook_cache_dir:
            config = write_config(Path(scratch) / "mkdocs.yml", root, site_url=site_url, cache_dir=cache_dir,
                                  notebook_cache_dir=notebook_cache_dir)
        seconds["web"] = run_stage("web", ["-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(staging)],
                                   quiet)
        if pdf:
            seconds["pdf"] = print_pdf(staging, extra["pdf"], quiet)
        if offline:
            start = time.perf_counter()
            run_stage("offline", ["-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(offline_dir)],
                      quiet, DL_OFFLINE="true")
            from figures_src.mkdocs_plugin.offline import package
            package(offline_dir, staging / extra["pdf"], staging / extra["offline_copy"])
            shutil.rmtree(offline_dir)
            seconds["offline"] = time.perf_counter() - start
    shutil.rmtree(site_dir, ignore_errors=True)
    staging.rename(site_dir)
    return seconds


def print_pdf(site_dir: Path, pdf: str, quiet: bool = False) -> float:
    """Print the built site in `site_dir` to `site_dir/pdf` (in its own process: Playwright's synchronous
    API cannot run inside a caller that already drives a browser)."""
    return run_stage("pdf", ["-m", "figures_src.mkdocs_plugin.pdf", str(site_dir), str(site_dir / pdf)], quiet)


def run_stage(stage: str, arguments: list[str], quiet: bool, **env: str) -> float:
    if not quiet:
        print(f"site build: {STAGE_TITLES[stage]}", flush=True)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, *arguments], capture_output=quiet, text=True,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **env})
    if result.returncode:
        output = ((result.stdout or "") + (result.stderr or ""))[-4000:] if quiet else "(output above)"
        raise BuildError(f"site build, stage {stage!r} failed: {' '.join(arguments)}\n{output}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site-dir", type=Path, default=ROOT / "site")
    parser.add_argument("--pdf-only", action="store_true", help="print the PDF again from an existing site")
    args = parser.parse_args()
    try:
        if args.pdf_only:
            seconds = {"pdf": print_pdf(args.site_dir, site_extra(ROOT)["pdf"])}
        else:
            seconds = build_site(ROOT, args.site_dir)
    except BuildError as error:
        sys.exit(str(error))
    stages = ", ".join(f"{stage} {s:.0f} s" for stage, s in seconds.items())
    print(f"site built in {args.site_dir} ({stages}; total {sum(seconds.values()):.0f} s)")


if __name__ == "__main__":
    main()
