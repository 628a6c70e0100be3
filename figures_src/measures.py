"""Measures on representations. Rows index inputs, columns index neurons."""

import torch


def cosine_matrix(reps: torch.Tensor) -> torch.Tensor:
    """Uncentered cosine similarity between every pair of inputs' representations, (N, N).

    Uncentered on purpose: this is the quantity the mean-field map predicts; the Pearson
    correlation of post-ReLU vectors is not.
    """
    unit = reps / reps.norm(dim=1, keepdim=True)
    return unit @ unit.T


def mean_pairwise_cosine(reps: torch.Tensor) -> torch.Tensor:
    """Mean of the off-diagonal cosines: c̄ in the text."""
    n = reps.shape[0]
    cos = cosine_matrix(reps)
    return (cos.sum() - cos.diagonal().sum()) / (n * (n - 1))


def correlation_by_depth(features: list[torch.Tensor]) -> torch.Tensor:
    """c̄_l for l = 0 … L, from [φ⁰, …, φᴸ]."""
    return torch.stack([mean_pairwise_cosine(reps) for reps in features])


def off_diagonal(matrix: torch.Tensor) -> torch.Tensor:
    """The entries above the diagonal, one per pair of inputs."""
    rows, cols = torch.triu_indices(*matrix.shape, offset=1)
    return matrix[rows, cols]


# ---------------------------------------------------------------- chapter 2: fake and meaningful variance

def gram(reps: torch.Tensor) -> torch.Tensor:
    """G = φφᵀ/n: inner products between inputs' representations, per neuron; (…, N, N)."""
    return reps @ reps.transpose(-1, -2) / reps.shape[-1]


def second_moment_split(reps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per neuron (column), over the N inputs (rows): (m², V) with M = mean of squares = m² + V,
    m the mean over inputs (the "fake" part) and V the population variance over inputs (the "meaningful" part)."""
    mean = reps.mean(dim=-2)
    return mean**2, reps.var(dim=-2, correction=0)


def gram_split(g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The same split averaged over neurons, from the Gram matrix alone: (1ᵀG1/N², tr G/N − 1ᵀG1/N²).
    Works for measured Grams and for the infinite-width ones of `theory.kernel_after_layers`."""
    n = g.shape[-1]
    mean_sq = g.sum(dim=(-1, -2)) / n**2
    return mean_sq, g.diagonal(dim1=-2, dim2=-1).mean(dim=-1) - mean_sq


def pooled_variance_fraction(g: torch.Tensor) -> torch.Tensor:
    """Σ_i V_i / Σ_i M_i = 1 − 1ᵀG1/(N·tr G): the across-input share of all neurons' second moment.
    Equals (1 − c̄)(1 − 1/N) when all inputs have the same norm; unequal norms add a floor."""
    mean_sq, variance = gram_split(g)
    return variance / (mean_sq + variance)


def log_norm_variance(g: torch.Tensor) -> torch.Tensor:
    """Variance over inputs of log ‖φ(x_a)‖ (from the Gram diagonal): the spread of the scales s(x)."""
    return (0.5 * torch.log(g.diagonal(dim1=-2, dim2=-1))).var(dim=-1, correction=0)
