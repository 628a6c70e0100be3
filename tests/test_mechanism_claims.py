"""The mechanism figures' claims (relu-orthant, tangent-kernel-split, residual-function), checked on the results the
site publishes, and the measures they rest on checked on cases whose answer is known by hand."""

import math

import pytest
import torch

from figures_src import pipeline
from figures_src.figures.relu_orthant import cosine, neuron_pairs
from figures_src.figures.residual_function import varying_share
from figures_src.figures.tangent_kernel_split import split
from figures_src.model import MLP, MLPConfig, great_circle, seeded
from figures_src.theory import arccos_map
from tests.conftest import ROOT

MECHANISMS = ("relu-orthant", "tangent-kernel-split", "residual-function")


@pytest.fixture(scope="module")
def values() -> dict[str, float]:
    figures = {fid: f for fid, f in pipeline.discover().items() if fid in MECHANISMS}
    return pipeline.living_numbers(pipeline.compute_all(figures, ROOT / ".cache" / "figures"))


# ---------------------------------------------------------------- relu-orthant

def test_no_cosine_is_negative_after_a_relu_even_for_opposite_inputs(values):
    assert values["relu-orthant.min_after"] >= 0
    u, v = neuron_pairs(-1.0, 10_000, seeded(0))  # v = −u: every neuron has one value ≤ 0
    assert cosine(torch.relu(u), torch.relu(v)) == 0.0


def test_relu_raises_every_cosine_of_the_grid(values):
    assert values["relu-orthant.min_increase"] > 0
    assert values["relu-orthant.min_increase_theory"] > 0


def test_sampled_cosines_follow_the_arccos_map(values):
    assert values["relu-orthant.max_gap"] < 0.01
    assert values["relu-orthant.after_c_minus90"] == pytest.approx(values["relu-orthant.theory_c_minus90"], abs=0.01)


def test_neuron_pairs_have_the_requested_correlation():
    u, v = neuron_pairs(0.3, 200_000, seeded(1))
    assert cosine(u, v) == pytest.approx(0.3, abs=0.01)
    assert cosine(torch.relu(u), torch.relu(v)) == pytest.approx(arccos_map(torch.tensor(0.3)).item(), abs=0.01)


# ---------------------------------------------------------------- tangent-kernel-split

@pytest.mark.parametrize("c", [0.0, 0.5, 0.9])
def test_split_of_a_collapsed_kernel_is_known_by_hand(c):
    """K = (1 − c)I + c11ᵀ: top eigenvalue 1 − c + Nc along 1/√N, all others 1 − c."""
    n = 16
    kernel = (1 - c) * torch.eye(n, dtype=torch.float64) + c * torch.ones(n, n, dtype=torch.float64)
    parts = split(kernel, width=2)
    assert parts["top"] == pytest.approx((1 - c + n * c) / 2)
    assert parts["rest"] == pytest.approx((1 - c) / 2)
    if c > 0:  # at c = 0 every direction is an eigenvector
        assert parts["alignment"] == pytest.approx(1.0)
        assert parts["ratio"] == pytest.approx((1 - c + n * c) / (1 - c))


def test_top_direction_shifts_all_outputs_and_grows_with_depth(values):
    assert values["tangent-kernel-split.min_alignment_to_l32"] > 0.9
    assert values["tangent-kernel-split.whole_top_l100_minus_l1_ci_low"] > 0
    assert values["tangent-kernel-split.top_growth"] > 10  # about linear in depth: 100 weight matrices against 2


def test_readout_kernel_loses_the_input_dependent_directions_and_the_whole_kernel_does_not(values):
    assert values["tangent-kernel-split.readout_minus_whole_ratio_l100_ci_low"] > 0
    assert values["tangent-kernel-split.readout_ratio_l100"] > 100 * values["tangent-kernel-split.whole_ratio_l100"]
    # the whole network's top-to-rest ratio stays of the order of its depth-1 value
    assert values["tangent-kernel-split.whole_ratio_l100"] < 3 * values["tangent-kernel-split.whole_ratio_l1"]


def test_measured_kernel_follows_infinite_width_at_shallow_depth(values):
    for depth in (1, 2, 4):
        assert values[f"tangent-kernel-split.whole_ratio_l{depth}"] == pytest.approx(
            values[f"tangent-kernel-split.theory_whole_ratio_l{depth}"], rel=0.1)


# ---------------------------------------------------------------- residual-function

def test_varying_share_is_zero_for_a_constant_and_one_for_a_zero_mean_function():
    theta = torch.linspace(0, 2 * math.pi, 73, dtype=torch.float64)[:-1]
    assert varying_share(torch.full((72, 2), 3.0, dtype=torch.float64)).item() == pytest.approx(0.0, abs=1e-12)
    assert varying_share(torch.stack([torch.sin(theta), torch.cos(2 * theta)], dim=1)).item() == pytest.approx(1.0)
    assert varying_share((2 + torch.sin(theta))[:, None]).item() == pytest.approx(0.5 / 4.5)


def test_plain_network_flattens_and_residual_network_keeps_its_function(values):
    assert values["residual-function.varying_plain_l1_minus_l100_ci_low"] > 0
    assert values["residual-function.varying_residual_minus_plain_l100_ci_low"] > 0
    assert values["residual-function.varying_plain_l100"] < 0.2 < 0.5 < values["residual-function.varying_residual_l100"]


def test_residual_network_with_tiny_branches_computes_the_linear_readout_of_its_input():
    """α → 0: the stream is the projection W⁰x, so the output is a linear function of x, on a circle a sinusoid
    with zero mean: its varying share is 1."""
    theta, x = great_circle(72, 64, seeded(3), dtype=torch.float64)
    net = MLP(MLPConfig(d_in=64, width=64, depth=10, branch_scale=1e-8), seeded(4), dtype=torch.float64)
    with torch.no_grad():
        assert varying_share(net(x)).item() == pytest.approx(1.0, abs=1e-6)


def test_the_shaded_orthant_is_the_positive_quarter_alone():
    """The chart's title and caption point at a shaded positive quarter; a rect without its corners fills
    the whole plot (it did once) and leaves nothing to point at."""
    from figures_src.figures import relu_orthant
    spec = relu_orthant.chart([], relu_orthant.FIGURE.params).to_dict()
    found = []

    def walk(node):
        if isinstance(node, dict):
            mark = node.get("mark")
            if (mark == "rect" or isinstance(mark, dict) and mark.get("type") == "rect") and "data" in node:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(spec)
    assert len(found) == 1
    (corner,) = found[0]["data"]["values"]
    assert {k: found[0]["encoding"][k]["field"] for k in ("x", "x2", "y", "y2")} == {"x": "x", "x2": "x2", "y": "y", "y2": "y2"}
    assert corner["x"] == corner["y"] == 0 and corner["x2"] > 0 and corner["y2"] > 0
