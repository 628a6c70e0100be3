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


# ---------------------------------------------------------------- chapter 2: where the variance goes

def kernel_after_layers(gram0: torch.Tensor, depth: int) -> torch.Tensor:
    """Infinite-width Gram matrices Gˡ = φˡφˡᵀ/n of a bias-free He network, l = 0 … depth, stacked.

    He initialisation keeps every input's squared norm per unit (the diagonal) exactly; the cosines go
    through the arc-cosine map: Gˡ_ab = √(G⁰_aa G⁰_bb)·𝓕ˡ(c⁰_ab). gram0 = x xᵀ / d_in.
    """
    diag = gram0.diagonal()
    scale = torch.sqrt(diag[:, None] * diag[None, :])
    return iterate_correlation(gram0 / scale, depth) * scale


def relu_second_moment_split(c: torch.Tensor) -> dict[str, torch.Tensor]:
    """A neuron's second moment over inputs, averaged over neurons and split into mean² ("fake") and
    variance ("meaningful"), for pre-activations of second moment q = 1 and correlation c between inputs
    (infinitely many inputs): before the ReLU c + (1 − c); after it 𝓕(c)/2 + (1 − 𝓕(c))/2; after He's
    factor 2, 𝓕(c) + (1 − 𝓕(c)): the second moment is back to 1 but the variance part is not."""
    f = arccos_map(c)
    return {"pre_mean": c, "pre_variance": 1 - c, "relu_mean": f / 2, "relu_variance": (1 - f) / 2,
            "he_mean": f, "he_variance": 1 - f}


def relu_kept_variance(c: torch.Tensor) -> torch.Tensor:
    """Share of the across-input variance that survives a ReLU: (1 − 𝓕(c)) / (2(1 − c)) < ½."""
    return (1 - arccos_map(c)) / (2 * (1 - c))


