"""Check that two clean builds give byte-identical figure data: `nox -s reproducible`.

Computes every figure twice, each time with an empty cache, exports both and compares the files
byte for byte (spec, CSV, SVG). Exits 1 and names the files that differ.
"""

import sys
import tempfile
from pathlib import Path

from figures_src import pipeline


def exports_from_clean_cache(figures, cache_dir: Path) -> dict[str, str]:
    computed = pipeline.compute_all(figures, cache_dir)
    numbers = pipeline.living_numbers(computed)
    return {name: text for c in computed.values() for name, text in pipeline.export(c, numbers).items()}


def main() -> None:
    figures = pipeline.discover()
    with tempfile.TemporaryDirectory() as tmp:
        first = exports_from_clean_cache(figures, Path(tmp) / "first")
        second = exports_from_clean_cache(figures, Path(tmp) / "second")
    different = sorted(name for name in first if first[name] != second.get(name))
    print(f"{len(first)} files from {len(figures)} figures compared")
    if different:
        sys.exit("not reproducible: " + ", ".join(different))
    print("byte-identical")


if __name__ == "__main__":
    main()
