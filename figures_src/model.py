"""The networks the site measures.

Convention (stated on the site): a bias-free ReLU MLP with L hidden layers,
    h¹ = W¹x,  φˡ = relu(hˡ),  hˡ⁺¹ = Wˡ⁺¹φˡ,  f = W^{L+1}φᴸ,
He-initialised: W_ij ~ N(0, 2/fan_in) for the hidden layers, N(0, 1/fan_in) for the
linear readout. Layer l of the representation is φˡ, with φ⁰ = x.
"""

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class MLPConfig:
    d_in: int = 64
    width: int = 256
    depth: int = 50  # number of hidden ReLU layers L
    d_out: int = 1
    weight_gain: float = 2.0  # σ_w²: 2 is He initialisation


class MLP(nn.Module):
    def __init__(self, config: MLPConfig, generator: torch.Generator | None = None,
                 dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu"):
        super().__init__()
        self.config = config
        fan_ins = [config.d_in] + [config.width] * config.depth
        fan_outs = [config.width] * config.depth + [config.d_out]
        gains = [config.weight_gain] * config.depth + [1.0]
        self.weights = nn.ParameterList(
            nn.Parameter(torch.randn(fan_out, fan_in, generator=generator, dtype=dtype).to(device)
                         * (gain / fan_in) ** 0.5)
            for fan_in, fan_out, gain in zip(fan_ins, fan_outs, gains)
        )

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """[φ⁰ = x, φ¹, …, φᴸ] for a batch x of shape (N, d_in); each entry is (N, width)."""
        reps = [x]
        for weight in list(self.weights)[:-1]:  # list(): a sliced ParameterList breaks functional_call
            reps.append(torch.relu(reps[-1] @ weight.T))
        return reps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)[-1] @ self.weights[-1].T


def seeded(seed: int) -> torch.Generator:
    """A CPU generator: the same seed gives the same network on every machine and device."""
    return torch.Generator().manual_seed(seed)


def great_circle(n_points: int, d_in: int, generator: torch.Generator,
                 dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit inputs x(θ) = cos θ·u + sin θ·v on a random great circle; returns (θ, x)."""
    u, v = torch.linalg.qr(torch.randn(d_in, 2, generator=generator, dtype=dtype))[0].T
    theta = torch.arange(n_points, dtype=dtype) * (2 * torch.pi / n_points)
    return theta, torch.cos(theta)[:, None] * u + torch.sin(theta)[:, None] * v


def gaussian_inputs(n_inputs: int, d_in: int, generator: torch.Generator,
                    dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Independent standard Gaussian inputs: pairwise cosines are near 0."""
    return torch.randn(n_inputs, d_in, generator=generator, dtype=dtype)


def finite_width_grams(x: torch.Tensor, width: int, depth: int, n_networks: int, generator: torch.Generator,
                       weight_gain: float = 2.0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Gram matrices Gˡ = φˡφˡᵀ/n, l = 0 … depth, of `n_networks` independent bias-free networks of this
    width on the N inputs x, sampled exactly without ever drawing a weight matrix: (depth + 1, networks, N, N).

    Given φˡ (N × n), the rows of W^{l+1} are independent N(0, σ_w²/n · I), so each neuron of h^{l+1} over the
    N inputs is an independent Gaussian vector with covariance σ_w² Gˡ. Sampling it through a square root
    of that N × N matrix costs O(N²n) per layer instead of O(Nn²). G⁰ = x xᵀ / d_in.
    """
    x = x.to(dtype)
    n_inputs = x.shape[0]
    g = (x @ x.T / x.shape[1]).expand(n_networks, n_inputs, n_inputs)
    grams = [g]
    for _ in range(depth):
        eigenvalues, eigenvectors = torch.linalg.eigh(weight_gain * g)
        root = eigenvectors * eigenvalues.clamp(min=0).sqrt().unsqueeze(-2)  # root @ rootᵀ = σ_w² G
        noise = torch.randn(n_networks, n_inputs, width, generator=generator, dtype=dtype)
        phi = torch.relu(root @ noise)
        g = phi @ phi.transpose(-1, -2) / width
        grams.append(g)
    return torch.stack(grams)


def on_sphere(x: torch.Tensor) -> torch.Tensor:
    """The inputs rescaled to the same norm √d_in (one unit of second moment per coordinate); cosines unchanged."""
    return x / x.norm(dim=1, keepdim=True) * x.shape[1] ** 0.5
