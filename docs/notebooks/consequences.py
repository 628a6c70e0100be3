# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Notebook 3: Consequences — gradient against curvature
#
# This notebook is the interactive companion of [chapter 3](../consequences.md). It gives the collapsed networks
# a regression task and measures, with Hessian-vector products, the two terms of one gradient step: the gain
# $\lVert g\rVert^2$ and the price $g^\top H g$. It then takes them apart: which gradients "vanish" (per-example
# gradients do not; batch gradients of early layers cancel), in which direction the curvature grows with depth,
# and what that does to a short run of gradient descent.
#
# **Time: about 20 minutes**: 12 to read and run (the curvature cells take a minute), 8 for the two exercises.
# Each exercise asks for a prediction *before* you run its solution cell, which is hidden until you open it;
# the solution checks its own answer against the theory.

# %%
from figures_src.notebook import setup
setup()

# %% [markdown]
# ## The code
#
# The next cells are the site's own code, inserted from its modules in `figures_src` when the site was built:
# the network (`model.py`), the loss and the Hessian-vector product (`curvature.py`), the gradient measures
# (`measures.py`) and the infinite-width tangent kernel (`theory.py`). Chapter 3's figures are computed with
# exactly these functions, and this notebook runs them as you read them here. From the package it imports only
# the heavy lifting: the Lanczos eigensolver, the teacher task and the batched training loop, and the chart colours.

# %%
# inline figures_src.model: MLP

# %%
# inline figures_src.curvature: mse, flatten, HessianOperator

# %%
# inline figures_src.measures: backprop_signals, layer_gradient_norms, ntk_blocks, useful_gradient_share
# inline figures_src.theory: ntk_blocks_infinite_width

# %%
import altair as alt
import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from figures_src.curvature import lanczos
from figures_src.model import seeded
from figures_src.theme import (ARCHITECTURE_COLORS, CATEGORICAL, FIRST_ORDER_COLOR, SECOND_ORDER_COLOR, SKY_BLUE,
                               THEORY_COLOR, THEORY_DASH)
from figures_src.training import steps_to, teacher_task, train_mlps

torch.set_num_threads(1)  # the matrices here are small: one thread is as fast, and far faster on a busy machine

# %% [markdown]
# ## Settings
#
# Change these and re-run. Curvature work is done in float64. The effects grow with depth over width:
# `WIDTH = 32` makes every experiment more dramatic, `WIDTH = 256` tames them (and is slower).

# %%
D_IN = 32  # input dimension of the task
N_SAMPLES = 64  # N, training inputs
WIDTH = 64  # n
DEPTHS = [1, 4, 16, 64]  # depths compared in the one-step experiment
CURVATURE_DEPTHS = [1, 2, 4, 8, 16]  # depths for λ_max (Lanczos)
CURVATURE_WIDTH = 128  # width of the λ_max experiment
SHOWN_DEPTH = 32  # the network whose step we draw
SEEDS = 8  # networks per depth in the one-step experiment
DTYPE = torch.float64

# %% [markdown]
# ## The task
#
# $N$ Gaussian inputs and the outputs of a fixed random ReLU *teacher*, standardised to mean 0 and variance 1
# (`training.teacher_task`). The loss is $\mathcal L = \frac1{2N}\sum_a r_a^2$ with $r_a = f(x_a) - y_a$
# (`curvature.mse`). A constant prediction can at best reach $\mathcal L = \tfrac12$; anything lower needs an
# output that depends on the input.

# %%
x, y = teacher_task(D_IN, N_SAMPLES, seed=0, dtype=DTYPE)
print(f"x {tuple(x.shape)}, y {tuple(y.shape)}: mean {y.mean().item():.3f}, variance {y.var(correction=0).item():.3f}")


def student(depth: int, seed: int, width: int = WIDTH, d_in: int = D_IN) -> MLP:
    return MLP(MLPConfig(d_in=d_in, width=width, depth=depth), seeded(100 * depth + seed), dtype=DTYPE)


