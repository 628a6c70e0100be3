"""Chapter 4's claims, checked with tolerances and fixed seeds; most on the very results the site publishes."""

import math

import pytest
import torch

from figures_src import pipeline
from figures_src.initialization import lsuv, metainit, model_gradient_quotient
from figures_src.measures import cosine_matrix, correlation_by_depth, off_diagonal
from figures_src.model import MLP, MLPConfig, gaussian_inputs, seeded
from figures_src.theory import BN_GRADIENT_FACTOR, residual_recursion
from figures_src.training import run_outcomes, steps_to, teacher_task, train, train_stacked
from tests.conftest import ROOT

CHAPTER_4 = ("bn-collapse", "bn-gradient-explosion", "residual-collapse", "init-comparison",
             "solutions-training", "solutions-summary")


@pytest.fixture(scope="module")
def values() -> dict[str, float]:
    figures = {fid: f for fid, f in pipeline.discover().items() if fid in CHAPTER_4}
    return pipeline.living_numbers(pipeline.compute_all(figures, ROOT / ".cache" / "figures"))


# ---------------------------------------------------------------- the model extension keeps chapter 1 intact

def test_default_mlp_is_unchanged_draw_for_draw():
    """Outputs of the default network for fixed seeds, recorded before batch norm and residual branches were
    added to model.py: chapter 1's published numbers depend on these exact draws."""
    x = gaussian_inputs(6, 64, seeded(123))
    with torch.no_grad():
        out = MLP(MLPConfig(), seeded(7))(x).flatten()
        out2 = MLP(MLPConfig(d_in=64, width=128, depth=20, d_out=3), seeded(3))(x).flatten()
    before = [0.4669314920902252, 0.43035590648651123, 0.42899295687675476, 0.33656275272369385,
              0.5483304262161255, 0.5724932551383972]
    before2 = [-0.022252902388572693, -0.2711709141731262, 0.07068125903606415, -0.44029301404953003,
               -0.9064590930938721, -0.22494828701019287, 0.2955085039138794, -0.6506310701370239,
               -0.1458016037940979, 0.10905267298221588, -0.7464144229888916, -0.057568565011024475,
               0.2002561241388321, -0.9333454370498657, -0.4002794027328491, -0.004521720111370087,
               -0.5479124188423157, 0.06310947239398956]
    # float32 through 20 layers: CPUs with other vector units sum in another order (a few 1e-6 relative);
    # a change in the draws would move the outputs by their own size.
    assert torch.allclose(out, torch.tensor(before), rtol=1e-4, atol=1e-5)
    assert torch.allclose(out2, torch.tensor(before2), rtol=1e-4, atol=1e-5)


def test_residual_net_with_zero_branches_is_the_identity_on_the_stream():
    x = gaussian_inputs(8, 64, seeded(0))
    net = MLP(MLPConfig(depth=10, branch_scale=1.0, init="zero_branch"), seeded(1))
    with torch.no_grad():
        features = net.features(x)
    assert all(torch.equal(f, features[0]) for f in features)


# ---------------------------------------------------------------- 4.1 batch norm

def test_batch_norm_keeps_the_mean_cosine_near_one_over_pi_at_depth_50(values):
    # batch of 32: the predicted fixed point is F(−1/31) = 0.302; 1/π = 0.318 is its large-batch limit
    for l in (50, 100):
        c = values[f"bn-collapse.batch_norm_cosine_l{l}"]
        assert abs(c - 1 / math.pi) < 0.03
        assert abs(c - values["bn-collapse.theory_bn"]) < 0.01
    assert values["bn-collapse.plain_cosine_l50"] > 0.98  # while the plain net collapses


def test_batch_norm_keeps_the_rank_and_the_readout_keeps_several_classes(values):
    assert values["bn-collapse.batch_norm_rank_l100"] > 10 * values["bn-collapse.plain_rank_l100"]
    assert values["bn-collapse.plain_rank_l100"] < 1.2
    assert values["bn-collapse.circle_classes_l100"] >= 2


def test_batch_norm_makes_neighbouring_inputs_as_different_as_any(values):
    # inputs 5° apart (cosine 0.996) end with about the same cosine as any pair: the map is chaotic
    assert values["bn-collapse.circle_neighbour_cosine_l1"] > 0.9
    assert values["bn-collapse.circle_neighbour_cosine_l100"] < 0.5


