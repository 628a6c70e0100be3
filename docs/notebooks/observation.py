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
# # Notebook 1: Observation — the collapse, step by step
#
# This notebook is the interactive companion of [chapter 1](../observation.md). We build one deep ReLU
# network at initialisation, feed it inputs that go once around a circle, and watch every input's
# representation turn towards the same direction, layer by layer. Then we measure the mean cosine between
# inputs at every layer and compare it with the infinite-width prediction $c_{l+1} = \mathcal F(c_l)$.
# Every experiment runs in a few seconds on a laptop CPU.
#
# **Time: about 20 minutes**: 10 to read and run, 10 for the three exercises (each says how long it takes).
# Each exercise asks for a prediction *before* you run its solution cell, which is hidden until you open
# it; the solution checks its own answer against the theory.

# %%
from figures_src.notebook import setup
setup()

# %% [markdown]
# ## The code
#
# The next two cells are the site's own code, inserted from its modules in `figures_src` when the site
# was built: the network (`model.py`), the cosine measures (`measures.py`) and the infinite-width map
# (`theory.py`). The figures of chapter 1 are computed with exactly these functions, and this notebook runs
# them as you read them here: change one and re-run to see what follows. From the package it imports only
# the inputs, the seeds and the chart colours.

# %%
# inline figures_src.model: MLP

# %%
# inline figures_src.measures: cosine_matrix, mean_pairwise_cosine, correlation_by_depth, off_diagonal
# inline figures_src.theory: arccos_map, iterate_correlation

# %%
import altair as alt
import torch

from figures_src.model import gaussian_inputs, great_circle, seeded
from figures_src.theme import ARCHITECTURE_COLORS, THEORY_COLOR, THEORY_DASH, UNIT_COLORS, UNIT_DASHES

torch.set_num_threads(1)  # the matrices here are small: one thread is as fast, and far faster on a busy machine

# %% [markdown]
# ## Settings
#
# Change these and re-run the notebook: a wider network follows the theory more closely, a narrower one
# scatters around it, a deeper one collapses further. Everything stays fast up to width 1024.

# %%
D_IN = 64  # input dimension
WIDTH = 256  # n, neurons per hidden layer
DEPTH = 100  # L, hidden ReLU layers
N_POINTS = 72  # inputs on the circle
N_INPUTS = 32  # random inputs for the mean cosine
SEEDS = 4  # networks averaged for the mean cosine
SEED = 1  # the network (and circle) of the first experiments
CLASSES = 3  # logits of a random linear readout

# %% [markdown]
# ## The network
#
# A bias-free MLP with $L$ hidden ReLU layers of width $n$, He-initialised:
#
# $$
# h^1 = W^1 x,\qquad \varphi^l = \mathrm{relu}(h^l),\qquad h^{l+1} = W^{l+1}\varphi^l,\qquad
# f(x) = W^{L+1}\varphi^L,\qquad W^l_{ij} \sim \mathcal N(0, 2/\text{fan-in}).
# $$
#
# `net.features(x)` returns the list $[\varphi^0 = x, \varphi^1, \dots, \varphi^L]$: entry $l$ is the
# representation after $l$ ReLU layers. The inputs are unit vectors
# $x(\theta) = \cos\theta\, u + \sin\theta\, v$ on a random great circle.

# %%
generator = seeded(SEED)
theta, x = great_circle(N_POINTS, D_IN, generator)
net = MLP(MLPConfig(d_in=D_IN, width=WIDTH, depth=DEPTH), generator)
readout = torch.randn(WIDTH, CLASSES, generator=generator) / WIDTH**0.5  # a random linear head of CLASSES logits

with torch.no_grad():
    features = net.features(x)

print(f"{len(features)} representations: the input and {len(features) - 1} hidden layers, "
      f"each {tuple(features[-1].shape)}")

# %% [markdown]
# ## Units flatten as depth grows
#
# Follow three neurons as the input goes around the circle. After one layer each responds to $\theta$ with
# a bump; deeper, the same neurons' responses flatten. Here each input's representation is first divided
# by its own norm, $\varphi^l(x)/\lVert\varphi^l(x)\rVert \cdot \sqrt n$: that keeps the **direction** of
# the representation and removes its scale, which the next section shows does not collapse. **Look at** the
# bottom panel: three nearly horizontal lines, the three coordinates of one common direction $C$.

