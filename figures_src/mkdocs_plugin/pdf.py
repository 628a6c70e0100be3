"""Print the built site to PDFs: `python -m figures_src.mkdocs_plugin.pdf <site_dir> <output.pdf> [options]`.

Opens the print page (all chapters, made by mkdocs-print-site-plugin) in headless Chromium, waits
until every chart and every equation is drawn, and prints it: vector charts and math, bookmarks from
the headings, working internal links, page numbers. Interactive charts print at their default
state, the same as the static SVGs.

Every link out of the PDF points at the published site (`--published-url`), never at the local server
that serves the print page. The contents page gets page numbers by a second printing: the first one
says on which page each heading landed (its named destination). Then, from the same drawn page, one PDF
per chapter (`--chapter KEY=PATH`, KEY the chapter's section on the print page): that section alone,
under a cover line, its links to other chapters sent to the web site. Every PDF's metadata and first
page carry the build's version (figures/version.json).
"""

import argparse
import io
import json
import re
import sys
import time
from datetime import datetime
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, TextStringObject

from figures_src.mkdocs_plugin.browser import CHROMIUM_ARGS, BrowserNotFound, find_chromium, serve_site
from figures_src.mkdocs_plugin.print_page import page_key

A4_CONTENT_WIDTH = 760  # px at 96 dpi: A4 minus the margins below, so charts are laid out at print width
MARGINS = {"top": "16mm", "bottom": "16mm", "left": "12mm", "right": "12mm"}
# Charts draw when they come near the viewport: ask for every one (window.dlFigures, from figures/loader.js).
CHARTS_DONE = """() => window.dlFigures && Promise.all(Array.from(document.querySelectorAll('.dl-chart')).map(
    e => window.dlFigures.draw(e))).then(() => Array.from(document.querySelectorAll('.dl-chart')).every(
    e => e.classList.contains('dl-rendered') || e.classList.contains('dl-failed')))"""
TOC_PASSES = 3  # numbers on the contents page could, in principle, move a heading; they settle at once in practice

# Links the reader can follow from paper: anything that resolves to the local server (relative links to
# the CSV, SVG and source files, references.bib) or to the site_url the site was built with (the tests
# build with a local one) goes to the published site instead.
PUBLISH_LINKS = """([prefixes, published]) => {
    const here = location.href.split('#')[0];
    for (const a of document.querySelectorAll('a[href]')) {
        if (a.getAttribute('href').startsWith('#')) continue;
        if (a.href.startsWith(here + '#')) {  // the print page itself, written another way: a link inside the PDF
            a.setAttribute('href', a.href.slice(here.length));
            continue;
        }
        const prefix = prefixes.find(p => a.href.startsWith(p));
        if (prefix) a.setAttribute('href', published + a.href.slice(prefix.length));
    }
}"""

# The contents page: each entry's page number, right-aligned on its own line.
TOC_NUMBERS = """(pages) => {
    for (const a of document.querySelectorAll('#print-page-toc a[href^="#"]')) {
        let number = a.querySelector('.dl-toc-page');
        const page = pages[a.getAttribute('href').slice(1)];
        if (page === undefined) { if (number) number.remove(); continue; }
        if (!number) {
            number = document.createElement('span');
            number.className = 'dl-toc-page';
            number.style.cssText = 'margin-left: auto; padding-left: 1em; font-variant-numeric: tabular-nums;';
            a.style.display = 'flex';
            a.append(number);
        }
        number.textContent = page;
    }
}"""

# One chapter alone: other sections hidden, a cover line on top, links into hidden sections sent to their
# web pages (`pages`: section key -> published path). Called again for the next chapter, it starts over.
ONE_CHAPTER = """([key, cover, published, pages]) => {
    const root = document.getElementById('print-site-page');
    for (const a of root.querySelectorAll('a[data-dl-href]')) a.setAttribute('href', a.dataset.dlHref);
    document.getElementById('dl-chapter-cover')?.remove();
    let style = document.getElementById('dl-chapter-style');
    if (!style) {
        style = document.createElement('style');
        style.id = 'dl-chapter-style';
        document.head.append(style);
    }
    style.textContent = `#print-site-page > section:not(#${key}):not(:has(#${key})),
        #print-site-page > section > section.print-page:not(#${key}) { display: none !important; }
        #print-site-page section#${key} { page-break-before: avoid !important; }
        #print-site-page section:has(#${key}) > h1 { display: none; }
        #dl-chapter-cover { font-size: 0.65rem; color: #555; border-bottom: 1px solid #ccc; margin: 0 0 1.5em; }`;
    const section = document.getElementById(key);
    const line = document.createElement('p');
    line.id = 'dl-chapter-cover';
    line.textContent = cover;
    section.prepend(line);
    const home = s => s.closest('section.print-page[id]:not(.md-section)');
    for (const a of root.querySelectorAll('a[href^="#"]')) {
        const target = document.getElementById(decodeURIComponent(a.getAttribute('href').slice(1)));
        const page = target && home(target);
        if (!page || page.id === key || !(page.id in pages)) continue;
        const anchor = target === page || target.id === page.id ? '' : '#' + target.id.replace(page.id + '-', '');
        a.dataset.dlHref = a.getAttribute('href');
        a.setAttribute('href', published + pages[page.id] + anchor);
    }
}"""