# %% [markdown]
# ## First order against second order
#
# One gradient step of size $\eta$ changes the loss, to second order, by
#
# $$
# \mathcal L(\theta - \eta g) - \mathcal L(\theta) \approx \underbrace{-\eta\lVert g\rVert^2}_{\text{first order}}
# + \underbrace{\tfrac12\eta^2\, g^\top H g}_{\text{second order}},
# \qquad \eta^* = \frac{\lVert g\rVert^2}{g^\top H g},\qquad \text{best decrease} = \frac12\frac{\lVert g\rVert^4}{g^\top Hg}.
# $$
#
# `curvature.HessianOperator(net, x, y)` gives the gradient $g$ and the product $v \mapsto Hv$ by a second
# backward pass; the Hessian itself is never formed. We also split the loss into the part a shift of all outputs
# can remove, $\tfrac12\bar r^2$, and the input-dependent rest, $\frac1{2N}\sum_a (r_a - \bar r)^2$.

# %%
def loss_parts(net: MLP) -> tuple[float, float]:
    """(L, its input-dependent part)."""
    with torch.no_grad():
        r = net(x) - y
    return mse(net(x), y).item(), 0.5 * (r - r.mean()).pow(2).mean().item()


def one_step(net: MLP, etas: list[float] | None = None) -> dict:
    """The two Taylor terms of a step along −g, η*, and the measured effect of steps of size η* (and `etas`)."""
    op = HessianOperator(net, x, y)
    g = op.gradient
    grad_sq, ghg = (g @ g).item(), (g @ op(g)).item()
    theta = parameters_to_vector(net.parameters()).detach().clone()
    loss, useful = loss_parts(net)
    eta_star = grad_sq / ghg
    measured = {}
    for eta in [eta_star] + (etas or []):
        vector_to_parameters(theta - eta * g, net.parameters())
        measured[eta] = loss_parts(net)
    vector_to_parameters(theta, net.parameters())  # back to the initialisation
    loss_star, useful_star = measured[eta_star]
    return {"loss": loss, "useful": useful, "grad_sq": grad_sq, "ghg": ghg, "eta_star": eta_star,
            "best_decrease": 0.5 * grad_sq * eta_star / loss, "measured_decrease": (loss - loss_star) / loss,
            "useful_decrease": (useful - useful_star) / useful, "measured": measured}


# %% [markdown]
# Here is one network of depth `SHOWN_DEPTH`, stepped along $-g$ for a range of $\eta$. **Look at** where the
# measured loss change (blue) leaves the quadratic model (grey dashed), and at the light-blue line: the
# input-dependent part of the loss barely moves even where the total loss falls.

# %%
net = student(SHOWN_DEPTH, seed=0)
etas = [k / 20 * 2.5 for k in range(21)]  # in units of η*
probe = one_step(net)
result = one_step(net, [f * probe["eta_star"] for f in etas])
print(f"depth {SHOWN_DEPTH}: L = {result['loss']:.3f}, ‖g‖² = {result['grad_sq']:.3g}, gᵀHg/‖g‖² = "
      f"{result['ghg'] / result['grad_sq']:.3g}, η* = {result['eta_star']:.3g}")
print(f"predicted best decrease {result['best_decrease']:.3f} of L, measured {result['measured_decrease']:.3f}; "
      f"input-dependent part: {result['useful_decrease']:.3f}")

FIRST, SECOND, MODEL, MEASURED, USEFUL = ("first order −η‖g‖²", "second order ½η²gᵀHg", "quadratic model",
                                         "measured ΔL", "measured ΔL, input-dependent part")
rows = []
for f in etas:
    eta = f * result["eta_star"]
    loss, useful = result["measured"][eta]
    terms = {FIRST: -eta * result["grad_sq"], SECOND: 0.5 * eta**2 * result["ghg"],
             MEASURED: loss - result["loss"], USEFUL: useful - result["useful"]}
    terms[MODEL] = terms[FIRST] + terms[SECOND]
    rows += [{"eta": eta, "term": term, "change": value / result["loss"]} for term, value in terms.items()]
