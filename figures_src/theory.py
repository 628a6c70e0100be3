"""Infinite-width (mean-field) predictions for bias-free ReLU networks under He init.

The correlation map is the normalised arc-cosine kernel of degree 1 (Cho & Saul 2009):
    c_{l+1} = f(c_l),  f(c) = (√(1 − c²) + (π − arccos c)·c) / π.
"""

import math

import torch


def arccos_map(c: torch.Tensor) -> torch.Tensor:
    """f(c): the cosine after one ReLU layer of two inputs whose pre-activations have cosine c."""
    c = c.clamp(-1.0, 1.0)
    return (torch.sqrt(1 - c**2) + (torch.pi - torch.arccos(c)) * c) / torch.pi


def arccos_map_slope(c: torch.Tensor) -> torch.Tensor:
    """f′(c) = 1 − arccos(c)/π: ½ at c = 0 and 1 at the fixed point c = 1."""
    return 1 - torch.arccos(c.clamp(-1.0, 1.0)) / torch.pi


def iterate_correlation(c0: torch.Tensor, depth: int) -> torch.Tensor:
    """[c_0, f(c_0), …, f^depth(c_0)], stacked along a new first axis."""
    cs = [c0]
    for _ in range(depth):
        cs.append(arccos_map(cs[-1]))
    return torch.stack(cs)


ASYMPTOTE_OFFSET = 4.39  # C in the asymptote below, fitted once for c_0 = 0


def correlation_gap_asymptote(layer: torch.Tensor, offset: float = ASYMPTOTE_OFFSET) -> torch.Tensor:
    """1 − c_l ≈ 9π² / (2(l + 1.5 ln l + C)²): the gap closes polynomially, not exponentially."""
    return 9 * math.pi**2 / (2 * (layer + 1.5 * torch.log(layer) + offset) ** 2)
