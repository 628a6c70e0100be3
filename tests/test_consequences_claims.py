"""Chapter 3's claims, checked on the very results the site publishes (same parameters, same seeds), plus the
building blocks the chapter relies on (Taylor terms, tangent kernel, training loop)."""

import math

import pytest
import torch

from figures_src import pipeline
from figures_src.curvature import HessianOperator, flatten, mse
from figures_src.measures import (backprop_signals, layer_gradient_norms, ntk_blocks, useful_gradient_share)
from figures_src.model import MLP, MLPConfig, gaussian_inputs, seeded
from figures_src.theory import backward_correlation, ntk_blocks_infinite_width
from figures_src.training import steps_to, teacher_task, train, train_mlps
from tests.conftest import ROOT

CHAPTER_3 = ("taylor-fight", "gradient-by-layer", "gradient-shattering", "curvature-by-depth", "training-by-depth")


@pytest.fixture(scope="module")
def values() -> dict[str, float]:
    figures = {fid: f for fid, f in pipeline.discover().items() if fid in CHAPTER_3}
    return pipeline.living_numbers(pipeline.compute_all(figures, ROOT / ".cache" / "figures"))


# ---------------------------------------------------------------- 3.1 the Taylor expansion

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_taylor_terms_match_finite_differences_of_the_loss(seed):
    """L(θ − ηg) − L(θ) = −η‖g‖² + ½η²gᵀHg + O(η³): for η ≤ 10⁻² η* the quadratic model is within 10⁻³ of
    the measured change (relative); the second-order term alone, (ΔL + η‖g‖²)/η², is ½gᵀHg within 1% for
    η ≤ 10⁻³ η*, and its error shrinks with η like a third-order remainder."""
    net = MLP(MLPConfig(d_in=8, width=32, depth=4), seeded(seed), dtype=torch.float64)
    x, y = teacher_task(8, 32, seed, dtype=torch.float64)
    op = HessianOperator(net, x, y)
    g = op.gradient
    gg, ghg = (g @ g).item(), (g @ op(g)).item()
    theta = flatten(net.parameters())
    errors = []
    for eta in (1e-2 * gg / ghg, 1e-3 * gg / ghg, 1e-4 * gg / ghg):
        with torch.no_grad():
            start = 0
            for p in net.parameters():
                p.copy_((theta[start:start + p.numel()] - eta * g[start:start + p.numel()]).view_as(p))
                start += p.numel()
            measured = mse(net(x), y).item() - op.loss
        quadratic = -eta * gg + 0.5 * eta**2 * ghg
        assert abs(measured - quadratic) <= 1e-3 * abs(measured)
        # Second order, isolated: (ΔL + η‖g‖²)/η² → ½gᵀHg.
        errors.append(abs((measured + eta * gg) / eta**2 - 0.5 * ghg) / (0.5 * ghg))
    assert errors[1] <= 1e-2 and errors[2] <= 1e-2
    assert errors[1] <= 0.3 * errors[0]


def test_the_quadratic_model_predicts_the_shallow_best_step(values):
    # Depth 1, 16 networks: the measured decrease at η* is the predicted ½‖g‖⁴/gᵀHg within 0.05 of L.
    assert values["taylor-fight.max_taylor_gap_l1"] <= 0.05


def test_the_input_dependent_part_of_the_best_step_shrinks_with_depth(values):
    """Mean over 32 networks of width 64: the decrease of the input-dependent part of the loss at η* is lower at
    depth 64 than at depth 1 (95% interval of the difference below 0), by 3× or more."""
    v = values
    assert v["taylor-fight.useful_decrease_l64_minus_l1_ci_high"] < 0
    assert v["taylor-fight.useful_decrease_l64"] <= v["taylor-fight.useful_decrease_l1"] / 3


def test_the_measured_best_step_falls_with_depth_but_the_quadratic_model_does_not_say_so(values):
    """η* (geometric mean) falls by more than 4× but ‖g‖²/L grows, so the quadratic model's promise falls much less (at most
    3×) while the measured decrease at η* falls further, and delivers less than the model at depth 64."""
    v = values
    assert v["taylor-fight.grad_sq_rel_l64_minus_l1_ci_low"] > 0
    assert v["taylor-fight.geo_eta_star_l64_ci_high"] < v["taylor-fight.geo_eta_star_l1_ci_low"] / 4
    assert v["taylor-fight.best_decrease_l64"] >= v["taylor-fight.best_decrease_l1"] / 3
    assert v["taylor-fight.measured_decrease_l64_minus_l1_ci_high"] < 0
    assert v["taylor-fight.delivered_l64_ci_high"] < 1 < v["taylor-fight.delivered_l1_ci_low"] + 0.05


