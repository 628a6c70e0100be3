"""Measures on hand-made inputs, and the network's defining properties."""

import pytest
import torch

from figures_src.measures import cosine_matrix, correlation_by_depth, mean_pairwise_cosine, off_diagonal
from figures_src.model import MLP, MLPConfig, gaussian_inputs, great_circle, seeded


def test_cosine_on_hand_made_vectors():
    reps = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]])
    cos = cosine_matrix(reps)
    torch.testing.assert_close(cos.diagonal(), torch.ones(3))
    assert cos[0, 1].item() == pytest.approx(0.0)
    assert cos[0, 2].item() == pytest.approx(2**-0.5)
    # The mean is over distinct pairs only: (0 + 1/√2 + 1/√2) / 3.
    assert mean_pairwise_cosine(reps).item() == pytest.approx(2 * 2**-0.5 / 3)
    assert off_diagonal(cos).shape == (3,)


def test_cosine_is_uncentered_and_scale_free():
    reps = torch.tensor([[1.0, 1.0, 1.0], [2.0, 2.0, 2.1]])
    assert mean_pairwise_cosine(reps).item() == pytest.approx(1.0, abs=1e-3)  # Pearson would be ~ -0.5 … 1
    assert mean_pairwise_cosine(reps * 7).item() == pytest.approx(mean_pairwise_cosine(reps).item())


def test_features_follow_the_layer_convention():
    x = gaussian_inputs(5, 8, seeded(0))
    net = MLP(MLPConfig(d_in=8, width=16, depth=3), seeded(1))
    features = net.features(x)
    assert len(features) == 4 and features[0] is x  # φ⁰ = x, then one entry per ReLU layer
    assert all((f >= 0).all() for f in features[1:])
    assert correlation_by_depth(features).shape == (4,)


def test_bias_free_relu_network_is_positively_homogeneous():
    x = gaussian_inputs(4, 8, seeded(0))
    net = MLP(MLPConfig(d_in=8, width=32, depth=10), seeded(2))
    torch.testing.assert_close(net(3 * x), 3 * net(x), rtol=1e-5, atol=1e-6)


def test_he_initialisation_preserves_the_second_moment_in_expectation():
    """E[φ_i^l ²] = ‖x‖²/d_in at every depth, averaged over networks. A single finite network drifts:
    its log-norm does a random walk (variance ≈ 5L/n), so the test averages 100 networks."""
    x = gaussian_inputs(16, 32, seeded(100))
    expected = x.pow(2).sum(dim=1).mean().item() / 32
    with torch.no_grad():
        last = [MLP(MLPConfig(d_in=32, width=128, depth=10), seeded(seed)).features(x)[-1].pow(2).mean().item()
                for seed in range(100)]
    assert sum(last) / len(last) == pytest.approx(expected, rel=0.15)
    assert max(last) / min(last) > 1.5  # …while individual networks spread


def test_opposite_inputs_have_disjoint_relu_support():
    _, x = great_circle(4, 8, seeded(0))  # x at θ and θ + π are opposite
    net = MLP(MLPConfig(d_in=8, width=64, depth=1), seeded(1))
    features = net.features(x)[1]
    assert cosine_matrix(features)[0, 2].item() == pytest.approx(0.0, abs=1e-6)
