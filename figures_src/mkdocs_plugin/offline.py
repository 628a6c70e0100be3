"""The offline copy: the site built with DL_OFFLINE=true (pages as name.html, search index inlined, see
mkdocs.yml), with the PDFs put inside, zipped into the web site for readers to open from disk.

    python -m figures_src.mkdocs_plugin.offline <offline build> <PDF> <zip to write>
"""

import shutil
import sys
from pathlib import Path


def package(offline_dir: Path, pdf: Path, zip_file: Path) -> Path:
    """Copy the PDF and the chapter PDFs beside it into the offline build (at the paths its pages link to)
    and zip the build."""
    if not (offline_dir / "search" / "search_index.js").exists():
        raise SystemExit(f"{offline_dir} is not an offline build: build it with DL_OFFLINE=true")
    for each in sorted(pdf.parent.glob("*.pdf")):
        target = offline_dir / each.relative_to(pdf.parents[1])  # pdf/<name>.pdf, as in the web site
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(each, target)
    zip_file.parent.mkdir(parents=True, exist_ok=True)
    return Path(shutil.make_archive(str(zip_file.with_suffix("")), "zip", offline_dir))


if __name__ == "__main__":
    print(package(*map(Path, sys.argv[1:4])))
