"""Build benchmark (`nox -s bench`): prints timings, asserts nothing.

Clean figure build (empty cache), per-figure compute time, cached rebuild, full mkdocs build from a warm
cache and a prose-only rebuild. Targets on 2 cores: clean chapter-1 build ≤ 60 s, prose-only rebuild ≤ 10 s.
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures_src import pipeline


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def mkdocs_build(cache_dir: Path, site_dir: Path) -> float:
    config = Path(tempfile.mkdtemp()) / "mkdocs.yml"
    root = pipeline.package_root()
    # The same site, with the cache pointed at the benchmark's own folder.
    config.write_text(f"INHERIT: {root / 'mkdocs.yml'}\ndocs_dir: {root / 'docs'}\n"
                      f"theme:\n  custom_dir: {root / 'overrides'}\n"
                      f"plugins:\n  - search\n  - figures:\n      cache_dir: {cache_dir}\n")
    _, seconds = timed(lambda: subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--quiet", "--strict", "-f", str(config), "-d", str(site_dir)], check=True))
    return seconds


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = Path(tmp) / "cache"
        figures = pipeline.discover()
        clean, clean_seconds = timed(lambda: pipeline.compute_all(figures, cache_dir))
        numbers = pipeline.living_numbers(clean)
        _, export_seconds = timed(lambda: [pipeline.export(c, numbers) for c in clean.values()])
        _, cached_seconds = timed(lambda: pipeline.compute_all(figures, cache_dir))
        site_cache = Path(tmp) / "site-cache"
        full = mkdocs_build(site_cache, Path(tmp) / "site")  # empty cache: every figure computed
        prose = mkdocs_build(site_cache, Path(tmp) / "site")  # nothing changed but pages: all from cache

    print("\nper-figure compute time (clean cache)")
    for fid, c in clean.items():
        print(f"  {fid:<28} {c.seconds:7.2f} s  {len(c.result.rows):>6} rows")
    print("\nbuild")
    print(f"  all figures, clean cache         {clean_seconds:7.2f} s   (target ≤ 60 s on 2 cores)")
    print(f"  all figures, cached              {cached_seconds:7.2f} s")
    print(f"  exports (spec, SVG, CSV)         {export_seconds:7.2f} s")
    print(f"  mkdocs build, clean (empty cache){full:7.2f} s")
    print(f"  prose-only rebuild (warm cache)  {prose:7.2f} s   (target ≤ 10 s)")


if __name__ == "__main__":
    main()