terms = [FIRST, SECOND, MODEL, MEASURED, USEFUL]
alt.Chart(alt.Data(values=rows)).mark_line(strokeWidth=2.2, clip=True).encode(
    x=alt.X("eta:Q", title="step size η along −g", scale=alt.Scale(nice=False)),
    y=alt.Y("change:Q", title="loss change ÷ L", scale=alt.Scale(domain=[-1, 0.5])),
    color=alt.Color("term:N", title=None, sort=terms, legend=alt.Legend(columns=1, labelLimit=300), scale=alt.Scale(
        domain=terms,
        range=[FIRST_ORDER_COLOR, SECOND_ORDER_COLOR, THEORY_COLOR, ARCHITECTURE_COLORS["plain"], SKY_BLUE])),
    strokeDash=alt.StrokeDash("term:N", title=None, sort=terms, scale=alt.Scale(
        domain=terms, range=[[1, 0], [1, 0], THEORY_DASH, [1, 0], [3, 2]])),
    tooltip=["term:N", alt.Tooltip("eta:Q", format=".3g"), alt.Tooltip("change:Q", format=".4f")],
).properties(width="container", height=280, title=f"One gradient step, depth {SHOWN_DEPTH}, width {WIDTH}")

# %% [markdown]
# One network is one draw. Over `SEEDS` networks per depth, the medians:

# %%
def median(values: list[float]) -> float:
    return torch.tensor(values).median().item()


print(f"{'depth':>5}  {'‖g‖²/L':>8}  {'gᵀHg/‖g‖²':>10}  {'η*':>8}  "
      f"{'predicted':>9}  {'measured':>8}  {'input-dep.':>10}")
for depth in DEPTHS:
    runs = [one_step(student(depth, seed)) for seed in range(SEEDS)]
    print(f"{depth:>5}  {median([r['grad_sq'] / r['loss'] for r in runs]):>8.1f}  "
          f"{median([r['ghg'] / r['grad_sq'] for r in runs]):>10.1f}  {median([r['eta_star'] for r in runs]):>8.4f}  "
          f"{median([r['best_decrease'] for r in runs]):>9.3f}  {median([r['measured_decrease'] for r in runs]):>8.3f}  "
          f"{median([r['useful_decrease'] for r in runs]):>10.3f}")

# %% [markdown]
# Read the columns together. With depth **both** terms grow: the curvature along the gradient rises, so the
# best step $\eta^*$ shrinks, but $\lVert g\rVert^2$ grows too, so the decrease the quadratic model promises falls
# much less than $\eta^*$. What does fall is the *measured* decrease, once higher-order terms eat the gain, and
# above all the **input-dependent** part: the best step of a deep, narrow network mostly moves all outputs
# together. The first-order term $\lVert g\rVert^2$ itself does not vanish.

# %% [markdown]
# ## "Gradients vanish" — in which sense
#
# The gradient of one example's loss with respect to $W^l$ is an outer product,
# $\nabla_{W^l}\ell_a = r_a\,\delta^l(x_a)\,\varphi^{l-1}(x_a)^\top$ with $\delta^l = \partial f/\partial h^l$.
# Under He initialisation $\lVert\varphi^{l-1}\rVert$ and $\lVert\delta^l\rVert$ keep their size through the layers,
# so **per-example gradients do not vanish**. The batch gradient is their mean, and its squared norm has cross terms
#
# $$
# \lVert\nabla_{W^l}\mathcal L\rVert^2 = \frac1{N^2}\sum_{a,b} r_a r_b\,\langle\delta^l(x_a),\delta^l(x_b)\rangle\,
# \langle\varphi^{l-1}(x_a),\varphi^{l-1}(x_b)\rangle .
# $$
#
# Forward features align with depth, but backward signals decorrelate toward the input, so per-example gradients
# of early layers cancel in the mean. `measures.ntk_blocks` computes these inner products per weight matrix,
# from the backward signals of `measures.backprop_signals`, and `measures.layer_gradient_norms` turns them into
# the batch gradient and the mean per-example gradient of every layer. As in the chapter, $d_\text{in} = n$ (all
# weight matrices have the same shape) and the inputs have pairwise cosine 0.5, like real data.

