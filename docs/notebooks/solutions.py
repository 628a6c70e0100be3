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
# # Notebook 4: Solutions — batch norm, residual branches, LSUV, MetaInit
#
# This notebook is the interactive companion of [chapter 4](../solutions.md). It puts each remedy on the
# instruments of the first three notebooks: batch normalisation keeps the cosines at $\mathcal F(-1/(N-1))$ but
# makes squared gradients grow towards the input by $\pi/(\pi-1)$ per layer; residual branches slow the collapse, and
# branches scaled by $\alpha^2 = 1/L$ stop it; LSUV and MetaInit only rescale weight matrices, which cannot move a
# single cosine of a bias-free ReLU MLP. A short training run puts them side by side.
#
# **Time: about 20 minutes**: 13 to read and run (MetaInit and the training run take a minute), 7 for the two
# exercises. Each exercise asks for a prediction *before* you run its solution cell, which is hidden until you
# open it; the solution checks its own answer against the theory.

# %%
from figures_src.notebook import setup
setup()

# %% [markdown]
# ## The code
#
# The next two cells are the site's own code, inserted from its modules in `figures_src` when the site was
# built: the network with its two remedies, batch norm and residual branches (`model.py`), the measures
# (`measures.py`) and the recursions that predict them (`theory.py`). Chapter 4's figures are computed with exactly
# these functions, and this notebook runs them as you read them here. From the package it imports only the heavy
# lifting: LSUV, MetaInit, the Lanczos eigensolver, the teacher task and the training loop, and the chart colours.

# %%
# inline figures_src.model: MLP

# %%
# inline figures_src.measures: correlation_by_depth, cosine_matrix, effective_rank, off_diagonal, per_layer_growth_factor, weight_gradient_sq_norms
# inline figures_src.theory: BN_GRADIENT_FACTOR, arccos_map, batch_norm_correlation, iterate_correlation, residual_batch_norm_recursion, residual_recursion

# %%
import copy

import altair as alt
import torch

from figures_src.curvature import HessianOperator, lanczos
from figures_src.initialization import lsuv, metainit, model_gradient_quotient
from figures_src.model import gaussian_inputs, great_circle, seeded
from figures_src.charts import architecture_encodings, line_legend
from figures_src.theme import ARCHITECTURE_COLORS, THEORY_COLOR, THEORY_DASH
from figures_src.training import teacher_task, train

torch.set_num_threads(1)  # the matrices here are small: one thread is as fast, and far faster on a busy machine

# %% [markdown]
# ## Settings
#
# Change these and re-run. The first three experiments only run networks forward (and once backward), so they
# stay fast at larger widths; the initialisation and training experiments use a smaller network, deep for its
# width (`TRAIN_DEPTH` ≈ `TRAIN_WIDTH`), because that is where the differences show.

# %%
D_IN = 64  # input dimension
WIDTH = 128  # n, for the cosine and gradient experiments
DEPTH = 50  # L
N_INPUTS = 32  # N: the batch that batch norm normalises over
GRADIENT_BATCH = 128  # batch of the gradient experiment
SEEDS = 2  # networks averaged
TRAIN_WIDTH, TRAIN_DEPTH = 32, 30  # the initialisation and training experiments
LR, STEPS = 0.03, 50  # one learning rate for every network
METAINIT_STEPS = 30

# %% [markdown]
# ## Batch normalisation prevents the collapse
#
# `MLPConfig(batch_norm=True)` standardises every neuron over the batch before its ReLU,
# $\varphi^l = \mathrm{relu}(\mathrm{BN}(h^l))$, with the statistics of the batch being fed and no learnable scale
# or shift. The same seed gives the same weights with or without it. Batch norm subtracts exactly the shared mean
# that chapter 2 called fake variance, so the cosines of $\mathrm{BN}(h^l)$ average $-1/(N-1)$ at every layer, and
# one ReLU later, at every depth $l \ge 1$ (Yang et al., 2019; `theory.batch_norm_correlation`),
#
# $$
# \bar c_l \approx \mathcal F\!\left(-\tfrac{1}{N-1}\right),
# $$
#
# which tends to $\mathcal F(0) = 1/\pi$ as $N \to \infty$.

