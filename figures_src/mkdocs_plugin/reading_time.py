"""How long a chapter's main text takes to read, counted from its words when the site is built: the marker
`{{ reading_time }}` (in the chapter's opening box) becomes the minutes, so the number follows the text.

The main text is what a reader reads straight through: folded notes, figures (their captions are read with
the chart), formulas, boxes and the page links are left out, as they are by the chapter test in a browser.
"""

from html.parser import HTMLParser

MARKER = "{{ reading_time }}"
# Technical prose that argues from measurements, read with care: about 150 words a minute, between the
# ~100 of a reader working through derivations and the ~200 of one skimming familiar material.
WORDS_PER_MINUTE = 150
# Elements whose text is not main text: tag names, or ".class".
LEFT_OUT = ("details", "figure", "math", ".dl-math", ".admonition", ".dl-page-links", "script", "style")
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class MainText(HTMLParser):
    """The text of an HTML fragment outside LEFT_OUT elements, as a browser's textContent joins it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open: list[bool] = []  # for each open element: whether it starts a left-out subtree
        self.skipped = 0  # open left-out elements
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in VOID_ELEMENTS:
            return
        classes = (dict(attrs).get("class") or "").split()
        left_out = tag in LEFT_OUT or any(f".{name}" in LEFT_OUT for name in classes)
        self.open.append(left_out)
        self.skipped += left_out

    def handle_endtag(self, tag):
        if tag not in VOID_ELEMENTS and self.open:
            self.skipped -= self.open.pop()

    def handle_data(self, data):
        if not self.skipped:
            self.text.append(data)


def main_text_words(page_html: str) -> int:
    """Words of the main text of a page's HTML (split at white space, as the chapter test splits them)."""
    parser = MainText()
    parser.feed(page_html.replace(MARKER, ""))
    parser.close()
    return len("".join(parser.text).split())


def minutes(words: int) -> int:
    return max(1, round(words / WORDS_PER_MINUTE))


def stamp(page_html: str) -> str:
    """The page with its reading-time marker replaced by the minutes its main text takes."""
    if MARKER not in page_html:
        return page_html
    return page_html.replace(MARKER, str(minutes(main_text_words(page_html))))
