"""When charts load and draw (figures/loader.js, figures.js): only on pages that have them, as they come near,
the linked one at once, every one before printing; nothing in view moves when a chart replaces its static SVG, and
assistive technology hears each chart's text alternative and controls, not its marks."""

import itertools
import re

import pytest

from figures_src import theme
from figures_src.mkdocs_plugin.pdf import A4_CONTENT_WIDTH, MARGINS
from tests.test_site import ALL_CHARTS_DRAWN, draw_every_chart

pytestmark = [pytest.mark.build, pytest.mark.browser]

VEGA = "figures/vendor/vega.js"
CHAPTER = "consequences/"  # six charts, the last one screens below the first
LAST_CHART = "#fig-training-by-depth .dl-chart"
FIRST_CHART_DRAWN = "document.querySelector('.dl-chart.dl-rendered') !== null"
CHART_PAGES = ("", "observation/", "reasons/", "consequences/", "solutions/")  # the overview repeats their charts
SIDE_BY_SIDE = "solutions-summary"  # five views in a row on a wide screen


def open_page(browser, url, width=1280, height=900):
    page = browser.new_page(viewport={"width": width, "height": height})
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url)
    return page, requests


def drawn(page, selector):
    return page.eval_on_selector(selector, "e => e.classList.contains('dl-rendered')")


def test_a_page_without_charts_loads_no_chart_code(browser, site_url):
    page, requests = open_page(browser, site_url + "summary/")
    page.wait_for_load_state("networkidle")
    assert page.locator(".dl-chart").count() == 0
    assert [u for u in requests if u.endswith((VEGA, "figures/figures.js", "figures/theme.js"))] == []
    assert any(u.endswith("figures/loader.js") for u in requests)
    page.close()


def test_a_chart_below_the_first_screen_draws_when_scrolled_to(browser, site_url):
    page, requests = open_page(browser, site_url + CHAPTER)
    page.wait_for_function(FIRST_CHART_DRAWN, timeout=30_000)
    page.wait_for_load_state("networkidle")
    assert any(u.endswith(VEGA) for u in requests)  # the first screen's chart, drawn when the page was idle
    assert not drawn(page, LAST_CHART)
    page.locator(LAST_CHART).scroll_into_view_if_needed()
    page.wait_for_function(f"document.querySelector('{LAST_CHART}').classList.contains('dl-rendered')",
                           timeout=30_000)
    page.close()


def test_a_chart_the_link_points_at_draws_at_once(browser, site_url):
    page, _ = open_page(browser, site_url + CHAPTER + "#fig-training-by-depth")
    page.wait_for_function(f"document.querySelector('{LAST_CHART}').classList.contains('dl-rendered')",
                           timeout=30_000)
    page.wait_for_load_state("networkidle")
    assert not drawn(page, "#fig-taylor-fight .dl-chart")  # the page's first chart, screens above, waits
    page.close()


def test_printing_draws_every_chart(browser, site_url):
    page, _ = open_page(browser, site_url + CHAPTER)
    page.wait_for_function(FIRST_CHART_DRAWN, timeout=30_000)
    assert page.locator(".dl-chart.dl-rendered").count() < page.locator(".dl-chart").count()
    page.emulate_media(media="print")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")  # what the browser sends before printing
    page.wait_for_function(ALL_CHARTS_DRAWN, timeout=60_000)
    assert page.locator(".dl-chart.dl-failed").count() == 0
    page.close()


def test_on_paper_every_figure_fits_one_page_with_its_caption(browser, site_url):
    """At the PDF's column width (A4 between its margins), each figure, chart and caption, is shorter than
    the page between its margins: taller, it would be cut at the page's edge or lose its caption."""
    page_height = (297 - sum(int(MARGINS[side].removesuffix("mm")) for side in ("top", "bottom"))) / 25.4 * 96
    too_tall = []
    for path in ("", "overview/", "observation/", "reasons/", "consequences/", "solutions/"):
        page, _ = open_page(browser, site_url + path, width=A4_CONTENT_WIDTH, height=1100)
        page.wait_for_function("window.dlFigures")
        page.emulate_media(media="print")
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        page.wait_for_function(ALL_CHARTS_DRAWN, timeout=60_000)
        too_tall += [f"{path or 'home'} {figure}: {height:.0f} px" for figure, height in page.evaluate(
            "() => Array.from(document.querySelectorAll('figure.dl-figure'))"
            ".map(f => [f.id, f.getBoundingClientRect().height])") if height > page_height]
        page.close()
    assert too_tall == [], f"taller than the {page_height:.0f}-px page: {too_tall}"


