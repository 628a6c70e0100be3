"""The built site: exports, manifest, and the pages in a real browser (Playwright + Debian Chromium)."""

import base64
import csv
import io
import json
import re
from urllib.parse import urlparse

import pytest

from figures_src import pipeline
from tests.conftest import BASE_PATH

pytestmark = pytest.mark.build


def pages(site_dir) -> list[str]:
    """Every page of the site, as a path relative to the site root (the embed pages: tests/test_embed.py)."""
    return sorted(str(p.parent.relative_to(site_dir)).replace(".", "") + "/" if p.parent != site_dir else ""
                  for p in site_dir.rglob("index.html") if not {"figures", "search", "embed"} & set(p.parts))


def test_every_figure_is_exported_and_listed_in_the_manifest(site_dir):
    figures = pipeline.discover()
    manifest = {entry["id"]: entry for entry in json.loads((site_dir / "figures" / "manifest.json").read_text())}
    assert set(manifest) == set(figures)
    validator = pipeline.vega_lite_validator()
    for fid, entry in manifest.items():
        assert {"id", "title", "page", "anchor", "files", "parameters", "code_hash"} <= set(entry)
        for name in ("vl.json", "csv", "svg"):
            assert f"figures/{fid}.{name}" in entry["files"]
            assert (site_dir / "figures" / f"{fid}.{name}").stat().st_size > 0
        assert not list(validator.iter_errors(json.loads((site_dir / "figures" / f"{fid}.vl.json").read_text())))
        assert (site_dir / "figures" / f"{fid}.svg").read_text().lstrip().startswith("<svg")
        page = urlparse(entry["page"]).path.split(BASE_PATH, 1)[1]
        assert f'id="{entry["anchor"]}"' in (site_dir / page / "index.html").read_text(), fid


def test_correlation_csv_is_tidy(site_dir):
    rows = list(csv.DictReader(io.StringIO((site_dir / "figures" / "correlation-by-depth.csv").read_text())))
    assert {"layer", "width", "source", "correlation"} <= set(rows[0])
    assert {r["source"] for r in rows} == {"simulation", "theory"}
    assert {r["width"] for r in rows if r["source"] == "simulation"} == {"64", "256", "1024"}
    assert max(int(r["layer"]) for r in rows) == 100


def test_figures_are_numbered_captioned_and_linked(site_dir):
    html = (site_dir / "observation" / "index.html").read_text()
    for number, fid in enumerate(["collapse-function", "collapse-similarity", "correlation-by-depth"], start=1):
        block = html[html.index(f'id="fig-{fid}"'):]
        block = block[:block.index("</figure>")]
        assert f"Figure 1.{number}" in block
        for link in (f"../figures/{fid}.csv", f"../figures/{fid}.svg", f"../figures/src/{fid.replace('-', '_')}.py"):
            assert f'href="{link}"' in block
        assert "{{" not in block  # every living number expanded


def test_no_page_references_another_host(site_dir):
    for html_file in site_dir.rglob("*.html"):
        html = html_file.read_text()
        for tag in re.findall(r"<(?:script|link|img|iframe|source)\b[^>]*>", html):
            url = re.search(r'(?:src|href)="([^"]+)"', tag)
            if url is None or re.search(r'rel="(canonical|alternate)"', tag):  # links, not loads
                continue
            assert not re.match(r"^(https?:)?//", url[1]), f"{html_file}: loads {url[1]}"


ALL_CHARTS_DRAWN = ("Array.from(document.querySelectorAll('.dl-chart')).every("
                    "e => e.classList.contains('dl-rendered') || e.classList.contains('dl-failed'))")


def draw_every_chart(page):
    """Charts draw as they come near the viewport; window.dlFigures.draw asks for each one at once."""
    page.wait_for_function("window.dlFigures")
    page.evaluate("Promise.all(Array.from(document.querySelectorAll('.dl-chart')).map(e => window.dlFigures.draw(e)))")
    page.wait_for_function(ALL_CHARTS_DRAWN, timeout=30_000)