def print_site(site_dir: Path, output: Path, published_url: str | None = None, built_url: str | None = None,
               chapters: dict[str, Path] | None = None) -> None:
    """Print `site_dir`'s print page to `output` and each of `chapters` (section key -> PDF path).
    Links to the site (served locally or at `built_url`) are rewritten to `published_url`."""
    try:
        chromium = find_chromium()
    except BrowserNotFound as error:
        sys.exit(f"Cannot print the PDF: {error}")
    if not (site_dir / "print_page" / "index.html").exists():
        sys.exit(f"{site_dir}/print_page/ is missing: build the site first (nox -s build).")
    version = json.loads((site_dir / "figures" / "version.json").read_text())
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
        published = published_url or built_url or base_url
        page.evaluate(PUBLISH_LINKS, [[p for p in (base_url, built_url) if p], published])
        site_name = page.inner_text("#print-site-cover-page h1").strip()
        page.evaluate("title => { document.title = title; }", site_name)
        headings = page.eval_on_selector_all(
            "h1, h2, h3, h4", "els => els.map(e => Array.from(e.childNodes)"
            ".filter(n => !(n.classList && n.classList.contains('headerlink')))"
            ".map(n => n.textContent).join('').replace(/\\s+/g, ' ').trim())")
        whole = numbered_contents(page)
        write_pdf(whole, output, headings, site_name, version)
        sections = published_pages(site_dir)
        for key, chapter_pdf in (chapters or {}).items():
            if key not in sections or not page.locator(f"#print-site-page section#{key}").count():
                sys.exit(f"Chapter PDF {chapter_pdf}: the print page has no section {key!r} "
                         f"(known: {', '.join(sorted(sections))})")
            title = page.inner_text(f"section#{key} h1").replace("¶", "").strip()
            cover = f"{title} · {site_name} · {version['label']} · {published}{sections[key]}"
            page.evaluate(ONE_CHAPTER, [key, cover, published, sections])
            write_pdf(print_pdf(page), chapter_pdf, headings, f"{title} · {site_name}", version)
        browser.close()


def print_pdf(page) -> bytes:
    # Page numbers come from the print page's own @page rules.
    return page.pdf(format="A4", print_background=True, outline=True, tagged=True, margin=MARGINS)


def numbered_contents(page) -> bytes:
    """Print, write each heading's page into the contents, print again until the numbers hold."""
    pdf = print_pdf(page)
    for _ in range(TOC_PASSES):
        pages = destination_pages(pdf)
        page.evaluate(TOC_NUMBERS, pages)
        pdf = print_pdf(page)
        if destination_pages(pdf) == pages:
            return pdf
    sys.exit(f"PDF not written: the contents' page numbers still moved after {TOC_PASSES} printings")


def destination_pages(pdf: bytes) -> dict[str, int]:
    """Page number (from 1) of each named destination: Chromium names one after every linked id."""
    reader = PdfReader(io.BytesIO(pdf))
    return {str(name).removeprefix("/"): reader.get_destination_page_number(dest) + 1
            for name, dest in reader.named_destinations.items()}


def published_pages(site_dir: Path) -> dict[str, str]:
    """Print-page section key -> the page's path on the site ("observation" -> "observation/")."""
    pages = {}
    for index in site_dir.rglob("index.html"):
        path = index.parent.relative_to(site_dir).as_posix()
        published = "" if path == "." else path + "/"
        pages[page_key(published)] = published
    return pages


def write_pdf(pdf: bytes, output: Path, headings: list[str], title: str, version: dict) -> None:
    """Bookmark titles mended, the title and version in the metadata, dated by the commit (not the clock)."""
    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    repair_outline(writer, headings)
    metadata = {"/Title": title, "/Subject": version["label"], "/Keywords": f"version {version['version']}, "
                f"commit {version['commit']}", "/Creator": "figures_src.mkdocs_plugin.pdf (Chromium)"}
    if version["date"]:
        date = datetime.fromisoformat(version["date"])
        offset = date.strftime("%z")
        metadata["/CreationDate"] = metadata["/ModDate"] = date.strftime("D:%Y%m%d%H%M%S") + \
            (f"{offset[:3]}'{offset[3:]}'" if offset else "Z")
    writer.add_metadata(metadata)
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output, "wb") as stream:
        writer.write(stream)


def repair_outline(writer: PdfWriter, headings: list[str]) -> None:
    """Chromium builds each bookmark from the lines of its heading as laid out, joined without a space
    ("hard totrain?" for a title that wraps after "to"). Put back the heading's own text."""
    by_letters = {re.sub(r"\s+", "", text): text for text in headings}
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("site_dir", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--published-url", help="where readers find the site (mkdocs.yml site_url)")
    parser.add_argument("--built-url", help="the site_url the site was built with, if another")
    parser.add_argument("--chapter", action="append", default=[], metavar="KEY=PATH",
                        help="also print the print page's section KEY alone to PATH")
    args = parser.parse_args()
    chapters = {}
    for item in args.chapter:
        key, _, path = item.partition("=")
        if not key or not path:
            parser.error(f"--chapter {item!r}: expected KEY=PATH")
        chapters[key] = Path(path)
    start = time.perf_counter()
    print_site(args.site_dir, args.output, args.published_url, args.built_url, chapters)
    print(f"PDF written to {args.output} ({args.output.stat().st_size / 1e6:.1f} MB) and {len(chapters)} chapter "
          f"PDFs in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
