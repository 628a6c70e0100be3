"""The curvature engine against the dense Hessian (torch.func.hessian + eigvalsh) on small networks.

The dense reference is computed from an independent, purely functional copy of the MLP's forward pass, so
a bug in how the engine reaches the model's parameters (e.g. a detached layer) shows up as a mismatch.
"""

import math

import pytest
import torch

from figures_src.curvature import (HessianOperator, dense_hessian, flatten, hutchinson_trace, hvp, lanczos,
                                   mse, power_iteration, vector_format)
from figures_src.gradient_step import step_terms
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
    top = lanczos(op, op.dim, which="top", generator=seeded(6))
    assert abs(top.top - tight.top) <= REL * abs(tight.top)
    assert top.matvecs < default.matvecs


@pytest.mark.parametrize("seed,scale", [(0, 1.0), (1, 1.0), (3, 1.0), (0, 10.0), (2, 10.0), (3, 30.0)])
def test_lanczos_top_only_stops_as_soon_as_the_top_has_converged(seed, scale):
    """which="top" with the default tolerance: the top eigenvalue to 1e-4, found by the first product at which
    its residual test passes; the residual it reports is the true one."""
    _, op, loss, theta = small_problem(seed, scale)
    top = torch.linalg.eigvalsh(dense_hessian(loss, theta))[-1].item()
    result = lanczos(op, op.dim, which="top", generator=seeded(3))
    assert result.converged and result.bottom is None and result.bottom_vector is None
    assert abs(result.top - top) <= REL * abs(top)
    residual = (op(result.top_vector) - result.top * result.top_vector).norm().item()
    assert residual == pytest.approx(result.top_residual, rel=1e-3)
    assert not lanczos(op, op.dim, which="top", generator=seeded(3), max_steps=result.matvecs - 1).converged
    assert result.matvecs <= lanczos(op, op.dim, generator=seeded(3)).matvecs  # the bottom end takes longer


def test_lanczos_reports_a_run_stopped_by_max_steps():
    _, op, _, _ = small_problem(0)
    for which in ("top", "both"):
        result = lanczos(op, op.dim, which=which, tol=0.0, max_steps=5, generator=seeded(3))
        assert result.matvecs == 5 and not result.converged
    with pytest.raises(ValueError):
        lanczos(op, op.dim, which="bottom")


def plain_lanczos_vectors(matvec, q: torch.Tensor, steps: int) -> torch.Tensor:
    """The three-term recurrence alone, never reorthogonalised: what the safeguard protects against."""
    vectors, previous, beta = [q], torch.zeros_like(q), 0.0
    for _ in range(steps - 1):
        w = matvec(vectors[-1]) - beta * previous
        w = w - torch.dot(w, vectors[-1]) * vectors[-1]
        beta, previous = w.norm().item(), vectors[-1]
        vectors.append(w / beta)
    return torch.stack(vectors)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_partial_reorthogonalisation_keeps_the_lanczos_vectors_semi_orthogonal(dtype):
    """A diagonal operator with two isolated top eigenvalues, which converge within a few steps: from then on
    the plain recurrence loses orthogonality entirely. Lanczos, which reorthogonalises only when its running
    estimate of the loss exceeds √ε, keeps every |q_j·q_k| below √ε with part of the reorthogonalisations, and
    finds each top eigenvalue once (no spurious copies)."""
    dim, steps = 300, 80
    spectrum = torch.cat([torch.tensor([100.0, 60.0]), torch.linspace(0.0, 10.0, dim - 2)]).to(dtype)
    vectors = []  # what Lanczos feeds the operator: its basis

    def recording(v):
        vectors.append(v.clone())
        return spectrum * v
    result = lanczos(recording, dim, max_steps=steps, tol=0.0, generator=seeded(0), dtype=dtype)
    q = torch.stack(vectors).double()
    identity = torch.eye(steps, dtype=torch.float64)
    assert (q @ q.T - identity).abs().max() <= torch.finfo(dtype).eps ** 0.5
    assert 0 < result.reorthogonalisations < steps - 1
    for eigenvalue in (100.0, 60.0):
        assert ((result.ritz_values - eigenvalue).abs() <= 1.0).sum() == 1
    plain = plain_lanczos_vectors(lambda v: spectrum * v, vectors[0], steps).double()
    assert (plain @ plain.T - identity).abs().max() > 0.1