def test_networks_without_a_best_step_are_counted_apart(values):
    """Where gᵀHg ≤ 0, η* is undefined: such networks are counted, never averaged as a negative step."""
    v = values
    for d in (1, 2, 4, 8, 16, 32, 64):
        assert v[f"taylor-fight.negative_curvature_l{d}"] + v[f"taylor-fight.curved_l{d}"] == v["taylor-fight.seeds"]
        assert v[f"taylor-fight.eta_star_l{d}_ci_low"] > 0
        assert v[f"taylor-fight.eta_star_l{d}_n"] == v[f"taylor-fight.curved_l{d}"]


# ---------------------------------------------------------------- 3.2 gradients

def test_ntk_blocks_are_the_jacobian_gram_matrix():
    net = MLP(MLPConfig(d_in=6, width=10, depth=4), seeded(0), dtype=torch.float64)
    x = gaussian_inputs(7, 6, seeded(1), dtype=torch.float64)
    features = net.features(x)
    output = features[-1] @ net.weights[-1].T
    blocks = ntk_blocks(features, backprop_signals(features, output))
    jacobian = torch.stack([flatten(torch.autograd.grad(output[a, 0], list(net.parameters()), retain_graph=True))
                            for a in range(7)])
    torch.testing.assert_close(blocks.sum(dim=0), jacobian @ jacobian.T)
    # The gradient norms from the blocks are the autograd ones.
    y = torch.randn(7, 1, generator=seeded(2), dtype=torch.float64)
    residual = (output - y).detach()
    batch, _ = layer_gradient_norms(blocks, residual)
    grads = torch.autograd.grad(mse(output, y), list(net.parameters()))
    torch.testing.assert_close(batch, torch.stack([g.norm() for g in grads]))


def test_useful_share_formula_on_an_exchangeable_kernel():
    n, c = 16, 0.9
    kernel = (1 - c) * torch.eye(n, dtype=torch.float64) + c
    assert useful_gradient_share(kernel).item() == pytest.approx((1 - c) / (1 - c + n * c))


def test_infinite_width_kernel_is_what_wide_networks_average_to():
    """Mean over 6 networks of width 2048, depth 6: each block within 15% (mean relative error)."""
    x = gaussian_inputs(8, 32, seeded(1), dtype=torch.float64)
    theory = ntk_blocks_infinite_width(x @ x.T / 32, 6, 32 / 2048)
    mean = 0
    for seed in range(6):
        net = MLP(MLPConfig(d_in=32, width=2048, depth=6), seeded(seed), dtype=torch.float64)
        features = net.features(x)
        output = features[-1] @ net.weights[-1].T
        mean = mean + ntk_blocks(features, backprop_signals(features, output)) / 2048 / 6
    error = ((mean - theory).abs() / theory.abs()).mean(dim=(1, 2))
    assert error.max() <= 0.15


def test_per_example_gradient_norms_are_roughly_preserved_across_layers(values):
    """Mean over 16 networks of width 256: per-example gradient norms of W¹ … Wᴸ vary by at most 30% across
    layers up to depth 25; at depth 100 (depth/width ≈ 0.4) finite width lets them drift by up to 2.5×."""
    for depth in (2, 10, 25):
        assert values[f"gradient-by-layer.example_spread_l{depth}"] <= 1.3
    assert values["gradient-by-layer.example_spread_l100"] <= 2.5


def test_batch_gradient_ratio_last_to_first_grows_with_depth(values):
    """Readout over first layer, batch-gradient norms, 16 networks: larger at depth 10 than at depth 2 (95%
    interval of the difference above 0), above 1 but below 10 at every depth ≥ 10 (intervals); the first
    layer's batch gradient is a smaller fraction of its per-example gradients at depth 100 than at depth 2."""
    v = values
    assert v["gradient-by-layer.batch_ratio_l10_minus_l2_ci_low"] > 0
    for depth in (10, 25, 50, 100):
        assert 1 < v[f"gradient-by-layer.batch_ratio_last_first_l{depth}_ci_low"]
        assert v[f"gradient-by-layer.batch_ratio_last_first_l{depth}_ci_high"] < 10
    assert v["gradient-by-layer.coherence_first_l100_minus_l2_ci_high"] < 0
    assert v["gradient-by-layer.coherence_last_minus_first_l100_ci_low"] > 0


