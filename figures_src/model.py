"""The networks the site measures.

Convention (stated on the site): a bias-free ReLU MLP with L hidden layers,
    h¹ = W¹x,  φˡ = relu(hˡ),  hˡ⁺¹ = Wˡ⁺¹φˡ,  f = W^{L+1}φᴸ,
He-initialised: W_ij ~ N(0, 2/fan_in) for the hidden layers, N(0, 1/fan_in) for the
linear readout. Layer l of the representation is φˡ, with φ⁰ = x.

Chapter 4 adds two options (the defaults give the plain network above, with the same random draws):

* batch norm (`batch_norm=True`): φˡ = relu(BN(hˡ)), BN = per-neuron standardisation with the
  statistics of the batch being fed (no affine parameters, i.e. affine at identity; batch statistics
  in every call, there is no running average). `features()` still returns [φ⁰ = x, φ¹, …, φᴸ].
* residual branches (`branch_scale=α`): a projection h⁰ = W⁰x into the width (no skip, variance
  1/d_in: it keeps the inputs' second moment per coordinate), then L branches of one ReLU layer,
      hˡ = hˡ⁻¹ + α·Wˡ relu(hˡ⁻¹)        (with batch norm: hˡ = hˡ⁻¹ + α·Wˡ relu(BN(hˡ⁻¹))),
  and the readout f = W^{L+1} hᴸ reads the stream. `features()` returns the stream [h⁰, h¹, …, hᴸ]:
  entry l is, as for the plain net, what follows l ReLU layers and what the readout would read.
  `weights` is then [W⁰, W¹, …, Wᴸ, W^{L+1}].

`init="orthogonal"` draws each matrix as the orthogonal factor of the same Gaussian draw, scaled to
He's second moment; `init="zero_branch"` sets every residual branch matrix to 0 (Fixup/SkipInit
style: the network starts as the identity map followed by the readout).

Device: the experiments run where `device()` says, the CPU unless the environment variable DL_DEVICE
names another (`cuda`, `cuda:1`, `mps`, …); the published numbers are computed on the CPU. Random numbers
are always drawn from CPU generators (`seeded`) and then moved, so a seed gives the same draws everywhere.
"""

import os
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
    batch_norm: bool = False  # BN with batch statistics before every ReLU
    branch_scale: float | None = None  # α of residual branches; None: no skip connections (plain)
    init: str = "gaussian"  # "gaussian" (He), "orthogonal", or "zero_branch" (residual only)


BN_EPS = 1e-5
DEVICE_VARIABLE = "DL_DEVICE"


def device() -> torch.device:
    """Where the experiments compute: the device named by the environment variable DL_DEVICE (`cpu`, `cuda`,
    `cuda:1`, `mps`, …), the CPU if it is unset or empty. Read at every call. An unknown name or a device
    this machine's torch cannot use raises ValueError naming DL_DEVICE."""
    name = os.environ.get(DEVICE_VARIABLE, "").strip() or "cpu"
    try:
        chosen = torch.device(name)
    except RuntimeError as error:
        raise ValueError(f"{DEVICE_VARIABLE}={name!r} is not a torch device ({error}); use e.g. cpu, cuda, "
                         f"cuda:1 or mps, or unset {DEVICE_VARIABLE} to compute on the CPU") from None
    reason = None
    if chosen.type == "cuda" and not torch.cuda.is_available():
        reason = "CUDA is not available: this torch is built without it, or no GPU is visible"
    elif chosen.type == "mps" and not torch.backends.mps.is_available():
        reason = "MPS is not available: it needs a Mac with a Metal GPU (Apple silicon) and macOS 12.3 or later"
    else:
        try:
            torch.empty(0, device=chosen)
        except Exception as error:  # no such GPU number, a backend this torch lacks, …
            reason = str(error).strip().split(". ")[0].splitlines()[0][:200] or type(error).__name__
    if reason:
        raise ValueError(f"{DEVICE_VARIABLE}={name!r}: this machine cannot compute there ({reason}); "
                         f"unset {DEVICE_VARIABLE} to compute on the CPU")
    return chosen


_default_device = device  # MLP's `device` argument shadows the function


def batch_norm(h: torch.Tensor) -> torch.Tensor:
    """Per-neuron standardisation over the batch (rows): biased variance, like BatchNorm in training mode."""
    mean = h.mean(dim=0, keepdim=True)
    var = h.var(dim=0, correction=0, keepdim=True)
    return (h - mean) / torch.sqrt(var + BN_EPS)


def _init_weight(fan_in: int, fan_out: int, gain: float, init: str, generator, dtype, device) -> torch.Tensor:
    draw = torch.randn(fan_out, fan_in, generator=generator, dtype=dtype).to(device)
    if init == "orthogonal":
        tall = draw if fan_out >= fan_in else draw.T
        q, r = torch.linalg.qr(tall)
        q = q * torch.sign(torch.diagonal(r))  # Haar-distributed
        q = q if fan_out >= fan_in else q.T
        return q * (gain * max(1.0, fan_out / fan_in)) ** 0.5  # He's second moment per output coordinate
    return draw * (gain / fan_in) ** 0.5


