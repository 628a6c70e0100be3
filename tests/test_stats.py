"""The intervals of figures_src/stats.py on distributions whose answer is known."""

import math

import pytest
import torch

from figures_src import stats


def binomial_coverage(n: int, low_rank: int, high_rank: int) -> float:
    """P(X₍low₎ ≤ median ≤ X₍high₎) for n draws of a continuous distribution (ranks from 1): the count of draws
    below the median is Binomial(n, ½) and must lie in low … high − 1."""
    return sum(math.comb(n, k) for k in range(low_rank, high_rank)) / 2 ** n


@pytest.mark.parametrize("n,q,ranks", [(10, 0.5, (1, 10)), (20, 0.5, (5, 16)), (25, 0.5, (7, 19)),
                                       (20, 0.9, (15, 20))])
def test_quantile_interval_takes_the_order_statistics_its_docstring_names(n, q, ranks):
    """r = ⌊nq − h⌋ and s = ⌈nq + h⌉ + 1, h = 1.96·√(nq(1 − q)), clipped to 1 … n: worked out by hand."""
    values = torch.randperm(n, generator=torch.Generator().manual_seed(n)).double() + 1  # 1 … n, shuffled
    quantile, low, high = stats.quantile_ci(values, q)
    assert (low.item(), high.item()) == ranks
    assert quantile.item() == pytest.approx(1 + q * (n - 1))  # torch's interpolated quantile of 1 … n


def test_median_interval_covers_the_true_median_as_often_as_its_ranks_promise():
    """4000 samples of 25 exponential draws (median ln 2): the interval covers it as often as the binomial
    count of draws below the median says for its ranks (within 4 standard errors), and at least 95 % of the time."""
    trials, n = 4000, 25
    draws = torch.empty(trials, n, dtype=torch.float64).exponential_(generator=torch.Generator().manual_seed(3))
    _, low, high = stats.quantile_ci(draws, 0.5)
    covered = ((low <= math.log(2)) & (math.log(2) <= high)).double().mean().item()
    expected = binomial_coverage(n, 7, 19)
    assert expected >= stats.LEVEL
    assert abs(covered - expected) < 4 * math.sqrt(expected * (1 - expected) / trials), (covered, expected)


def test_median_ci_is_the_median_with_the_quantile_interval_over_networks():
    values = [3.0, 1.0, 100.0, 2.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]  # one network dominates the mean, not the median
    estimate = stats.median_ci(values)
    assert (estimate.mean, estimate.low, estimate.high, estimate.n) == (5.5, 1.0, 100.0, 10)
    with pytest.raises(ValueError, match="at least 2 networks, got 1"):
        stats.median_ci([1.0])


def test_mean_ci_columns_gives_each_column_the_interval_of_mean_ci():
    per_network = torch.randn(12, 3, 2, generator=torch.Generator().manual_seed(5), dtype=torch.float64).exp()
    per_network[4, 2, 1] = math.inf  # a diverged run in one column only
    mean, low, high = stats.mean_ci_columns(per_network)
    assert mean.shape == low.shape == high.shape == (3, 2)
    for i in range(3):
        for j in range(2):
            alone = stats.mean_ci(per_network[:, i, j])
            if (i, j) == (2, 1):
                assert math.isnan(low[i, j]) and math.isnan(high[i, j]) and math.isnan(alone.low)
                continue
            assert (mean[i, j].item(), low[i, j].item(), high[i, j].item()) == pytest.approx(
                (alone.mean, alone.low, alone.high), rel=1e-12), (i, j)
    with pytest.raises(ValueError, match="at least 2 networks, got 1"):
        stats.mean_ci_columns(per_network[:1])