# %%
SHOWN_LAYERS = sorted({l for l in [1, 10] if l < DEPTH} | {DEPTH})
UNITS = 3

rows = []
for layer in SHOWN_LAYERS:
    reps = features[layer]
    direction = reps / reps.norm(dim=1, keepdim=True) * reps.shape[1] ** 0.5
    for k in range(N_POINTS):
        for unit in range(UNITS):
            rows.append({"theta": round(float(theta[k]), 4), "layer": layer, "unit": f"unit {unit + 1}",
                         "direction": round(float(direction[k, unit]), 4)})


def units_at(layer: int) -> alt.Chart:
    return alt.Chart().transform_filter(f"datum.layer == {layer}").mark_line(strokeWidth=2).encode(
        x=alt.X("theta:Q", title="angle θ on the circle (radians)",
                scale=alt.Scale(domain=[0, 6.3], nice=False)),
        y=alt.Y("direction:Q", title="φᵢ(x) ÷ ‖φ(x)‖ · √n", scale=alt.Scale(domain=[0, 5])),
        # the site's unit hues, which name no architecture, told apart by dash too
        color=alt.Color("unit:N", title=None, scale=alt.Scale(range=UNIT_COLORS)),
        strokeDash=alt.StrokeDash("unit:N", title=None, scale=alt.Scale(range=UNIT_DASHES)),
        tooltip=["unit:N", alt.Tooltip("theta:Q", format=".2f"), alt.Tooltip("direction:Q", format=".3f")],
    ).properties(height=120, title=f"layer {layer}")


alt.vconcat(*[units_at(layer) for layer in SHOWN_LAYERS], data=alt.Data(values=rows)).properties(
    title=["Three neurons as functions of the input angle", "(direction only)"])

# %% [markdown]
# A neuron can also be zero for every input at some layer: once all inputs point the same way, a unit that
# is switched off for one input tends to be switched off for all of them.

# %% [markdown]
# ## What collapses is the direction, not the scale
#
# The deck says a deep network computes $f(x) = C$. A bias-free ReLU network cannot do exactly that: it is
# *positively homogeneous*, $f(\alpha x) = \alpha f(x)$ for $\alpha > 0$, so $x$ and $2x$ never get the same nonzero
# output. What collapses is the **direction** of the representation,
#
# $$
# \varphi^L(x) \approx s(x)\, C \qquad\text{for one vector } C \text{ and a scalar } s(x) > 0 .
# $$
#
# We check the homogeneity, then measure the two parts separately: the spread of the scales
# $s(x) = \lVert\varphi^l(x)\rVert$ around the circle (all inputs have norm 1), and the smallest cosine
# between any two inputs' representations, which is 1 when all directions agree.

# %%
with torch.no_grad():
    ratio = net(2.5 * x) / net(x)
print(f"f(2.5 x) / f(x) over the circle: min {ratio.min().item():.5f}, max {ratio.max().item():.5f}"
      "  (homogeneity: 2.5)")

print(f"\n{'layer':>5}  {'max/min of ‖φ(x)‖':>18}  {'smallest cosine':>15}  {'classes predicted':>17}")
for layer in sorted({l for l in [1, 2, 5, 10, 20, 50] if l < DEPTH} | {DEPTH}):
    reps = features[layer]
    norms = reps.norm(dim=1)
    classes = (reps @ readout).argmax(dim=1).unique().numel()
    smallest = off_diagonal(cosine_matrix(reps)).min().item()
    print(f"{layer:>5}  {(norms.max() / norms.min()).item():>18.2f}  {smallest:>15.3f}  {classes:>17}")

# %% [markdown]
# Read the table from top to bottom. The norms do not converge: the scale $s(x)$ survives at every depth,
# so the output is not a constant. The smallest cosine climbs towards 1: every input points nearly the same
# way. A decision that depends on direction alone, such as the class predicted by a linear readout,
# $\arg\max_k f_k(x)$, then becomes the same for every input. At moderate depth a readout whose two top
# logits nearly tie on $C$ can still flip for a few inputs (change `SEED` to see it happen at layer 20 or
# 50); the deeper the layer, the rarer that is.

