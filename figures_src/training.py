"""Full-batch gradient descent on a fixed regression task, recording divergence instead of crashing.

* `teacher_task`: inputs and targets from a random teacher network: a fixed, non-trivial regression task.
* `train`: plain gradient descent on any `nn.Module` with the loss L = (1/2N) Σ_a ‖f(x_a) − y_a‖².
* `train_mlps`: the same for many bias-free MLPs of one depth at once (different seeds and learning rates),
  as batched matrix products: one pass per step for the whole grid.

A run that diverges (non-finite loss, or a loss `DIVERGED` times its initial value) stops; the rest of its
loss curve is `inf`, so a chart can mark it.

Everything runs on the device of the inputs x (`teacher_task` puts them on `model.device()`); loss curves too.
"""

import torch
from torch import nn

from figures_src.curvature import mse
from figures_src.model import MLP, MLPConfig, gaussian_inputs, seeded

DIVERGED = 1e6  # a loss this many times the initial one counts as diverged


def teacher_task(d_in: int, n_samples: int, seed: int, teacher_width: int = 64, teacher_depth: int = 2,
                 input_correlation: float = 0.0, dtype: torch.dtype = torch.float32
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, y): Gaussian inputs (n_samples, d_in) and the outputs (n_samples, 1) of a random He-initialised
    ReLU teacher, standardised to mean 0 and variance 1 (so a constant predictor has loss ½ and fitting
    the task means fitting input-dependent, zero-mean targets).

    input_correlation ρ ∈ [0, 1): x = √ρ·m + √(1 − ρ)·z with one shared Gaussian vector m, so pairs of inputs
    have cosine ≈ ρ, as real data (images, …) are positively correlated; ρ = 0 gives independent inputs.
    Drawn from a CPU generator, on `model.device()`."""
    generator = seeded(seed)
    x = gaussian_inputs(n_samples, d_in, generator, dtype)
    if input_correlation:
        shared = gaussian_inputs(1, d_in, generator, dtype)
        x = input_correlation**0.5 * shared + (1 - input_correlation) ** 0.5 * x
    teacher = MLP(MLPConfig(d_in=d_in, width=teacher_width, depth=teacher_depth), generator, dtype=dtype)
    with torch.no_grad():
        y = teacher(x)
    return x, (y - y.mean()) / y.std(correction=0)


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, lr: float, steps: int) -> torch.Tensor:
    """Full-batch gradient descent, in place. Returns the loss before each step and after the last
    ((steps + 1,), float64, on x's device); after a divergence the remaining entries are inf."""
    params = [p for p in model.parameters() if p.requires_grad]
    losses = torch.full((steps + 1,), float("inf"), dtype=torch.float64, device=x.device)
    for step in range(steps + 1):
        loss = mse(model(x), y)
        losses[step] = loss.item()
        if not torch.isfinite(loss) or loss.item() > DIVERGED * losses[0]:
            losses[step] = float("inf")
            break
        if step == steps:
            break
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p -= lr * g
    return losses


def stacked_weights(models: list[MLP]) -> list[torch.Tensor]:
    """The weight matrices of several MLPs of the same shape, stacked: [(B, fan_out, fan_in), …]."""
    return [torch.stack([m.weights[i].detach() for m in models]) for i in range(len(models[0].weights))]


def batched_mlp_forward(weights: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """f for B stacked bias-free MLPs on the same inputs: (B, N, d_out). Same computation as `MLP.forward`."""
    h = x.expand(weights[0].shape[0], *x.shape)
    for w in weights[:-1]:
        h = torch.relu(h @ w.transpose(1, 2))
    return h @ weights[-1].transpose(1, 2)


def train_mlps(models: list[MLP], x: torch.Tensor, y: torch.Tensor, lrs: list[float] | torch.Tensor,
               steps: int) -> torch.Tensor:
    """`train` for B MLPs of one shape at once, model b with learning rate lrs[b]; the models are not
    modified. Returns (B, steps + 1) losses (float64, on x's device), inf after each run's divergence. Diverged
    runs are frozen (their weights set to zero) so they cannot overflow the batch."""
    if any(m.config.batch_norm or m.config.branch_scale is not None for m in models):
        raise ValueError("train_mlps handles plain MLPs only; use train() for batch norm or residual networks")
    weights = [w.clone().requires_grad_(True) for w in stacked_weights(models)]
    lrs = torch.as_tensor(lrs, dtype=x.dtype, device=x.device).reshape(-1, 1, 1)
    n_models = len(models)
    losses = torch.full((n_models, steps + 1), float("inf"), dtype=torch.float64, device=x.device)
    alive = torch.ones(n_models, dtype=torch.bool, device=x.device)
    for step in range(steps + 1):
        per_model = 0.5 * (batched_mlp_forward(weights, x) - y).pow(2).sum(dim=(1, 2)) / x.shape[0]
        values = per_model.detach().double()
        alive &= torch.isfinite(values)
        if step > 0:
            alive &= values <= DIVERGED * losses[:, 0]
        losses[alive, step] = values[alive]
        if step == steps or not alive.any():
            break
        grads = torch.autograd.grad(per_model[alive].sum(), weights)  # models are independent: one backward
        with torch.no_grad():
            mask = alive.to(x.dtype).reshape(-1, 1, 1)
            for w, g in zip(weights, grads):
                w -= lrs * torch.nan_to_num(g) * mask
                w *= torch.where(alive, 1.0, 0.0).to(x.dtype).reshape(-1, 1, 1)
    return losses


def steps_to(losses: torch.Tensor, threshold: float) -> torch.Tensor:
    """First step at which each loss curve (…, steps + 1) is at or below threshold; inf if never."""
    below = losses <= threshold
    first = below.to(torch.int64).argmax(dim=-1).to(torch.float64)
    return torch.where(below.any(dim=-1), first, torch.full_like(first, float("inf")))


# ---- chapter 4 (Solutions)

def stacked_forward(weights: list[torch.Tensor], x: torch.Tensor, batch_norm: bool = False,
                    branch_scale: float | None = None) -> torch.Tensor:
    """f for B stacked networks of one architecture on the same inputs x (N, d_in): (B, N, d_out). Same
    computation as `MLP.forward` (plain or residual stream, batch norm over each network's own batch)."""
    def norm(h):
        if not batch_norm:
            return h
        mean = h.mean(dim=1, keepdim=True)
        var = h.var(dim=1, correction=0, keepdim=True)
        return (h - mean) / torch.sqrt(var + 1e-5)
    h = x.expand(weights[0].shape[0], *x.shape)
    if branch_scale is None:
        for w in weights[:-1]:
            h = torch.relu(norm(h @ w.transpose(1, 2)))
    else:
        h = h @ weights[0].transpose(1, 2)
        for w in weights[1:-1]:
            h = h + branch_scale * (torch.relu(norm(h)) @ w.transpose(1, 2))
    return h @ weights[-1].transpose(1, 2)


def train_stacked(weights: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor, lrs, steps: int,
                  batch_norm: bool = False, branch_scale: float | None = None,
                  diverged_factor: float = 10.0) -> torch.Tensor:
    """Full-batch gradient descent on B stacked networks at once (network b at learning rate lrs[b]; the
    weights given are not modified). Returns (B, steps + 1) losses (float64): the loss before each step and
    after the last. A run whose loss is non-finite or above `diverged_factor` × its initial loss stops there:
    that loss is recorded (inf if non-finite) and the rest of its curve is NaN (not run)."""
    weights = [w.detach().clone().requires_grad_(True) for w in weights]
    n_models = weights[0].shape[0]
    lrs = torch.as_tensor(lrs, dtype=x.dtype, device=x.device).reshape(-1, 1, 1)
    losses = torch.full((n_models, steps + 1), float("nan"), dtype=torch.float64, device=x.device)
    alive = torch.ones(n_models, dtype=torch.bool, device=x.device)
    for step in range(steps + 1):
        live = alive.nonzero().flatten()  # only the runs still going are computed
        per_model = 0.5 * (stacked_forward([w[live] for w in weights], x, batch_norm, branch_scale) - y).pow(2).sum(
            dim=(1, 2)) / x.shape[0]
        values = per_model.detach().double()
        values = torch.where(torch.isfinite(values), values, torch.full_like(values, float("inf")))
        losses[live, step] = values
        ok = torch.isfinite(values)
        if step > 0:
            ok &= values <= diverged_factor * losses[live, 0]
        alive[live] = ok
        if step == steps or not ok.any():
            break
        grads = torch.autograd.grad(per_model[ok].sum(), weights)
        with torch.no_grad():
            for w, g in zip(weights, grads):
                w[live] -= lrs[live] * g[live]
    return losses


def run_outcomes(losses: torch.Tensor, threshold: float, diverged_factor: float = 10.0) -> list[str]:
    """Each run's outcome from its loss curve (`train_stacked`): "reached" (loss at or below threshold within
    the steps run), "diverged" (a non-finite loss, or one above diverged_factor × the initial loss), else
    "stalled"."""
    outcomes = []
    for curve in losses:
        ran = curve[~torch.isnan(curve)]
        if (ran <= threshold).any():
            outcomes.append("reached")
        elif (~torch.isfinite(ran)).any() or (ran > diverged_factor * ran[0]).any():
            outcomes.append("diverged")
        else:
            outcomes.append("stalled")
    return outcomes
