"""The notebook stylesheet cut down to what the notebook pages use (css_prune.py): the pruning on small cases,
and on the built site a notebook page styled the same, element by element, by the full and the pruned sheet."""

import pytest
from mkdocs_jupyter.nbconvert2 import nb2html

from figures_src.mkdocs_plugin.css_prune import prune
from figures_src.mkdocs_plugin.notebooks import STYLESHEET, take_styles

PAGE = """<!doctype html><html><head></head><body data-md-color-scheme="default">
<div class="jupyter-wrapper"><div class="jp-Cell"><pre class="code">x = 1</pre><button>Run</button></div></div>
</body></html>"""
SCHEMES = [{"data-md-color-scheme": "default"}, {"data-md-color-scheme": "slate"}]


def pruned(css: str, other_css: tuple[str, ...] = ()) -> str:
    return prune(css, [PAGE], SCHEMES, list(other_css))


def test_a_used_rule_stays_and_an_unused_one_goes():
    out = pruned(".jp-Cell pre{color:red}.bp3-dialog{color:blue}#absent{color:green}.jupyter-wrapper table{x:y}")
    assert ".jp-Cell pre{color:red}" in out
    assert "bp3-dialog" not in out and "absent" not in out and "table" not in out


def test_a_selector_list_stays_whole_when_one_of_its_selectors_matches():
    assert ".bp3-dialog,.jp-Cell{color:red}" in pruned(".bp3-dialog,.jp-Cell{color:red}")


def test_state_and_pseudo_elements_do_not_hide_a_used_rule():
    out = pruned(".jp-Cell button:hover{color:red}.jp-Cell ::-webkit-scrollbar{width:4px}"
                 "pre.code::before{content:'>'}.jp-Cell:focus-within{outline:0}.bp3-icon:hover{color:blue}")
    for kept in (".jp-Cell button:hover", ".jp-Cell ::-webkit-scrollbar", "pre.code::before",
                 ".jp-Cell:focus-within"):
        assert kept in out
    assert "bp3-icon" not in out


def test_root_counts_as_the_document_root():
    out = pruned(".jupyter-wrapper :root{--jp-a:1px;margin:0}:root{margin:1px}")
    assert ".jupyter-wrapper :root" not in out and ":root{margin:1px}" in out


def test_rules_for_the_other_colour_scheme_stay():
    out = pruned("[data-md-color-scheme=slate] .jp-Cell{color:white}[data-md-color-scheme=sepia] pre{color:brown}")
    assert "[data-md-color-scheme=slate] .jp-Cell{color:white}" in out and "sepia" not in out


def test_custom_properties_stay_when_used_transitively_and_go_otherwise():
    css = (".jupyter-wrapper{--jp-used:var(--jp-base);--jp-base:var(--jp-deep, 1px);--jp-deep:2px;"
           "--jp-unused:var(--jp-only-unused);--jp-only-unused:3px;--jp-site:4px}"
           ".jp-Cell{padding:var(--jp-used)}.bp3-dialog{margin:var(--jp-dead)}.jupyter-wrapper{--jp-dead:5px}")
    out = pruned(css, (".md-typeset{margin:var(--jp-site)}",))
    for name in ("--jp-used", "--jp-base", "--jp-deep", "--jp-site"):
        assert f"{name}:" in out
    for name in ("--jp-unused", "--jp-only-unused", "--jp-dead"):
        assert f"{name}:" not in out
    assert out.count(".jupyter-wrapper{") == 1  # the rule left with no declaration goes


def test_an_unparsable_selector_keeps_its_rule():
    assert "color:blue" in pruned(".jp-Cell >>> .absent{color:blue}")


def test_media_blocks_keep_their_used_rules_and_go_when_empty():
    out = pruned("@media print{.jp-Cell{display:block}.bp3-dialog{display:none}}"
                 "@media (min-width:4320px){.bp3-dialog{zoom:2}}")
    assert "@media print{.jp-Cell{display:block}}" in out.replace(" {", "{")
    assert "4320px" not in out and "bp3" not in out