# Every layout shift the page reports (the Layout Instability API Lighthouse reads), from its first paint.
RECORD_SHIFTS = """window.dlShifts = [];
new PerformanceObserver(list => list.getEntries().forEach(e => { if (!e.hadRecentInput) window.dlShifts.push(e.value); }))
    .observe({type: 'layout-shift', buffered: true});"""


@pytest.mark.parametrize("width", [1280, 390])
def test_reading_down_a_chapter_shifts_nothing_in_view(browser, site_url, width):
    """A reader scrolls through each chapter while its charts replace their static SVGs as they come near: the
    cumulative layout shift stays below 0.02 (Lighthouse's "good" ends at 0.1). A chart whose drawn height
    differs from its SVG's grows below the viewport, where nothing in view moves."""
    for path in CHART_PAGES:
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.add_init_script(RECORD_SHIFTS)
        page.goto(site_url + path)
        page.wait_for_load_state("load")
        while page.evaluate("window.scrollY + innerHeight < document.documentElement.scrollHeight - 2"):
            page.evaluate("window.scrollBy(0, innerHeight * 0.8)")
            page.wait_for_function("""Array.from(document.querySelectorAll('.dl-chart')).every(e => {
                const r = e.getBoundingClientRect();
                return r.bottom < 0 || r.top > innerHeight || e.classList.contains('dl-rendered'); })""",
                                   timeout=60_000)  # generous: charts draw when the browser is idle
        assert page.locator(".dl-chart.dl-rendered").count() == page.locator(".dl-chart").count(), path
        shift = page.evaluate("window.dlShifts.reduce((a, b) => a + b, 0)")
        assert shift < 0.02, (path, width, shift)
        page.close()


def test_static_svgs_reserve_their_size_and_load_lazily(site_dir):
    html = (site_dir / CHAPTER / "index.html").read_text()
    images = re.findall(r'<img class="dl-static[^"]*"[^>]*>', html)
    stacked = [tag for tag in images if "dl-stacked" in tag]  # a chart laid out for a narrow column too
    assert len(images) - len(stacked) == len(re.findall(r'<div class="dl-chart"', html)) == 6
    assert len(stacked) >= 1
    for tag in images:
        assert 'loading="lazy"' in tag
        width, height = int(re.search(r'width="(\d+)"', tag)[1]), int(re.search(r'height="(\d+)"', tag)[1])
        svg = (site_dir / CHAPTER / re.search(r'src="([^"]+)"', tag)[1]).read_text()
        assert f'width="{width}" height="{height}"' in svg[:300]


def test_charts_expose_their_text_alternative_and_controls_not_their_marks(browser, site_url):
    page, _ = open_page(browser, site_url + "observation/")
    draw_every_chart(page)
    nodes = page.context.new_cdp_session(page).send("Accessibility.getFullAXTree")["nodes"]
    exposed = [n for n in nodes if not n.get("ignored")]
    roles = [n.get("role", {}).get("value") for n in exposed]
    assert "graphics-symbol" not in roles and "graphics-object" not in roles
    names = [n["name"]["value"] for n in exposed if n.get("role", {}).get("value") == "graphics-document"]
    alts = page.eval_on_selector_all(".dl-static", "imgs => imgs.map(i => i.alt)")
    assert names == alts and len(names) == 3
    assert roles.count("slider") >= 2  # the layer sliders stay reachable
    page.close()