def test_batch_norm_gradients_grow_by_about_pi_over_pi_minus_one_per_layer(values):
    # stated band: within 0.05 of π/(π−1) = 1.467 for batches of 128 (width 256, layers 6 … 45)
    assert abs(values["bn-gradient-explosion.bn_b128_factor"] - BN_GRADIENT_FACTOR) < 0.05
    # smaller batches explode faster, and the plain He network does not explode at all
    assert values["bn-gradient-explosion.bn_b8_factor"] > values["bn-gradient-explosion.bn_b32_factor"] \
        > values["bn-gradient-explosion.bn_b128_factor"]
    assert values["bn-gradient-explosion.plain_factor"] < 1.05


# ---------------------------------------------------------------- 4.2 residual branches

def test_scaled_residual_branches_stop_the_collapse_at_depth_100(values):
    assert values["residual-collapse.res_a0p01_l100"] < 0.3  # α² = 1/L
    assert abs(values["residual-collapse.res_a0p01_l100"] - values["residual-collapse.res_a0p01_theory_l100"]) < 0.03
    assert values["residual-collapse.res_a0p01_max_gap"] < 0.03
    # unscaled branches only slow it down
    assert values["residual-collapse.res_a1_l100"] > 0.95
    assert values["residual-collapse.res_a1_l10"] < values["residual-collapse.plain_theory_l100"]


def test_residual_recursion_with_one_over_depth_gives_a_depth_independent_limit(values):
    finals = [values[f"residual-collapse.scaled_stream_L{n}"] for n in (10, 100, 1000, 10000)]
    assert max(finals) - min(finals) < 0.02 and 0.23 < min(finals) < 0.26
    assert abs(values["residual-collapse.scaled_relu_L10000"] - 0.4555) < 0.001  # cosine after one more ReLU


def test_residual_stream_matches_the_recursion_in_a_fresh_network():
    """Independent of the figure: another seed, another width, α² = 0.05."""
    x = gaussian_inputs(24, 64, seeded(11))
    pairs = off_diagonal(cosine_matrix(x)).double()
    theory = residual_recursion(pairs, 40, 0.05, x.double().pow(2).mean().item())[1].mean(dim=1)
    with torch.no_grad():
        runs = torch.stack([correlation_by_depth(MLP(MLPConfig(width=1024, depth=40, branch_scale=0.05**0.5),
                                                     seeded(90 + s)).features(x)) for s in range(2)])
    assert (runs.mean(dim=0).double() - theory).abs().max() < 0.03


def test_batch_norm_in_the_branches_keeps_the_stream_decorrelated(values):
    for a in ("0p01", "0p1", "1"):
        assert values[f"residual-collapse.resbn_a{a}_l100"] < 0.35
        assert values[f"residual-collapse.resbn_a{a}_max_gap"] < 0.03


# ---------------------------------------------------------------- 4.3 LSUV and MetaInit

def test_lsuv_leaves_every_cosine_of_a_bias_free_plain_net_unchanged():
    x = gaussian_inputs(32, 64, seeded(0))
    net = MLP(MLPConfig(width=128, depth=30, init="orthogonal"), seeded(4))
    with torch.no_grad():
        before = correlation_by_depth(net.features(x))
        weights_before = [w.clone() for w in net.weights]
    passes = lsuv(net, x)
    with torch.no_grad():
        after = correlation_by_depth(net.features(x))
        variances = [(f @ w.T).var().item() for f, w in zip(net.features(x), net.weights)]
    assert any(not torch.allclose(a, b) for a, b in zip(weights_before, net.weights))  # LSUV did rescale
    assert max(passes) >= 1 and all(abs(v - 1) < 0.05 for v in variances)
    assert (after - before).abs().max() < 1e-5


def test_lsuv_does_change_cosines_through_the_branch_scale_of_a_residual_net():
    """The contrast that makes the previous test meaningful: rescaling a branch is not a global rescaling."""
    x = gaussian_inputs(32, 64, seeded(0))
    net = MLP(MLPConfig(width=128, depth=30, branch_scale=1.0, init="orthogonal"), seeded(4))
    with torch.no_grad():
        before = correlation_by_depth(net.features(x))[-1]
    lsuv(net, x)
    with torch.no_grad():
        after = correlation_by_depth(net.features(x))[-1]
    assert before - after > 0.1


def test_metainit_lowers_the_gradient_quotient_and_keeps_the_cosines():
    x = gaussian_inputs(32, 16, seeded(0))
    y = torch.randn(32, 1, generator=seeded(1))
    net = MLP(MLPConfig(d_in=16, width=64, depth=20), seeded(2))
    with torch.no_grad():
        before = correlation_by_depth(net.features(x))
    gq_before = model_gradient_quotient(net, x, y)
    metainit(net, (32, 16), seeded(3), steps=20)
    gq_after = model_gradient_quotient(net, x, y)
    with torch.no_grad():
        after = correlation_by_depth(net.features(x))
    assert gq_after < 0.1 * gq_before
    assert (after - before).abs().max() < 1e-5