# %% [markdown]
# ## Every pair of inputs ends up aligned
#
# Compare whole representations. The **uncentered cosine** between two inputs' representations,
#
# $$
# c_l(x_a, x_b) = \frac{\langle \varphi^l(x_a), \varphi^l(x_b)\rangle}{\lVert\varphi^l(x_a)\rVert\,\lVert\varphi^l(x_b)\rVert},
# $$
#
# is `measures.cosine_matrix`. At the input it ranges from $-1$ to $1$ around the circle; after one ReLU layer
# no cosine is negative (all entries of $\varphi^1$ are $\ge 0$); deeper, the whole matrix turns to 1.
# (Every fourth point of the circle is shown, to keep the chart small.)

# %%
EVERY = 4
rows = []
HEATMAP_LAYERS = sorted({l for l in [0, 1, 10] if l < DEPTH} | {DEPTH})
for layer in HEATMAP_LAYERS:
    cos = cosine_matrix(features[layer][::EVERY])
    angles = theta[::EVERY]
    for a in range(len(angles)):
        for b in range(len(angles)):
            rows.append({"layer": layer, "theta_a": round(float(angles[a]), 3), "theta_b": round(float(angles[b]), 3),
                         "cosine": round(float(cos[a, b]), 4)})


def heatmap(layer: int) -> alt.Chart:
    colours = alt.Scale(scheme="blueorange", domain=[-1, 1])
    # No grid over the cells, and each cell outlined in its own colour: the seams between cells disappear.
    return alt.Chart().transform_filter(f"datum.layer == {layer}").mark_rect(strokeWidth=0.6).encode(
        x=alt.X("theta_a:O", title="angle of input a", axis=alt.Axis(labels=False, ticks=False, grid=False)),
        y=alt.Y("theta_b:O", title="angle of input b", axis=alt.Axis(labels=False, ticks=False, grid=False)),
        color=alt.Color("cosine:Q", title="cosine", scale=colours),
        stroke=alt.Stroke("cosine:Q", title="cosine", scale=colours),  # the same title: one legend for both
        tooltip=[alt.Tooltip("theta_a:Q", title="angle of input a", format=".2f"),
                 alt.Tooltip("theta_b:Q", title="angle of input b", format=".2f"),
                 alt.Tooltip("cosine:Q", format=".3f")],
    ).properties(width=130, height=130, title=f"layer {layer}")


# two panels a row: four side by side would not fit a phone's column
alt.concat(*[heatmap(layer) for layer in HEATMAP_LAYERS], columns=2, data=alt.Data(values=rows)).properties(
    title=["Cosine between every pair of inputs", "on the circle"])

# %% [markdown]
# ### Exercise 1: one layer (3 minutes)
#
# **Before running:** random inputs in 64 dimensions are nearly orthogonal, $\bar c_0 \approx 0$. What will
# the mean cosine $\bar c_1$ be after **one** ReLU layer, for infinite width? And measured on networks of
# width 64? Write both numbers down, then open and run the solution.

# %% tags=["solution"]
# @title Solution 1: run it to check your prediction
x_check = gaussian_inputs(32, D_IN, seeded(0))
c0 = off_diagonal(cosine_matrix(x_check)).double()
predicted = iterate_correlation(c0, 1)[1].mean().item()
with torch.no_grad():
    measured_64 = torch.stack([correlation_by_depth(MLP(MLPConfig(d_in=D_IN, width=64, depth=1), seeded(100 + s))
                                                    .features(x_check))[1] for s in range(8)]).mean().item()
print(f"c̄₀ = {c0.mean().item():.4f};  infinite width: c̄₁ = {predicted:.4f} (F(0) = 1/π = {1 / torch.pi:.4f});  "
      f"width 64, mean of 8 networks: {measured_64:.4f}")
# The ReLU turns orthogonal inputs into positively correlated ones: F(0) = 1/π, not 0.
assert abs(predicted - 1 / torch.pi) < 0.01 and abs(measured_64 - predicted) < 0.02

# %% [markdown]
# ## The collapse is gradual, and predictable
#
# For infinite width the cosine after one more layer is a fixed function of the cosine before it, the
# normalised arc-cosine kernel of degree 1 (Cho & Saul, 2009), `theory.arccos_map`:
#
# $$
# c_{l+1} = \mathcal F(c_l),
# $$
#
# $$
# \mathcal F(c) = \frac{\sqrt{1 - c^2} + (\pi - \arccos c)\, c}{\pi}.
# $$
#
# Three of its values carry the whole story: $\mathcal F(0) = 1/\pi$, $\mathcal F(1) = 1$, and
# $\mathcal F'(1) = 1$, so $c = 1$ is a fixed point that is only marginally stable.