DRAW_AND_MEASURE = """async () => {
  const out = [];
  for (const chart of document.querySelectorAll('.dl-chart')) {
    const reserved = parseFloat(getComputedStyle(chart).minHeight);
    await window.dlFigures.draw(chart);
    const view = chart.querySelector('.dl-chart-view');  // the drawing and its controls
    out.push({figure: chart.dataset.figure, column: chart.clientWidth,
              natural: Number(view.querySelector('svg').getAttribute('width')),
              drawn: view.getBoundingClientRect().height, reserved: reserved});
  }
  return out;
}"""


@pytest.mark.parametrize("width", [1280, 390])
def test_every_chart_is_drawn_at_full_size_in_the_space_kept_for_it(browser, site_url, width):
    """A chart wider than its column would be shrunk whole, its text with it (on a phone, to half size); a drawing
    shorter than its reserved space would leave a blank band under it. Every chart on every chapter fits its
    column at its own size and fills the height kept for it (2 % either way for the browser's fonts, which
    differ from those the static SVG was measured with)."""
    problems = []
    for path in CHART_PAGES:
        page, _ = open_page(browser, site_url + path, width=width)
        for chart in page.evaluate(DRAW_AND_MEASURE):
            if chart["natural"] > 1.02 * chart["column"]:
                problems.append(f"{path or 'home'} {chart['figure']}: drawn {chart['natural']:.0f} px wide in a "
                                f"{chart['column']} px column")
            if chart["drawn"] < 0.98 * chart["reserved"]:
                problems.append(f"{path or 'home'} {chart['figure']}: drawn {chart['drawn']:.0f} px tall in "
                                f"{chart['reserved']:.0f} px kept for it")
        page.close()
    assert problems == [], "\n".join(problems)


def static_shown(page, figure):
    """The static SVGs the figure shows before its chart is drawn."""
    return page.eval_on_selector(f"#fig-{figure} .dl-chart", """e => Array.from(e.querySelectorAll('img.dl-static'))
        .filter(i => getComputedStyle(i).display !== 'none').map(i => i.src.split('/').pop())""")


def drawn_size(page, figure):
    page.eval_on_selector(f"#fig-{figure} .dl-chart", "e => window.dlFigures.draw(e)")
    return page.eval_on_selector(f"#fig-{figure} .dl-chart-view svg",
                                 "s => [s.getBoundingClientRect().width, s.getBoundingClientRect().height]")


def opened_at(browser, url, figure, width):
    """The page at a window width, its requests, and the figure's static SVG checked: the stacked one in a
    phone's window (its column is narrower still), the wide one in a desktop's."""
    assert width < theme.MIN_SIDE_BY_SIDE or width >= 1024, "a width whose column is unambiguously either side"
    page, requests = open_page(browser, url, width=width)
    stacked = width < theme.MIN_SIDE_BY_SIDE
    assert static_shown(page, figure) == [f"{figure}.stacked.svg" if stacked else f"{figure}.svg"]
    return page, requests


def test_views_side_by_side_stack_in_a_narrow_column_and_only_the_image_shown_loads(browser, site_url):
    wide, _ = opened_at(browser, site_url + "solutions/", SIDE_BY_SIDE, 1280)
    width, height = drawn_size(wide, SIDE_BY_SIDE)
    assert width > 2 * height
    wide.close()
    narrow, requests = opened_at(browser, site_url + "solutions/", SIDE_BY_SIDE, 390)
    narrow.locator(f"#fig-{SIDE_BY_SIDE}").scroll_into_view_if_needed()
    narrow.wait_for_load_state("networkidle")
    assert not any(u.endswith(f"/{SIDE_BY_SIDE}.svg") for u in requests)  # the hidden wide image is not fetched
    width, height = drawn_size(narrow, SIDE_BY_SIDE)
    assert height > 2 * width
    narrow.set_viewport_size({"width": 1280, "height": 900})  # turned to landscape on a tablet: side by side again
    narrow.wait_for_function(f"""(() => {{ const s = document.querySelector('#fig-{SIDE_BY_SIDE} .dl-chart-view svg');
        return s && s.getBoundingClientRect().width > 2 * s.getBoundingClientRect().height; }})()""", timeout=30_000)
    narrow.close()