def test_keyframes_and_font_faces_stay_only_when_named():
    out = pruned("@keyframes spin{to{transform:rotate(1turn)}}@keyframes glow{to{opacity:0}}"
                 "@font-face{font-family:'Jupyter Mono';src:local(x)}@font-face{font-family:Unused;src:local(y)}"
                 ".jp-Cell{animation:spin 1s;font-family:'Jupyter Mono',monospace}.bp3-dialog{animation:glow 1s}")
    assert "spin{" in out.replace(" {", "{") and "Jupyter Mono';src" in out.replace('"', "'")
    assert "glow" not in out and "Unused" not in out


def test_the_order_of_kept_rules_is_the_cascade_order_and_rebuilds_are_identical():
    css = ".jp-Cell{color:red}.bp3-x{color:blue}pre{color:green}.jp-Cell{color:black}"
    out = pruned(css)
    assert out.index("color:red") < out.index("color:green") < out.index("color:black")
    assert pruned(css) == out


STYLES = r"""() => Array.from(document.querySelectorAll('*')).map(e => {
  const style = getComputedStyle(e), properties = [];
  for (let i = 0; i < style.length; i++)
    if (!style[i].startsWith('--')) properties.push(style[i] + ': ' + style.getPropertyValue(style[i]));
  return [e.tagName + (e.id ? '#' + e.id : '') + '.' + String(e.className.baseVal ?? e.className), properties];
})"""
CHARTS_DRAWN = ("Array.from(document.querySelectorAll('.dl-chart')).every("
                "e => e.classList.contains('dl-rendered') || e.classList.contains('dl-failed'))")


def computed_styles(browser, url: str, width: int, scheme: str, stylesheet: str | None):
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    if stylesheet is not None:
        page.route(f"**/{STYLESHEET}", lambda route: route.fulfill(body=stylesheet, content_type="text/css"))
    page.goto(url)
    page.wait_for_function("window.dlFigures")
    page.evaluate("Promise.all(Array.from(document.querySelectorAll('.dl-chart')).map(e => window.dlFigures.draw(e)))")
    page.wait_for_function(CHARTS_DRAWN, timeout=30_000)
    # Material sizes some elements from script after load (the search panel from the header's height): read
    # the styles once two readings a moment apart agree, so a slow machine compares settled pages.
    styles, previous = page.evaluate(STYLES), None
    for _ in range(20):
        if styles == previous:
            break
        page.wait_for_timeout(250)
        styles, previous = page.evaluate(STYLES), styles
    page.close()
    return styles


@pytest.mark.browser
@pytest.mark.build
def test_the_pruned_stylesheet_styles_every_element_of_a_notebook_page_as_the_full_one(browser, site_dir, site_url):
    """Every property of every element (charts drawn), light and dark, desktop and phone width; custom
    properties aside, which the pruning drops when no style uses them."""
    notebook = site_dir / "notebooks" / "observation" / "observation.ipynb"
    full = "\n".join(take_styles(nb2html(str(notebook)))[1]) + "\n"
    pruned_size = (site_dir / STYLESHEET).stat().st_size
    assert pruned_size < len(full.encode()) / 10, f"pruned to {pruned_size} bytes of {len(full.encode())}"
    url = site_url + "notebooks/observation/"
    for scheme in ("light", "dark"):
        for width in (1280, 390):
            with_full = computed_styles(browser, url, width, scheme, full)
            with_pruned = computed_styles(browser, url, width, scheme, None)
            assert len(with_full) == len(with_pruned) > 1000
            for (element, full_style), (_, pruned_style) in zip(with_full, with_pruned):
                assert pruned_style == full_style, (
                    f"{scheme}, {width} px: {element} styled differently: "
                    f"{sorted(set(full_style) ^ set(pruned_style))[:6]}")