def mean_field_recursion(c_in: torch.Tensor, depth: int, weight_gain: float = 2.0, bias_var: float = 0.0,
                         q_in: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Second moment q_l and correlation c_l of the pre-activations h^{l+1} = W^{l+1}φˡ + b^{l+1}, l = 0 … depth,
    with W_ij ~ N(0, σ_w²/fan_in) and b_i ~ N(0, σ_b²). Inputs: cosine c_in, squared norm per coordinate q_in.

        q_0 = σ_w² q_in + σ_b²,              c_0 = (σ_w² q_in c_in + σ_b²) / q_0,
        q_{l+1} = (σ_w²/2) q_l + σ_b²,       c_{l+1} = ((σ_w²/2) q_l 𝓕(c_l) + σ_b²) / q_{l+1}.

    Without bias, c_l is the cosine of φˡ (the chapter-1 convention) and does not depend on σ_w²;
    q_l is constant only for σ_w² = 2 (He).
    """
    q = [torch.full_like(c_in, weight_gain * q_in + bias_var)]
    c = [(weight_gain * q_in * c_in + bias_var) / q[0]]
    for _ in range(depth):
        carried = weight_gain / 2 * q[-1]
        q.append(carried + bias_var)
        c.append((carried * arccos_map(c[-1]) + bias_var) / q[-1])
    return torch.stack(q), torch.stack(c)


# ---------------------------------------------------------------- chapter 4: batch norm and residual branches

BN_GRADIENT_FACTOR = math.pi / (math.pi - 1)  # ≈ 1.467: squared-gradient growth per BN-ReLU layer (Yang et al. 2019)


def batch_norm_correlation(batch_size: int) -> float:
    """Mean cosine of φ = relu(BN(h)) at the isotropic fixed point of a BN network (infinite width, batch B):
    BN centres every neuron over the batch, so the cosines of BN(h) average −1/(B − 1); one ReLU maps them
    to 𝓕(−1/(B − 1)), which tends to 𝓕(0) = 1/π for large batches. Depth does not enter."""
    return float(arccos_map(torch.tensor(-1.0 / (batch_size - 1), dtype=torch.float64)))


def residual_recursion(c0: torch.Tensor, depth: int, branch_var: float, q0: float = 1.0
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """Second moment q_l and cosine c_l of the residual stream hˡ = hˡ⁻¹ + α·Wˡ relu(hˡ⁻¹), l = 0 … depth,
    with He branches (σ_w² = 2) and α² = branch_var. The branch is independent of the stream and carries
    α² q_l of second moment with cosine 𝓕(c_l):
        q_{l+1} = (1 + α²) q_l,    c_{l+1} = (c_l + α² 𝓕(c_l)) / (1 + α²)."""
    q, c = [torch.full_like(c0, q0)], [c0]
    for _ in range(depth):
        q.append((1 + branch_var) * q[-1])
        c.append((c[-1] + branch_var * arccos_map(c[-1])) / (1 + branch_var))
    return torch.stack(q), torch.stack(c)


def residual_batch_norm_recursion(c0: torch.Tensor, depth: int, branch_var: float, batch_size: int,
                                  q0: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """The same for hˡ = hˡ⁻¹ + α·Wˡ relu(BN(hˡ⁻¹)) at the isotropic fixed point: BN gives every branch second
    moment α² (whatever q_l) and cosine b = 𝓕(−1/(B − 1)), so
        q_{l+1} = q_l + α²,    c_{l+1} = (q_l c_l + α² b) / (q_l + α²):
    the stream grows linearly, each new branch is a smaller share of it (the network stays shallow in
    effect, De & Smith 2020), and c_l drifts to b ≈ 1/π instead of 1."""
    b = batch_norm_correlation(batch_size)
    q, c = [torch.full_like(c0, q0)], [c0]
    for _ in range(depth):
        q.append(q[-1] + branch_var)
        c.append((q[-2] * c[-1] + branch_var * b) / q[-1])
    return torch.stack(q), torch.stack(c)


# ---------------------------------------------------------------- chapter 3: gradients and the neural tangent kernel

def backward_correlation(c0: torch.Tensor, depth: int) -> torch.Tensor:
    """Cosine between the input gradients ∂f/∂x of two inputs of cosine c_0, for networks of depth
    L = 0 … depth (stacked): Π_{k=0}^{L−1} 𝓕′(c_k). Back-propagated signals of two inputs lose correlation
    by a factor 𝓕′(c_k) ≤ 1 per layer while the forward cosines c_k grow (Balduzzi et al. 2017)."""
    slopes = arccos_map_slope(iterate_correlation(c0, depth)[:-1])
    return torch.cat([torch.ones_like(c0)[None], torch.cumprod(slopes, dim=0)])


def ntk_blocks_infinite_width(gram0: torch.Tensor, depth: int, input_ratio: float = 0.0) -> torch.Tensor:
    """Infinite-width neural tangent kernel of the bias-free He MLP (standard parametrisation), divided by the
    width n and split by weight matrix: (depth + 1, N, N), block l − 1 for Wˡ, l = 1 … L + 1 (readout last).

        Θˡ/n = Pˡ ⊙ G^{l−1},  Pˡ_ab = ½ Π_{k=l−1}^{L−1} 𝓕′(c_k(a, b)),   Θ^{L+1}/n = Gᴸ,

    with Gˡ from `kernel_after_layers` and Pˡ the correlation of the back-propagated signals ∂f/∂hˡ.
    The first layer sees the inputs: its block is multiplied by input_ratio = d_in/n (0 for n → ∞).
    gram0 = x xᵀ / d_in."""
    grams = kernel_after_layers(gram0, depth)  # G^0 … G^L
    diag = grams[0].diagonal()
    cosines = iterate_correlation(gram0 / torch.sqrt(diag[:, None] * diag[None, :]), depth)
    slopes = arccos_map_slope(cosines[:-1])  # 𝓕′(c_k), k = 0 … L−1
    blocks = []
    for layer in range(1, depth + 1):
        backward = 0.5 * torch.prod(slopes[layer - 1:], dim=0)
        blocks.append(backward * grams[layer - 1] * (input_ratio if layer == 1 else 1.0))
    blocks.append(grams[depth])
    return torch.stack(blocks)