def test_useful_share_vanishes_for_the_readout_but_not_for_the_whole_network(values):
    readout = [values[f"gradient-by-layer.share_readout_l{d}"] for d in (1, 2, 5, 10, 25, 50, 100)]
    assert all(a > b for a, b in zip(readout, readout[1:]))
    assert readout[-1] <= readout[0] / 10
    assert values["gradient-by-layer.share_readout_l100_minus_l1_ci_high"] < 0
    assert values["gradient-by-layer.share_whole_l100_minus_l1_ci_low"] > 0  # the whole network's rises
    for depth in (1, 10):  # the infinite-width prediction holds where width dominates depth
        assert values[f"gradient-by-layer.share_readout_l{depth}"] == pytest.approx(
            values[f"gradient-by-layer.theory_share_readout_l{depth}"], rel=0.25)


def test_input_gradients_shatter_as_mean_field_predicts(values):
    for tag in ("c50", "c90", "c99"):
        # 16 pairs × 16 networks per point; one random readout per network and depth makes single points noisy.
        assert values[f"gradient-shattering.mean_gap_{tag}"] <= 0.06
        assert values[f"gradient-shattering.max_gap_{tag}"] <= 0.2
        assert values[f"gradient-shattering.measured_{tag}_l50"] < 0.5 * values[f"gradient-shattering.measured_{tag}_l5"]
        assert values[f"gradient-shattering.feature_{tag}_l50"] > 0.98
    assert backward_correlation(torch.tensor(0.0, dtype=torch.float64), 1)[1].item() == pytest.approx(0.5)


# ---------------------------------------------------------------- 3.3 curvature

def test_top_hessian_eigenvalue_grows_with_depth(values):
    """Mean of 8 networks: λ_max/n at depth 64 is more than 5× depth 1 for width 64; more than 3× from depth
    1 to 16 for width 256; the infinite-width Gauss–Newton prediction grows at every depth."""
    assert values["curvature-by-depth.top_l64_w64"] > 5 * values["curvature-by-depth.top_l1_w64"]
    assert values["curvature-by-depth.top_l16_w256"] > 3 * values["curvature-by-depth.top_l1_w256"]
    assert values["curvature-by-depth.top_l64_minus_l1_w64_ci_low"] > 0
    assert values["curvature-by-depth.top_l16_minus_l1_w256_ci_low"] > 0
    theory = [values[f"curvature-by-depth.theory_top_l{d}"] for d in (1, 2, 4, 8, 16, 32, 64)]
    assert all(a < b for a, b in zip(theory, theory[1:]))


def test_kernel_conditioning_depends_on_the_inputs_but_stays_bounded(values):
    """At infinite width: with the 32 Gaussian inputs (ill-conditioned Gram matrix) the NTK's condition number
    falls with depth; with orthonormal inputs it rises then falls; bounded either way."""
    v = values
    gaussian = [v[f"curvature-by-depth.theory_condition_l{d}"] for d in (1, 2, 4, 8, 16, 32, 64)]
    assert all(a > b for a, b in zip(gaussian, gaussian[1:]))
    orth = [v[f"curvature-by-depth.theory_condition_orth_l{d}"] for d in (1, 2, 4, 8, 16, 32, 64)]
    assert max(orth) > orth[0] and orth[-1] < max(orth) < 100
    assert v["curvature-by-depth.input_condition"] > 100 * max(orth)


def test_top_eigenvector_is_the_shift_all_outputs_direction(values):
    for width, depths in ((64, (1, 2, 4, 8, 16)), (256, (1, 2, 4, 8, 16))):
        for depth in depths:
            assert values[f"curvature-by-depth.min_alignment_l{depth}_w{width}"] >= 0.95


def test_kernel_conditioning_bounded_at_infinite_width_but_not_for_narrow_deep_networks(values):
    theory = [values[f"curvature-by-depth.theory_condition_l{d}"] for d in (1, 8, 16, 32, 64)]
    assert max(theory) <= 1.01 * theory[0]  # never above its depth-1 value
    assert values["curvature-by-depth.theory_readout_condition_l64"] > 50 * theory[0]
    assert values["curvature-by-depth.condition_l64_w64"] > 10 * values["curvature-by-depth.theory_condition_l64"]
    assert values["curvature-by-depth.condition_l64_w256"] < 5 * values["curvature-by-depth.theory_condition_l64"]


