"""Uncertainty over random networks: 95% intervals by the percentile bootstrap over networks.

A statistic over random networks is a mean over networks (seeds); its interval resamples the networks with
replacement (`RESAMPLES` times, from a seeded generator, so the interval is the same on every build). A
comparison between two conditions resamples the per-network differences when the conditions share seeds
(paired), the two groups apart otherwise. The bootstrap needs no assumption about the distribution (curvatures
and losses are skewed), and its intervals are asymmetric where the data are: they are quoted as ranges.

Non-finite values (a diverged run) make the interval non-finite: such a statistic is reported as what
happened (counts of outcomes), never averaged.
"""

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


def bootstrap_means(samples: torch.Tensor, resamples: int = RESAMPLES, seed: int = SEED) -> torch.Tensor:
    """Means of `resamples` resamples (with replacement) of the first dimension of `samples`."""
    n = samples.shape[0]
    index = torch.randint(0, n, (resamples, n), generator=torch.Generator().manual_seed(seed))
    return samples.detach().double().cpu()[index].mean(dim=1)


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
