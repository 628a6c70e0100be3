"""The curvature engine against the dense Hessian (torch.func.hessian + eigvalsh) on small networks.

The dense reference is computed from an independent, purely functional copy of the MLP's forward pass, so
a bug in how the engine reaches the model's parameters (e.g. a detached layer) shows up as a mismatch.
"""

import pytest
import torch

from figures_src.curvature import (HessianOperator, dense_hessian, flatten, hutchinson_trace, hvp, lanczos,
                                   mse, power_iteration)
from figures_src.model import MLP, MLPConfig, gaussian_inputs, seeded

REL = 1e-4  # the engine's accuracy target on eigenvalues


def functional_mlp_loss(net: MLP, x: torch.Tensor, y: torch.Tensor):
    """L(θ) for the MLP written from scratch on a flat θ (same layout as `flatten(net.parameters())`)."""
    shapes = [w.shape for w in net.weights]

    def loss(theta: torch.Tensor) -> torch.Tensor:
        weights, start = [], 0
        for shape in shapes:
            weights.append(theta[start:start + shape.numel()].view(shape))
            start += shape.numel()
        h = x
        for w in weights[:-1]:
            h = torch.relu(h @ w.T)
        return mse(h @ weights[-1].T, y)
    return loss


def small_problem(seed: int, target_scale: float = 1.0, depth: int = 3, width: int = 8):
    net = MLP(MLPConfig(d_in=5, width=width, depth=depth), seeded(seed), dtype=torch.float64)
    x = gaussian_inputs(10, 5, seeded(1), dtype=torch.float64)
    y = target_scale * torch.randn(10, 1, generator=seeded(7), dtype=torch.float64)
    op = HessianOperator(net, x, y)
    loss = functional_mlp_loss(net, x, y)
    theta = flatten(net.parameters())
    return net, op, loss, theta


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_functional_reference_is_the_same_network(seed):
    net, op, loss, theta = small_problem(seed)
    assert loss(theta).item() == pytest.approx(op.loss, rel=1e-12)


@pytest.mark.parametrize("seed,scale", [(0, 1.0), (1, 10.0), (2, 30.0)])
def test_hessian_vector_products_match_the_dense_hessian(seed, scale):
    _, op, loss, theta = small_problem(seed, scale)
    hessian = dense_hessian(loss, theta)
    torch.testing.assert_close(hessian, hessian.T)
    for k in range(3):
        v = torch.randn(op.dim, generator=seeded(100 + k), dtype=torch.float64)
        exact = hessian @ v
        assert (op(v) - exact).norm() <= 1e-10 * exact.norm()  # double backward on the module
        assert (hvp(loss, theta, v) - exact).norm() <= 1e-10 * exact.norm()  # forward-over-reverse on θ
    assert op.matvecs == 3
    torch.testing.assert_close(op.gradient, torch.func.grad(loss)(theta))


@pytest.mark.parametrize("seed,scale", [(0, 1.0), (1, 1.0), (3, 1.0), (0, 10.0), (2, 10.0)])
def test_lanczos_finds_both_ends_of_the_spectrum(seed, scale):
    _, op, loss, theta = small_problem(seed, scale)
    eigenvalues = torch.linalg.eigvalsh(dense_hessian(loss, theta))
    result = lanczos(op, op.dim, tol=1e-7, generator=seeded(3))
    top, bottom = eigenvalues[-1].item(), eigenvalues[0].item()
    assert abs(result.top - top) <= REL * abs(top)
    assert abs(result.bottom - bottom) <= REL * max(abs(bottom), abs(top))
    assert result.matvecs < op.dim  # it did not need the whole space
    # The Ritz vector is an eigenvector: ‖Hv − λv‖ small.
    residual = (op(result.top_vector) - result.top * result.top_vector).norm()
    assert residual <= 1e-3 * abs(top)