# ---------------------------------------------------------------- 3.4 training

def test_train_records_divergence_instead_of_crashing():
    x, y = teacher_task(4, 16, 0)
    net = MLP(MLPConfig(d_in=4, width=8, depth=2), seeded(0))
    losses = train(net, x, y, lr=100.0, steps=50)
    assert losses.shape == (51,)
    assert math.isfinite(losses[0].item()) and torch.isinf(losses[-1])
    assert steps_to(losses, 0.05).item() == float("inf")


def test_batched_training_is_the_same_as_one_network_at_a_time():
    x, y = teacher_task(4, 16, 0)
    nets = [MLP(MLPConfig(d_in=4, width=8, depth=3), seeded(s)) for s in range(3)]
    batched = train_mlps(nets, x, y, [0.05, 0.1, 100.0], 40)
    for net, lr, row in zip(nets, [0.05, 0.1, 100.0], batched):
        single = train(net, x, y, lr, 40)
        finite = torch.isfinite(single)
        torch.testing.assert_close(row[finite], single[finite], rtol=1e-4, atol=1e-6)
        assert torch.equal(torch.isinf(row), torch.isinf(single))


def test_deeper_networks_need_more_steps(values):
    """8 networks per depth at each depth's best rate (from its own sweep), width 32: every network of depth 32
    reaches the threshold and needs more steps than depth 2 (95% interval of the difference above 0). At the
    shared rate (the best for depth 2) every network of depth 2 reaches it, and at depth 32 at most a few do:
    the others diverge or stall, and no run is counted as both."""
    v = values
    seeds = v["training-by-depth.seeds"]
    assert seeds >= 8
    assert v["training-by-depth.reached_tuned_l32"] == seeds
    assert v["training-by-depth.steps_l32_minus_l2_ci_low"] > 0
    assert v["training-by-depth.reached_fixed_l2"] == seeds
    assert v["training-by-depth.reached_fixed_l32"] <= seeds // 4
    for depth in (2, 4, 8, 16, 32):
        for setting in ("tuned", "fixed"):
            counts = [v[f"training-by-depth.{o}_{setting}_l{depth}"] for o in ("reached", "stalled", "diverged")]
            assert sum(counts) == seeds
    assert v["training-by-depth.diverged_fixed_l32"] >= 1 and v["training-by-depth.stalled_fixed_l32"] >= 1
    assert 0.1 < v["training-by-depth.final_stalled_fixed_l32"] <= 0.51


def test_run_outcomes_and_steps_in_the_data(values):
    """The CSV contract: every run has an outcome among reached / stalled / diverged and a learning rate; only
    a run that reached the threshold has a step count, never the step budget standing for 'never'."""
    figure = pipeline.discover()["training-by-depth"]
    # The published rows, as the CSV has them: a run that never reached the threshold has an empty step
    # count and a status ("inf", or "nan" for a diverged run), never a number.
    result = pipeline.compute_all({figure.id: figure}, ROOT / ".cache" / "figures")[figure.id].result
    runs = [r for r in result.rows if "outcome" in r]
    assert runs and {r["outcome"] for r in runs} <= {"reached", "stalled", "diverged"}
    for r in runs:
        assert any(math.isclose(r["lr"], lr, rel_tol=1e-5) for lr in figure.params["lrs"])  # published to 6 digits
        reached = r["outcome"] == "reached"
        assert (r["steps_to_threshold"] is not None) == reached
        assert reached or r["steps_to_threshold_status"] in ("inf", "nan")  # never reached, or diverged
        if reached:
            assert r["steps_to_threshold"] <= figure.params["steps"]
    fine = [r for r in runs if r["stage"] == "fine" and r["best_rate"]]
    for depth in figure.params["depths"]:
        assert sum(r["depth"] == depth for r in fine) >= 8


def test_the_best_learning_rate_is_often_above_two_over_lambda_max(values):
    """The text does not tell readers η < 2/λ_max: the best rate exceeds 2/λ_max at init (whole 95% interval of
    the ratio above 1) for most depths, and those runs still reach the threshold."""
    depths = (2, 4, 8, 16, 32)
    above = [d for d in depths if values[f"training-by-depth.best_lr_over_edge_l{d}_ci_low"] > 1]
    assert len(above) >= 3
    assert all(values[f"training-by-depth.reached_tuned_l{d}"] >= values["training-by-depth.seeds"] - 1 for d in above)