def test_published_init_comparison(values):
    assert values["init-comparison.lsuv_max_cosine_change"] < 1e-6
    assert values["init-comparison.metainit_max_cosine_change"] < 1e-6
    # geometric means over networks: MetaInit lowers GQ by rescaling (in most networks, not all: 40 sign steps)
    assert values["init-comparison.plain_metainit_gradient_quotient"] < 0.1 * values["init-comparison.plain_he_gradient_quotient"]
    assert values["init-comparison.metainit_lowered_gq"] > values["init-comparison.seeds"] / 2
    assert values["init-comparison.metainit_output_gain_ci_high"] < 1
    assert values["init-comparison.residual_he_correlation"] < 0.5 * values["init-comparison.plain_he_correlation"]


# ---------------------------------------------------------------- 4.4 training

def test_residual_networks_train_at_depth_100_where_the_others_do_not(values):
    """Regime: width 64, full batch, each network at the best rate of its own sweep, 8 seeds."""
    seeds = values["solutions-training.seeds"]
    assert seeds >= 8
    for network in ("residual", "residual_batch_norm"):
        assert values[f"solutions-training.{network}_d100_reached"] == seeds
        assert values[f"solutions-training.{network}_d100_worst_final_loss"] < values["solutions-training.threshold"]
    for network in ("plain", "batch_norm"):
        assert values[f"solutions-training.{network}_d100_reached"] == 0
        assert values[f"solutions-training.{network}_d100_final_loss_ci_low"] > 0.3  # ½: the constant predictor
    assert values["solutions-training.final_loss_d100_plain_minus_residual_ci_low"] > 0


def test_every_sweep_brackets_its_best_rate(values):
    """The coarse grid runs from rates where every run diverges to rates too small to reach the threshold."""
    for depth in (10, 100):
        for network in ("plain", "batch_norm", "residual", "residual_batch_norm", "lsuv", "metainit"):
            key = f"solutions-training.{network}_d{depth}"
            assert values[f"{key}_largest_rate_diverged"] == values["solutions-training.coarse_seeds"]
            assert values[f"{key}_smallest_rate_reached"] == 0
            assert values["solutions-training.smallest_lr"] < values[f"{key}_best_lr"] < values["solutions-training.largest_lr"]


def test_outcomes_are_classified_from_the_loss_curve():
    inf, nan = float("inf"), float("nan")
    curves = torch.tensor([[1.0, 0.5, 0.05, 0.04], [1.0, 0.9, 0.8, 0.7], [1.0, 20.0, nan, nan], [1.0, inf, nan, nan],
                           [1.0, 0.5, 0.09, 50.0]], dtype=torch.float64)
    assert run_outcomes(curves, 0.1) == ["reached", "stalled", "diverged", "diverged", "reached"]
    assert steps_to(curves[:2], 0.1).tolist() == [2.0, inf]  # never reached: no step count


def test_batched_training_matches_training_one_network():
    """train_stacked on stacked weights follows train() on each network (residual + batch norm, float64)."""
    x, y = teacher_task(8, 32, 0, dtype=torch.float64)
    nets = [MLP(MLPConfig(d_in=8, width=16, depth=6, batch_norm=True, branch_scale=6 ** -0.5), seeded(s),
                dtype=torch.float64) for s in range(2)]
    stacked = [torch.stack([n.weights[i].detach() for n in nets]) for i in range(len(nets[0].weights))]
    batched = train_stacked(stacked, x, y, [0.05, 0.2], 5, batch_norm=True, branch_scale=6 ** -0.5)
    one = [train(n, x, y, lr, 5) for n, lr in zip(nets, [0.05, 0.2])]
    assert torch.allclose(batched, torch.stack(one), rtol=1e-9, atol=1e-12)


def test_summary_separates_the_residual_networks_from_the_rescaled_plain_ones(values):
    # LSUV and MetaInit rescale a plain net: its cosines stay collapsed; the residual net keeps a useful gradient
    for network in ("plain", "lsuv", "metainit"):
        assert values[f"solutions-summary.{network}_correlation_ci_low"] > 0.95
    assert values["solutions-summary.batch_norm_correlation_ci_high"] < 0.5
    assert values["solutions-summary.log10_useful_share_residual_minus_plain_ci_low"] > 0