class MLP(nn.Module):
    def __init__(self, config: MLPConfig, generator: torch.Generator | None = None,
                 dtype: torch.dtype = torch.float32, device: torch.device | str | None = None):
        """Weights drawn from `generator` (a CPU generator: see `seeded`) and moved to `device`, by
        default `device()`."""
        super().__init__()
        self.config = config
        device = _default_device() if device is None else torch.device(device)
        if config.init not in ("gaussian", "orthogonal", "zero_branch"):
            raise ValueError(f"unknown init {config.init!r}")
        if config.init == "zero_branch" and config.branch_scale is None:
            raise ValueError("init='zero_branch' needs residual branches (branch_scale)")
        if config.branch_scale is None:
            fan_ins = [config.d_in] + [config.width] * config.depth
            fan_outs = [config.width] * config.depth + [config.d_out]
            gains = [config.weight_gain] * config.depth + [1.0]
        else:  # projection W⁰, L branch matrices, readout
            fan_ins = [config.d_in] + [config.width] * (config.depth + 1)
            fan_outs = [config.width] * (config.depth + 1) + [config.d_out]
            gains = [1.0] + [config.weight_gain] * config.depth + [1.0]
        init = "gaussian" if config.init == "zero_branch" else config.init
        weights = [_init_weight(fan_in, fan_out, gain, init, generator, dtype, device)
                   for fan_in, fan_out, gain in zip(fan_ins, fan_outs, gains)]
        if config.init == "zero_branch":
            weights[1:-1] = [torch.zeros_like(w) for w in weights[1:-1]]
        self.weights = nn.ParameterList(nn.Parameter(w) for w in weights)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """[φ⁰ = x, φ¹, …, φᴸ] for a batch x of shape (N, d_in); each entry is (N, width).
        Residual nets: the stream [h⁰, h¹, …, hᴸ] (see the module's docstring)."""
        norm = batch_norm if self.config.batch_norm else (lambda h: h)
        if self.config.branch_scale is not None:
            alpha = self.config.branch_scale
            reps = [x @ self.weights[0].T]
            for weight in list(self.weights)[1:-1]:
                reps.append(reps[-1] + alpha * (torch.relu(norm(reps[-1])) @ weight.T))
            return reps
        reps = [x]
        for weight in list(self.weights)[:-1]:  # list(): a sliced ParameterList breaks functional_call
            reps.append(torch.relu(norm(reps[-1] @ weight.T)))
        return reps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)[-1] @ self.weights[-1].T


def seeded(seed: int) -> torch.Generator:
    """A CPU generator: the same seed gives the same network on every machine and device."""
    return torch.Generator().manual_seed(seed)


def great_circle(n_points: int, d_in: int, generator: torch.Generator,
                 dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit inputs x(θ) = cos θ·u + sin θ·v on a random great circle; returns (θ, x), on `device()`.
    Computed on the CPU, then moved: the same numbers on every device."""
    u, v = torch.linalg.qr(torch.randn(d_in, 2, generator=generator, dtype=dtype))[0].T
    theta = torch.arange(n_points, dtype=dtype) * (2 * torch.pi / n_points)
    x = torch.cos(theta)[:, None] * u + torch.sin(theta)[:, None] * v
    where = device()
    return theta.to(where), x.to(where)


def gaussian_inputs(n_inputs: int, d_in: int, generator: torch.Generator,
                    dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Independent standard Gaussian inputs, on `device()`: pairwise cosines are near 0."""
    return torch.randn(n_inputs, d_in, generator=generator, dtype=dtype).to(device())


def finite_width_grams(x: torch.Tensor, width: int, depth: int, n_networks: int, generator: torch.Generator,
                       weight_gain: float = 2.0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Gram matrices Gˡ = φˡφˡᵀ/n, l = 0 … depth, of `n_networks` independent bias-free networks of this
    width on the N inputs x, sampled exactly without ever drawing a weight matrix: (depth + 1, networks, N, N).

    Given φˡ (N × n), the rows of W^{l+1} are independent N(0, σ_w²/n · I), so each neuron of h^{l+1} over the
    N inputs is an independent Gaussian vector with covariance σ_w² Gˡ. Sampling it through a square root
    of that N × N matrix costs O(N²n) per layer instead of O(Nn²). G⁰ = x xᵀ / d_in.
    On x's device; the noise is drawn on the CPU (`generator`) and moved there.
    """
    x = x.to(dtype)
    n_inputs = x.shape[0]
    g = (x @ x.T / x.shape[1]).expand(n_networks, n_inputs, n_inputs)
    grams = [g]
    for _ in range(depth):
        eigenvalues, eigenvectors = torch.linalg.eigh(weight_gain * g)
        root = eigenvectors * eigenvalues.clamp(min=0).sqrt().unsqueeze(-2)  # root @ rootᵀ = σ_w² G
        noise = torch.randn(n_networks, n_inputs, width, generator=generator, dtype=dtype).to(x.device)
        phi = torch.relu(root @ noise)
        g = phi @ phi.transpose(-1, -2) / width
        grams.append(g)
    return torch.stack(grams)


def on_sphere(x: torch.Tensor) -> torch.Tensor:
    """The inputs rescaled to the same norm √d_in (one unit of second moment per coordinate); cosines unchanged."""
    return x / x.norm(dim=1, keepdim=True) * x.shape[1] ** 0.5