def test_lanczos_returns_the_top_where_power_iteration_returns_the_bottom():
    """Large residuals (targets of scale 30): the most negative eigenvalue is larger in magnitude than the top
    one. Power iteration (PyHessian's method) converges to it; Lanczos reports the algebraically largest."""
    _, op, loss, theta = small_problem(3, 30.0)
    eigenvalues = torch.linalg.eigvalsh(dense_hessian(loss, theta))
    top, bottom = eigenvalues[-1].item(), eigenvalues[0].item()
    assert top > 0 > bottom and abs(bottom) > 1.1 * top  # the case this test is about
    power = power_iteration(op, op.dim, max_steps=500, tol=1e-8, generator=seeded(3))
    assert abs(power.eigenvalue - bottom) <= 1e-3 * abs(bottom)  # the wrong end
    result = lanczos(op, op.dim, tol=1e-7, generator=seeded(3))
    assert abs(result.top - top) <= REL * abs(top)
    assert abs(result.bottom - bottom) <= REL * abs(bottom)


def test_lanczos_on_a_hand_made_quadratic_with_close_top_eigenvalues():
    """L(θ) = ½θᵀAθ with eigenvalues −5, …, 2.99, 3: the top pair is nearly degenerate and the bottom is
    the largest in magnitude."""
    dim = 40
    spectrum = torch.cat([torch.tensor([-5.0]), torch.linspace(-1.0, 2.0, dim - 3, dtype=torch.float64),
                          torch.tensor([2.99, 3.0])]).double()
    q = torch.linalg.qr(torch.randn(dim, dim, generator=seeded(0), dtype=torch.float64))[0]
    a = q @ torch.diag(spectrum) @ q.T
    loss = lambda theta: 0.5 * theta @ a @ theta  # noqa: E731
    theta = torch.zeros(dim, dtype=torch.float64)
    torch.testing.assert_close(dense_hessian(loss, theta), a)
    result = lanczos(lambda v: hvp(loss, theta, v), dim, tol=1e-8, generator=seeded(1))
    assert abs(result.top - 3.0) <= REL * 3.0
    assert abs(result.bottom + 5.0) <= REL * 5.0


def test_a_deeper_network_lanczos_against_a_tight_run():
    """On a network too large for the dense Hessian: the default tolerance agrees with a tight run."""
    net = MLP(MLPConfig(d_in=16, width=32, depth=8), seeded(4), dtype=torch.float64)
    x = gaussian_inputs(16, 16, seeded(1), dtype=torch.float64)
    y = torch.randn(16, 1, generator=seeded(2), dtype=torch.float64)
    op = HessianOperator(net, x, y)
    tight = lanczos(op, op.dim, tol=1e-10, max_steps=200, generator=seeded(5))
    default = lanczos(op, op.dim, generator=seeded(6))
    assert abs(default.top - tight.top) <= REL * abs(tight.top)
    assert abs(default.bottom - tight.bottom) <= REL * abs(tight.top)


@pytest.mark.parametrize("seed", [0, 1])
def test_hutchinson_trace_is_unbiased_within_its_error(seed):
    _, op, loss, theta = small_problem(seed)
    trace = torch.linalg.eigvalsh(dense_hessian(loss, theta)).sum().item()
    estimate, stderr = hutchinson_trace(op, op.dim, samples=400, generator=seeded(10 + seed))
    assert abs(estimate - trace) <= 4 * stderr  # 4 standard errors
    assert stderr <= 0.1 * abs(trace)  # and the estimate is informative


@pytest.mark.parametrize("depth", [16, 64])
def test_the_curvature_figure_tolerance_is_accurate_on_its_networks(depth):
    """curvature-by-depth stops Lanczos at a residual of lanczos_tol·max|θ|; on its width-64 networks the top
    eigenvalue then agrees with a run to 1e-10 within 1e-4 (relative)."""
    from figures_src.figures.curvature_by_depth import PARAMS
    from figures_src.training import teacher_task
    x, y = teacher_task(PARAMS["d_in"], PARAMS["n_inputs"], PARAMS["task_seed"], dtype=torch.float64)
    net = MLP(MLPConfig(d_in=PARAMS["d_in"], width=64, depth=depth), seeded(7), dtype=torch.float64)
    op = HessianOperator(net, x, y)
    figure = lanczos(op, op.dim, tol=PARAMS["lanczos_tol"], generator=seeded(0))
    tight = lanczos(op, op.dim, tol=1e-10, max_steps=200, generator=seeded(1))
    assert abs(figure.top - tight.top) <= REL * abs(tight.top)
