"""The home page's explorable (figure depth-explorer): its claims at the default setting, every control setting
covered by rows and reactive numbers, chapter 4's runs reused rather than computed again, and the chart and its
reactive numbers in the built site (served, from disk, and without JavaScript)."""

import itertools
import json

import pytest

from figures_src import cache, experiments, pipeline
from figures_src.claims import evaluate
from figures_src.figures import depth_explorer, solutions_summary, solutions_training
from figures_src.markers import state_name
from tests.conftest import ROOT
from tests.test_site import open_page

FID = "depth-explorer"
FIGURE = depth_explorer.FIGURE
P = FIGURE.params
SETTINGS = [{"architecture": a, "depth": d} for a, d in itertools.product(depth_explorer.ARCHITECTURES, P["depths"])]
DEFAULT_KEY = f"architecture={P['default_architecture']}&depth={P['default_depth']}"


@pytest.fixture(scope="module")
def computed():
    return pipeline.compute_all({FID: FIGURE}, ROOT / ".cache" / "figures")


@pytest.fixture(scope="module")
def numbers(computed) -> dict:
    return pipeline.living_numbers(computed)


def test_its_claims_hold_at_the_default_setting(numbers):
    for claim in FIGURE.claims:
        verdict = evaluate(FID, claim, numbers)
        assert verdict.holds, (claim.id, verdict.check)


def test_every_control_setting_has_its_views_and_its_reactive_numbers(computed, numbers):
    summary = computed[FID].result.summary
    for at in SETTINGS:
        mine = [r for r in summary if r["architecture"] == at["architecture"] and r["depth"] == at["depth"]]
        kinds = {kind: [r for r in mine if r["kind"] == kind] for kind in ("circle", "layer", "step", "train")}
        assert len(kinds["circle"]) == P["circle_networks"] * P["circle_points"], at
        assert [r["layer"] for r in kinds["layer"]] == list(range(at["depth"] + 1)), at
        assert all(0 <= r["cbar"] <= 1 and 0 <= r["share"] <= 1 for r in kinds["layer"]), at
        assert len(kinds["step"]) == P["step_points"], at
        # training only where the sweeps exist; elsewhere the chart says so
        assert bool(kinds["train"]) == (at["depth"] in P["trained_depths"]), at
        assert any(r["kind"] == "untrained" for r in mine) == (at["depth"] not in P["trained_depths"]), at
        for name in depth_explorer.STATE_NAMES:
            assert f"{FID}.{state_name(name, at)}" in numbers, (name, at)
        assert numbers[f"{FID}.{state_name('depth', at)}"] == at["depth"]
    default = {"architecture": P["default_architecture"], "depth": P["default_depth"]}
    for name in depth_explorer.STATE_NAMES:  # the printed numbers and the claims: the chart's default setting
        assert numbers[f"{FID}.{name}"] == numbers[f"{FID}.{state_name(name, default)}"]



def test_the_depths_the_prose_names_are_the_controls_ends_and_the_compared_networks(computed, numbers):
    """min_depth and max_depth are the depth control's ends; shallow_depth and deep_depth the depths of the
    plain_d… numbers and of their differences, each the same as that network's reactive number."""
    spec = FIGURE.chart(computed[FID].result.rows, P).to_dict()
    options = next(param["bind"]["options"] for param in spec["params"] if param["name"] == "depth")
    assert (numbers[f"{FID}.min_depth"], numbers[f"{FID}.max_depth"]) == (min(options), max(options))
    shallow, deep = numbers[f"{FID}.shallow_depth"], numbers[f"{FID}.deep_depth"]
    assert shallow < deep
    for depth in (shallow, deep):
        at = {"architecture": "plain", "depth": depth}
        assert numbers[f"{FID}.plain_d{depth}_cbar"] == numbers[f"{FID}.{state_name('cbar', at)}"]
    plain = [numbers[f"{FID}.plain_d{depth}_cbar"] for depth in (deep, shallow)]
    assert numbers[f"{FID}.plain_cbar_d{deep}_minus_d{shallow}"] == pytest.approx(plain[0] - plain[1], abs=1e-5)  # each rounded

def test_the_plain_network_collapses_with_depth_and_the_residual_one_does_not(numbers):
    plain = [numbers[f"{FID}.plain_d{d}_cbar"] for d in P["depths"]]
    assert plain == sorted(plain) and plain[-1] > 0.95  # c̄ at the last layer grows with every depth step
    assert all(numbers[f"{FID}.residual_d{d}_cbar"] < 0.5 for d in P["depths"])