# %%
for c in [0.0, 0.5, 0.9, 1.0]:
    print(f"F({c:.1f}) = {arccos_map(torch.tensor(c, dtype=torch.float64)).item():.6f}")
print(f"1/π    = {1 / torch.pi:.6f}")

# %% [markdown]
# Now $N$ random Gaussian inputs (pairwise cosines near 0) through several independent networks of the same
# shape. `measures.correlation_by_depth` returns the mean pairwise cosine $\bar c_l$ at every layer
# $l = 0, \dots, L$; the theory iterates $\mathcal F$ from every actual input pair and averages over the
# pairs (`theory.iterate_correlation`).

# %%
x_random = gaussian_inputs(N_INPUTS, D_IN, seeded(0))
theory = iterate_correlation(off_diagonal(cosine_matrix(x_random)).double(), DEPTH).mean(dim=1)

with torch.no_grad():
    runs = torch.stack([
        correlation_by_depth(MLP(MLPConfig(d_in=D_IN, width=WIDTH, depth=DEPTH), seeded(100 + s)).features(x_random))
        for s in range(SEEDS)
    ]).double()
measured = runs.mean(dim=0)

print(f"width {WIDTH}, mean of {SEEDS} networks, {N_INPUTS} inputs (c̄₀ = {theory[0].item():.3f})")
print(f"{'layer':>5}  {'measured c̄':>10}  {'lowest':>7}  {'highest':>7}  {'theory':>7}")
for layer in sorted({l for l in [1, 2, 5, 10, 20, 50] if l < DEPTH} | {DEPTH}):
    print(f"{layer:>5}  {measured[layer].item():>10.4f}  {runs[:, layer].min().item():>7.4f}  "
              f"{runs[:, layer].max().item():>7.4f}  {theory[layer].item():>7.4f}")
print(f"largest gap to theory over all layers: {(measured - theory).abs().max().item():.4f}")

# %% [markdown]
# **Look at** how slowly the grey dashed line approaches 1: the collapse is polynomial in depth, not
# exponential (chapter 2 derives $1 - c_l \approx 9\pi^2/(2l^2)$). The band is the lowest and highest of the
# networks: the theory predicts the average over networks, and narrow networks scatter around it (try
# `WIDTH = 64`).

# %%
color = ARCHITECTURE_COLORS["plain"]
rows = [{"layer": layer, "theory": float(theory[layer]), "measured": float(measured[layer]),
         "lowest": float(runs[:, layer].min()), "highest": float(runs[:, layer].max())} for layer in range(DEPTH + 1)]
base = alt.Chart(alt.Data(values=rows)).encode(
    x=alt.X("layer:Q", title="layer l", scale=alt.Scale(domain=[0, DEPTH], nice=False)))
alt.layer(
    base.mark_area(opacity=0.2, color=color).encode(y="lowest:Q", y2="highest:Q"),
    base.mark_line(strokeWidth=2, color=color).encode(
        y=alt.Y("measured:Q", title="mean cosine c̄ₗ", scale=alt.Scale(domain=[0, 1])),
        tooltip=["layer:Q", alt.Tooltip("measured:Q", format=".4f"), alt.Tooltip("theory:Q", format=".4f")]),
    base.mark_line(strokeWidth=2.5, color=THEORY_COLOR, strokeDash=THEORY_DASH).encode(y="theory:Q"),
).properties(width="container", height=280,
             title=["Mean cosine between inputs,", f"width {WIDTH} (blue, band over {SEEDS} networks)",
                    "and infinite width (grey dashed)"])

# %% [markdown]
# ### Exercise 2: a narrow network (4 minutes)
#
# **Before running:** what will $\bar c_{20}$ be at layer 20 for **width 64** (mean over 8 networks)? Closer to the
# theory than width 256, or further? Will the 8 networks agree more or less than the 256-wide ones above?

# %% tags=["solution"]
# @title Solution 2: run it to check your prediction
LAYER = 20


