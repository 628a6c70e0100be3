"""A chapter in Firefox ESR (Debian's `firefox-esr --headless --screenshot`; Playwright's own Firefox cannot be
installed here), from the server and from file://: its first display equation and its first chart are drawn.

Where to look comes from Chromium, which lays the page out at the same width with the same fonts; whether a
region is drawn is the spread of its pixels' brightness in Firefox's screenshot (a blank region has none).
Chromium also decodes the screenshot (a canvas), so the check needs no imaging library."""

import base64
import shutil
import subprocess

import pytest

pytestmark = [pytest.mark.build, pytest.mark.browser,
              pytest.mark.skipif(shutil.which("firefox-esr") is None,
                                 reason="Debian's firefox-esr is not installed (apt-get install firefox-esr)")]

WIDTH, HEIGHT = 1280, 3000  # tall enough for chapter 2's first chart
DRAWN = 10  # standard deviation of brightness (0-255) in a region: 0 when blank, ~40 for text or a chart

REGIONS = """selectors => selectors.map(s => {
  const r = document.querySelector(s).getBoundingClientRect();
  return [Math.round(r.x), Math.round(r.y + window.scrollY), Math.round(r.width), Math.round(r.height)];
})"""
BRIGHTNESS_SPREAD = """async ([png, boxes]) => {
  const image = new Image();
  image.src = "data:image/png;base64," + png;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  return boxes.map(([x, y, w, h]) => {
    const pixels = context.getImageData(x, y, w, h).data;
    let sum = 0, squares = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      const brightness = (pixels[i] + pixels[i + 1] + pixels[i + 2]) / 3;
      sum += brightness;
      squares += brightness * brightness;
    }
    const n = pixels.length / 4, mean = sum / n;
    return Math.sqrt(Math.max(0, squares / n - mean * mean));
  });
}"""


@pytest.mark.parametrize("origin", ["server", "file"])
def test_firefox_esr_draws_the_math_and_the_chart(browser, site_dir, site_url, tmp_path, origin):
    url = site_url + "reasons/" if origin == "server" else (site_dir / "reasons" / "index.html").as_uri()
    page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    page.goto(url)
    page.wait_for_function("document.querySelector('.dl-chart.dl-rendered')", timeout=60_000)
    boxes = page.evaluate(REGIONS, [".dl-math", ".dl-chart"])
    assert all(y + h <= HEIGHT for _, y, _, h in boxes), "the regions fit in the screenshot"

    screenshot = tmp_path / "firefox.png"
    (tmp_path / "profile").mkdir()
    subprocess.run(["firefox-esr", "--headless", "--no-remote", "--profile", str(tmp_path / "profile"),
                    "--screenshot", str(screenshot), f"--window-size={WIDTH},{HEIGHT}", url],
                   check=True, capture_output=True, timeout=300)
    png = base64.b64encode(screenshot.read_bytes()).decode()
    blank = [WIDTH - 40, HEIGHT - 40, 30, 30]  # the page's bottom-right margin: nothing drawn there
    math, chart, margin = page.evaluate(BRIGHTNESS_SPREAD, [png, boxes + [blank]])
    page.close()
    assert margin < 1, "the measure tells a blank region"
    assert math > DRAWN, f"the first display equation is blank in Firefox ({math:.1f})"
    assert chart > DRAWN, f"the first chart is blank in Firefox ({chart:.1f})"
