"""What the print page (every page in one, made by mkdocs-print-site-plugin, printed to the PDF) needs
beyond what the plugin writes: anchors that every link can land on, and links out for the pages it
leaves out."""

import re
from html import escape
from pathlib import Path



class PrintPageError(Exception):
    pass


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


def stamp_cover(html: str, version_label: str, where: str) -> str:
    """A row "Built from" in the cover page's table: the PDF's first page names the release and commit.
    A print page without a cover table (`where`) is an error."""
    cover = html.find('id="print-site-cover-page"')
    end = html.find("</table>", cover)
    if cover < 0 or end < 0:
        raise PrintPageError(f"{where}: the print page has no cover table (mkdocs.yml: print-site add_cover_page)")
    row = f"<tr><td>Built from</td><td>{escape(version_label)}</td></tr>\n"
    return html[:end] + row + html[end:]


def rebase_home_specs(html: str) -> str:
    """The print page rebases the `src` and `href` of the home page's figures one folder down (print_page/),
    not their `data-spec`: do the same for it, so the home page's charts load in print_page/index.html."""
    return re.sub(r'data-spec="(?!\.\./|/|[a-z]+:)', 'data-spec="../', html)


def home_page_links(html: str) -> str:
    """The print page turns a link to the home page (`../`, `../#anchor`) into `#.` or `#<page>-..-<anchor>`;
    point it at the home page's section (`#index`, `#index-<anchor>`) instead."""
    html = re.sub(r'href="#[a-z0-9-]+?-\.\.-([^"]+)"', r'href="#index-\1"', html)
    return html.replace('href="#."', 'href="#index"')


def valid_markup(html: str) -> str:
    """Drop what the print plugin writes that is not valid HTML and that nothing reads with enumerate_headings
    off: `heading-number` attributes, their numbering rules (a `<style>` inside the page body), and the
    table of contents' `label for="__toc"`, Material's checkbox that the print page does not have."""
    html = re.sub(r""" heading-number=(["'])[^"']*\1""", "", html)
    html = re.sub(r"<style>\s*\.print-site-enumerate-headings.*?</style>", "", html, flags=re.DOTALL)
    return html if 'id="__toc"' in html else html.replace(' for="__toc"', "")


def mend_print_page(site_dir: Path, site_url: str, left_out_pages: list[str], version_label: str) -> None:
    """Prefix the print page's anchors, point its links to the home page at the home page's section, stamp
    its cover with the build's version and drop its invalid markup; `left_out_pages` (published paths, e.g.
    notebooks) link to the web."""
    left_out = {page_key(path): site_url + path for path in left_out_pages}
    for print_page in (site_dir / "print_page" / "index.html", site_dir / "print_page.html"):  # with or without
        if print_page.exists():                                                              # directory URLs
            html = prefix_print_anchors(home_page_links(valid_markup(print_page.read_text())), left_out)
            html = stamp_cover(html, version_label, str(print_page.relative_to(site_dir)))
            print_page.write_text(rebase_home_specs(html) if print_page.parent.name == "print_page" else html)