def cosines_at_layer(width: int) -> torch.Tensor:
    """c̄ at LAYER of 8 networks of this width, on the random inputs above."""
    with torch.no_grad():
        return torch.stack([correlation_by_depth(MLP(MLPConfig(d_in=D_IN, width=width, depth=LAYER),
                                                     seeded(100 + s)).features(x_random))[LAYER]
                            for s in range(8)]).double()


narrow, wide = cosines_at_layer(64), cosines_at_layer(256)
print(f"layer {LAYER}: theory {theory[LAYER].item():.4f}")
for name, values in [("width 64", narrow), ("width 256", wide)]:
    print(f"  {name:>9}: mean {values.mean().item():.4f}, networks from {values.min().item():.4f} "
          f"to {values.max().item():.4f}")
# The theory is the average network: still within 0.03 at width 64, but the networks scatter more.
assert abs(narrow.mean().item() - theory[LAYER].item()) < 0.03
assert narrow.max() - narrow.min() > wide.max() - wide.min()

# %% [markdown]
# ### Exercise 3: how deep until the inputs are nearly one? (3 minutes)
#
# **Before running:** iterating $\mathcal F$ from $c_0 = 0$, at which layer does the infinite-width cosine first
# exceed 0.99? Ten layers, a hundred, a thousand? (Hint: the gap $1 - c_l$ closes like $9\pi^2/(2l^2)$.)

# %% tags=["solution"]
# @title Solution 3: run it to check your prediction
from figures_src.theory import correlation_gap_asymptote  # chapter 2's asymptote, with its log correction

chain = iterate_correlation(torch.tensor(0.0, dtype=torch.float64), 1000)
first = int((chain > 0.99).nonzero()[0])
asymptote = correlation_gap_asymptote(torch.tensor(float(first), dtype=torch.float64)).item()
print(f"c_l first exceeds 0.99 at layer {first}: 1 − c = {1 - chain[first].item():.5f}, "
      f"asymptote {asymptote:.5f}; the plain 9π²/(2l²) alone would say layer {3 * torch.pi / 0.02 ** 0.5:.0f}")
# Polynomial, not exponential: tens of layers, and the asymptote predicts the gap there within 2 %.
assert 10 < first < 100 and abs(asymptote / (1 - chain[first].item()) - 1) < 0.02

# %% [markdown]
# ## Which correlation? The uncentered one
#
# The prediction is for the *uncentered* cosine of the post-ReLU vectors. The Pearson correlation, which
# first subtracts each representation's mean over its neurons, is a different quantity and does not follow
# $\mathcal F$: after one layer it is near 0, not near $1/\pi$. Off-by-one errors in $l$ (comparing
# $\varphi^l$ with $c_{l+1}$) are the other common way to "disprove" the theory.

# %%
with torch.no_grad():
    one = MLP(MLPConfig(d_in=D_IN, width=WIDTH, depth=DEPTH), seeded(100)).features(x_random)
for layer in [l for l in [1, 10, 50] if l <= DEPTH]:
    reps = one[layer]
    centred = reps - reps.mean(dim=1, keepdim=True)
    print(f"layer {layer:>3}: uncentered cosine {mean_pairwise_cosine(reps).item():.4f}, "
          f"Pearson correlation {mean_pairwise_cosine(centred).item():.4f}, theory {theory[layer].item():.4f}")

# %% [markdown]
# ## What to take away
#
# - A deep He-initialised ReLU network maps every input to nearly the same **direction**; the scale $s(x)$
#   survives, so "$f(x) = C$" holds as $f(x) \approx s(x)\,C$, and the predicted class becomes constant.
# - The collapse is **gradual**: the infinite-width map $\mathcal F$ predicts the mean cosine layer by layer,
#   and the approach to 1 is polynomial, not exponential.
# - The theory is about the average network and the uncentered cosine.
#
# ## What to try next
#
# - Set `WIDTH = 1024` and `SEEDS = 8`: the largest gap to theory shrinks, the band narrows.
# - Give the network a different nonlinearity: copy `MLP` into a new cell, replace `torch.relu` by
#   `torch.tanh` (with `weight_gain=1.0`), and see whether the inputs still align.
# - Start from inputs that are already correlated (`x_random + 2 * x_random[:1]`): $\mathcal F$ predicts the
#   whole curve from any $c_0$.
#
# [Notebook 2](reasons.ipynb), the companion of [chapter 2](../reasons.md), asks *why*: where does the variance
# that tells inputs apart go?