def test_a_facet_with_a_narrow_layout_transposes_in_a_phone_column(browser, site_url):
    """residual-function: architectures in rows and three depths across on a wide page; on a phone the depths
    go down and two panels share a row, each wide enough to read its curves."""
    figure = "residual-function"
    wide, _ = opened_at(browser, site_url + "solutions/", figure, 1280)
    width, height = drawn_size(wide, figure)
    assert width > 1.5 * height
    wide.close()
    narrow, _ = opened_at(browser, site_url + "solutions/", figure, 390)
    width, height = drawn_size(narrow, figure)
    assert height > 1.1 * width
    lines = narrow.eval_on_selector_all(f"#fig-{figure} .dl-chart-view svg g.mark-line.role-mark",
                                        "ls => ls.map(l => l.getBoundingClientRect().width)")
    assert len(lines) == 6 * 3 and min(lines) > 110, lines  # six panels of three readouts, each across its panel
    narrow.close()


def test_five_views_go_two_by_row_in_a_wide_column_and_one_above_another_on_a_phone(browser, site_url):
    """depth-explorer: five views, one above another, were taller than a laptop's screen and printed with text
    of a few points; in a wide column they go two by row (the PDF's page too), on a phone one above another."""
    figure = "depth-explorer"
    for width, right_hand in ((1280, ["(b)", "(d)"]), (390, [])):
        page, _ = opened_at(browser, site_url, figure, width)
        page.eval_on_selector(f"#fig-{figure} .dl-chart", "e => window.dlFigures.draw(e)")
        chart = page.eval_on_selector(f"#fig-{figure} .dl-chart", "e => [e.getBoundingClientRect().left, e.clientWidth]")
        titles = page.eval_on_selector_all(  # each view's title, "(a) …" to "(e) …", and where it starts
            f"#fig-{figure} .dl-chart-view svg .role-title-text text", """ts => ts.filter(t => /^\\([a-e]\\)/.test(t.textContent))
                .map(t => [t.textContent.slice(0, 3), t.getBoundingClientRect().left, t.getBoundingClientRect().top])""")
        assert [name for name, _, _ in titles] == ["(a)", "(b)", "(c)", "(d)", "(e)"], titles
        assert [name for name, left, _ in titles if left - chart[0] > chart[1] / 3] == right_hand, (width, titles)
        tops = [top for _, _, top in titles]
        below = [b > a + 40 for a, b in zip(tops, tops[1:])]  # a row lower (a title of two lines starts higher)
        assert below == ([False, True, False, True] if right_hand else [True] * 4), (width, titles)
        svg_width = page.eval_on_selector(f"#fig-{figure} .dl-chart-view svg", "s => s.getBoundingClientRect().width")
        assert chart[1] - 40 <= svg_width <= chart[1] + 0.5, (width, svg_width, chart)  # the views fill the column
        page.close()


def test_a_chart_taller_than_the_screen_keeps_its_controls_in_view(browser, site_url):
    """On a phone the hero is about 1,300 px tall, its controls under view (e): a reader who moved them had to
    scroll a screen and a half back up to see (a) to (c) change. While any part of the chart is on screen its
    controls stay on screen, over the chart's foot; past the chart they go with it."""
    figure, height = "depth-explorer", 844
    page, _ = opened_at(browser, site_url, figure, 390)
    page.set_viewport_size({"width": 390, "height": height})
    chart = f"#fig-{figure} .dl-chart"
    page.eval_on_selector(chart, "e => window.dlFigures.draw(e)")
    box = page.eval_on_selector(chart, "e => { const r = e.getBoundingClientRect(); return [r.top + scrollY, r.height]; }")
    assert box[1] > 1.4 * height, box  # taller than the screen, or this tests nothing
    where = []
    for offset in (0, box[1] / 3, 2 * box[1] / 3, box[1] + 200):  # the chart's top at the screen's top, …, past it
        page.evaluate("y => scrollTo(0, y)", box[0] + offset)
        page.wait_for_timeout(100)
        where.append(page.eval_on_selector(f"{chart} .vega-bindings", "b => { const r = b.getBoundingClientRect(); "
                                           "return [Math.round(r.top), Math.round(r.bottom)]; }"))
    on_chart, past = where[:3], where[3]
    assert all(0 <= top and bottom <= height for top, bottom in on_chart), where  # in view
    # at the screen's foot while the chart runs on below it (a third from the end, they end the chart there)
    assert all(bottom >= height - 4 for _, bottom in on_chart[:2]), where
    assert past[1] <= 0, where  # scrolled past the chart, the controls left with it
    # and they hide nothing of the chart when it is all on screen: below the drawing, as before
    page.set_viewport_size({"width": 390, "height": int(box[1]) + 400})
    page.evaluate("y => scrollTo(0, y)", box[0] - 100)
    svg_bottom, controls_top = page.eval_on_selector(chart, "e => [e.querySelector('svg').getBoundingClientRect().bottom, "
                                                            "e.querySelector('.vega-bindings').getBoundingClientRect().top]")
    assert controls_top >= svg_bottom - 0.5, (svg_bottom, controls_top)
    page.close()


