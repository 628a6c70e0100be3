"""Embed pages (embed/<figure-id>/), their iframe code, and images of a chart as drawn now, in Chromium."""

import hashlib
import json
import struct
from html import unescape
from urllib.parse import urlparse

import pytest

from figures_src.mkdocs_plugin.embed import caption_html
from tests.conftest import BASE_PATH
from tests.test_site import SCHEME_RULES, open_page

pytestmark = [pytest.mark.build, pytest.mark.browser]

SITE_CHROME = (".md-header", ".md-sidebar", ".md-footer", ".md-tabs", ".md-search")
VIEW = "window.dlFigures.viewOf(document.querySelector('.dl-chart'))"


def test_a_caption_formula_is_typeset_as_on_the_chapter_pages():
    rendered = caption_html(r"Gain \(-\eta\lVert g\rVert^2\) of one step, see [why](reasons.md).",
                            ["pymdownx.arithmatex"], {"pymdownx.arithmatex": {"generic": True}},
                            lambda path: "../../" + path.removesuffix(".md") + "/", "figure 'x', caption")
    assert rendered.startswith("Gain <math") and "</math> of one step" in rendered, rendered
    assert "\\(" not in rendered and "arithmatex" not in rendered
    assert 'href="../../reasons/"' in rendered


def manifest(site_dir) -> list[dict]:
    return json.loads((site_dir / "figures" / "manifest.json").read_text())


def bound_params(site_dir, fid) -> list[dict]:
    """The chart's controls, as its Vega-Lite spec declares them (every nested view)."""
    found = []

    def walk(node):
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            found.extend(p for p in node.get("params", []) if p.get("bind", {}).get("input"))
            for key in ("vconcat", "hconcat", "layer", "concat"):
                walk(node.get(key))
    walk(json.loads((site_dir / "figures" / f"{fid}.vl.json").read_text()))
    return found


def other_value(param):
    """A value the control can take that is not its default."""
    bind, default = param["bind"], param["value"]
    if bind["input"] == "range":
        return bind["min"] if default != bind["min"] else bind["max"]
    if bind["input"] == "checkbox":
        return not default
    return next(option for option in bind["options"] if option != default)


def state_query(site_dir, fid) -> tuple[str, dict]:
    """A link's query setting every control of the figure away from its default, and the values set."""
    values = {p["name"]: other_value(p) for p in bound_params(site_dir, fid)}
    query = "&".join(f"{fid}.{name}={json.dumps(v) if isinstance(v, bool) else v}" for name, v in values.items())
    return ("?" + query if query else ""), values


def visit(browser, urls):
    """Each URL in turn in one tab (a tab per page would load the chart scripts afresh each time, at twice
    the cost); yields the tab and what it logged on that page."""
    page, log = None, None
    for url in urls:
        if page is None:
            page, log = open_page(browser, url)
        else:
            log["errors"].clear()
            log["requests"].clear()
            page.goto(url)
            page.wait_for_function("Array.from(document.querySelectorAll('.dl-chart')).every("
                                   "e => e.classList.contains('dl-rendered') || e.classList.contains('dl-failed'))",
                                   timeout=30_000)
        yield page, log
    if page is not None:
        page.close()


def assert_drawn_alone_in_state(page, log, values, where):
    assert page.locator(".dl-chart").count() == 1, where
    assert page.locator(".dl-chart.dl-rendered .dl-chart-view svg .mark-group").count() > 0, where
    for selector in SITE_CHROME:
        assert page.locator(selector).count() == 0, (where, selector)
    for name, value in values.items():
        assert page.evaluate(f"{VIEW}.signal({json.dumps(name)})") == value, (where, name)
    assert log["errors"] == [], (where, log["errors"])


def test_every_figure_has_an_embed_page_drawing_it_alone_in_the_linked_state(browser, site_dir, site_url):
    host = urlparse(site_url).netloc
    entries = manifest(site_dir)
    assert len(entries) == len(list((site_dir / "embed").iterdir()))
    queries = [state_query(site_dir, entry["id"]) for entry in entries]
    tabs = visit(browser, [entry["embed"] + query for entry, (query, _) in zip(entries, queries)])
    for entry, (_, values), (page, log) in zip(entries, queries, tabs):
        fid = entry["id"]
        assert entry["embed"] == f"{site_url}embed/{fid}/"
        assert_drawn_alone_in_state(page, log, values, fid)
        assert [u for u in log["requests"] if urlparse(u).netloc != host and not u.startswith("data:")] == [], fid
        # The way back: the figure in its chapter, the page the manifest names.
        back = page.get_by_role("link", name="(in its chapter)")
        chapter = urlparse(entry["page"]).path.split(BASE_PATH, 1)[1]
        assert back.get_attribute("href") == f"../../{chapter}#fig-{fid}"


def test_embed_pages_of_the_offline_copy_work_from_disk(browser, offline_dir, site_dir):
    fids = [entry["id"] for entry in manifest(site_dir)]
    queries = [state_query(site_dir, fid) for fid in fids]
    tabs = visit(browser, [(offline_dir / "embed" / fid / "index.html").as_uri() + query
                           for fid, (query, _) in zip(fids, queries)])
    for fid, (_, values), (page, log) in zip(fids, queries, tabs):
        assert_drawn_alone_in_state(page, log, values, fid)
        assert [u for u in log["requests"] if not u.startswith(("file://", "data:"))] == [], fid
        back = page.get_by_role("link", name="(in its chapter)").get_attribute("href")
        assert back.split("#")[0].endswith(".html") and (offline_dir / "embed" / fid / back.split("#")[0]).exists()