def float32_problem(seed: int):
    """A float32 network (the default dtype of `MLP`) and the float64 eigenvalues of its Hessian at the same
    weights."""
    net = MLP(MLPConfig(d_in=5, width=8, depth=3), seeded(seed))
    x, y = gaussian_inputs(10, 5, seeded(1)), torch.randn(10, 1, generator=seeded(7))
    loss = functional_mlp_loss(net, x.double(), y.double())
    return HessianOperator(net, x, y), torch.linalg.eigvalsh(dense_hessian(loss, flatten(net.parameters()).double()))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_float32_model_works_with_default_arguments(seed):
    """The vectors follow the operator's dtype without being told, and the eigenvalues are right to float32
    precision."""
    op, eigenvalues = float32_problem(seed)
    assert (op.dtype, op.device) == (torch.float32, torch.device("cpu"))
    scale = eigenvalues.abs().max().item()
    # Default arguments draw the start vectors from torch's global generator, whose state here depended on the
    # tests run before (about 1 start in 5000 stops with the bottom eigenvalue off by 5e-5·‖H‖): fix it.
    torch.manual_seed(seed)
    both, top = lanczos(op, op.dim), lanczos(op, op.dim, which="top")
    assert both.top_vector.dtype == both.bottom_vector.dtype == top.top_vector.dtype == torch.float32
    assert abs(both.top - eigenvalues[-1]) <= 1e-5 * scale
    assert abs(both.bottom - eigenvalues[0]) <= 1e-5 * scale
    assert abs(top.top - eigenvalues[-1]) <= 1e-5 * scale
    power = power_iteration(op, op.dim, max_steps=500)
    assert power.converged and power.vector.dtype == torch.float32
    assert abs(power.eigenvalue - eigenvalues[eigenvalues.abs().argmax()]) <= 1e-3 * scale
    trace = hutchinson_trace(op, op.dim)
    assert trace.samples.shape == (20,) and trace.ci_low <= trace.estimate <= trace.ci_high


def test_vectors_follow_the_operator_and_random_draws_do_not_depend_on_the_precision():
    assert vector_format(lambda v: v) == (torch.float64, torch.device("cpu"))
    op, _ = float32_problem(0)
    assert vector_format(op) == (torch.float32, torch.device("cpu"))
    assert vector_format(op, dtype=torch.float64) == (torch.float64, torch.device("cpu"))
    starts = {}
    for dtype in (torch.float32, torch.float64):
        def recording(v, dtype=dtype):
            starts.setdefault(dtype, v.clone())
            return 2 * v
        lanczos(recording, 50, max_steps=3, tol=0.0, generator=seeded(4), dtype=dtype)
    assert starts[torch.float32].dtype == torch.float32
    torch.testing.assert_close(starts[torch.float32], starts[torch.float64].float())


def close_top_pair(dim: int = 60, ratio: float = 0.97) -> torch.Tensor:
    """The diagonal of an operator with top eigenvalues 1 and `ratio`, the rest in [−0.3, 0.5]."""
    return torch.cat([torch.tensor([1.0, ratio]), torch.linspace(-0.3, 0.5, dim - 2)]).double()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_power_iteration_stops_when_its_error_is_below_tol(seed):
    """λ₂/λ₁ = 0.97: PyHessian's rule (stop when the change is below tol) would have stopped with 16 times its
    tolerance; the extrapolated rule stops within it."""
    spectrum = close_top_pair()
    run = power_iteration(lambda v: spectrum * v, len(spectrum), tol=1e-4, max_steps=1000, generator=seeded(seed))
    assert run.converged and 0 <= 1 - run.eigenvalue <= 1e-4
    history = run.history
    pyhessian = next(k for k in range(1, len(history)) if abs(history[k] - history[k - 1]) <= 1e-4 * history[k])
    assert 1 - history[pyhessian] > 1e-3


def test_power_iteration_reports_a_capped_run_and_obeys_stop():
    spectrum = close_top_pair()
    matvec = lambda v: spectrum * v  # noqa: E731
    capped = power_iteration(matvec, len(spectrum), tol=1e-4, max_steps=10, generator=seeded(1))
    assert capped.matvecs == 10 and not capped.converged
    never = power_iteration(matvec, len(spectrum), tol=0.0, max_steps=300, generator=seeded(1))
    assert never.matvecs == 300 and not never.converged
    stopped = power_iteration(matvec, len(spectrum), tol=0.0, max_steps=300, generator=seeded(1),
                              stop=lambda estimate: estimate >= 0.999)
    assert stopped.converged and stopped.eigenvalue >= 0.999 > stopped.history[-2]