# %%
x = gaussian_inputs(N_INPUTS, D_IN, seeded(0))
pairs = off_diagonal(cosine_matrix(x)).double()
profiles, ranks = {}, {}
for name, bn in [("plain", False), ("batch norm", True)]:
    cosines, rank = [], []
    for seed in range(SEEDS):
        net = MLP(MLPConfig(d_in=D_IN, width=WIDTH, depth=DEPTH, batch_norm=bn), seeded(seed))
        with torch.no_grad():
            features = net.features(x)
        cosines.append(correlation_by_depth(features).double())
        rank.append(effective_rank(features[-1]).item())
    profiles[name] = torch.stack(cosines).mean(dim=0)
    ranks[name] = sum(rank) / len(rank)
plain_theory = iterate_correlation(pairs, DEPTH).mean(dim=1)
bn_theory = batch_norm_correlation(N_INPUTS)
print(f"layer {DEPTH}: plain c̄ = {profiles['plain'][DEPTH].item():.4f} (theory {plain_theory[DEPTH].item():.4f}), "
      f"batch norm c̄ = {profiles['batch norm'][DEPTH].item():.4f} "
      f"(theory 𝓕(−1/(N−1)) = {bn_theory:.4f}; 1/π = {1 / torch.pi:.4f})")
print(f"effective rank of the {N_INPUTS} representations at layer {DEPTH}: "
      f"plain {ranks['plain']:.2f}, batch norm {ranks['batch norm']:.1f}")

# %% [markdown]
# **Look at** the vermillion line: flat from layer 1 on, on its grey dashed prediction, while the plain network
# climbs to 1. The batch keeps its rank (Daneshmand et al., 2020): an effective rank of about half the batch instead
# of 1.

# %%
rows = []
for layer in range(DEPTH + 1):
    rows.append({"layer": layer, "network": "plain", "cosine": float(profiles["plain"][layer]),
                 "theory": float(plain_theory[layer])})
    rows.append({"layer": layer, "network": "batch norm", "cosine": float(profiles["batch norm"][layer]),
                 "theory": bn_theory if layer > 0 else float(plain_theory[0])})
networks = ["plain", "batch norm"]
base = alt.Chart(alt.Data(values=rows)).encode(
    x=alt.X("layer:Q", title="layer l", scale=alt.Scale(domain=[0, DEPTH], nice=False)))