# Moves the chart's controls to `state`, then names every text of the drawing that lies outside it.
TEXTS_OUTSIDE_AFTER = """(element, state) => {
  const view = window.dlFigures.viewOf(element);
  Object.entries(state).forEach(([name, value]) => view.signal(name, value));
  return view.runAsync().then(() => {
    const svg = element.querySelector('.dl-chart-view:not(.dl-drawing) svg'), box = svg.getBoundingClientRect();
    const shown = t => { for (let e = t; e !== svg; e = e.parentNode) if (getComputedStyle(e).opacity === '0') return false;
                         return true; };  // Vega hides a label it cannot fit (labelBound) with opacity 0
    return Array.from(svg.querySelectorAll('text')).filter(t => t.textContent.trim() && shown(t))
      .map(t => [t, t.getBoundingClientRect()])
      .filter(([t, r]) => r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1 ||
                                          r.top < box.top - 1 || r.bottom > box.bottom + 1))
      .map(([t, r]) => `"${t.textContent}" at ${Math.round(r.left - box.left)},${Math.round(r.bottom - box.top)} ` +
                       `in ${Math.round(box.width)}x${Math.round(box.height)}`);
  });
}"""

CONTROLS = "element => window.dlFigures.controlsOf(element)"


def control_values(bind: dict) -> list:
    if bind.get("options"):
        return bind["options"]
    if bind["input"] == "checkbox":
        return [True, False]
    steps = round((bind["max"] - bind["min"]) / bind.get("step", 1))
    return [bind["min"] + k * bind.get("step", 1) for k in sorted({0, steps // 3, 2 * steps // 3, steps})]


def test_every_control_state_keeps_every_label_inside_the_drawing(browser, site_url):
    """Vega sizes a drawing for its first state: a control whose state widened an axis's labels pushed the
    hero's lower views past the drawing's edge (depth 30 on a phone cut (e)'s axis title). In every state of
    every control of every chart (the hero: each depth with each architecture), at a phone's and a laptop's
    width, each text of the drawing lies inside it."""
    cut, walked = [], 0
    for width in (390, 1280):
        for path in CHART_PAGES:
            page, _ = open_page(browser, site_url + path, width=width)
            draw_every_chart(page)
            for chart in page.locator("figure .dl-chart").all():
                figure = chart.get_attribute("data-figure")
                controls = chart.evaluate(CONTROLS)
                assert controls is not None, f"{figure} at {width}px is not drawn"
                states = [dict(zip([c["name"] for c in controls], values)) for values in
                          itertools.product(*(control_values(c["bind"]) for c in controls))] if controls else [{}]
                for state in states:
                    cut += [f"{figure} {width}px {state}: {text}" for text in chart.evaluate(TEXTS_OUTSIDE_AFTER, state)]
                walked += len(states)
            page.close()
    assert cut == []
    assert walked >= 2 * (20 + 4 * 4), walked  # both widths: the hero's 20 states and four layer sliders' 4 each