@pytest.mark.parametrize("seed", [0, 1])
def test_hutchinson_trace_is_unbiased_within_its_error(seed):
    _, op, loss, theta = small_problem(seed)
    trace = torch.linalg.eigvalsh(dense_hessian(loss, theta)).sum().item()
    result = hutchinson_trace(op, op.dim, samples=400, generator=seeded(10 + seed))
    assert abs(result.estimate - trace) <= 4 * result.stderr  # 4 standard errors
    assert result.stderr <= 0.1 * abs(trace)  # and the estimate is informative


@pytest.mark.parametrize("depth", [16, 64])
def test_the_curvature_figure_tolerance_is_accurate_on_its_networks(depth):
    """curvature-by-depth stops Lanczos at a residual of at most lanczos_tol·max|θ| (less where a gap is small);
    on its width-64 networks the top eigenvalue then agrees with a run to 1e-10 within 1e-4 (relative)."""
    from figures_src.figures.curvature_by_depth import PARAMS
    from figures_src.training import teacher_task
    x, y = teacher_task(PARAMS["d_in"], PARAMS["n_inputs"], PARAMS["task_seed"], dtype=torch.float64)
    net = MLP(MLPConfig(d_in=PARAMS["d_in"], width=64, depth=depth), seeded(7), dtype=torch.float64)
    op = HessianOperator(net, x, y)
    figure = lanczos(op, op.dim, tol=PARAMS["lanczos_tol"], generator=seeded(0))
    tight = lanczos(op, op.dim, tol=1e-10, max_steps=200, generator=seeded(1))
    assert abs(figure.top - tight.top) <= REL * abs(tight.top)


def test_hutchinson_interval_covers_the_trace_of_a_skewed_problem():
    """H = 20·uuᵀ/n plus a small diagonal: vᵀHv is dominated by (u·v)², skewed to the right. Over 200 estimates
    of 30 samples each, the 95 % bootstrap-t interval covers the trace at least 90 % of the time, more often
    than mean ± 1.96 standard errors, and it reaches further above the estimate than below."""
    dim = 50
    u = torch.randn(dim, generator=seeded(1), dtype=torch.float64)
    h = 20 * torch.outer(u, u) / dim + torch.diag(torch.rand(dim, generator=seeded(2), dtype=torch.float64))
    trace = torch.trace(h).item()
    covered = covered_normal = longer_above = 0
    for s in range(200):
        result = hutchinson_trace(lambda v: h @ v, dim, samples=30, generator=seeded(1000 + s))
        assert result.samples.shape == (30,)
        assert result.estimate == pytest.approx(result.samples.mean().item())
        assert result.stderr == pytest.approx(result.samples.std().item() / 30**0.5)
        covered += result.ci_low <= trace <= result.ci_high
        covered_normal += abs(result.estimate - trace) <= 1.96 * result.stderr
        longer_above += result.ci_high - result.estimate > result.estimate - result.ci_low
    assert covered >= 180 and covered > covered_normal
    assert longer_above >= 180


def test_hutchinson_trace_is_reproducible_and_exact_on_a_diagonal():
    """The same generator seed gives the same samples and, the bootstrap being seeded, the same interval. On a
    diagonal operator vᵀDv = tr D for every sign vector v: the estimate is exact and the interval a point."""
    h = torch.linspace(-1.0, 3.0, 40, dtype=torch.float64)
    diagonal = hutchinson_trace(lambda v: h * v, 40, samples=10, generator=seeded(5))
    assert diagonal.estimate == pytest.approx(h.sum().item())
    assert diagonal.ci_low == diagonal.estimate == diagonal.ci_high
    dense = torch.diag(h) + 0.1 * torch.ones(40, 40, dtype=torch.float64)
    first, second = (hutchinson_trace(lambda v: dense @ v, 40, samples=10, generator=seeded(5)) for _ in range(2))
    assert torch.equal(first.samples, second.samples)
    assert (first.ci_low, first.ci_high) == (second.ci_low, second.ci_high)
    assert first.ci_low < first.estimate < first.ci_high


def test_a_step_with_no_curvature_along_the_gradient_has_no_best_step():
    """At a zero of the loss the gradient is zero, so gᵀHg = 0: no η*, no curve, and no division by zero."""
    net, *_ = small_problem(0)
    x = gaussian_inputs(10, 5, seeded(1), dtype=torch.float64)
    with torch.no_grad():
        y = net(x)
    terms = step_terms(net, x, y, etas=[0.5, 1.0])
    assert terms["grad_sq"] == 0 and terms["ghg"] == 0 and terms["curve"] == []
    assert all(math.isnan(terms[name]) for name in ("eta_star", "best_decrease", "measured_decrease",
                                                    "useful_decrease"))