def test_it_reuses_chapter_4_runs_instead_of_computing_them_again(monkeypatch):
    """The hero asks for the very runs the Solutions figures compute (the same items, so the same cache entries):
    once those figures are computed, the hero's chapter-4 networks at depth 100 and its sweeps at depths 10
    and 100 are all cache hits."""
    monkeypatch.setenv(cache.RUNS_ENV, str(ROOT / ".cache" / "figures" / "runs"))
    asked, computed = {}, []
    real_shared = experiments.shared_runs

    def recording_shared_runs(kind, items, run, code_module):
        asked.setdefault(caller, {}).setdefault(kind, []).extend(items)

        def recording_run(item):  # shared_runs calls it only for a run its cache does not hold
            computed.append((caller, kind, item))
            return run(item)
        return real_shared(kind, items, recording_run, code_module)

    monkeypatch.setattr(experiments, "shared_runs", recording_shared_runs)
    for caller, module in (("summary", solutions_summary), ("training", solutions_training),
                           ("hero", depth_explorer)):
        module.compute(module.FIGURE.params)
    hero_networks = [i for i in asked["hero"][experiments.RUNS] if i["depth"] == 100]
    hero_sweeps = [i for i in asked["hero"][experiments.SWEEP_RUNS] if i["depth"] in (10, 100)]
    assert len(hero_networks) == len(depth_explorer.ARCHITECTURES) * P["seeds"]
    assert len(hero_sweeps) == 2 * len(depth_explorer.ARCHITECTURES)
    assert all(i in asked["summary"][experiments.RUNS] for i in hero_networks)
    assert all(i in asked["training"][experiments.SWEEP_RUNS] for i in hero_sweeps)
    recomputed = [item for who, kind, item in computed if who == "hero" and (
        kind == experiments.RUNS and item in hero_networks or kind == experiments.SWEEP_RUNS and item in hero_sweeps)]
    assert recomputed == []


# ---------------------------------------------------------------- in the built site

def chart_views(page) -> list[str]:
    """The drawing of each of the chart's views (Vega names the cells of a concatenation concat_<i>_group)."""
    return page.evaluate(f"""Array.from(document.querySelectorAll('#fig-{FID} .dl-chart-view svg g.role-scope'))
        .filter(g => /concat_\\d+_group/.test(g.getAttribute('class'))).map(g => g.innerHTML)""")


def reactive_texts(page) -> list[str]:
    return page.locator(f".dl-reactive[data-figure={FID}]").all_inner_texts()


def choose_depth(page, depth: int) -> None:
    page.locator(f"#fig-{FID} input[type=radio][value='{depth}']").check()
    page.wait_for_function(f"document.querySelector('#fig-{FID} .dl-chart-view svg').innerHTML"
                           f".includes('network, depth {depth}')", timeout=10_000)


@pytest.mark.browser
def test_home_page_hero_moves_every_view_and_the_numbers_beside_it(browser, site_url):
    page, log = open_page(browser, site_url)
    before = chart_views(page)
    assert len(before) >= 4
    numbers = reactive_texts(page)
    assert len(numbers) >= 3
    choose_depth(page, 10)
    page.wait_for_function(f"document.querySelector('.dl-reactive[data-figure={FID}]').textContent === '10'")
    after = chart_views(page)
    assert all(b != a for b, a in zip(before, after))  # every view follows the depth
    moved = reactive_texts(page)
    assert sum(b != a for b, a in zip(numbers, moved)) >= 3
    tables = page.locator(f".dl-reactive[data-figure={FID}]").evaluate_all("els => els.map(e => e.dataset.states)")
    assert moved == [json.loads(t)["architecture=plain&depth=10"] for t in tables]
    assert f"{FID}.depth=10" in page.url  # the state is in the link
    reopened, _ = open_page(browser, page.url)
    assert reactive_texts(reopened) == moved
    assert log["errors"] == []


@pytest.mark.browser
def test_reactive_numbers_show_the_build_value_without_javascript(browser, site_url):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site_url)
    numbers = page.locator(f".dl-reactive[data-figure={FID}]")
    tables = numbers.evaluate_all("els => els.map(e => e.dataset.states)")
    assert numbers.all_inner_texts() == [json.loads(t)[DEFAULT_KEY] for t in tables]
    shown = page.locator(f"#fig-{FID} img.dl-static:visible")  # the wide layout or, in a phone's column, the stacked
    assert shown.count() == 1 and shown.get_attribute("src").endswith(f"{FID}.svg")
    assert page.locator(".dl-reactive[aria-live], .dl-reactive [aria-live]").count() == 0
    context.close()


@pytest.mark.browser
def test_the_hero_works_from_the_offline_copy_on_disk(browser, offline_dir):
    page, log = open_page(browser, (offline_dir / "index.html").as_uri())
    assert page.locator(f"#fig-{FID} .dl-chart.dl-rendered").count() == 1
    choose_depth(page, 3)
    page.wait_for_function(f"document.querySelector('.dl-reactive[data-figure={FID}]').textContent === '3'")
    assert log["errors"] == []
