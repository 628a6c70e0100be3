"""Math typeset when the site is built: TeX becomes MathML, which browsers draw with their own math fonts and
which stays text (screen readers read it, the PDF's text layer holds it). No script typesets math at read time.

The converter is Temml (a KaTeX descendant that writes MathML Core), run in V8 embedded from PyPI
(mini-racer), so the build needs no Node.js. Chapter pages get their math from pymdownx.arithmatex
(generic mode: `\\(...\\)` in `<span class="arithmatex">`, `\\[...\\]` in `<div class="arithmatex">`);
notebook pages from mkdocs-jupyter, which leaves `$...$` and `$$...$$` in the HTML of markdown cells.
"""

import html
import re
from functools import cache
from pathlib import Path

from figures_src.mkdocs_plugin.html_blocks import outer_divs

TEMML = Path(__file__).parent / "vendor" / "temml" / "temml.min.js"


class MathError(Exception):
    pass


@cache
def engine():
    """One V8 context per build process with Temml loaded (~10 ms)."""
    from py_mini_racer import MiniRacer
    context = MiniRacer()
    context.eval(TEMML.read_text())
    return context


# TeX reads `\lambda_\max` (an operator name as a bare subscript); Temml wants it braced.
BARE_OPERATOR_SCRIPT = re.compile(r"([_^])(\\(?:max|min|sup|inf|lim|log|ln|exp|det|arg)(?![A-Za-z]))")


def mathml(tex: str, display: bool, where: str) -> str:
    """`tex` as a MathML element; a formula Temml cannot read is an error naming `where` and the formula."""
    try:
        markup = engine().call("temml.renderToString", BARE_OPERATOR_SCRIPT.sub(r"\1{\2}", tex),
                               {"displayMode": display, "throwOnError": True})
    except Exception as error:  # mini-racer's JSEvalException carries Temml's ParseError message
        reason = re.search(r"^ParseError:\s*(.*)$", str(error), re.MULTILINE)  # V8 also quotes the source line
        reason = reason[1] if reason else str(error).splitlines()[-1]
        raise MathError(f"{where}: cannot typeset the formula {tex!r}: {reason}") from error
    return markup.replace('<munder accent="false">', "<munder>")  # `accent` is mover's; false is the default


def display_block(tex: str, where: str) -> str:
    """A display equation scrolls sideways when it is wider than the column (a phone): the scrolling box
    takes the keyboard focus, so it can be scrolled without a pointer. A span (shown as a block by the site's
    CSS) stays valid inside a paragraph, where notebook `$$` formulas are."""
    return f'<span class="dl-math" tabindex="0">{mathml(tex, True, where)}</span>'


ARITHMATEX = re.compile(r'<span class="arithmatex">\\\((.*?)\\\)</span>|<div class="arithmatex">\\\[(.*?)\\\]</div>',
                        re.DOTALL)


def render_chapter(page_html: str, where: str) -> str:
    """Every arithmatex formula of a chapter page as MathML."""
    def typeset(match: re.Match) -> str:
        if match[1] is not None:
            return mathml(html.unescape(match[1]).strip(), False, where)
        return display_block(html.unescape(match[2]).strip(), where)
    return ARITHMATEX.sub(typeset, page_html)


MARKDOWN_CELL = re.compile(r'<div class="[^"]*\bjp-RenderedMarkdown\b[^"]*"[^>]*>')
# $$...$$ first, then $...$ (not an escaped \$); a formula does not span an HTML tag.
NOTEBOOK_MATH = re.compile(r"\$\$([^<]+?)\$\$|(?<![\\$])\$([^$<]+?)(?<!\\)\$")


def render_notebook(page_html: str, where: str) -> str:
    """Every formula in the markdown cells of a notebook page as MathML (code and outputs keep their $). A cell
    ends at the `</div>` that closes its own `<div>`, counted by depth: a cell may hold divs of its own."""
    pieces, position = [], 0
    for cell, close in outer_divs(page_html, MARKDOWN_CELL):
        if close is None:
            raise MathError(f"{where}: a markdown cell's <div> is never closed: {cell[0]}")
        pieces += [page_html[position:cell.end()], render_dollars(page_html[cell.end():close.start()], where)]
        position = close.start()
    return "".join(pieces) + page_html[position:]


def render_dollars(markdown_html: str, where: str) -> str:
    """`$...$` and `$$...$$` formulas in HTML made from Markdown (a notebook's cell, a heading) as MathML."""
    def typeset(match: re.Match) -> str:
        if match[1] is not None:
            return display_block(html.unescape(match[1]).strip(), where)
        return mathml(html.unescape(match[2]).strip(), False, where)
    return NOTEBOOK_MATH.sub(typeset, markdown_html)


def render_toc(items: list, where: str) -> None:
    """A notebook's headings in the table of contents, with their formulas as on the page."""
    for item in items:
        item.title = render_dollars(item.title, where)
        render_toc(item.children, where)
