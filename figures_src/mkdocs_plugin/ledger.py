"""The claim ledger: every claimed sentence of the site, its check evaluated against the build's numbers.

Collected from every page before any is rendered (so the Claims page can list them all), it fails the
build when a claim does not hold or cannot be checked, renders each claimed sentence with a link to its
entry, and writes the Claims page's list and `claims.json`.
"""

import html
import re
from dataclasses import dataclass

from mkdocs.utils import get_relative_url

from figures_src import claims, markers


class LedgerError(ValueError):
    """Claims that do not hold, or cannot be checked; the message lists each with its page and values."""


@dataclass
class Entry:
    page: object  # the MkDocs page making the claim
    span: markers.ClaimSpan
    verdict: claims.Verdict
    text: str = ""  # the sentence as a reader sees it (plain text, numbers filled in)

    @property
    def suffix(self) -> str:
        return f"-{self.span.occurrence}" if self.span.occurrence > 1 else ""

    @property
    def anchor(self) -> str:
        """Where the sentence is on its page."""
        return f"claim-{self.span.figure}-{self.span.claim}{self.suffix}"

    @property
    def ledger_anchor(self) -> str:
        """Where its entry is on the Claims page."""
        page_key = self.page.url.strip("/").replace("/", "-") or "index"
        return f"ledger-{page_key}-{self.span.figure}-{self.span.claim}{self.suffix}"

    def as_json(self, homes: dict) -> dict:
        return {"id": f"{self.page.url}#{self.anchor}", "page": self.page.url, "text": self.text,
                "check": self.verdict.check, "holds": self.verdict.holds, "figure": self.span.figure,
                "figure_label": homes[self.span.figure][1] if self.span.figure in homes else None}


COMPARING = (claims.Differs, claims.Indistinguishable)


class Ledger:
    def __init__(self, figures: dict, numbers: dict, ledger_page: str):
        self.figures = figures
        self.numbers = numbers
        self.ledger_page_uri = ledger_page
        self.ledger_page = None
        self.entries: list[Entry] = []
        self.by_page: dict[str, list[Entry]] = {}
        self.open: dict[str, Entry] = {}  # page -> the claim whose sentence is being rendered
        self.rendered: dict[str, int] = {}  # page -> how many of its claimed sentences are rendered

    def collect(self, page, source: str, found: list[markers.Marker]) -> None:
        uri = page.file.src_uri
        if uri == self.ledger_page_uri:
            self.ledger_page = page
        for span in markers.claim_spans(source, uri, found):
            declared = {c.id: c for c in getattr(self.figures.get(span.figure), "claims", ())}
            if span.figure not in self.figures:
                raise LedgerError(f"{uri}: {span.start.text!r}: unknown figure {span.figure!r}")
            if span.claim not in declared:
                raise LedgerError(f"{uri}: {span.start.text!r}: figure {span.figure!r} declares no claim "
                                  f"{span.claim!r} (it declares: {', '.join(declared) or 'none'})")
            entry = Entry(page, span, claims.evaluate(span.figure, declared[span.claim], self.numbers))
            self.entries.append(entry)
            self.by_page.setdefault(uri, []).append(entry)

    def finish(self, plain_text) -> list[str]:
        """Fill in each sentence's text (`plain_text(entry)`), raise if any claim fails, and return the
        claims figures declare that no page makes."""
        for entry in self.entries:
            entry.text = plain_text(entry)
        failed = [e for e in self.entries if not e.verdict.holds]
        if failed:
            raise LedgerError(f"{len(failed)} claim(s) do not hold:\n" + "\n".join(
                f"  {e.page.file.src_uri}: claim {e.span.key!r}: \u201c{e.text}\u201d; check: {e.verdict.check}"
                for e in failed))
        made = {e.span.key for e in self.entries}
        return sorted(f"{fid}.{c.id}" for fid, figure in self.figures.items()
                      for c in figure.claims if f"{fid}.{c.id}" not in made)

    # ------------------------------------------------------------ rendering

    def open_span(self, marker: markers.Marker, page) -> str:
        # Spans are rendered in page order, the order they were collected in.
        uri = page.file.src_uri
        index = self.rendered.get(uri, 0)
        entry = self.by_page[uri][index]
        if entry.span.start.argument != marker.argument:
            raise LedgerError(f"{uri}: claim {marker.argument!r} rendered where {entry.span.key!r} was read")
        self.rendered[uri] = index + 1
        self.open[uri] = entry
        return f'<span class="dl-claim" id="{entry.anchor}">'

    def close_span(self, page) -> str:
        entry = self.open.pop(page.file.src_uri)
        href = f"#{entry.ledger_anchor}" if self.ledger_page is None or self.ledger_page is page else \
            f"{get_relative_url(self.ledger_page.url, page.url)}#{entry.ledger_anchor}"
        return (f'</span><a class="dl-claim-check" href="{href}" '
                f'title="Checked at build time: {html.escape(entry.verdict.check)}">'
                f'<span aria-hidden="true">✓</span><span class="dl-sr-only">checked claim</span></a>')

    def ledger_html(self, page, nav_pages: list, figure_url) -> str:
        """The Claims page's list: by page in reading order, each claim with its check and links."""
        pages = [p for p in nav_pages if p.file.src_uri in self.by_page]
        comparisons = sum(self.compares(e) for e in self.entries)
        out = [f'<p class="dl-ledger-total">{len(self.entries)} claims on {len(pages)} pages, '
               f'{sum(e.verdict.holds for e in self.entries)} holding; {comparisons} of them compare two '
               f'conditions through the interval of their difference.</p>']
        for claimed in pages:
            link = get_relative_url(claimed.url, page.url)
            out.append(f'<h2 id="ledger-{claimed.url.strip("/").replace("/", "-") or "index"}">'
                       f'<a href="{link}">{html.escape(claimed.title or claimed.file.name)}</a></h2>\n<ol class="dl-ledger">')
            for e in self.by_page[claimed.file.src_uri]:
                out.append(
                    f'<li id="{e.ledger_anchor}"><q>{quoted(e.text)}</q> '
                    f'<a href="{link}#{e.anchor}">in the text</a> · '
                    f'<a href="{figure_url(e.span.figure, page)}">the figure</a><br>'
                    f'<span class="dl-ledger-check">{"holds" if e.verdict.holds else "FAILS"}: '
                    f'{check_html(e.verdict.check, self.value_names(e))}</span></li>')
            out.append("</ol>")
        return "\n".join(out)

    def compares(self, entry: Entry) -> bool:
        declared = {c.id: c for c in self.figures[entry.span.figure].claims}

        def comparing(check: claims.Check) -> bool:
            if isinstance(check, claims.All):
                return any(comparing(part) for part in check.checks)
            return isinstance(check, COMPARING)
        return comparing(declared[entry.span.claim].check)

    def value_names(self, entry: Entry) -> set[str]:
        declared = {c.id: c for c in self.figures[entry.span.figure].claims}
        return declared[entry.span.claim].check.names()

    def as_json(self, homes: dict) -> dict:
        entries = [e.as_json(homes) for e in self.entries]
        return {"claims": entries, "total": len(entries), "hold": sum(e["holds"] for e in entries)}


