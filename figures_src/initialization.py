"""Data-driven initialisations of an `MLP`: LSUV (Mishkin & Matas 2016) and MetaInit (Dauphin & Schoenholz 2019).

Both only multiply each weight matrix by a positive number. In a bias-free ReLU MLP (plain, no batch norm)
that rescales every representation φˡ by a positive constant, so every cosine c_l is exactly unchanged:
neither can undo the collapse there. What they can change: the overall scale of the output (and with it
the size of the gradient and the curvature), the balance between layers, and, in a residual network,
the effective branch scale α·‖Wˡ‖.
"""

import torch

from figures_src.curvature import mse
from figures_src.measures import gradient_quotient
from figures_src.model import MLP, batch_norm


def linear_outputs(model: MLP, x: torch.Tensor) -> list[torch.Tensor]:
    """The output of every weight matrix on the batch x, in the order of `model.weights`: the pre-activations
    hˡ = Wˡφˡ⁻¹ of a plain net (before batch norm, if any) and its readout; for a residual net the projection
    h⁰, each branch's Wˡ relu(·) before the factor α, and the readout."""
    features = model.features(x)
    weights = list(model.weights)
    if model.config.branch_scale is None:
        return [rep @ w.T for rep, w in zip(features, weights)]
    norm = batch_norm if model.config.batch_norm else (lambda h: h)
    branches = [torch.relu(norm(rep)) @ w.T for rep, w in zip(features[:-1], weights[1:-1])]
    return [features[0]] + branches + [features[-1] @ weights[-1].T]


@torch.no_grad()
def lsuv(model: MLP, x: torch.Tensor, tol: float = 0.02, max_iter: int = 10) -> list[int]:
    """Layer-sequential unit-variance: from the first weight matrix to the readout, divide Wˡ by the standard
    deviation of its output on the batch x until that variance is within tol of 1 (at most max_iter passes
    per layer). Mishkin & Matas start from an orthonormal init: build the model with init="orthogonal".
    A matrix that is all zeros (a zero residual branch) is left alone. Returns the passes used per layer."""
    passes = []
    for index, weight in enumerate(model.weights):
        used = 0
        for used in range(1, max_iter + 1):
            variance = linear_outputs(model, x)[index].var()
            if not torch.isfinite(variance) or variance == 0 or abs(variance - 1) < tol:
                break
            weight.mul_(variance.rsqrt())
        passes.append(used)
    return passes


def model_gradient_quotient(model: MLP, x: torch.Tensor, y: torch.Tensor, eps: float = 1e-5) -> float:
    """GQ of the MSE loss of the model on (x, y), over all weight matrices."""
    return gradient_quotient(mse(model(x), y), list(model.weights), eps).item()


def metainit(model: MLP, x_shape: tuple[int, int], generator: torch.Generator, steps: int = 100,
             lr: float = 0.1, momentum: float = 0.9, eps: float = 1e-5,
             rescale: list[int] | None = None) -> list[float]:
    """MetaInit: rescale the norm of every weight matrix to minimise the gradient quotient of the loss on
    random data, by sign-gradient descent with momentum on the norms (the algorithm of Dauphin & Schoenholz
    2019, appendix). Each step draws a fresh batch of Gaussian inputs of shape x_shape and Gaussian targets
    (the task here is regression, so the loss is MSE instead of the paper's cross-entropy on random labels).
    Directions are never changed, only norms. `rescale`: indices into `model.weights` of the matrices whose
    norms MetaInit may change (default: all; GQ is still computed over all of them). Returns GQ before
    each step. The batches are drawn from `generator` (CPU) and moved to the weights' device."""
    weights = list(model.weights)
    rescale = range(len(weights)) if rescale is None else rescale
    memory = [0.0] * len(weights)
    history = []
    for _ in range(steps):
        x = torch.randn(*x_shape, generator=generator, dtype=weights[0].dtype).to(weights[0].device)
        y = torch.randn(x_shape[0], model.config.d_out, generator=generator, dtype=weights[0].dtype).to(x.device)
        gq = gradient_quotient(mse(model(x), y), weights, eps, create_graph=True)
        history.append(gq.item())
        grads = torch.autograd.grad(gq, weights)
        with torch.no_grad():
            for j, (w, g) in enumerate(zip(weights, grads)):
                norm = w.norm()
                if norm == 0 or j not in rescale:
                    continue
                # derivative of GQ along the matrix's own direction = d GQ / d ‖W‖; only its sign is used
                memory[j] = momentum * memory[j] - lr * torch.sign((w * g).sum() / norm).item()
                w.mul_((norm + memory[j]).clamp(min=1e-3 * norm) / norm)
    return history