# %%
GRAD_WIDTH, GRAD_DEPTHS, GRAD_SEEDS = 128, [2, 32], 4
xc, yc = teacher_task(GRAD_WIDTH, N_SAMPLES, seed=0, input_correlation=0.5, dtype=DTYPE)
gram0 = xc @ xc.T / GRAD_WIDTH
profiles, shares = {}, {}
for depth in GRAD_DEPTHS:
    batch, example, share = [], [], []
    for seed in range(GRAD_SEEDS):
        net = student(depth, seed, width=GRAD_WIDTH, d_in=GRAD_WIDTH)
        features = net.features(xc)
        output = features[-1] @ net.weights[-1].T
        blocks = ntk_blocks(features, backprop_signals(features, output))
        residual = (output - yc).detach()
        b, e = layer_gradient_norms(blocks, residual)
        scale = residual.pow(2).mean().sqrt()  # each network's rms error: compare gradients per unit of error
        batch.append(b / scale)
        example.append(e / scale)
        share.append([useful_gradient_share(blocks[-1]), useful_gradient_share(blocks.sum(dim=0))])
    batch, example = torch.stack(batch), torch.stack(example)
    profiles[depth] = (batch.mean(dim=0), example.mean(dim=0))
    theory = ntk_blocks_infinite_width(gram0, depth, input_ratio=1.0)
    shares[depth] = (torch.tensor(share).mean(dim=0), useful_gradient_share(theory[-1]),
                     useful_gradient_share(theory.sum(dim=0)))
    spread = example.mean(dim=0)[:-1]
    print(f"depth {depth:>2}: per-example gradient norms vary over the layers by a factor "
          f"{(spread.max() / spread.min()).item():.2f}; "
          f"batch ÷ per-example: first layer {(batch[:, 0] / example[:, 0]).mean().item():.2f}, "
          f"readout {(batch[:, -1] / example[:, -1]).mean().item():.2f}; "
          f"readout batch ÷ first-layer batch {(batch[:, -1] / batch[:, 0]).mean().item():.1f}")

# %% [markdown]
# **Look at** the two lines for the deep network: the per-example gradients (orange) stay level across the layers,
# while the batch gradient (blue) is several times smaller than they are, and smallest near the input. A few
# times, not orders of magnitude: this is cancellation, not the classical exponential vanishing.

# %%
BATCH, EXAMPLE = "batch gradient ‖∇L‖", "mean per-example gradient ‖∇ℓₐ‖"
deep = max(GRAD_DEPTHS)
rows = [{"layer": l + 1, "kind": kind, "norm": float(values[l])}
        for kind, values in zip([BATCH, EXAMPLE], profiles[deep]) for l in range(deep + 1)]
alt.Chart(alt.Data(values=rows)).mark_line(strokeWidth=2.2, point=True).encode(
    x=alt.X("layer:Q", title=["weight matrix Wˡ", "(1: first layer, L + 1: readout)"],
            scale=alt.Scale(nice=False, zero=False)),
    y=alt.Y("norm:Q", title="gradient norm ÷ rms error (log)", scale=alt.Scale(type="log")),
    color=alt.Color("kind:N", title=None, sort=[BATCH, EXAMPLE], legend=alt.Legend(columns=1, labelLimit=400),
                    scale=alt.Scale(domain=[BATCH, EXAMPLE], range=[ARCHITECTURE_COLORS["plain"], CATEGORICAL[1]])),
    tooltip=["kind:N", "layer:Q", alt.Tooltip("norm:Q", format=".3g")],
).properties(width="container", height=260,
             title=["Gradient of each weight matrix,",
                    f"depth {deep}, width {GRAD_WIDTH} (mean of {GRAD_SEEDS} networks)"])

# %% [markdown]
# What does shrink is the part of the gradient that can fit **input-dependent** targets. A step changes the outputs
# by $\Delta f = -\tfrac\eta N\Theta r$ with the tangent kernel $\Theta = JJ^\top$. For the readout alone
# $\Theta = \varphi^L\varphi^{L\top} \approx n[(1-c)I + c\mathbf 1\mathbf 1^\top]$, which responds $(1-c)/(1-c+Nc)$
# times as strongly to a zero-mean error pattern as to an error shared by all inputs
# (`measures.useful_gradient_share`; the infinite-width value from `theory.ntk_blocks_infinite_width`):

# %%
for depth in GRAD_DEPTHS:
    measured, theory_readout, theory_whole = shares[depth]
    print(f"depth {depth:>2}: useful share, readout {measured[0].item():.1e} "
          f"(infinite width {theory_readout.item():.1e}); "
          f"whole network {measured[1].item():.3f} (infinite width {theory_whole.item():.3f})")

