"""What the print page (every page in one, made by mkdocs-print-site-plugin, printed to the PDF) needs
beyond what the plugin writes: anchors that every link can land on, and links out for the pages it
leaves out."""

import re
from html import escape
from pathlib import Path

PRINT_SECTION = re.compile(r"""<section class=['"]print-page[^'"]*['"] id=['"]([^'"]+)['"]""")


def page_key(published: str) -> str:
    """How the print page names a page in its anchors: `notebooks/reasons/` -> `notebooks-reasons`."""
    return published.strip("/").replace("/", "-") or "index"


def source_key(src_uri: str) -> str:
    """The print page's name for the page made from a Markdown file: `notebooks/index.md` -> `notebooks`."""
    path = src_uri.removesuffix(".md").removesuffix("index").rstrip("/")
    return page_key(path + "/" if path else "")


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


def stamp_cover(html: str, version_label: str) -> str:
    """A row "Built from" in the cover page's table: the PDF's first page names the release and commit."""
    cover = html.find('id="print-site-cover-page"')
    end = html.find("</table>", cover)
    if cover < 0 or end < 0:
        raise ValueError("the print page has no cover table (mkdocs.yml: print-site add_cover_page)")
    row = f"<tr><td>Built from</td><td>{escape(version_label)}</td></tr>\n"
    return html[:end] + row + html[end:]


def mend_print_page(site_dir: Path, site_url: str, left_out_pages: list[str], version_label: str) -> None:
    """Prefix the print page's anchors and stamp its cover with the build's version; `left_out_pages`
    (published paths, e.g. notebooks) link to the web."""
    left_out = {page_key(path): site_url + path for path in left_out_pages}
    for print_page in (site_dir / "print_page" / "index.html", site_dir / "print_page.html"):  # with or without
        if print_page.exists():                                                              # directory URLs
            html = prefix_print_anchors(print_page.read_text(), left_out)
            print_page.write_text(stamp_cover(html, version_label))
