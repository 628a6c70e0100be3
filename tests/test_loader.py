"""figures/loader.js, the small script every page loads: its stand-in window.dlFigures when figures.js fails."""

import shutil

from tests.conftest import ROOT

ASSETS = ROOT / "figures_src" / "mkdocs_plugin" / "assets"


def test_draw_fails_clearly_when_figures_js_breaks_before_setting_itself_up(browser, tmp_path):
    """A figures.js that throws while loading leaves the stand-in draw in place: asking it to draw must fail
    with a message, not call itself again for ever (which would freeze the page and the PDF printer)."""
    shutil.copy(ASSETS / "loader.js", tmp_path / "loader.js")
    (tmp_path / "figures.js").write_text('throw new Error("broken on purpose");\n')
    for name in ("export.js", "reactive.js"):
        (tmp_path / name).write_text("")
    (tmp_path / "page.html").write_text('<!doctype html><html><head><script src="loader.js"></script></head>'
                                        '<body><div class="dl-chart"></div></body></html>')
    page = browser.new_page()
    try:
        page.goto((tmp_path / "page.html").as_uri())
        page.evaluate("""() => { window.outcome = null;
            window.dlFigures.draw(document.querySelector('.dl-chart'))
              .then(() => { window.outcome = 'drawn'; }, error => { window.outcome = error.message; }); }""")
        page.wait_for_function("window.outcome !== null", timeout=5000)
        assert "figures.js loaded but did not set up window.dlFigures.draw" in page.evaluate("window.outcome")
    finally:
        page.close()