# %% [markdown]
# ### Exercise 1: a shift against a pattern (4 minutes)
#
# **Before running:** take $N = 64$ inputs whose last-layer representations all have cosine $c = 0.9$. How many
# times more strongly does a gradient step on the readout fit an error shared by all inputs than a zero-mean
# error pattern? Twice? Ten times? More?

# %% tags=["solution"]
# @title Solution 1: run it to check your prediction
N, C = 64, 0.9
kernel = (1 - C) * torch.eye(N, dtype=DTYPE) + C * torch.ones(N, N, dtype=DTYPE)  # Θ/n of the readout
share = useful_gradient_share(kernel).item()
print(f"useful share (1 − c)/(1 − c + Nc) = {(1 - C) / (1 - C + N * C):.5f}, measured on the kernel {share:.5f}: "
      f"a shared error is fitted {1 / share:.0f}× faster than an input-dependent one")
# Hundreds of times: the 64 inputs add up along the shift, while a zero-mean pattern sees only 1 − c.
assert abs(share - (1 - C) / (1 - C + N * C)) < 1e-12 and 1 / share > 500

# %% [markdown]
# The readout's useful share falls with depth (finite width leaves it above the infinite-width value); the whole
# network's does not. The early layers, whose per-example
# gradients no longer agree, are exactly the ones that still respond to input-dependent errors.

# %% [markdown]
# ## "The Hessian explodes" — in which sense
#
# For the squared loss $H = \frac1N J^\top J + \frac1N\sum_a r_a\nabla^2_\theta f(x_a)$, and $J^\top J/N$ has the
# nonzero eigenvalues of $\Theta/N$. Every weight matrix adds a block to $\Theta$, so the top eigenvalue grows about
# linearly with depth, along the direction $J^\top\mathbf 1$ that **shifts all outputs together**. We find both ends
# of the spectrum with `curvature.lanczos` on the Hessian-vector products, and compare $\lambda_\max/n$ with the
# infinite-width Gauss–Newton value (curvature grows with the width in the standard parametrisation; divide by $n$
# to compare).

# %%
N_CURVATURE, CURVATURE_SEEDS = 32, 3
xh, yh = teacher_task(D_IN, N_CURVATURE, seed=0, dtype=DTYPE)


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def infinite_width_top(depth: int) -> float:
    """λ_max of the infinite-width Gauss–Newton matrix Θ/N, divided by n."""
    blocks = ntk_blocks_infinite_width(xh @ xh.T / D_IN, depth)
    return torch.linalg.eigvalsh(blocks.sum(dim=0))[-1].item() / N_CURVATURE


rows = []
print(f"{'depth':>5}  {'λ_max/n':>8}  {'theory':>7}  {'λ_min/λ_max':>11}  {'cos(top, shift)':>15}  "
      f"{'gᵀHg/(‖g‖²λ_max)':>17}")
for depth in CURVATURE_DEPTHS:
    tops, bottoms, aligns, along = [], [], [], []
    for seed in range(CURVATURE_SEEDS):
        net = student(depth, seed, width=CURVATURE_WIDTH)
        output = net(xh)
        shift = flatten(torch.autograd.grad(output.sum(), list(net.parameters())))  # J^T 1: move every f(x_a) up
        op = HessianOperator(net, xh, yh)
        result = lanczos(op, op.dim, tol=1e-2, generator=seeded(seed))  # 2–3 digits are enough here
        g = op.gradient
        tops.append(result.top)
        bottoms.append(result.bottom / result.top)
        aligns.append(((shift @ result.top_vector).abs() / shift.norm()).item())
        along.append(((g @ op(g)) / (g @ g)).item() / result.top)
        rows.append({"depth": depth, "source": "network", "top": result.top / CURVATURE_WIDTH})
    print(f"{depth:>5}  {mean(tops) / CURVATURE_WIDTH:>8.3f}  {infinite_width_top(depth):>7.3f}  "
          f"{mean(bottoms):>11.3f}  {mean(aligns):>15.3f}  {mean(along):>17.3f}")
