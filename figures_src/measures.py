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
