"""The infinite-width map and its known values."""

import math

import pytest
import torch

from figures_src.theory import arccos_map, arccos_map_slope, correlation_gap_asymptote, iterate_correlation

f64 = torch.float64


def test_known_values_of_the_map():
    assert arccos_map(torch.tensor(0.0, dtype=f64)).item() == pytest.approx(1 / math.pi, abs=1e-12)
    assert arccos_map(torch.tensor(1.0, dtype=f64)).item() == pytest.approx(1.0, abs=1e-12)
    assert arccos_map(torch.tensor(-1.0, dtype=f64)).item() == pytest.approx(0.0, abs=1e-12)
    assert arccos_map_slope(torch.tensor(0.0, dtype=f64)).item() == pytest.approx(0.5)
    assert arccos_map_slope(torch.tensor(1.0, dtype=f64)).item() == pytest.approx(1.0)


def test_map_raises_every_correlation_below_one():
    c = torch.linspace(-1, 0.999, 500, dtype=f64)
    assert (arccos_map(c) > c).all()


def test_slope_is_the_derivative():
    c = torch.linspace(-0.9, 0.9, 19, dtype=f64)
    h = 1e-6
    numeric = (arccos_map(c + h) - arccos_map(c - h)) / (2 * h)
    torch.testing.assert_close(numeric, arccos_map_slope(c), atol=1e-7, rtol=0)


@pytest.mark.parametrize("layer, expected", [(1, 0.318310), (2, 0.493731), (5, 0.735946), (10, 0.871536),
                                             (20, 0.948428), (50, 0.987862), (100, 0.996423)])
def test_iterated_values_from_orthogonal_inputs(layer, expected):
    c = iterate_correlation(torch.tensor(0.0, dtype=f64), 100)
    assert c[layer].item() == pytest.approx(expected, abs=2e-6)


def test_map_matches_a_monte_carlo_relu_layer():
    """E[relu(u)relu(v)] / E[relu(u)²] for unit Gaussians with correlation c, sampled."""
    generator = torch.Generator().manual_seed(0)
    n = 400_000
    for c in (-0.8, -0.3, 0.0, 0.4, 0.8, 0.95):
        u = torch.randn(n, generator=generator, dtype=f64)
        v = c * u + math.sqrt(1 - c * c) * torch.randn(n, generator=generator, dtype=f64)
        a, b = torch.relu(u), torch.relu(v)
        sampled = ((a * b).mean() / ((a * a).mean() * (b * b).mean()).sqrt()).item()
        assert sampled == pytest.approx(arccos_map(torch.tensor(c, dtype=f64)).item(), abs=0.006)


def test_gap_closes_polynomially_with_the_log_corrected_asymptote():
    c = iterate_correlation(torch.tensor(0.0, dtype=f64), 2000)
    layers = torch.arange(50, 2001, dtype=f64)
    ratio = correlation_gap_asymptote(layers) / (1 - c[50:])
    assert (ratio - 1).abs().max() < 0.01  # within 1 % from layer 50 on (3 % at layer 20)
    # The bare 9π²/(2l²) is the right leading term but far off at moderate depth.
    bare = 9 * math.pi**2 / (2 * 10**2)
    assert bare / (1 - c[10]).item() > 3