rows += [{"depth": depth, "source": "infinite width (Gauss–Newton)", "top": infinite_width_top(depth)}
         for depth in range(1, max(CURVATURE_DEPTHS) + 1)]

# %% [markdown]
# **Look at** the dots against the grey dashed line: $\lambda_\max/n$ grows about linearly with depth, and (printed
# above) its eigenvector is almost exactly the shift-all-outputs direction. The most negative eigenvalue is not
# negligible and grows with depth; in narrow, deep networks it can approach the top one in magnitude (chapter 3),
# and an estimator of the largest *magnitude* (power iteration) would then return it.
# Single networks scatter around the infinite-width line, more so as depth approaches width (try
# `CURVATURE_WIDTH = 32`). The last column is the curvature along the gradient, the price in the one-step fight:
# a large fraction of $\lambda_\max$, because the gradient too lies mostly along the directions that move all
# outputs together (which is why the best step fits the shared part).

# %%
network = alt.Chart(alt.Data(values=rows)).transform_filter("datum.source == 'network'")
alt.layer(
    alt.Chart(alt.Data(values=rows)).transform_filter("datum.source != 'network'").mark_line(
        color=THEORY_COLOR, strokeDash=THEORY_DASH, strokeWidth=2.5).encode(
        x=alt.X("depth:Q", title="depth L"), y=alt.Y("top:Q", title="λₘₐₓ(H) / n")),
    network.mark_point(filled=True, size=50, opacity=0.6, color=ARCHITECTURE_COLORS["plain"]).encode(
        x="depth:Q", y="top:Q", tooltip=["depth:Q", alt.Tooltip("top:Q", format=".3f")]),
    network.mark_line(color=ARCHITECTURE_COLORS["plain"], strokeWidth=2).encode(x="depth:Q", y="mean(top):Q"),
).properties(width="container", height=260,
             title=["Top Hessian eigenvalue ÷ width:", f"width {CURVATURE_WIDTH} (dots: networks, line: mean),",
                    "infinite width (grey dashed)"])

# %% [markdown]
# ### Exercise 2: twice as deep, how much more curved? (4 minutes)
#
# **Before running:** the printed table has $\lambda_\max/n$ at depths 8 and 16 (width 128). Without looking,
# predict the ratio $\lambda_\max(16)/\lambda_\max(8)$: about 1, about 2, about 4, or $2^8$ (an exponential
# explosion)?

# %% tags=["solution"]
# @title Solution 2: run it to check your prediction
measured_top = {d: mean([r["top"] for r in rows if r["source"] == "network" and r["depth"] == d]) for d in (8, 16)}
ratio_measured = measured_top[16] / measured_top[8]
ratio_theory = infinite_width_top(16) / infinite_width_top(8)
print(f"λ_max(16)/λ_max(8): {ratio_measured:.2f} measured (mean of {CURVATURE_SEEDS} networks), "
      f"{ratio_theory:.2f} at infinite width")
# About linear in depth: twice as deep, about twice as curved — not an exponential explosion.
assert 1.5 < ratio_theory < 2.5 and abs(ratio_measured / ratio_theory - 1) < 0.25

# %% [markdown]
# ## Slow or suboptimal convergence
#
# Finally, train: full-batch gradient descent (`training.train_mlps`, many small networks at once) on the teacher
# task, students of width 32 so that depth 32 means depth/width = 1, the regime where the failure is real. We try a
# few learning rates and compare them with $2/\lambda_\max$ at initialisation.