def open_page(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log = {"errors": [], "requests": []}
    page.on("console", lambda m: m.type == "error" and log["errors"].append(m.text))
    page.on("pageerror", lambda e: log["errors"].append(str(e)))
    page.on("request", lambda r: log["requests"].append(r.url))
    page.goto(url)
    draw_every_chart(page)
    return page, log


@pytest.mark.browser
def test_every_chart_on_every_page_renders_without_errors_or_outside_requests(browser, site_dir, site_url):
    host = urlparse(site_url).netloc
    for path in pages(site_dir):
        page, log = open_page(browser, site_url + path)
        charts = page.locator(".dl-chart")
        for i in range(charts.count()):
            chart = charts.nth(i)
            assert "dl-rendered" in chart.get_attribute("class"), chart.get_attribute("data-figure")
            assert chart.locator(".dl-chart-view svg .mark-group").count() > 0
        assert log["errors"] == [], (path, log["errors"])
        outside = [u for u in log["requests"] if urlparse(u).netloc != host and not u.startswith("data:")]
        assert outside == [], (path, outside)
        page.close()


def chart_svg(page, fid):
    return page.locator(f"#fig-{fid} .dl-chart-view svg").inner_html()


@pytest.mark.browser
def test_moving_a_slider_changes_the_chart(browser, site_url):
    page, log = open_page(browser, site_url + "observation/")
    for fid, value in (("collapse-similarity", "50"), ("collapse-function", "1")):
        before = chart_svg(page, fid)
        slider = page.locator(f"#fig-{fid} input[type=range]")
        slider.evaluate("(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); }", value)
        # Wait for the redraw itself, not a fixed time: the title follows the slider.
        page.wait_for_function("([fid, text]) => document.querySelector(`#fig-${fid} .dl-chart-view svg`)"
                               ".innerHTML.includes(text)", arg=[fid, f"layer {value}"], timeout=10_000)
        assert chart_svg(page, fid) != before, fid
    assert log["errors"] == []


@pytest.mark.browser
def test_dark_mode_toggle_rerenders_the_charts(browser, site_url):
    page, log = open_page(browser, site_url + "observation/")
    label_colour = "document.querySelector('#fig-correlation-by-depth .role-axis-label text').getAttribute('fill')"
    light = page.evaluate(label_colour)
    page.locator("form[data-md-component=palette] label:visible").first.click()
    page.wait_for_function("Array.from(document.querySelectorAll('.dl-chart')).every(e => e.dataset.scheme === 'dark')")
    assert page.evaluate(label_colour) != light
    assert log["errors"] == []


@pytest.mark.browser
def test_charts_render_after_instant_navigation(browser, site_url):
    page, log = open_page(browser, site_url)
    page.evaluate("window.notReloaded = true")
    page.locator("article a[href$='observation/']").first.click()
    page.wait_for_function("document.querySelectorAll('.dl-chart').length === 3", timeout=30_000)
    draw_every_chart(page)
    assert page.evaluate("window.notReloaded === true"), "the click did a full reload, not instant navigation"
    assert log["errors"] == []


@pytest.mark.browser
def test_phone_width_has_no_horizontal_scroll_and_shows_every_equation(browser, site_url):
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto(site_url + "observation/")
    draw_every_chart(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    sizes = page.evaluate("Array.from(document.querySelectorAll('.dl-math > math'))"
                          ".map(s => s.getBoundingClientRect().width)")
    assert sizes and min(sizes) > 50  # a collapsed (invisible) equation measures ~1 px
    chart_widths = page.evaluate("Array.from(document.querySelectorAll('.dl-chart-view svg'))"
                                 ".map(s => s.getBoundingClientRect().right)")
    assert max(chart_widths) <= 390
    page.close()


# Boxes that scroll sideways on a phone: display equations and Material's table wrappers.
SCROLLING = ".md-typeset .dl-math, .md-typeset .md-typeset__scrollwrap"
# The largest difference of a colour channel between two PNG images of the same size (base64), in 0–255.
LARGEST_DIFFERENCE = """async images => {
  const pixels = await Promise.all(images.map(async png => {
    const image = new Image();
    image.src = 'data:image/png;base64,' + png;
    await image.decode();
    const canvas = new OffscreenCanvas(image.width, image.height), context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    return context.getImageData(0, 0, image.width, image.height).data;
  }));
  return pixels[0].reduce((largest, value, index) => Math.max(largest, Math.abs(value - pixels[1][index])), 0);
}"""


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_box_that_scrolls_sideways_shades_the_edge_where_more_of_it_lies(browser, site_url, scheme):
    """At phone width a wide equation or table is cut at the column's edge; a shade there says it scrolls. Each
    edge of a box is compared with the same edge drawn without the shades: a box that fits looks as it would."""
    context = browser.new_context(viewport={"width": 390, "height": 800}, color_scheme=scheme)
    page = context.new_page()

    def edges(box, unshaded: bool) -> list[str]:
        """The box's left and right edges (10 px wide) as PNG images in base64, drawn with or without the shades."""
        page.evaluate("off => document.documentElement.classList.toggle('dl-test-unshaded', off)", unshaded)
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        rect = box.bounding_box()
        return [base64.b64encode(page.screenshot(clip={"x": x, "y": rect["y"], "width": 10, "height": rect["height"]}))
                .decode() for x in (rect["x"], rect["x"] + rect["width"] - 10)]

    def shaded_edges(box) -> list[bool]:
        """Whether the left and right edges are visibly darker or lighter than without the shades (a gradient's
        colour may round one level away from the page's: not a shade)."""
        box.scroll_into_view_if_needed()
        return [page.evaluate(LARGEST_DIFFERENCE, [a, b]) > 8 for a, b in zip(edges(box, False), edges(box, True))]

    for path, kind in (("consequences/", "dl-math"), ("instructors/", "md-typeset__scrollwrap")):
        page.goto(site_url + path)
        page.add_style_tag(content=".dl-test-unshaded :is(.dl-math, .md-typeset__scrollwrap) "
                                   "{ background: none !important; }")
        boxes = page.locator(SCROLLING)
        seen = boxes.evaluate_all("(boxes, kind) => boxes.map(e => e.classList.contains(kind) && e.checkVisibility() "
                                  "&& (e.scrollWidth > e.clientWidth ? 'wide' : 'fits'))", kind)
        assert "wide" in seen, f"{path}: some {kind} is wider than a phone's column"
        wide = boxes.nth(seen.index("wide"))
        assert shaded_edges(wide) == [False, True], f"{path} ({scheme}): at the start, a shade on the right only"
        wide.evaluate("e => { e.scrollLeft = (e.scrollWidth - e.clientWidth) / 2; }")
        assert shaded_edges(wide) == [True, True], f"{path} ({scheme}): midway, a shade on each side"
        wide.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
        assert shaded_edges(wide) == [True, False], f"{path} ({scheme}): at the end, a shade on the left only"
        if "fits" in seen:
            assert shaded_edges(boxes.nth(seen.index("fits"))) == [False, False], f"{path}: a box that fits is unshaded"
    context.close()


@pytest.mark.browser
def test_charts_render_from_the_built_folder_opened_directly(browser, site_dir):
    page, log = open_page(browser, (site_dir / "observation" / "index.html").as_uri())
    assert page.locator(".dl-chart.dl-rendered").count() == 3
    assert [u for u in log["requests"] if not u.startswith(("file://", "data:"))] == []
    assert log["errors"] == []


@pytest.mark.browser
def test_every_page_of_the_offline_copy_works_from_disk(browser, offline_dir):
    """The zip's pages, opened as files: every chart drawn, no error, nothing asked of another host."""
    files = sorted(p for p in offline_dir.rglob("*.html") if p.name != "404.html")
    assert {p.stem for p in files} >= {"index", "overview", "observation", "reasons", "consequences", "solutions",
                                       "summary", "references", "print_page"}
    assert len([p for p in files if p.parent.name == "notebooks"]) == 5  # their index and the four notebooks
    for html_file in files:
        page, log = open_page(browser, html_file.as_uri())
        assert page.locator(".dl-chart").count() == page.locator(".dl-chart.dl-rendered").count(), html_file
        assert [u for u in log["requests"] if not u.startswith(("file://", "data:"))] == [], html_file
        assert log["errors"] == [], (html_file, log["errors"])
        page.close()


@pytest.mark.browser
def test_the_offline_copy_navigates_and_searches_from_disk(browser, offline_dir):
    page, log = open_page(browser, (offline_dir / "index.html").as_uri())
    page.get_by_role("link", name="1. Observation").first.click()
    page.wait_for_url("**/observation.html")
    draw_every_chart(page)
    assert page.locator(".dl-chart.dl-rendered").count() == 3
    page.locator("input.md-search__input").fill("batch normalisation")
    page.wait_for_function("document.querySelectorAll('.md-search-result__item').length > 0", timeout=10_000)
    assert "matching" in page.locator(".md-search-result__meta").inner_text()
    page.locator(".md-search-result__item a").first.click()
    page.wait_for_load_state("load")
    assert page.url.startswith("file://") and ".html" in page.url
    assert [u for u in log["requests"] if not u.startswith(("file://", "data:"))] == []
    assert log["errors"] == []


@pytest.mark.browser
def test_a_link_opens_a_chart_in_its_state_and_ignores_invalid_values(browser, site_url):
    page, log = open_page(browser, site_url + "observation/?collapse-similarity.layer=50"
                                   "&collapse-function.layer=999&collapse-function.view=banana#fig-collapse-similarity")
    assert "layer 50" in chart_svg(page, "collapse-similarity")
    assert page.locator("#fig-collapse-similarity input[type=range]").input_value() == "50"
    assert "layer 100" in chart_svg(page, "collapse-function")  # out of range: the default, not a broken chart
    assert log["errors"] == []


@pytest.mark.browser
def test_a_menu_takes_a_number_as_typed_by_hand(browser, site_url):
    """A link written by hand with 1.0 for the menu's option 1 opens the chart at 1, not at its default."""
    page, log = open_page(browser, site_url + "solutions/?residual-collapse.branch_var=1.0#fig-residual-collapse")
    chart_svg(page, "residual-collapse")
    chosen = page.eval_on_selector("#fig-residual-collapse .dl-chart",
                                   "e => window.dlFigures.viewOf(e).signal('branch_var')")
    assert chosen == 1 and log["errors"] == []


@pytest.mark.browser
def test_moving_a_slider_updates_the_link(browser, site_url):
    page, log = open_page(browser, site_url + "observation/")
    page.locator("#fig-collapse-similarity input[type=range]").evaluate(
        "el => { el.value = 7; el.dispatchEvent(new Event('input', {bubbles: true})); }")
    page.wait_for_function("location.search.includes('collapse-similarity.layer=7')")
    assert page.url.endswith("#fig-collapse-similarity")
    reopened, _ = open_page(browser, page.url)
    assert "layer 7" in chart_svg(reopened, "collapse-similarity")
    assert log["errors"] == []
    # The charts drawn before the address changed still find their gradients (the cosine legend's colour
    # ramp) and clip paths: every url(…#id) reference in them names this document and an element in it.
    dangling = page.evaluate("""() => Array.from(document.querySelectorAll('.dl-chart-view svg *'))
        .flatMap(n => ['fill', 'stroke', 'clip-path'].map(a => n.getAttribute(a) || ''))
        .filter(v => v.startsWith('url('))
        .filter(v => { const [before, id] = v.slice(4, -1).replace(/['"]/g, '').split('#');
                       return (before && before !== location.href.split('#')[0]) || !document.getElementById(id); })""")
    assert page.locator("#fig-collapse-similarity svg [fill^='url(']").count() > 0  # the legend's ramp
    assert dangling == []


SCHEME_RULES = ["color-contrast", "link-in-text-block"]


@pytest.mark.browser
def test_no_serious_accessibility_violations(browser, site_dir, site_url):
    """axe-core, run in the page after the charts are drawn, in light and dark mode."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    # The print page is the PDF's source: the chapters again, one after another (test_pdf.py checks the PDF).
    for path in [p for p in pages(site_dir) if not p.startswith("print_page")]:
        for scheme in ("light", "dark"):
            context = browser.new_context(color_scheme=scheme)
            page = context.new_page()
            page.goto(site_url + path)
            draw_every_chart(page)
            # Every rule in light mode; in dark mode only the rules a colour scheme can change.
            options = {"resultTypes": ["violations"]} | ({} if scheme == "light" else {"runOnly": SCHEME_RULES})
            violations = [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
                          for v in axe.run(page, options=options).response["violations"]
                          if v["impact"] in ("serious", "critical", "moderate")]
            assert violations == [], (path, scheme, violations)
            context.close()
