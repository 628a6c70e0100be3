"""What the print page (every page in one, made by mkdocs-print-site-plugin, printed to the PDF) needs
beyond what the plugin writes: anchors that every link can land on, and links out for the pages it
leaves out."""

import re
from pathlib import Path

PRINT_SECTION = re.compile(r"""<section class=['"]print-page[^'"]*['"] id=['"]([^'"]+)['"]""")


def page_key(published: str) -> str:
    """How the print page names a page in its anchors: `notebooks/reasons/` -> `notebooks-reasons`."""
    return published.strip("/").replace("/", "-") or "index"


def prefix_print_anchors(html: str, left_out: dict[str, str] | None = None) -> str:
    """The print page rewrites links to `#<page>-<anchor>` but prefixes only the ids of headings; prefix
    the ids of figures and references too, so every link lands. Links to pages left out of the print
    (`left_out`: page key -> web URL) go to the web page instead."""
    for key, url in (left_out or {}).items():
        html = re.sub(rf'href="#{re.escape(key)}(?:-[^"]*)?"', f'href="{url}"', html)
    starts = [(m.start(), m[1]) for m in PRINT_SECTION.finditer(html)]
    pieces, previous = [], 0
    for (start, key), end in zip(starts, [s for s, _ in starts[1:]] + [len(html)]):
        pieces.append(html[previous:start])

        def prefix(match: re.Match) -> str:
            anchor = match[1]
            linked = f'href="#{key}-{anchor}"' in html and f'id="{key}-{anchor}"' not in html
            return f' id="{key}-{anchor}"' if linked else match[0]

        pieces.append(re.sub(r' id="([^"]+)"', prefix, html[start:end]))
        previous = end
    return "".join(pieces) + html[previous:]


def valid_markup(html: str) -> str:
    """Drop what the print plugin writes that is not valid HTML and that nothing reads with enumerate_headings
    off: `heading-number` attributes, their numbering rules (a `<style>` inside the page body), and the
    table of contents' `label for="__toc"`, Material's checkbox that the print page does not have."""
    html = re.sub(r""" heading-number=(["'])[^"']*\1""", "", html)
    html = re.sub(r"<style>\s*\.print-site-enumerate-headings.*?</style>", "", html, flags=re.DOTALL)
    return html if 'id="__toc"' in html else html.replace(' for="__toc"', "")


def mend_print_page(site_dir: Path, site_url: str, left_out_pages: list[str]) -> None:
    """Prefix the print page's anchors; `left_out_pages` (published paths, e.g. notebooks) link to the web."""
    left_out = {page_key(path): site_url + path for path in left_out_pages}
    for print_page in (site_dir / "print_page" / "index.html", site_dir / "print_page.html"):  # with or without
        if print_page.exists():                                                              # directory URLs
            print_page.write_text(valid_markup(prefix_print_anchors(print_page.read_text(), left_out)))
