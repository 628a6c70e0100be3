"""Math typeset at build time: TeX to MathML as a unit, then every formula of every built page, the PDF's text
layer, and wide equations in a phone-width browser."""

import re
import unicodedata

import pytest
from pypdf import PdfReader

from figures_src.mkdocs_plugin import math
from tests.conftest import PDF
from tests.test_site import pages


def test_chapter_formulas_become_mathml_inline_and_display():
    page = ('<p>A ratio <span class="arithmatex">\\(x &lt; \\tfrac{1}{2}\\)</span> and</p>\n'
            '<div class="arithmatex">\\[\\mathbb E[m^2] = \\sum_{a} h_a\\]</div>')
    out = math.render_chapter(page, "observation.md")
    assert "arithmatex" not in out and "\\(" not in out and "\\[" not in out
    inline, display = re.findall(r"<math[^>]*>", out)
    assert 'display="block"' not in inline and 'display="block"' in display
    assert "<mo>&lt;</mo>" in out  # the escaped TeX was read as the formula x < 1/2
    assert "𝔼" in out  # \mathbb as its Unicode letter: the text form a screen reader and the PDF get
    assert out.count('tabindex="0"') == 1  # only the display equation, which may scroll, takes the focus


def test_notebook_math_is_typeset_in_markdown_cells_only():
    page = ('<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown jp-MarkdownOutput"><p>Width $n$, and</p>'
            '<p>$$c_{l+1} = \\mathcal F(c_l)$$</p></div>'
            '<div class="jp-RenderedText"><pre>price: $5 and $6</pre></div>')
    out = math.render_notebook(page, "notebooks/reasons.ipynb")
    assert out.count("<math") == 2 and out.count('display="block"') == 1
    assert "<pre>price: $5 and $6</pre>" in out  # an output's dollars are not math


def test_notebook_math_after_a_nested_div_in_a_markdown_cell_is_typeset():
    page = ('<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown jp-MarkdownOutput"><p>Width $n$:</p>'
            '<div class="admonition note"><p>depth $L$</p></div><p>then $$c_{l+1} = \\mathcal F(c_l)$$ and $q$</p></div>'
            '<div class="jp-RenderedText"><pre>price: $5 and $6</pre></div>')
    out = math.render_notebook(page, "notebooks/reasons.ipynb")
    assert out.count("<math") == 4 and out.count('display="block"') == 1 and "$" not in out.split("<pre>")[0]
    assert '<div class="admonition note"><p>depth <math' in out
    assert out.endswith('<div class="jp-RenderedText"><pre>price: $5 and $6</pre></div>')


def test_a_notebook_markdown_cell_never_closed_is_named():
    with pytest.raises(math.MathError, match="^notebooks/reasons.ipynb: a markdown cell's <div> is never closed"):
        math.render_notebook('<div class="jp-RenderedMarkdown"><p>$n$</p><div></div>', "notebooks/reasons.ipynb")


def test_an_operator_name_as_bare_subscript_reads_as_in_tex():
    braced = math.mathml("\\lambda_{\\max}", False, "consequences.md")
    assert math.mathml("\\lambda_\\max", False, "consequences.md") == braced
    assert "max" in braced


def test_a_formula_that_cannot_be_read_names_the_page_and_the_formula():
    with pytest.raises(math.MathError) as error:
        math.render_chapter('<span class="arithmatex">\\(\\frac{1}{\\)</span>', "reasons.md")
    message = str(error.value)
    assert message.startswith("reasons.md: cannot typeset the formula '\\\\frac{1}{'")
    assert "function temml" not in message and len(message) < 300  # Temml's reason, not the bundle's source


@pytest.mark.build
def test_every_formula_of_every_page_is_mathml_and_no_page_loads_a_math_script(site_dir):
    for path in pages(site_dir):
        page = (site_dir / path / "index.html").read_text()
        visible = re.sub(r"<script.*?</script>|<style.*?</style>|<pre.*?</pre>|<code.*?</code>|"
                         r'<div class="clipboard-copy-txt".*?</div>|<[^>]+>', " ",
                         page, flags=re.DOTALL)  # the text a reader sees
        assert not re.search(r"\\\(|\\\[|\$\$|\\[a-z]+\{|\$[^$\s][^$]{0,60}\$", visible), (path, "raw TeX")
        assert "arithmatex" not in page and "temml-error" not in page, path
        assert not re.search(r"<script[^>]*(mathjax|katex|temml)", page, re.IGNORECASE), path


@pytest.mark.build
def test_the_pdf_text_layer_holds_the_formulas(site_dir):
    text = "".join(page.extract_text() for page in PdfReader(site_dir / PDF).pages)
    text = "".join(unicodedata.normalize("NFKC", text).split())  # math italic 𝜋 reads as π; spacing dropped
    assert "F(0)=1/π" in text and "(1−1/π)/2" in text  # chapter 2's ℱ(0) = 1/π and (1 − 1/π)/2


@pytest.mark.browser
def test_wide_equations_scroll_and_take_the_keyboard_focus_at_phone_width(browser, site_url):
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto(site_url + "consequences/")
    boxes = page.evaluate("""Array.from(document.querySelectorAll('.dl-math')).map(e => ({
        wide: e.scrollWidth > e.clientWidth, overflow: getComputedStyle(e).overflowX,
        focusable: e.tabIndex === 0, height: e.getBoundingClientRect().height}))""")
    assert any(b["wide"] for b in boxes), "a phone is narrower than some equation"
    assert all(b["overflow"] == "auto" and b["focusable"] and b["height"] > 10 for b in boxes)
    wide = page.locator(".dl-math").nth(next(i for i, b in enumerate(boxes) if b["wide"]))
    wide.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("e => e.scrollLeft > 0", arg=wide.element_handle())
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.close()
