"""The benchmark's page weights count what a page really loads."""

import shutil

import pytest

from figures_src import bench
from tests.conftest import ROOT

ASSETS = ROOT / "figures_src" / "mkdocs_plugin" / "assets"


@pytest.fixture
def scratch_site(tmp_path):
    """A site with the real chart scripts, a page with a chart and one without."""
    figures = tmp_path / "figures"
    (figures / "vendor").mkdir(parents=True)
    for name in ("loader.js", "figures.js", "export.js", "reactive.js"):
        shutil.copy(ASSETS / name, figures / name)
    (figures / "theme.js").write_text("window.dlChartThemes = {};\n")
    (figures / "vendor" / "vega.js").write_text("window.vegaEmbed = null;\n")
    for page, body in (("charts", '<div class="dl-chart" data-spec="../figures/js/x.js"></div>'), ("prose", "<p>")):
        (tmp_path / page).mkdir()
        (tmp_path / page / "index.html").write_text(f'<script src="../figures/loader.js"></script>{body}')
    bench.chart_scripts.cache_clear()
    return tmp_path


def test_a_page_with_charts_weighs_every_script_the_loader_brings_and_a_page_without_only_the_loader(scratch_site):
    with_charts = bench.read_page(scratch_site, scratch_site / "charts" / "index.html")
    assert with_charts.assets == {"figures/loader.js", "figures/figures.js", "figures/export.js",
                                  "figures/reactive.js", "figures/theme.js", "figures/vendor/vega.js"}
    assert bench.read_page(scratch_site, scratch_site / "prose" / "index.html").assets == {"figures/loader.js"}


def test_a_chart_script_missing_from_the_site_is_named(scratch_site):
    (scratch_site / "figures" / "reactive.js").unlink()
    with pytest.raises(bench.BenchError, match=r"cannot read figures/reactive\.js, a chart script the pages load"):
        bench.read_page(scratch_site, scratch_site / "charts" / "index.html")


def test_lighthouse_reports_the_run_with_the_median_score_whole():
    runs = [{"performance": 92, "tbt": 120, "lcp": 1500}, {"performance": 86, "tbt": 443, "lcp": 1700},
            {"performance": 89, "tbt": 395, "lcp": 1650}]
    assert bench.median_run(runs) == runs[2]  # its own TBT and LCP, not medians taken metric by metric
    tied = [{"performance": 90, "tbt": 300}, {"performance": 90, "tbt": 100}, {"performance": 95, "tbt": 50}]
    assert bench.median_run(tied) == tied[1]  # ranked 90 (300 ms) < 90 (100 ms) < 95
