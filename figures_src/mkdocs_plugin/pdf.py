"""Print the built site to one PDF: `python -m figures_src.mkdocs_plugin.pdf <site_dir> <output.pdf>`.

Opens the print page (all chapters, made by mkdocs-print-site-plugin) in headless Chromium, waits
until every chart and every equation is drawn, and prints it: vector charts and math, bookmarks from
the headings, working internal links, page numbers. Interactive charts print at their default
state, the same as the static SVGs.
"""

import re
import sys
import time
from pathlib import Path

from pypdf import PdfWriter
from pypdf.generic import NameObject, TextStringObject

from figures_src.mkdocs_plugin.browser import CHROMIUM_ARGS, BrowserNotFound, find_chromium, serve_site

A4_CONTENT_WIDTH = 760  # px at 96 dpi: A4 minus the margins below, so charts are laid out at print width
CHARTS_DONE = """() => Array.from(document.querySelectorAll('.dl-chart')).every(
    e => e.classList.contains('dl-rendered') || e.classList.contains('dl-failed'))"""


def print_site(site_dir: Path, output: Path) -> None:
    try:
        chromium = find_chromium()
    except BrowserNotFound as error:
        sys.exit(f"Cannot print the PDF: {error}")
    if not (site_dir / "print_page" / "index.html").exists():
        sys.exit(f"{site_dir}/print_page/ is missing: build the site first (nox -s build).")
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with serve_site(site_dir) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": A4_CONTENT_WIDTH, "height": 1100})
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.goto(base_url + "print_page/")
        page.wait_for_function(CHARTS_DONE, timeout=120_000)
        failed = page.locator(".dl-chart.dl-failed").count()
        if failed or errors:
            sys.exit(f"PDF not written: {failed} chart(s) failed to render; console errors: {errors}")
        output.parent.mkdir(parents=True, exist_ok=True)
        # Page numbers come from the print page's own @page rules.
        page.pdf(path=str(output), format="A4", print_background=True, outline=True, tagged=True,
                 margin={"top": "16mm", "bottom": "16mm", "left": "12mm", "right": "12mm"})
        headings = page.eval_on_selector_all(
            "h1, h2, h3, h4", "els => els.map(e => Array.from(e.childNodes)"
            ".filter(n => !(n.classList && n.classList.contains('headerlink')))"
            ".map(n => n.textContent).join('').replace(/\\s+/g, ' ').trim())")
        browser.close()
    repair_outline(output, headings)


def repair_outline(pdf: Path, headings: list[str]) -> None:
    """Chromium builds each bookmark from the lines of its heading as laid out, joined without a space
    ("hard totrain?" for a title that wraps after "to"). Put back the heading's own text."""
    by_letters = {re.sub(r"\s+", "", text): text for text in headings}
    writer = PdfWriter(clone_from=str(pdf))
    stack = [writer.root_object["/Outlines"].get_object().get("/First")] if "/Outlines" in writer.root_object else []
    while stack:
        item = stack.pop()
        if item is None:
            continue
        item = item.get_object()
        title = str(item.get("/Title", ""))
        fixed = by_letters.get(re.sub(r"\s+", "", title))
        if fixed and fixed != title:
            item[NameObject("/Title")] = TextStringObject(fixed)
        stack += [item.get("/First"), item.get("/Next")]
    with open(pdf, "wb") as stream:
        writer.write(stream)


def main() -> None:
    site_dir, output = Path(sys.argv[1]), Path(sys.argv[2])
    start = time.perf_counter()
    print_site(site_dir, output)
    print(f"PDF written to {output} ({output.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