alt.layer(
    base.mark_line(strokeWidth=2.2).encode(
        y=alt.Y("cosine:Q", title="mean cosine c̄ₗ", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("network:N", title=None, sort=networks,
                        scale=alt.Scale(domain=networks, range=[ARCHITECTURE_COLORS[n] for n in networks])),
        tooltip=["network:N", "layer:Q", alt.Tooltip("cosine:Q", format=".4f"), alt.Tooltip("theory:Q", format=".4f")]),
    base.mark_line(strokeWidth=2, color=THEORY_COLOR, strokeDash=THEORY_DASH).encode(y="theory:Q", detail="network:N"),
).properties(width="container", height=260,
             title=[f"Mean cosine between {N_INPUTS} inputs,", f"width {WIDTH}; grey dashed: theory"])

# %% [markdown]
# Batch norm does not keep the *geometry* of the inputs, though. On the great circle of
# [notebook 1](observation.ipynb), two inputs 5° apart start almost identical; deep in a batch-normalised network
# their cosine is about the same as that of any two points of the circle. The network at initialisation is chaotic:
# it forgets which inputs were close.

# %%
theta, circle = great_circle(72, D_IN, seeded(1))
with torch.no_grad():
    circle_features = MLP(MLPConfig(d_in=D_IN, width=WIDTH, depth=DEPTH, batch_norm=True), seeded(1)).features(circle)
for layer in [1, 10, DEPTH]:
    cos = cosine_matrix(circle_features[layer])
    print(f"layer {layer:>3}: neighbours 5° apart {cos.diagonal(offset=1).mean().item():.3f}, "
          f"all pairs {off_diagonal(cos).mean().item():.3f}")

# %% [markdown]
# ### The price: gradients explode toward the input
#
# Chaos forward means explosion backward: at initialisation a batch-normalised ReLU MLP multiplies the squared
# gradient norm by $\pi/(\pi-1) \approx 1.467$ per layer toward the input, for large batches (Yang et al., 2019).
# We take the gradient of an MSE loss on Gaussian targets with respect to every weight matrix
# (`measures.weight_gradient_sq_norms`) and fit the growth per layer with `measures.per_layer_growth_factor`,
# leaving out five layers at each end.

# %%
rows, factors = [], {}
for name, bn in [("batch norm", True), ("plain", False)]:
    fits, relative = [], []
    for seed in range(SEEDS):
        xb = gaussian_inputs(GRADIENT_BATCH, D_IN, seeded(10_000 + seed))
        yb = torch.randn(GRADIENT_BATCH, 1, generator=seeded(20_000 + seed))
        net = MLP(MLPConfig(d_in=D_IN, width=WIDTH, depth=DEPTH, batch_norm=bn), seeded(seed))
        loss = 0.5 * (net(xb) - yb).pow(2).mean()
        sq_norms = weight_gradient_sq_norms(loss, list(net.weights))[:-1]  # W¹ … Wᴸ, the readout left out
        fits.append(per_layer_growth_factor(sq_norms[5:DEPTH - 5]).item())
        relative.append((sq_norms / sq_norms[-1]).double().log())
    factors[name] = fits
    mean_log = torch.stack(relative).mean(dim=0)
    for layer in range(2, DEPTH + 1):  # W¹ has fan-in d_in: left out
        rows.append({"layer": layer, "network": name, "relative": float(mean_log[layer - 1].exp()),
                     "theory": BN_GRADIENT_FACTOR ** (DEPTH - layer) if bn else 1.0})
    print(f"{name:>10}: fitted growth per layer " + ", ".join(f"{f:.3f}" for f in fits)
          + f"   (π/(π−1) = {BN_GRADIENT_FACTOR:.3f})")
print(f"batch norm, ‖∂L/∂W²‖² ÷ ‖∂L/∂Wᴸ‖² = {rows[0]['relative']:.1e}  "
      f"((π/(π−1))^(L−2) = {BN_GRADIENT_FACTOR ** (DEPTH - 2):.1e})")

# %% [markdown]
# **Look at** the slope: on a log scale the batch-norm gradients form a straight line that follows
# $(\pi/(\pi-1))^{L-l}$ (grey dashed) over many orders of magnitude; the plain network's stay level. Smaller
# batches explode faster (try `GRADIENT_BATCH = 8`). So "batch norm prevents the collapse" is right, and "so deep
# BN networks are easy to train" does not follow.

# %%
base = alt.Chart(alt.Data(values=rows)).encode(
    x=alt.X("layer:Q", title=["layer l of the weight matrix Wˡ", "(input on the left)"],
            scale=alt.Scale(domain=[2, DEPTH], nice=False)))
alt.layer(
    base.mark_line(strokeWidth=2.2).encode(
        y=alt.Y("relative:Q", title="‖∂L/∂Wˡ‖² ÷ last layer's (log)", scale=alt.Scale(type="log"),
                axis=alt.Axis(format="~e")),
        color=alt.Color("network:N", title=None, sort=networks,
                        scale=alt.Scale(domain=networks, range=[ARCHITECTURE_COLORS[n] for n in networks])),
        tooltip=["network:N", "layer:Q", alt.Tooltip("relative:Q", format=".3~e")]),
    base.transform_filter("datum.network == 'batch norm'").mark_line(
        strokeWidth=2, color=THEORY_COLOR, strokeDash=THEORY_DASH).encode(y="theory:Q"),
).properties(width="container", height=260,
             title=["Squared gradient of each weight matrix,", f"batch {GRADIENT_BATCH}, mean of {SEEDS} networks"])

# %% [markdown]
# ### Exercise 1: a small batch (3 minutes)
#
# **Before running:** batch norm keeps $\bar c_l$ near $\mathcal F(-1/(N-1))$ at every depth. What will $\bar c_{50}$ be
# for a batch of only $N = 4$ inputs: higher than for $N = 32$, lower, the same?

# %% tags=["solution"]
# @title Solution 1: run it to check your prediction
small_batch = gaussian_inputs(4, D_IN, seeded(1))
with torch.no_grad():
    small = torch.stack([correlation_by_depth(MLP(MLPConfig(d_in=D_IN, width=WIDTH, depth=DEPTH, batch_norm=True),
                                                  seeded(300 + s)).features(small_batch))[DEPTH]
                         for s in range(8)]).double()
print(f"batch 4, layer {DEPTH}: c̄ = {small.mean().item():.4f} (mean of 8 networks); 𝓕(−1/3) = "
      f"{batch_norm_correlation(4):.4f}; batch {N_INPUTS}: 𝓕(−1/{N_INPUTS - 1}) = {batch_norm_correlation(N_INPUTS):.4f}")
# Lower: centring 4 inputs pushes their cosines to −1/3, and the ReLU maps that to 0.17, not 1/π.
assert batch_norm_correlation(4) < batch_norm_correlation(N_INPUTS) < 1 / torch.pi
assert abs(small.mean().item() - batch_norm_correlation(4)) < 0.02

# %% [markdown]
# ## Residual connections slow the collapse; scaled branches stop it
#
# `MLPConfig(branch_scale=α)` builds a residual stream $h^0 = W^0x$, $h^l = h^{l-1} + \alpha W^l\,\mathrm{relu}(h^{l-1})$,
# read by $f = W^{L+1}h^L$; $c_l$ is now the cosine between two inputs' streams. The branch is independent of the
# stream at initialisation and carries $\alpha^2 q_l$ of second moment with cosine $\mathcal F(c_l)$, so
# (`theory.residual_recursion`)
#
# $$
# q_{l+1} = (1+\alpha^2)\,q_l,\qquad c_{l+1} = \frac{c_l + \alpha^2\,\mathcal F(c_l)}{1+\alpha^2}.
# $$
#
# Each layer moves $c$ only a fraction $\alpha^2/(1+\alpha^2)$ of the way a plain layer would. With $\alpha^2 = 1/L$
# the whole network moves it a bounded amount, whatever the depth. With batch norm in the branch
# (`theory.residual_batch_norm_recursion`) each branch has second moment $\alpha^2$ and cosine $\mathcal F(-1/(N-1))$,
# and the stream drifts towards that instead of 1.

# %%
q0 = x.double().pow(2).mean().item()  # second moment per coordinate of h⁰ = W⁰x
cases = [("residual, α² = 1", 1.0, False), ("residual, α² = 1/L", 1 / DEPTH, False),
         ("residual + batch norm, α² = 1/L", 1 / DEPTH, True)]
rows = [{"layer": l, "network": "plain", "cosine": float(profiles["plain"][l]), "theory": float(plain_theory[l])}
        for l in range(DEPTH + 1)]
for label, branch_var, bn in cases:
    runs = []
    for seed in range(SEEDS):
        config = MLPConfig(d_in=D_IN, width=WIDTH, depth=DEPTH, branch_scale=branch_var**0.5, batch_norm=bn)
        net = MLP(config, seeded(700 + seed))
        with torch.no_grad():
            runs.append(correlation_by_depth(net.features(x)).double())
    measured = torch.stack(runs).mean(dim=0)
    if bn:
        theory = residual_batch_norm_recursion(pairs, DEPTH, branch_var, N_INPUTS, q0)[1].mean(dim=1)
    else:
        theory = residual_recursion(pairs, DEPTH, branch_var, q0)[1].mean(dim=1)
    rows += [{"layer": l, "network": label, "cosine": float(measured[l]), "theory": float(theory[l])}
             for l in range(DEPTH + 1)]
    print(f"{label}\n  c̄ at layer 10: {measured[10].item():.3f} (recursion {theory[10].item():.3f})\n"
          f"  c̄ at layer {DEPTH}: {measured[DEPTH].item():.3f} (recursion {theory[DEPTH].item():.3f})")
print(f"plain\n  c̄ at layer 10: {profiles['plain'][10].item():.3f}\n  c̄ at layer {DEPTH}: "
      f"{profiles['plain'][DEPTH].item():.3f}")

# %% [markdown]
# **Look at** the green lines against the blue one: unscaled branches ($\alpha^2 = 1$) only delay the climb;
# branches scaled by $1/L$ end far below 1; with batch norm inside the branches the cosine stays low too, drifting
# towards $\mathcal F(-1/(N-1)) \approx 1/\pi$ instead of 1.

# %%
names = ["plain"] + [label for label, _, _ in cases]
# α² = 1 in the residual green, dotted: a lighter shade of it was too faint on white.
colors = [ARCHITECTURE_COLORS["plain"], ARCHITECTURE_COLORS["residual"],
          ARCHITECTURE_COLORS["residual"], ARCHITECTURE_COLORS["residual + batch norm"]]
dashes = [[1, 0], [2, 2], [1, 0], [1, 0]]
base = alt.Chart(alt.Data(values=rows)).encode(
    x=alt.X("layer:Q", title="layer l", scale=alt.Scale(domain=[0, DEPTH], nice=False)))
alt.layer(
    base.mark_line(strokeWidth=2.2).encode(
        y=alt.Y("cosine:Q", title=["mean cosine c̄ₗ", "(streams for residual nets)"],
                scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("network:N", title=None, sort=names, legend=line_legend(columns=1, labelLimit=300),
                        scale=alt.Scale(domain=names, range=colors)),
        strokeDash=alt.StrokeDash("network:N", title=None, sort=names, legend=line_legend(columns=1, labelLimit=300),
                                  scale=alt.Scale(domain=names, range=dashes)),
        tooltip=["network:N", "layer:Q", alt.Tooltip("cosine:Q", format=".4f"), alt.Tooltip("theory:Q", format=".4f")]),
    base.mark_line(strokeWidth=1.8, color=THEORY_COLOR, strokeDash=THEORY_DASH).encode(
        y="theory:Q", detail="network:N"),
).properties(width="container", height=280, title=[f"Residual streams, width {WIDTH};", "grey dashed: recursions"])

# %% [markdown]
# With $\alpha^2 = 1/L$ the recursion becomes $dc/dt = \mathcal F(c) - c$ on $t \in [0, 1]$ as $L$ grows, so the last
# cosine tends to a constant. From $c_0 = 0$ (for the stream itself, and after one more ReLU, if a readout read
# $\mathrm{relu}(h^L)$):

# %%
for L in [10, 100, 1000]:
    c_last = residual_recursion(torch.tensor(0.0, dtype=torch.float64), L, 1 / L)[1][-1]
    print(f"L = {L:>6}: stream c_L = {c_last.item():.4f}, "
          f"after one more ReLU 𝓕(c_L) = {arccos_map(c_last).item():.4f}")

# %% [markdown]
# The extreme case is a branch that starts at zero (Fixup, Zhang et al., 2019; SkipInit, De & Smith, 2020):
# `init="zero_branch"` makes the network the identity map followed by the readout, and nothing collapses because
# nothing has happened yet.

# %%
zero = MLP(MLPConfig(d_in=D_IN, width=WIDTH, depth=DEPTH, branch_scale=(1 / DEPTH) ** 0.5, init="zero_branch"),
           seeded(0))
with torch.no_grad():
    zero_profile = correlation_by_depth(zero.features(x))
print(f"zero branches: c̄₀ = {zero_profile[0].item():.4f}, c̄_L = {zero_profile[-1].item():.4f}")

# %% [markdown]
# ### Exercise 2: rescale every layer (4 minutes)
#
# **Before running:** multiply each weight matrix of a plain network by its own positive factor, between ½ and 2.
# What happens to the cosines $\bar c_l$? To the output $f(x)$? (LSUV and MetaInit, next, do exactly this.)

# %% tags=["solution"]
# @title Solution 2: run it to check your prediction
rescaled = MLP(MLPConfig(d_in=D_IN, width=WIDTH, depth=DEPTH), seeded(0), dtype=torch.float64)
x64 = x.double()
with torch.no_grad():
    before, output_before = correlation_by_depth(rescaled.features(x64)), rescaled(x64)
    factors = 0.5 + 1.5 * torch.rand(len(rescaled.weights), generator=seeded(2), dtype=torch.float64)
    for weight, factor in zip(rescaled.weights, factors):
        weight.mul_(factor)
    after, output_after = correlation_by_depth(rescaled.features(x64)), rescaled(x64)
ratio = output_after / output_before
print(f"largest change of any c̄ₗ: {(after - before).abs().max().item():.1e}; f(x) multiplied by "
      f"{ratio.min().item():.4g} … {ratio.max().item():.4g} for every input (product of the factors "
      f"{factors.prod().item():.4g})")
# Positive homogeneity: every layer's representation is multiplied by the product of the factors so far, so no
# cosine moves, and the output is the same function times one number.
assert (after - before).abs().max() < 1e-10
assert ((ratio / factors.prod()) - 1).abs().max() < 1e-10

# %% [markdown]
# ## LSUV and MetaInit: what rescaling can and cannot do
#
# **LSUV** (Mishkin & Matas, 2016; `initialization.lsuv`): orthogonal matrices, then, layer by layer, divide $W^l$ by
# the standard deviation of its output on a batch until that variance is 1. **MetaInit** (Dauphin & Schoenholz,
# 2019; `initialization.metainit`): keep each matrix's direction and tune its norm, by sign-gradient descent on
# random data, to minimise the gradient quotient
#
# $$
# \mathrm{GQ} = \frac1P\sum_i \left|\frac{g_i - (Hg)_i}{g_i + \varepsilon\,\mathrm{sign}(g_i)} - 1\right| \approx \frac1P\sum_i\left|\frac{(Hg)_i}{g_i}\right|,
# $$
#
# second order over first order, the fight of [notebook 3](consequences.ipynb) in one number. Both only multiply
# each $W^l$ by some $s_l > 0$. Since $\mathrm{relu}(sh) = s\,\mathrm{relu}(h)$, every representation of a
# bias-free ReLU MLP is multiplied by $s_1\cdots s_l$, the same for all inputs: **every cosine is exactly
# unchanged**. What changes is scale: of the output, and with it of the gradient and the curvature. We use the
# regression task of notebook 3 (a constant prediction has loss ½) on a network of depth `TRAIN_DEPTH` and width
# `TRAIN_WIDTH`.

# %%
xt, yt = teacher_task(16, 128, seed=0, dtype=torch.float64)


def build(init: str = "gaussian", branch_scale: float | None = None, batch_norm: bool = False) -> MLP:
    config = MLPConfig(d_in=16, width=TRAIN_WIDTH, depth=TRAIN_DEPTH, init=init, branch_scale=branch_scale,
                       batch_norm=batch_norm)
    return MLP(config, seeded(0), dtype=torch.float64)


he, orthogonal = build(), build("orthogonal")
with_lsuv = copy.deepcopy(orthogonal)
lsuv(with_lsuv, xt)
with_metainit = copy.deepcopy(he)
gq_history = metainit(with_metainit, (32, 16), seeded(50_000), steps=METAINIT_STEPS)

print(f"{'init':>12}  {'c̄_L':>7}  {'output std':>10}  {'GQ':>9}  {'λ_max':>9}")
inits = {"He": he, "orthogonal": orthogonal, "LSUV": with_lsuv, "MetaInit": with_metainit}
init_profiles = {}
for name, net in inits.items():
    with torch.no_grad():
        init_profiles[name] = correlation_by_depth(net.features(xt))
        output_std = net(xt).std().item()
    op = HessianOperator(net, xt, yt)
    top = lanczos(op, op.dim, max_steps=10, tol=1e-3, generator=seeded(1)).top
    print(f"{name:>12}  {init_profiles[name][-1].item():>7.4f}  {output_std:>10.3g}  "
          f"{model_gradient_quotient(net, xt, yt):>9.3g}  {top:>9.3g}")
lsuv_change = (init_profiles["LSUV"] - init_profiles["orthogonal"]).abs().max().item()
metainit_change = (init_profiles["MetaInit"] - init_profiles["He"]).abs().max().item()
print(f"\nlargest change of any layer's c̄: LSUV vs orthogonal {lsuv_change:.1e}, MetaInit vs He {metainit_change:.1e}")
print(f"MetaInit's gradient quotient on its random batches: {gq_history[0]:.3g} at the start, "
      f"{gq_history[-1]:.3g} after {METAINIT_STEPS} steps")

# %% [markdown]
# Read the table. The cosines do not move: the changes are rounding errors. LSUV brings the variance of the single
# output over the batch to 1, but that variance is the *across-input* variance, the meaningful part that the
# collapse has made small; to do so it scales up the whole output, shared direction included, and $\lambda_\max$ with
# the square of the output scale. MetaInit lowers the gradient quotient by shrinking the output, and $\lambda_\max$
# with it. Neither touches $\bar c_L$.
#
# In a residual network, scaling is no longer innocent: rescaling a branch changes its weight in the stream, and with
# it the cosines. (Compare MetaInit with He, and LSUV with the orthogonal start it rescales.)

# %%
res_he = build(branch_scale=(1 / TRAIN_DEPTH) ** 0.5)
res_orthogonal = build("orthogonal", branch_scale=(1 / TRAIN_DEPTH) ** 0.5)
res_lsuv = copy.deepcopy(res_orthogonal)
lsuv(res_lsuv, xt)
res_metainit = copy.deepcopy(res_he)
metainit(res_metainit, (32, 16), seeded(50_000), steps=METAINIT_STEPS)
with torch.no_grad():
    for name, net in [("He", res_he), ("MetaInit", res_metainit), ("orthogonal", res_orthogonal), ("LSUV", res_lsuv)]:
        print(f"residual, α² = 1/L, {name:>10}: c̄_L = {correlation_by_depth(net.features(xt))[-1].item():.3f}")

# %% [markdown]
# ## Putting it together: a short training run
#
# Full-batch gradient descent (`training.train`) at one learning rate for every network, on the same task, at depth
# `TRAIN_DEPTH` and width `TRAIN_WIDTH`. This regime is chosen to show the effect: with a learning rate tuned per
# network, or at a smaller depth-to-width ratio, the plain network trains too (notebook 3).

# %%
trained = {
    "plain": build(),
    "batch norm": build(batch_norm=True),
    "residual": build(branch_scale=(1 / TRAIN_DEPTH) ** 0.5),
    "residual + batch norm": build(branch_scale=(1 / TRAIN_DEPTH) ** 0.5, batch_norm=True),
    "LSUV": copy.deepcopy(with_lsuv),
    "MetaInit": copy.deepcopy(with_metainit),
}
rows = []
for name, net in trained.items():
    losses = train(net, xt, yt, LR, STEPS)
    final = losses[-1].item()
    print(f"{name:>22}: loss {losses[0].item():.3f} → " + (f"{final:.4f}" if final < float("inf") else "diverged"))
    rows += [{"network": name, "step": step, "loss": losses[step].item()} for step in range(STEPS + 1)
             if losses[step].item() < 1e3]
    if not final < float("inf"):  # mark where the run diverged, at the top of the chart
        rows.append({"network": name, "step": int(torch.isinf(losses).nonzero()[0]), "loss": 5.0, "diverged": True})

# %% [markdown]
# **Look at** which lines leave ½, the loss of predicting the mean. The residual networks with $\alpha^2 = 1/L$ are
# the ones whose last layer still separates the inputs *and* whose gradients do not explode. Batch norm alone passes
# the first test and fails the second; LSUV and MetaInit leave the collapse where it was (LSUV's larger output
# makes it diverge at this rate, MetaInit's tiny output keeps it at ½).

# %%
names = list(trained)
# Each network's colour and dash as on the site, in one legend of line strokes: plain and MetaInit are both blue
# and can run together, their dashes tell them apart.
colour, dash, _ = architecture_encodings(names, field="network", columns=2)
base = alt.Chart(alt.Data(values=rows)).encode(
    x=alt.X("step:Q", title="gradient-descent step", scale=alt.Scale(domain=[0, STEPS], nice=False)),
    y=alt.Y("loss:Q", title=["training loss (log)", "cross at the top: diverged"],
            scale=alt.Scale(type="log", domain=[0.05, 5])),
    color=colour,
)
alt.layer(
    base.transform_filter("!datum.diverged").mark_line(strokeWidth=2.2, clip=True).encode(
        strokeDash=dash, tooltip=["network:N", "step:Q", alt.Tooltip("loss:Q", format=".4f")]),
    base.transform_filter("datum.diverged").mark_point(shape="cross", size=120, filled=True, opacity=1).encode(
        tooltip=["network:N", alt.Tooltip("step:Q", title="diverged at step")]),
).properties(width="container", height=280,
             title=[f"Training at learning rate {LR},", f"depth {TRAIN_DEPTH}, width {TRAIN_WIDTH}"])

# %% [markdown]
# ## What to take away
#
# - Batch norm keeps $\bar c_l$ at $\mathcal F(-1/(N-1))$ at every depth, but makes squared gradients grow by
#   $\pi/(\pi-1)$ per layer toward the input and turns the network chaotic.
# - Residual branches slow the collapse; with $\alpha^2 = 1/L$ (or zero-initialised branches, or batch norm inside
#   the branches) the network stays effectively shallow.
# - LSUV and MetaInit rescale weight matrices. In a bias-free ReLU MLP that cannot change any cosine: they act on
#   scale (output, gradient, curvature), and in residual networks on the branch scale.
#
# These results are for bias-free ReLU MLPs at initialisation, one task and one learning rate; see
# [chapter 4](../solutions.md) for the full comparison.
#
# ## What to try next
#
# - Give the plain network a bias ($h^{l+1} = W^{l+1}\varphi^l + b^{l+1}$) in a copy of `MLP`: does Exercise 2
#   still hold, and can a rescaling now move the cosines?
# - Set `TRAIN_DEPTH = 60` with `TRAIN_WIDTH = 32`: which networks of the training run still learn?
# - Replace batch norm's batch statistics by fixed ones (the running averages a network uses at test time) and
#   measure $\bar c_l$ again.
#
# The four notebooks together take about 1 h 20; [the notebooks' page](index.md) lists them.
