"""Chapter 1's claims, checked on the very results the site publishes (same parameters, same seeds)."""

import pytest
import torch

from figures_src import pipeline
from figures_src.measures import cosine_matrix, correlation_by_depth, off_diagonal
from figures_src.model import MLP, MLPConfig, gaussian_inputs, seeded
from figures_src.theory import iterate_correlation
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def values() -> dict[str, float]:
    figures = {fid: f for fid, f in pipeline.discover().items()
               if fid in ("collapse-function", "collapse-similarity", "correlation-by-depth")}
    return pipeline.living_numbers(pipeline.compute_all(figures, ROOT / ".cache" / "figures"))


@pytest.mark.parametrize("width", [64, 256, 1024])
def test_mean_cosine_at_depth_50_is_near_one(values, width):
    assert values[f"correlation-by-depth.simulation_l50_w{width}"] >= 0.97


def test_wide_networks_follow_the_infinite_width_map(values):
    # Mean of 8 networks of width 1024 against the map iterated from the same input pairs, all l ≤ 100.
    assert values["correlation-by-depth.max_gap_to_theory_w1024"] <= 0.02


def test_narrow_networks_scatter_more(values):
    assert values["correlation-by-depth.spread_l10_w64"] > 2 * values["correlation-by-depth.spread_l10_w1024"]
    assert values["correlation-by-depth.max_gap_to_theory_w64"] > values["correlation-by-depth.max_gap_to_theory_w1024"]


def test_the_collapse_is_gradual(values):
    c = [values[f"correlation-by-depth.theory_l{l}"] for l in (1, 2, 5, 10, 20, 50, 100)]
    assert all(a < b for a, b in zip(c, c[1:]))
    assert c[0] < 0.4 and c[3] < 0.9 and c[-1] > 0.99  # not done in a few layers, nearly done at 100


def test_direction_collapses_while_scale_survives(values):
    assert values["collapse-function.min_cosine_l100"] >= 0.95
    assert values["collapse-function.norm_spread_l100"] > 1.2  # s(x) still varies: f is not literally constant


def test_a_linear_readout_predicts_one_class_for_every_input(values):
    assert values["collapse-function.classes_l0"] >= 2
    assert values["collapse-function.classes_l100"] == 1


def test_relu_removes_negative_cosines_and_the_matrix_fills_with_ones(values):
    assert values["collapse-similarity.min_cosine_l0"] < -0.9
    assert values["collapse-similarity.min_cosine_l1"] >= 0
    assert values["collapse-similarity.mean_cosine_l100"] > 0.99


def test_pearson_correlation_does_not_follow_the_map():
    """The text warns that centered correlation is not the quantity the theory predicts."""
    x = gaussian_inputs(32, 64, seeded(0))
    features = MLP(MLPConfig(width=1024, depth=10), seeded(5)).features(x)
    with torch.no_grad():
        uncentered = correlation_by_depth(features)
        centered = correlation_by_depth([f - f.mean(dim=1, keepdim=True) for f in features])
    theory = iterate_correlation(off_diagonal(cosine_matrix(x)).double(), 10).mean(dim=1)
    assert abs(uncentered[1].item() - theory[1].item()) < 0.02
    assert abs(centered[1].item() - theory[1].item()) > 0.2
