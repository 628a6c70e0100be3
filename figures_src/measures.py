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
    rows, cols = torch.triu_indices(*matrix.shape, offset=1, device=matrix.device)
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


# ---------------------------------------------------------------- chapter 4: solutions

def effective_rank(reps: torch.Tensor) -> torch.Tensor:
    """exp(entropy) of the normalised eigenvalues of the Gram φφᵀ of a batch (Roy & Vetterli 2007): N for N
    orthogonal representations of equal norm, 1 when all point the same way. Uncentered, like the cosines."""
    eigenvalues = torch.linalg.eigvalsh(reps.double() @ reps.double().T).clamp(min=0)
    p = eigenvalues / eigenvalues.sum()
    p = p[p > 0]
    return torch.exp(-(p * p.log()).sum())


def weight_gradient_sq_norms(loss: torch.Tensor, weights: list[torch.Tensor]) -> torch.Tensor:
    """‖∂loss/∂Wˡ‖² for every weight matrix, in order."""
    grads = torch.autograd.grad(loss, weights)
    return torch.stack([g.pow(2).sum() for g in grads])


def per_layer_growth_factor(sq_norms: torch.Tensor) -> torch.Tensor:
    """Geometric growth per layer towards the input: exp(−slope) of a least-squares line through
    log ‖∇Wˡ‖² against l. Pass the layers to fit (leave out the first and last, whose shapes differ)."""
    layer = torch.arange(len(sq_norms), dtype=torch.float64, device=sq_norms.device)
    logs = sq_norms.double().log()
    slope = ((layer - layer.mean()) * (logs - logs.mean())).sum() / ((layer - layer.mean()) ** 2).sum()
    return torch.exp(-slope)


def gradient_quotient(loss: torch.Tensor, params: list[torch.Tensor], eps: float = 1e-5,
                      create_graph: bool = False) -> torch.Tensor:
    """MetaInit's gradient quotient (Dauphin & Schoenholz 2019), GQ = mean_i |(g_i − (Hg)_i)/(g_i + ε·sign g_i) − 1|
    ≈ mean_i |(Hg)_i / g_i|: how much one gradient step changes the gradient, relative to the gradient.
    0 for a loss that is linear near θ; large where second order dominates first order.
    create_graph=True keeps the graph so GQ itself can be differentiated (MetaInit does)."""
    grads = torch.autograd.grad(loss, params, create_graph=True)
    hg = torch.autograd.grad(sum((g**2).sum() / 2 for g in grads), params, create_graph=create_graph)
    total = sum(((g - h) / (g + eps * torch.where(g >= 0, 1.0, -1.0).detach()) - 1).abs().sum()
                for g, h in zip(grads, hg))
    return total / sum(p.numel() for p in params)


# ---------------------------------------------------------------- chapter 3: gradients

def backprop_signals(features: list[torch.Tensor], output: torch.Tensor) -> list[torch.Tensor]:
    """δˡ = ∂(Σ_a f(x_a))/∂hˡ for l = 1 … L, each (N, n), from the features [φ⁰, …, φᴸ] of a ReLU MLP (kept in
    the autograd graph) and its scalar outputs (N, 1). Each row is one input's own signal ∂f(x_a)/∂hˡ(x_a):
    inputs do not interact. relu′(hˡ) = 1[φˡ > 0]."""
    grads = torch.autograd.grad(output.sum(), features[1:], retain_graph=True)
    return [g * (phi > 0) for g, phi in zip(grads, features[1:])]


def empirical_ntk(net, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The per-layer blocks of a bias-free MLP's tangent kernel on `x` (see `ntk_blocks`), and its output."""
    features = net.features(x)
    output = features[-1] @ net.weights[-1].T
    return ntk_blocks(features, backprop_signals(features, output)), output


def ntk_blocks(features: list[torch.Tensor], deltas: list[torch.Tensor]) -> torch.Tensor:
    """The empirical neural tangent kernel Θ = J Jᵀ (J = ∂f/∂θ, N × P) split by weight matrix: (L + 1, N, N),
    block l − 1 for Wˡ, readout last. Exact for a bias-free MLP with one output, without forming J:
    ∂f(x_a)/∂Wˡ = δˡ(x_a) φ^{l−1}(x_a)ᵀ, so Θˡ = (δˡδˡᵀ) ⊙ (φ^{l−1}φ^{l−1}ᵀ) and Θ^{L+1} = φᴸφᴸᵀ."""
    blocks = [(d @ d.T) * (phi @ phi.T) for d, phi in zip(deltas, features[:-1])]
    blocks.append(features[-1] @ features[-1].T)
    return torch.stack([b.detach() for b in blocks])


def layer_gradient_norms(blocks: torch.Tensor, residual: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For the loss L = (1/2N) Σ_a r_a² with residuals r = f − y, per weight matrix (from `ntk_blocks`):
    (‖∇_{Wˡ} L‖, mean_a ‖∇_{Wˡ} ½r_a²‖): the batch gradient, which is the mean of the per-example gradients,
    and the mean norm of those per-example gradients. Batch = √(rᵀΘˡr)/N; example a: |r_a|·√Θˡ_aa.
    Their ratio is 1 when every example pushes the same way and about 1/√N when they cancel."""
    r = residual.reshape(-1).to(blocks.dtype)
    batch = torch.sqrt(torch.einsum("a,lab,b->l", r, blocks, r).clamp(min=0)) / len(r)
    per_example = (r.abs() * blocks.diagonal(dim1=-2, dim2=-1).sqrt()).mean(dim=-1)
    return batch, per_example


def useful_gradient_share(kernel: torch.Tensor) -> torch.Tensor:
    """How strongly the gradient responds to input-dependent residuals relative to a shift of all outputs:
    the mean Rayleigh quotient of the kernel K (N × N) over zero-mean residual directions divided by the
    one along the constant direction, [tr(PKP)/(N − 1)] / [1ᵀK1/N], P = I − 11ᵀ/N. Gradient descent fits a
    zero-mean target at this rate relative to a constant one. For K ∝ (1 − c)I + c11ᵀ it is
    (1 − c)/(1 − c + Nc)."""
    n = kernel.shape[-1]
    ones = kernel.sum(dim=(-1, -2)) / n
    trace = kernel.diagonal(dim1=-2, dim2=-1).sum(dim=-1)
    return (trace - ones) / (n - 1) / ones


def input_gradients(output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """∂f(x_a)/∂x_a for every input (rows), from outputs (N, 1) computed from x with x.requires_grad."""
    return torch.autograd.grad(output.sum(), x, retain_graph=True)[0]
