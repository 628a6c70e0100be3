"""Curvature of a loss from Hessian-vector products: Lanczos, power iteration, Hutchinson's trace.

The eigenvalue methods take any symmetric operator `matvec(v) -> Hv` on flat vectors. For a model and data,
`HessianOperator(model, x, y)` gives that operator by double backward through autograd (any `nn.Module`);
for a loss written as a pure function of a flat θ, `hvp` uses forward-over-reverse (`torch.func`). The
Hessian is never formed except by `dense_hessian`, the reference for tests on small networks, and never
hand-derived.

Which eigenvalue: `lanczos` returns the algebraically largest and smallest eigenvalues (both ends of the
spectrum). Plain power iteration, the method of PyHessian, converges to the eigenvalue of largest
*magnitude*, which is a large negative one when the bottom of the spectrum is deeper than the top is
high; it also stalls when the top two eigenvalues are close. It is kept here as the baseline the
benchmark compares against. Use float64 for Hessian work.
"""

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn
from torch.func import grad, jvp

MatVec = Callable[[torch.Tensor], torch.Tensor]


def mse(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L = (1/2N) Σ_a ‖f(x_a) − y_a‖²: the loss of every chapter-3 experiment."""
    return 0.5 * (prediction - target).pow(2).sum() / prediction.shape[0]


def flatten(tensors) -> torch.Tensor:
    """Tensors (e.g. `model.parameters()`) as one flat vector, detached."""
    return torch.cat([t.detach().reshape(-1) for t in tensors])


class HessianOperator:
    """v ↦ H v for the loss of a model on fixed data, by double backward through autograd.

    Works for any `nn.Module` (the forward is run once, the first-order graph kept; each product is one more
    backward pass through it). `gradient` is ∇L, `loss` is L, `dim` the number of parameters; `matvecs`
    counts the products. Parameters are in `model.parameters()` order, flattened.
    """

    def __init__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                 loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = mse):
        self.params = [p for p in model.parameters() if p.requires_grad]
        value = loss(model(x), y)
        self.grads = torch.autograd.grad(value, self.params, create_graph=True)
        self.loss = value.item()
        self.gradient = flatten(self.grads)
        self.dim = self.gradient.numel()
        self.matvecs = 0

    def split(self, v: torch.Tensor) -> list[torch.Tensor]:
        return [chunk.view_as(p) for chunk, p in zip(v.split([p.numel() for p in self.params]), self.params)]

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        self.matvecs += 1
        dot = sum((g * chunk).sum() for g, chunk in zip(self.grads, self.split(v)))
        hv = torch.autograd.grad(dot, self.params, retain_graph=True, allow_unused=True)
        return torch.cat([(h if h is not None else torch.zeros_like(p)).reshape(-1)
                          for h, p in zip(hv, self.params)])


def hvp(loss_fn: Callable[[torch.Tensor], torch.Tensor], theta: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """H(θ)v for a loss written as a pure function of one flat vector θ, by forward-over-reverse
    automatic differentiation (the directional derivative of ∇L along v)."""
    return jvp(grad(loss_fn), (theta,), (v,))[1]


def dense_hessian(loss_fn: Callable[[torch.Tensor], torch.Tensor], theta: torch.Tensor) -> torch.Tensor:
    """The full P × P Hessian of a pure function of θ (small networks only: the reference the iterative
    methods are tested against)."""
    return torch.func.hessian(loss_fn)(theta)


# ---------------------------------------------------------------- eigenvalues

@dataclass
class Lanczos:
    top: float  # algebraically largest eigenvalue (Ritz value)
    bottom: float  # algebraically smallest eigenvalue
    top_vector: torch.Tensor  # unit Ritz vector of `top`
    bottom_vector: torch.Tensor
    ritz_values: torch.Tensor  # all Ritz values of the last step, ascending
    matvecs: int  # Hessian-vector products used
    top_history: list[float]  # top Ritz value after each product: its convergence
    bottom_history: list[float]


def random_unit(dim: int, generator: torch.Generator | None, dtype: torch.dtype, device="cpu") -> torch.Tensor:
    v = torch.randn(dim, generator=generator, dtype=dtype).to(device)
    return v / v.norm()


def lanczos(matvec: MatVec, dim: int, max_steps: int = 60, tol: float = 1e-6,
            generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64,
            start: torch.Tensor | None = None, min_steps: int = 3) -> Lanczos:
    """Lanczos with full reorthogonalisation for a symmetric operator.

    Stops when the residual ‖Hy − θy‖ = |β_k s_k| of both the top and the bottom Ritz pairs is below
    tol·max|θ| (the eigenvalue error is then about residual²/gap, far smaller), when the Krylov space is
    exhausted, or after max_steps products. Full reorthogonalisation keeps k vectors of size `dim`:
    fine for the few dozen steps curvature needs.
    """
    q = start / start.norm() if start is not None else random_unit(dim, generator, dtype)
    steps = min(max_steps, dim)
    basis = torch.empty(min(steps, 4), dim, dtype=q.dtype, device=q.device)  # rows: the Krylov basis, grown by doubling
    basis[0] = q
    alphas, betas, top_history, bottom_history = [], [], [], []
    beta_prev = 0.0
    for step in range(1, steps + 1):
        current = basis[step - 1]
        w = matvec(current)
        alpha = torch.dot(w, current).item()
        w = w - alpha * current - (beta_prev * basis[step - 2] if step > 1 else 0.0)
        for _ in range(2):  # full reorthogonalisation, twice is enough (Kahan–Parlett)
            w = w - basis[:step].T @ (basis[:step] @ w)
        beta = w.norm().item()
        alphas.append(alpha)
        t = torch.diag(torch.tensor(alphas, dtype=torch.float64))
        if len(betas):
            off = torch.tensor(betas, dtype=torch.float64)
            t += torch.diag(off, 1) + torch.diag(off, -1)
        ritz, s = torch.linalg.eigh(t)
        top_history.append(ritz[-1].item())
        bottom_history.append(ritz[0].item())
        scale = ritz.abs().max().item()
        residual_top, residual_bottom = abs(beta * s[-1, -1].item()), abs(beta * s[-1, 0].item())
        exhausted = beta <= 1e-12 * max(scale, 1e-300)
        if exhausted or step == steps or (step >= min_steps and max(residual_top, residual_bottom) <= tol * scale):
            break
        betas.append(beta)
        beta_prev = beta
        if step == basis.shape[0]:
            basis = torch.cat([basis, torch.empty_like(basis)])[:steps]
        basis[step] = w / beta
    vectors = (basis[:step].T.to(torch.float64) @ s[:, [0, -1]]).to(dtype)
    return Lanczos(top=ritz[-1].item(), bottom=ritz[0].item(), top_vector=vectors[:, 1] / vectors[:, 1].norm(),
                   bottom_vector=vectors[:, 0] / vectors[:, 0].norm(), ritz_values=ritz, matvecs=step,
                   top_history=top_history, bottom_history=bottom_history)


@dataclass
class PowerIteration:
    eigenvalue: float  # Rayleigh quotient of the last iterate: the eigenvalue of largest magnitude
    vector: torch.Tensor
    matvecs: int
    history: list[float]


def power_iteration(matvec: MatVec, dim: int, max_steps: int = 100, tol: float = 1e-3,
                    generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64,
                    start: torch.Tensor | None = None) -> PowerIteration:
    """v ← Hv/‖Hv‖ until the Rayleigh quotient changes by less than tol (relative), as in PyHessian
    (whose default tol is 1e-3). Converges to the eigenvalue of largest magnitude, whatever its sign."""
    v = start / start.norm() if start is not None else random_unit(dim, generator, dtype)
    history: list[float] = []
    for step in range(1, max_steps + 1):
        w = matvec(v)
        history.append(torch.dot(w, v).item())
        v = w / w.norm()
        if step > 1 and abs(history[-1] - history[-2]) <= tol * abs(history[-1]):
            break
    return PowerIteration(eigenvalue=history[-1], vector=v, matvecs=step, history=history)


def hutchinson_trace(matvec: MatVec, dim: int, samples: int = 20, generator: torch.Generator | None = None,
                     dtype: torch.dtype = torch.float64) -> tuple[float, float]:
    """tr H ≈ mean of vᵀHv over Rademacher vectors v; returns (estimate, its standard error)."""
    estimates = []
    for _ in range(samples):
        v = torch.randint(0, 2, (dim,), generator=generator).to(dtype) * 2 - 1
        estimates.append(torch.dot(v, matvec(v)).item())
    values = torch.tensor(estimates, dtype=torch.float64)
    return values.mean().item(), (values.std() / samples**0.5).item() if samples > 1 else float("nan")


def iterations_to(history: list[float], reference: float, rel_tol: float = 1e-4) -> int | None:
    """First iteration (1-based) from which the estimate stays within rel_tol of the reference; None if never."""
    ok = [abs(h - reference) <= rel_tol * abs(reference) for h in history]
    for i in range(len(ok)):
        if all(ok[i:]):
            return i + 1
    return None
