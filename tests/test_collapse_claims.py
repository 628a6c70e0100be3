"""Chapter 1's claims, checked on the very results the site publishes (same parameters, same seeds)."""

import math

import pytest
import torch

from figures_src import pipeline
from figures_src.measures import cosine_matrix, correlation_by_depth, off_diagonal
from figures_src.model import MLP, MLPConfig, gaussian_inputs, seeded
from figures_src.theory import iterate_correlation
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def computed() -> dict[str, pipeline.Computed]:
    figures = {fid: f for fid, f in pipeline.discover().items()
               if fid in ("collapse-function", "collapse-similarity", "correlation-by-depth")}
    return pipeline.compute_all(figures, ROOT / ".cache" / "figures")


@pytest.fixture(scope="module")
def values(computed) -> dict[str, float]:
    return pipeline.living_numbers(computed)


def test_data_contract_per_network_rows_and_chart_rows_with_intervals(computed):
    result = computed["correlation-by-depth"].result
    simulated = [row for row in result.rows if row["source"] == "simulation"]
    assert len({row["seed"] for row in simulated}) >= 16  # the CSV keeps every network
    measured = [row for row in result.summary if row["source"] == "simulation"]
    assert all(row["networks"] >= 16 for row in measured)
    assert all(row["correlation_ci_low"] <= row["correlation"] <= row["correlation_ci_high"] for row in measured)


@pytest.mark.parametrize("width", [64, 256, 1024])
def test_mean_cosine_at_depth_50_is_near_one(values, width):
    # The whole 95% interval over 16 networks.
    assert values[f"correlation-by-depth.simulation_l50_w{width}_ci_low"] >= 0.95
    assert values[f"correlation-by-depth.simulation_l50_w{width}_n"] >= 16


def test_wide_networks_follow_the_infinite_width_map(values):
    # Measured minus predicted mean cosine, per network, against the map iterated from the same input pairs.
    for l in (1, 10, 50, 100):
        assert -0.01 <= values[f"correlation-by-depth.deviation_l{l}_w1024_ci_low"]
        assert values[f"correlation-by-depth.deviation_l{l}_w1024_ci_high"] <= 0.01


def test_narrow_networks_scatter_more(values):
    assert values["correlation-by-depth.distance_difference_l10_w64_minus_w1024_ci_low"] > 0
    assert values["correlation-by-depth.distance_l10_w64"] > 2 * values["correlation-by-depth.distance_l10_w1024"]


def test_intervals_contain_their_means(values):
    for key, value in values.items():
        if key.endswith("_ci_low") and key.startswith(("correlation-by-depth.", "collapse-")):
            name = key.removesuffix("_ci_low")
            assert value <= values[name] <= values[f"{name}_ci_high"], name


def test_the_collapse_is_gradual(values):
    c = [values[f"correlation-by-depth.theory_l{l}"] for l in (1, 2, 5, 10, 20, 50, 100)]
    assert all(a < b for a, b in zip(c, c[1:]))
    assert c[0] < 0.4 and c[3] < 0.9 and c[-1] > 0.99  # not done in a few layers, nearly done at 100
    assert values["correlation-by-depth.orthogonal_l1"] == pytest.approx(1 / math.pi, abs=1e-6)


def test_direction_collapses_while_scale_survives(values):
    assert values["collapse-function.mean_min_cosine_l100_ci_low"] >= 0.95
    assert values["collapse-function.mean_min_cosine_l100_ci_high"] < 1  # nearly, not exactly, one direction
    assert values["collapse-function.mean_norm_spread_l100_ci_low"] > 1.2  # s(x) still varies


def test_a_random_readout_predicts_fewer_classes_with_depth(values):
    networks = values["collapse-function.networks"]
    assert networks >= 16
    assert values["collapse-function.all_classes_networks_l0"] == networks  # the input: all 3 classes
    assert values["collapse-function.single_class_networks_l1"] == 0
    assert values["collapse-function.single_class_networks_l100"] > networks / 2
    assert values["collapse-function.mean_classes_l100_ci_high"] < values["collapse-function.mean_classes_l1_ci_low"]


def test_relu_removes_negative_cosines_and_the_matrix_fills_with_ones(values):
    assert values["collapse-similarity.min_cosine_l0"] < -0.9
    assert values["collapse-similarity.lowest_min_cosine_l1"] >= 0
    assert values["collapse-similarity.mean_min_cosine_l100_ci_low"] > 0.95
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