# %%
TRAIN_WIDTH, TRAIN_DEPTHS, LRS, STEPS, TRAIN_SEEDS, EVERY = 32, [2, 32], [0.25, 0.0625, 0.015625], 250, 2, 5
xt, yt = teacher_task(16, N_SAMPLES, seed=0)
rows = []
for depth in TRAIN_DEPTHS:
    nets = [MLP(MLPConfig(d_in=16, width=TRAIN_WIDTH, depth=depth), seeded(1000 * depth + s))
            for s in range(TRAIN_SEEDS)]
    losses = train_mlps([n for _ in LRS for n in nets], xt, yt, [lr for lr in LRS for _ in nets], STEPS)
    losses = losses.view(len(LRS), TRAIN_SEEDS, -1)
    edges = []
    for s, n in enumerate(nets):
        n64 = MLP(n.config, dtype=DTYPE)  # the same network in float64, for the Hessian
        with torch.no_grad():
            for target, source in zip(n64.weights, n.weights):
                target.copy_(source)
        op = HessianOperator(n64, xt.double(), yt.double())
        edges.append(2 / lanczos(op, op.dim, tol=1e-2, generator=seeded(s)).top)
    print(f"depth {depth:>2}: 2/λ_max at init = " + ", ".join(f"{e:.3f}" for e in edges))
    for i, lr in enumerate(LRS):
        reached = steps_to(losses[i], 0.05)
        finals = ", ".join("diverged" if not torch.isfinite(v) else f"{v.item():.4f}" for v in losses[i, :, -1])
        print(f"    lr {lr:<8g} final loss {finals};  steps to 0.05: "
              + ", ".join("never" if not torch.isfinite(v) else f"{int(v)}" for v in reached))
        for s in range(TRAIN_SEEDS):
            for step in range(0, STEPS + 1, EVERY):
                value = losses[i, s, step].item()
                rows.append({"depth": f"depth {depth}", "lr": f"lr {lr:g}", "seed": s, "step": step,
                             "loss": value if value == value and value < 1e3 else None})

# %% [markdown]
# **Look at** the two panels. At depth 2 the largest rate is the fastest. At depth 32 the same rate leaves the loss
# at ½, the loss of predicting the mean (or diverges; a line that stops has diverged): the network fits the
# shared part and stops, *suboptimal* in the sense of the one-step experiment. A smaller rate trains it, more
# slowly. Compare the working rates with the printed $2/\lambda_\max$: full-batch gradient descent often converges
# above it (the catapult of Lewkowycz et al., 2020, and the edge of stability of Cohen et al., 2021), so
# $\lambda_\max$ at initialisation sets the scale of the learning rate, not a hard limit.

# %%
lr_names = [f"lr {lr:g}" for lr in LRS]


def panel(depth: int) -> alt.Chart:
    return alt.Chart().transform_filter(f"datum.depth == 'depth {depth}' && isValid(datum.loss)").mark_line(
        strokeWidth=2, opacity=0.85, clip=True).encode(
        x=alt.X("step:Q", title="gradient-descent step"),
        y=alt.Y("loss:Q", title="training loss (log)", scale=alt.Scale(type="log", domain=[1e-4, 10])),
        color=alt.Color("lr:N", title="learning rate", sort=lr_names,
                        scale=alt.Scale(domain=lr_names, range=CATEGORICAL[1:1 + len(LRS)])),
        detail="seed:N",
        tooltip=["lr:N", "seed:Q", "step:Q", alt.Tooltip("loss:Q", format=".4f")],
    ).properties(height=180, title=f"depth {depth}, width {TRAIN_WIDTH}")


alt.vconcat(*[panel(d) for d in TRAIN_DEPTHS], data=alt.Data(values=rows))

# %% [markdown]
# ## What to take away
#
# - The fight of one gradient step is $\lVert g\rVert^2$ against $g^\top Hg$. In a deep, narrow network the best
#   step is short and mostly shifts all outputs together; the input-dependent part of the loss barely changes.
# - Per-example gradients keep their size in every layer. Batch gradients of early layers shrink by cancellation,
#   a few times, and the readout loses its response to input-dependent errors.
# - $\lambda_\max$ grows about linearly with depth along the shift-all-outputs direction.
# - Deep, narrow networks train slowly and only at a smaller learning rate; at a rate that suits a shallow network
#   they stall at the constant prediction.
#
# ## What to try next
#
# - Set `WIDTH = 32`, then `WIDTH = 256`: how do the measured decrease and its input-dependent part change with
#   depth over width?
# - In the one-step experiment, step along the gradient with the shift removed (subtract its projection on
#   $J^\top\mathbf 1$): does the input-dependent part of the loss move more?
# - Train with `LRS` around the printed $2/\lambda_\max$: where does depth 32 start to diverge?
#
# [Notebook 4](solutions.ipynb), the companion of [chapter 4](../solutions.md), measures what fights the
# collapse.