def test_an_embed_page_follows_the_readers_colour_scheme_accessibly(browser, site_url):
    """Drawn in the reader's scheme, and axe-core finds nothing serious in either (as for the site's pages)."""
    from axe_playwright_python.sync_playwright import Axe

    labels = []
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme)
        page = context.new_page()
        page.goto(site_url + "embed/correlation-by-depth/")
        page.wait_for_selector(".dl-chart.dl-rendered")
        assert page.locator(".dl-chart").get_attribute("data-scheme") == scheme
        labels.append(page.locator(".role-axis-label text").first.get_attribute("fill"))
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert (background == "rgb(255, 255, 255)") == (scheme == "light"), background
        options = {"resultTypes": ["violations"]} | ({} if scheme == "light" else {"runOnly": SCHEME_RULES})
        violations = [f"{v['id']}: {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
                      for v in Axe().run(page, options=options).response["violations"]
                      if v["impact"] in ("serious", "critical")]
        assert violations == [], (scheme, violations)
        context.close()
    assert labels[0] != labels[1]



def test_an_embed_page_shows_the_screen_words_on_screen_and_the_paper_words_in_print(browser, site_url):
    """A caption's interaction hint ("Move the slider: at") on screen, the words for a static figure ("At") on
    paper: one of the two, never both run together ("atAt")."""
    page = browser.new_page()
    page.goto(site_url + "embed/collapse-function/")
    caption = page.locator("figcaption")
    shown = {}
    for media in ("screen", "print"):
        page.emulate_media(media=media)
        shown[media] = caption.inner_text()
        assert "atAt" not in shown[media], media
    page.close()
    assert "Move the slider: at layer" in shown["screen"] and "At layer" not in shown["screen"]
    assert "At layer" in shown["print"] and "Move the slider" not in shown["print"]

def move_slider(page, fid, value):
    page.locator(f"#fig-{fid} input[type=range]").evaluate(
        "(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); }", str(value))
    page.wait_for_function("([fid, text]) => document.querySelector(`#fig-${fid} .dl-chart-view svg`)"
                           ".innerHTML.includes(text)", arg=[fid, f"layer {value}"], timeout=10_000)


def download(page, fid, kind, keyboard=False):
    """The file a figure's export button gives, pressed with the keyboard or clicked."""
    button = page.locator(f"#fig-{fid} [data-export={kind}]")
    with page.expect_download() as pending:
        if keyboard:
            button.focus()
            page.keyboard.press("Enter")
        else:
            button.click()
    return pending.value.suggested_filename, pending.value.path().read_bytes()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_png_of_the_chart_as_drawn_changes_with_its_slider(browser, site_url):
    page, log = open_page(browser, site_url + "observation/")
    fid = "collapse-similarity"
    move_slider(page, fid, 50)
    name, before = download(page, fid, "png", keyboard=True)
    assert name == f"{fid}_layer-50.png"
    width = float(page.locator(f"#fig-{fid} .dl-chart-view svg").first.get_attribute("width"))
    assert png_size(before)[0] == round(2 * width)  # 2× resolution
    move_slider(page, fid, 7)
    name, after = download(page, fid, "png")
    assert name == f"{fid}_layer-7.png"
    assert png_size(after) == png_size(before)
    assert hashlib.sha256(after).digest() != hashlib.sha256(before).digest()
    page.emulate_media(media="print")
    assert not page.locator(f"#fig-{fid} .dl-export").is_visible()
    assert not page.locator(f"#fig-{fid} .dl-copy-embed").is_visible()
    assert log["errors"] == []


def test_svg_of_the_chart_as_drawn_carries_its_control_values(browser, site_url):
    fid = "collapse-similarity"
    page, log = open_page(browser, site_url + f"embed/{fid}/?{fid}.layer=30")
    name, data = download(page, fid, "svg")
    svg = data.decode()
    assert name == f"{fid}_layer-30.svg" and svg.startswith("<svg")
    assert ">layer l = 30</text>" in svg  # the slider's label and value, above the chart
    assert ">Figure 1.2 Every pair of inputs ends up pointing the same way.</text>" in svg
    assert "layer 30" in svg and "mark-rect" in svg  # the chart itself, as drawn
    assert log["errors"] == []


def test_the_embed_code_draws_the_figure_in_an_iframe_in_its_state(browser, site_url, http_root):
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(site_url + "observation/")
    page.evaluate("window.dlFigures.draw(document.querySelector('#fig-collapse-similarity .dl-chart'))")  # below the fold
    page.wait_for_selector("#fig-collapse-similarity .dl-chart.dl-rendered")
    move_slider(page, "collapse-similarity", 7)
    page.locator("#fig-collapse-similarity .dl-copy-embed").click()
    page.wait_for_function("document.querySelector('#fig-collapse-similarity .dl-copy-embed')"
                           ".textContent === 'embed code copied'")
    code = page.evaluate("navigator.clipboard.readText()")
    assert code.startswith("<iframe ") and code.endswith("></iframe>")
    src = unescape(code.split('src="', 1)[1].split('"', 1)[0])
    assert src == f"{site_url}embed/collapse-similarity/?collapse-similarity.layer=7"
    # A course page holding nothing but the copied code.
    (http_root[0] / "course.html").write_text(f"<!doctype html><title>course</title><p>Lecture 1</p>{code}")
    course = context.new_page()
    errors = []
    course.on("pageerror", lambda e: errors.append(str(e)))
    course.goto(http_root[1] + "/course.html")
    frame = course.frame_locator("iframe")
    frame.locator(".dl-chart.dl-rendered").wait_for(timeout=30_000)
    assert "layer 7" in frame.locator(".dl-chart-view svg").first.inner_html()
    embedded = next(f for f in course.frames if "embed/collapse-similarity" in f.url)
    assert embedded.evaluate(f"{VIEW}.signal('layer')") == 7
    assert errors == []
    context.close()