# A minus sign in a check's words: a hyphen before a digit, not inside a word or a number ("0.9–-0.1", "[-2, 1]",
# an exponent's "e-05", never "l-2").
HYPHEN_MINUS = re.compile(r"(?:(?<![\w.])|(?<=\de))-(?=\.?\d)")


def check_html(check: str, names: set[str]) -> str:
    """A check in words as HTML: the living numbers it names as code (`mean_min_cosine_l100` is an identifier,
    not a word), its negative numbers with the minus sign, as the numbers of the prose have it."""
    def words(text: str) -> str:
        return html.escape(HYPHEN_MINUS.sub(markers.MINUS, text))
    if not names:
        return words(check)
    longest_first = sorted(names, key=len, reverse=True)
    named = re.compile(r"(?<![\w.-])(" + "|".join(map(re.escape, longest_first)) + r")(?![\w-])")
    return "".join(f"<code>{html.escape(piece)}</code>" if index % 2 else words(piece)
                   for index, piece in enumerate(named.split(check)))


# A formula inside a Markdown sentence, with its delimiters: `$...$` or `\(...\)` (arithmatex reads both).
INLINE_MATH = re.compile(r"(\$[^$]+?\$|\\\(.+?\\\))")


def quoted(text: str) -> str:
    """A claimed sentence as HTML, its formulas marked as arithmatex marks them on the chapter pages, so the
    site's build-time math (math.py) typesets them here too."""
    def marked(formula: str) -> str:
        tex = formula[1:-1] if formula.startswith("$") else formula[2:-2]
        return rf'<span class="arithmatex">\({html.escape(tex)}\)</span>'
    return "".join(marked(piece) if index % 2 else html.escape(piece)
                   for index, piece in enumerate(INLINE_MATH.split(text)))


def plain(markdown_text: str) -> str:
    """A Markdown sentence as plain text: links to their text, emphasis and inline HTML dropped; formulas
    kept as they are (`$\\eta^*$` keeps its star)."""
    def unmarked(text: str) -> str:
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
        text = re.sub(r"<[^>]+>", "", text)
        return re.sub(r"(\*\*|__|(?<![\w*])\*(?!\s)|(?<!\s)\*(?![\w*]))", "", text)
    pieces = INLINE_MATH.split(markdown_text)
    return " ".join("".join(p if i % 2 else unmarked(p) for i, p in enumerate(pieces)).split())
