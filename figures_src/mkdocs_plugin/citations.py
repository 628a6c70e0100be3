"""Citations from the site's BibTeX file, parsed and formatted by pybtex.

In-text labels are author-year ("Cho & Saul, 2009", "Yang et al. (2019)"); a reference list uses
pybtex's plain style with abbreviated first names. Unknown keys raise CitationError naming the key.
`CitationIndex` knows which page cites what and renders a page's citation markers.
"""

import html
from pathlib import Path

from mkdocs.utils import get_relative_url
from pybtex.database import BibliographyData, Entry, parse_file
from pybtex.plugin import find_plugin


class CitationError(Exception):
    pass


class Bibliography:
    def __init__(self, path: Path):
        try:
            self.data = parse_file(str(path), bib_format="bibtex")
        except Exception as error:  # pybtex raises several types; all mean the file cannot be used
            raise CitationError(f"{path}: cannot read the bibliography: {error}") from error
        self.path = path
        style = find_plugin("pybtex.style.formatting", "plain")(abbreviate_names=True)
        backend = find_plugin("pybtex.backends", "html")()
        formatted = style.format_entries(self.data.entries.values())
        self.html, self.text = {}, {}
        for entry in formatted:
            self.html[entry.key] = " ".join(entry.text.render(backend).split())
            self.text[entry.key] = entry.text.render_as("text")
        self.author_labels = {key: author_label(entry) for key, entry in self.data.entries.items()}

    @classmethod
    def empty(cls, path: Path) -> "Bibliography":
        bib = cls.__new__(cls)
        bib.path, bib.data, bib.html, bib.text, bib.author_labels = path, BibliographyData(), {}, {}, {}
        return bib

    @property
    def keys(self) -> list[str]:
        return list(self.data.entries)

    def check(self, key: str, where: str) -> None:
        if key not in self.data.entries:
            known = ", ".join(sorted(self.data.entries)) or f"none: there is no {self.path}"
            raise CitationError(f"{where}: unknown citation key {key!r} (known: {known})")

    def authors(self, key: str) -> str:
        return self.author_labels[key]

    def year(self, key: str) -> str:
        return self.data.entries[key].fields.get("year", "n.d.")

    def link(self, key: str, href: str, label: str) -> str:
        return f'<a class="dl-cite" href="{href}" title="{html.escape(self.text[key])}">{html.escape(label)}</a>'

    def parenthetical(self, keys: list[str], href_of) -> str:
        """(Poole et al., 2016; Schoenholz et al., 2017)"""
        return "(" + "; ".join(self.link(k, href_of(k), f"{self.authors(k)}, {self.year(k)}") for k in keys) + ")"

    def textual(self, key: str, href_of) -> str:
        """Yang et al. (2019)"""
        return self.link(key, href_of(key), f"{self.authors(key)} ({self.year(key)})")

    def sorted_keys(self, keys) -> list[str]:
        return sorted(keys, key=lambda k: (self.authors(k).lower(), self.year(k), k))

    def reference_list(self, keys: list[str], cited_in=None) -> str:
        """An ordered list with one `#ref-<key>` anchor per entry; `cited_in(key)` may add links back."""
        items = []
        for key in keys:
            back = cited_in(key) if cited_in else ""
            items.append(f'<li id="ref-{key}">{self.html[key]}{back}</li>')
        return '<ol class="dl-references">\n' + "\n".join(items) + "\n</ol>"

    def bibtex(self, key: str, version=None) -> str:
        """The entry as BibTeX; with a `BuildVersion`, pinned to it by BibLaTeX's `version` and `date` and a
        note naming the commit (the site's numbers change with its experiments)."""
        entry = self.data.entries[key]
        if version is not None:
            note = entry.fields.get("note", "")
            fields = {**entry.fields, "version": version.version, "note": (note + ". " if note else "")
                      + f"Commit {version.commit}"}
            if version.day:
                fields["date"] = version.day
            entry = Entry(entry.type, fields=fields, persons=entry.persons)
        return BibliographyData({key: entry}).to_string("bibtex").strip()


