"""Uncertainty over random networks: 95% intervals by the percentile bootstrap over networks.

A statistic over random networks is a mean over networks (seeds); its interval resamples the networks with
replacement (`RESAMPLES` times, from a seeded generator, so the interval is the same on every build). A
comparison between two conditions resamples the per-network differences when the conditions share seeds
(paired), the two groups apart otherwise. The bootstrap needs no assumption about the distribution (curvatures
and losses are skewed), and its intervals are asymmetric where the data are: they are quoted as ranges.

Non-finite values (a diverged run) make the interval non-finite: such a statistic is reported as what
happened (counts of outcomes), never averaged.
"""

import math
from dataclasses import dataclass

import torch

LEVEL = 0.95
RESAMPLES = 4000
SEED = 20_240_601  # the bootstrap's own generator: intervals do not move when an experiment adds a draw


@dataclass(frozen=True)
class Estimate:
    mean: float
    low: float  # 95% interval
    high: float
    n: int  # networks

    def values(self, name: str) -> dict[str, float]:
        """As living numbers: `name`, `name_ci_low`, `name_ci_high`, `name_n`."""
        return {name: self.mean, f"{name}_ci_low": self.low, f"{name}_ci_high": self.high, f"{name}_n": self.n}

    def columns(self, name: str) -> dict[str, float]:
        """As columns of an aggregated row: `name`, `name_ci_low`, `name_ci_high`."""
        return {name: self.mean, f"{name}_ci_low": self.low, f"{name}_ci_high": self.high}


def resample_index(n: int, resamples: int = RESAMPLES, seed: int = SEED) -> torch.Tensor:
    """(resamples, n) indices of networks drawn with replacement: every bootstrap here draws these."""
    return torch.randint(0, n, (resamples, n), generator=torch.Generator().manual_seed(seed))


def bootstrap_means(samples: torch.Tensor, resamples: int = RESAMPLES, seed: int = SEED) -> torch.Tensor:
    """Means of `resamples` resamples (with replacement) of the first dimension of `samples`."""
    return samples.detach().double().cpu()[resample_index(samples.shape[0], resamples, seed)].mean(dim=1)


def mean_ci(samples, seed: int = SEED) -> Estimate:
    """The mean of per-network values and its 95% percentile-bootstrap interval."""
    x = torch.as_tensor(samples, dtype=torch.float64).flatten().cpu()
    if x.numel() < 2:
        raise ValueError(f"an interval needs at least 2 networks, got {x.numel()}")
    if not torch.isfinite(x).all():
        nan = float("nan")
        return Estimate(x.mean().item(), nan, nan, x.numel())
    means = bootstrap_means(x, seed=seed)
    tail = (1 - LEVEL) / 2
    low, high = torch.quantile(means, torch.tensor([tail, 1 - tail], dtype=torch.float64)).tolist()
    return Estimate(x.mean().item(), low, high, x.numel())


def difference_ci(a, b, paired: bool, seed: int = SEED) -> Estimate:
    """mean(a) − mean(b) with its 95% interval: per-network differences resampled when `paired` (the same
    seeds or inputs in both conditions), each group resampled on its own otherwise."""
    a = torch.as_tensor(a, dtype=torch.float64).flatten()
    b = torch.as_tensor(b, dtype=torch.float64).flatten()
    if paired:
        if a.shape != b.shape:
            raise ValueError(f"a paired difference needs as many networks in both conditions ({a.numel()} vs {b.numel()})")
        return mean_ci(a - b, seed)
    if not (torch.isfinite(a).all() and torch.isfinite(b).all()):
        nan = float("nan")
        return Estimate((a.mean() - b.mean()).item(), nan, nan, min(a.numel(), b.numel()))
    differences = bootstrap_means(a, seed=seed) - bootstrap_means(b, seed=seed + 1)
    tail = (1 - LEVEL) / 2
    low, high = torch.quantile(differences, torch.tensor([tail, 1 - tail], dtype=torch.float64)).tolist()
    return Estimate((a.mean() - b.mean()).item(), low, high, min(a.numel(), b.numel()))


def mean_ci_columns(per_network: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(mean, 95% low, 95% high) over networks (first axis) of every column of `per_network` (networks, …),
    by the percentile bootstrap of `mean_ci`, with its resamples (the same interval it gives for one
    column), for all columns in one product. A column with a non-finite value gets a NaN interval."""
    x = per_network.detach().double().cpu()
    n = x.shape[0]
    if n < 2:
        raise ValueError(f"an interval needs at least 2 networks, got {n}")
    flat = x.reshape(n, -1)
    index = resample_index(n)
    counts = torch.zeros(RESAMPLES, n, dtype=torch.float64).scatter_add_(1, index, torch.ones_like(index, dtype=torch.float64))
    finite = torch.isfinite(flat).all(dim=0)
    means = counts @ torch.where(finite, flat, 0.0) / n  # (resamples, columns)
    tail = (1 - LEVEL) / 2
    low, high = torch.quantile(means, torch.tensor([tail, 1 - tail], dtype=torch.float64), dim=0)
    nan = torch.tensor(float("nan"), dtype=torch.float64)
    low, high = torch.where(finite, low, nan), torch.where(finite, high, nan)
    shape = x.shape[1:]
    return flat.mean(dim=0).reshape(shape), low.reshape(shape), high.reshape(shape)


def quantile_ci(samples: torch.Tensor, q: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(q-quantile, 95% low, 95% high) over the last axis: the distribution-free interval between the order
    statistics X₍r₎ and X₍s₎ (ranks from 1, clipped to 1 … n) with r = ⌊nq − h⌋ and s = ⌈nq + h⌉ + 1,
    h = 1.96·√(n·q(1 − q)): the interval covers the quantile when the binomial count of samples below it lies
    in r … s − 1, a range that contains nq ± h (its normal approximation's 95% range), so it errs wide."""
    n = samples.shape[-1]
    ordered = samples.sort(dim=-1).values
    half = 1.959964 * (n * q * (1 - q)) ** 0.5
    low = min(max(int(n * q - half) - 1, 0), n - 1)  # ranks from 1 to indices from 0
    high = min(max(int(n * q + half + 0.999999), 0), n - 1)
    return samples.quantile(q, dim=-1), ordered[..., low], ordered[..., high]


def median_ci(samples) -> Estimate:
    """The median over networks and its distribution-free 95% interval (`quantile_ci`; `Estimate.mean` holds
    the median), for values one network can dominate the mean of (a step along a nearly flat direction)."""
    x = torch.as_tensor(samples, dtype=torch.float64).flatten().cpu()
    if x.numel() < 2:
        raise ValueError(f"an interval needs at least 2 networks, got {x.numel()}")
    median, low, high = quantile_ci(x, 0.5)
    return Estimate(median.item(), low.item(), high.item(), x.numel())


def geometric_mean_ci(samples) -> Estimate:
    """The geometric mean over networks and its 95% interval (the bootstrap interval of the mean log), for
    scales that vary over decades between networks."""
    logs = mean_ci(torch.as_tensor(samples, dtype=torch.float64).log())
    return Estimate(math.exp(logs.mean), math.exp(logs.low), math.exp(logs.high), logs.n)