def author_label(entry) -> str:
    """"Cho & Saul", "Yang et al.", or an institutional author as written. Names are UTF-8 in the file;
    braces (which protect capitals) are dropped."""
    def plain(text: str) -> str:
        if "\\" in text:
            raise CitationError(f"{entry.key}: write the name {text!r} in UTF-8, without LaTeX commands")
        return text.replace("{", "").replace("}", "")

    names = [plain(" ".join(p.prelast_names + p.last_names)) for p in entry.persons.get("author", [])]
    if not names:
        return plain(entry.fields.get("author", entry.key))
    if len(names) == 1:
        return names[0]
    return f"{names[0]} & {names[1]}" if len(names) == 2 else f"{names[0]} et al."


class CitationIndex:
    """Which page cites what, collected in reading order before any page is rendered, and the HTML of the
    cite, citet, bibliography and bibtex markers of a page.

    A citation links to the list at the end of its own page when the page has one ({{ bibliography: cited }}),
    else to the site's references page; the references page lists every cited work with links back."""

    def __init__(self, bibliography: Bibliography, references_page: str, version=None):
        self.bibliography = bibliography
        self.version = version  # a BuildVersion: the entries shown as BibTeX ("cite this site") carry it
        self.references_uri = references_page
        self.citing_pages: dict[str, list] = {}  # key -> pages that cite it, in reading order
        self.cited_on: dict[str, list[str]] = {}  # page -> keys it cites, in order of first citation
        self.own_list: set[str] = set()  # pages that list their own references
        self.shown_as_bibtex: set[str] = set()
        self.references = None  # the references page, once known

    def collect(self, page, page_markers: list) -> None:
        uri = page.file.src_uri
        for marker in page_markers:
            if marker.kind == "bibliography" and marker.argument == "cited":
                self.own_list.add(uri)
            if marker.kind not in ("cite", "citet", "bibtex"):
                continue
            for key in marker.keys:
                self.bibliography.check(key, uri)
                if marker.kind == "bibtex":
                    self.shown_as_bibtex.add(key)
                    continue
                if page not in self.citing_pages.setdefault(key, []):
                    self.citing_pages[key].append(page)
                cited = self.cited_on.setdefault(uri, [])
                cited.extend([] if key in cited else [key])
        if uri == self.references_uri:
            self.references = page

    def unused(self) -> list[str]:
        """Entries of the bibliography no page cites or shows: the file lists only what the site cites."""
        return sorted(set(self.bibliography.keys) - set(self.citing_pages) - self.shown_as_bibtex)

    def render(self, marker, page) -> str:
        bib, uri = self.bibliography, page.file.src_uri

        def href(key: str) -> str:
            if uri in self.own_list or self.references is page:
                return f"#ref-{key}"
            if self.references is None:
                raise CitationError(f"{uri}: cites {key!r} but has no {{{{ bibliography: cited }}}} "
                                    f"and the site has no references page {self.references_uri!r}")
            return f"{get_relative_url(self.references.url, page.url)}#ref-{key}"

        if marker.kind == "cite":
            return bib.parenthetical(marker.keys, href)
        if marker.kind == "citet":
            return bib.textual(marker.keys[0], href)
        if marker.kind == "bibtex":
            return f"```bibtex\n{bib.bibtex(marker.keys[0], self.version)}\n```"
        if marker.argument == "cited":
            return "\n" + bib.reference_list(self.cited_on.get(uri, [])) + "\n"
        return "\n" + bib.reference_list(bib.sorted_keys(self.citing_pages), self.cited_in(page)) + "\n"

    def cited_in(self, page):
        def links(key: str) -> str:
            return ' <span class="dl-cited-in">Cited in ' + ", ".join(
                f'<a href="{get_relative_url(p.url, page.url)}'
                f'{f"#ref-{key}" if p.file.src_uri in self.own_list else ""}">{html.escape(p.title or p.file.name)}</a>'
                for p in self.citing_pages[key]) + ".</span>"
        return links
