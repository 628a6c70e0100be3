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
# # Notebook 2: Reasons — where the meaningful variance goes
#
# This notebook is the interactive companion of [chapter 2](../reasons.md). It splits every neuron's second
# moment over the inputs into a mean² that all inputs share ("fake" variance) and a variance that tells
# inputs apart ("meaningful" variance), checks that the meaningful share *is* $1 - \bar c_l$, measures how
# much of it one ReLU keeps, follows the loss through depth against the infinite-width recursion and its
# $1/l^2$ asymptote, and ends with what finite width adds.
#
# **Time: about 20 minutes**: 13 to read and run, 7 for the two exercises. Each exercise asks for a
# prediction *before* you run its solution cell, which is hidden until you open it; the solution checks its
# own answer against the theory.

# %%
from figures_src.notebook import setup
setup()

# %% [markdown]
# ## The code
#
# The next two cells are the site's own code, inserted from its modules in `figures_src` when the site was
# built: the network (`model.py`), the variance measures (`measures.py`) and the infinite-width predictions
# (`theory.py`). Chapter 2's figures are computed with exactly these functions, and this notebook runs them as
# you read them here. From the package it imports only the inputs, the seeds, the chart colours and the
# sampler of many finite networks of the last section.

# %%
# inline figures_src.model: MLP

# %%
# inline figures_src.measures: correlation_by_depth, gram, gram_split, log_norm_variance, pooled_variance_fraction, second_moment_split
# inline figures_src.theory: correlation_gap_asymptote, iterate_correlation, kernel_after_layers, relu_kept_variance, relu_second_moment_split

# %%
import math

import altair as alt
import torch

from figures_src.model import finite_width_grams, gaussian_inputs, on_sphere, seeded
from figures_src.theme import ARCHITECTURE_COLORS, CATEGORICAL, THEORY_COLOR, THEORY_DASH, WIDTH_SHADES

torch.set_num_threads(1)  # the matrices here are small: one thread is as fast, and far faster on a busy machine

# %% [markdown]
# ## Settings
#
# Change these and re-run: a wider network (try 1024) follows the infinite-width prediction more closely
# and pushes the finite-width floor of the last section further down; more seeds smooth the averages.

# %%
D_IN = 64  # input dimension
WIDTH = 256  # n
DEPTH = 100  # L
N_INPUTS = 32  # N
SEEDS = 4  # independent networks
FINITE_WIDTHS = [64, 256]  # widths of the last section
FINITE_NETWORKS = 400  # networks per width in the last section

# %% [markdown]
# ## The networks
#
# As in [chapter 1](../observation.md): bias-free, $L$ hidden ReLU layers of width $n$, He-initialised. The
# inputs are Gaussian vectors rescaled to the same norm $\sqrt{d_\text{in}}$ (`model.on_sphere`). The network
# is positively homogeneous, so this changes no cosine; it only removes a spread of input norms that would
# blur the identity below. We keep each layer in float64 for the measurements.

# %%
x = on_sphere(gaussian_inputs(N_INPUTS, D_IN, seeded(0)))
with torch.no_grad():
    networks = [[f.double() for f in MLP(MLPConfig(d_in=D_IN, width=WIDTH, depth=DEPTH), seeded(1000 + s)).features(x)]
                for s in range(SEEDS)]
features = networks[0]  # the first network, for single-network checks
print(f"{SEEDS} networks, {DEPTH + 1} representations each of shape {tuple(features[-1].shape)}")

# %% [markdown]
# ## Fake and meaningful variance
#
# Look at neuron $i$ of layer $l$ across the $N$ inputs. Its second moment over the inputs splits into a
# squared mean and a variance (Luther & Seung, 2019):
#
# $$
# M_i = \frac1N\sum_{a=1}^N \varphi^l_i(x_a)^2 = \underbrace{m_i^2}_{\text{fake}} + \underbrace{V_i}_{\text{meaningful}},
# \qquad m_i = \frac1N\sum_a \varphi^l_i(x_a).
# $$
#
# The mean $m_i$ is the same for every input; the next layer receives it as if it were a bias. Only $V_i$
# tells inputs apart. `measures.second_moment_split` returns $(m_i^2, V_i)$ for every neuron; we average over
# the neurons of each layer, and over networks.
#
# The prediction comes from the infinite-width Gram matrices $G^l_{ab} = \langle\varphi^l(x_a),
# \varphi^l(x_b)\rangle/n$ (`theory.kernel_after_layers`, the arc-cosine map applied to every pair), split the
# same way by `measures.gram_split`.

# %%
splits = torch.stack([torch.stack([torch.stack([part.mean() for part in second_moment_split(f)]) for f in net])
                      for net in networks])  # (network, layer, [mean², variance])
shares = (splits / splits.sum(dim=2, keepdim=True)).mean(dim=0)  # each network's split as shares of its own M
predicted_mean, predicted_var = gram_split(kernel_after_layers(gram(x.double()), DEPTH))
predicted_share = predicted_var / (predicted_mean + predicted_var)

print(f"{'layer':>5}  {'meaningful share':>16}  {'infinite width':>14}")
LAYERS = [l for l in [0, 1, 2, 5, 10, 20, 50, 100] if l <= DEPTH]
for layer in LAYERS:
    print(f"{layer:>5}  {shares[layer, 1].item():>16.4f}  {predicted_share[layer].item():>14.4f}")

# %% [markdown]
# **Look at** the boundary between the two colours: the meaningful part shrinks from almost all of the second
# moment at the input to a sliver, and the grey dashed infinite-width boundary follows it. Deep down the
# measured share stays above the prediction; that excess is the finite-width effect of the last section.

# %%
FAKE, MEANINGFUL = "mean² over inputs (fake)", "variance across inputs (meaningful)"
rows = [{"layer": layer, "part": part, "share": float(shares[layer, k]), "predicted": float(predicted_share[layer])}
        for layer in range(DEPTH + 1) for k, part in enumerate([FAKE, MEANINGFUL])]
base = alt.Chart(alt.Data(values=rows)).encode(
    x=alt.X("layer:Q", title="layer l", scale=alt.Scale(domain=[0, DEPTH], nice=False)))
alt.layer(
    base.mark_area(opacity=0.85).encode(
        y=alt.Y("share:Q", stack="zero", title="share of the neurons' second moment", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("part:N", title=None, sort=[MEANINGFUL, FAKE], legend=alt.Legend(columns=1, labelLimit=400),
                        scale=alt.Scale(domain=[MEANINGFUL, FAKE], range=[ARCHITECTURE_COLORS["plain"], "#B9D7EE"])),
        order=alt.Order("part:N", sort="descending"),
        tooltip=["layer:Q", "part:N", alt.Tooltip("share:Q", format=".4f")]),
    base.transform_filter(f"datum.part == '{MEANINGFUL}'").mark_line(
        color=THEORY_COLOR, strokeDash=THEORY_DASH, strokeWidth=2.5).encode(y="predicted:Q"),
).properties(width="container", height=260,
             title=["Meaningful (dark) and fake (light) parts,", f"width {WIDTH}; grey dashed: infinite width"])

# %% [markdown]
# ## The meaningful share is $1 - \bar c_l$
#
# Summed over the neurons, the meaningful share depends on the Gram matrix alone,
#
# $$
# \frac{\sum_i V_i}{\sum_i M_i} = 1 - \frac{\mathbf 1^\top G\,\mathbf 1}{N\operatorname{tr} G}
# \;=\; (1 - \bar c_l)\Big(1 - \frac1N\Big) \quad\text{when all inputs have the same norm.}
# $$
#
# So the collapse of chapter 1 *is* the loss of meaningful variance. We check it on the first network:
# `measures.pooled_variance_fraction` computes the left-hand side from the Gram matrix, and
# `measures.correlation_by_depth` gives $\bar c_l$. At finite width the inputs' norms drift apart layer by layer
# (the scale $s(x)$ of chapter 1), and the identity picks up a second term, to first order
# $\bar c_l\,\operatorname{Var}_a \log\lVert\varphi^l(x_a)\rVert$ (`measures.log_norm_variance`).

# %%
c_bar = correlation_by_depth(features)
print(f"{'layer':>5}  {'ΣV/ΣM':>8}  {'(1−c̄)(1−1/N)':>13}  {'+ c̄·Var log‖φ‖':>15}")
for layer in LAYERS:
    g = gram(features[layer])
    pooled = pooled_variance_fraction(g).item()
    identity = ((1 - c_bar[layer]) * (1 - 1 / N_INPUTS)).item()
    corrected = identity + (c_bar[layer] * log_norm_variance(g)).item()
    print(f"{layer:>5}  {pooled:>8.4f}  {identity:>13.4f}  {corrected:>15.4f}")

# %% [markdown]
# At the input, where all norms are equal, the identity holds to rounding error. Deeper, the plain
# identity falls below the measured share, and the log-norm term makes up the difference: part of the
# variance a finite network keeps across inputs is a random scale per input, not a difference of direction.

# %% [markdown]
# ## What one layer does to a neuron
#
# Over the random weights, a pre-activation's values on two inputs are jointly Gaussian with second moment
# $q$ and correlation $c$. For many inputs its second moment splits as $q\,c$ (mean²) $+\; q(1-c)$
# (variance). The ReLU halves the second moment and splits it as $\tfrac q2\mathcal F(c) + \tfrac q2(1 -
# \mathcal F(c))$; He's factor 2 restores the total, but with $\mathcal F(c) > c$ the mean² has gained what
# the variance lost (`theory.relu_second_moment_split`, with $q = 1$):

# %%
for c in [0.0, 0.5, 0.9]:
    split = relu_second_moment_split(torch.tensor(c, dtype=torch.float64))
    print(f"c = {c}:  " + "   ".join(
        f"{stage}: {split[stage + '_mean'].item():.3f} + {split[stage + '_variance'].item():.3f}"
        for stage in ["pre", "relu", "he"]))

# %% [markdown]
# ### Exercise 1: what one ReLU keeps (3 minutes)
#
# **Before running:** for uncorrelated inputs ($c = 0$), what share of the variance across inputs survives one
# ReLU? Half, because the ReLU zeroes half the values? More, less? Use the split printed above.

# %% tags=["solution"]
# @title Solution 1: run it to check your prediction
neurons = torch.randn(20000, 256, generator=seeded(5), dtype=torch.float64)  # c = 0: independent inputs
kept_monte_carlo = (torch.relu(neurons).var(dim=1).mean() / neurons.var(dim=1).mean()).item()
kept_theory = relu_kept_variance(torch.tensor(0.0, dtype=torch.float64)).item()
print(f"kept at c = 0: {kept_theory:.4f} = (1 − 1/π)/2 (theory), {kept_monte_carlo:.4f} (20 000 Monte Carlo neurons)")
# Less than half: the ReLU zeroes half the values and turns part of the rest into a shared mean.
assert kept_theory < 0.5 and abs(kept_theory - (1 - 1 / math.pi) / 2) < 1e-12
assert abs(kept_monte_carlo - kept_theory) < 0.005

# %% [markdown]
# The ReLU therefore keeps a share
#
# $$
# \frac{\tfrac q2\big(1 - \mathcal F(c)\big)}{q\,(1 - c)} = \frac{1 - \mathcal F(c)}{2(1 - c)} < \frac12
# $$
#
# of the meaningful variance (`theory.relu_kept_variance`). We measure it twice: on Monte Carlo neurons
# $h_a = \sqrt c\, z + \sqrt{1 - c}\,\varepsilon_a$ (one shared $z$ per neuron, one $\varepsilon_a$ per input,
# exactly the model behind the formula), and in the first network, from the variance over inputs of each
# pre-activation $h^{l+1} = W^{l+1}\varphi^l$ before and after its ReLU, with $c$ the measured cosine of $h^{l+1}$.

# %%
MC_NEURONS, MC_INPUTS = 2000, 256
mc = seeded(5)
rows = []
grid = torch.linspace(0, 0.98, 50, dtype=torch.float64)
rows += [{"c": float(c), "kept": float(k), "source": "theory"} for c, k in zip(grid, relu_kept_variance(grid))]
for c in torch.linspace(0, 0.9, 10, dtype=torch.float64):
    h = (c.sqrt() * torch.randn(MC_NEURONS, 1, generator=mc, dtype=torch.float64)
         + (1 - c).sqrt() * torch.randn(MC_NEURONS, MC_INPUTS, generator=mc, dtype=torch.float64))
    kept = torch.relu(h).var(dim=1).mean() / h.var(dim=1).mean()
    rows.append({"c": float(c), "kept": float(kept), "source": "Monte Carlo neurons"})

weights = [w.detach().double() for w in MLP(MLPConfig(d_in=D_IN, width=WIDTH, depth=DEPTH), seeded(1000)).weights]
print(f"{'layer':>5}  {'c of h':>7}  {'kept (network)':>14}  {'theory':>7}")
for layer in range(min(DEPTH, 11)):
    h = features[layer] @ weights[layer].T  # h^{layer+1}, before its ReLU
    c = correlation_by_depth([h])[0]
    kept = torch.relu(h).var(dim=0).mean() / h.var(dim=0).mean()
    rows.append({"c": float(c), "kept": float(kept), "source": f"network, layers 1–{min(DEPTH, 11)}"})
    if layer in (0, 1, 2, 5, 10):
        print(f"{layer + 1:>5}  {c.item():>7.3f}  {kept.item():>14.3f}  {relu_kept_variance(c).item():>7.3f}")
print(f"\nkept at c = 0: {relu_kept_variance(torch.tensor(0.0, dtype=torch.float64)).item():.4f} (theory)")

# %% [markdown]
# **Look at** the grey dashed curve: it starts at $0.341$ for uncorrelated inputs, below ½ (half is lost because
# the ReLU zeroes half the values, more because it also turns part of the rest into a mean), and creeps up
# to ½ only as $c \to 1$, when there is almost nothing left to keep.

# %%
sources = ["Monte Carlo neurons", f"network, layers 1–{min(DEPTH, 11)}"]
data = alt.Data(values=rows)
alt.layer(
    alt.Chart(data).transform_filter("datum.source == 'theory'").mark_line(
        color=THEORY_COLOR, strokeDash=THEORY_DASH, strokeWidth=2.5).encode(
        x=alt.X("c:Q", title=["correlation c between inputs", "(pre-activation)"], scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("kept:Q", title="share of the variance the ReLU keeps", scale=alt.Scale(domain=[0.3, 0.55]))),
    alt.Chart(data).transform_filter("datum.source != 'theory'").mark_point(filled=True, size=60).encode(
        x="c:Q", y="kept:Q",
        color=alt.Color("source:N", title=None, legend=alt.Legend(columns=1),
                        scale=alt.Scale(domain=sources, range=[CATEGORICAL[1], ARCHITECTURE_COLORS["plain"]])),
        shape=alt.Shape("source:N", title=None, scale=alt.Scale(domain=sources, range=["circle", "diamond"])),
        tooltip=["source:N", alt.Tooltip("c:Q", format=".3f"), alt.Tooltip("kept:Q", format=".4f")]),
).properties(width="container", height=260,
             title=["What one ReLU keeps of the meaningful", "variance: (1 − F(c)) / (2(1 − c))"])

# %% [markdown]
# He initialisation keeps the second moment *in expectation* over random networks. A single finite network's second
# moment wanders multiplicatively, more as depth grows relative to width, so a handful of networks rarely averages to
# exactly the input's deep down. This is why the shares above are taken per network, each of its own total.

# %%
second_moment = splits.sum(dim=2)
for layer in [l for l in [1, 10, DEPTH] if l <= DEPTH]:
    per_network = ", ".join(f"{v:.2f}" for v in second_moment[:, layer].tolist())
    print(f"layer {layer:>3}: second moment per network {per_network}  "
          f"(mean {second_moment[:, layer].mean().item():.2f}; input: {second_moment[:, 0].mean().item():.2f})")

# %% [markdown]
# ## For infinite width, the decrease is computable — and polynomial
#
# Iterating $c_{l+1} = \mathcal F(c_l)$ from $c_0 = 0$: since $\mathcal F'(1) = 1$ the fixed point $c = 1$ is
# only marginally stable, and expanding $1 - \mathcal F(1 - \varepsilon) = \varepsilon - \tfrac{2\sqrt2}{3\pi}
# \varepsilon^{3/2} + \dots$ gives
#
# $$
# 1 - c_l \approx \frac{9\pi^2}{2\,l^2} \quad\text{(leading term)},\qquad
# 1 - c_l \approx \frac{9\pi^2}{2\,(l + 1.5\ln l + C)^2},\ C \approx 4.39 \quad\text{(next order)}.
# $$
#
# The next order is `theory.correlation_gap_asymptote`, with $C$ fitted once for $c_0 = 0$. The leading term
# alone is far off at moderate depth; the next order is close:

# %%
layers = torch.arange(1, DEPTH + 1, dtype=torch.float64)
exact = 1 - iterate_correlation(torch.tensor(0.0, dtype=torch.float64), DEPTH)[1:]
bare = 9 * math.pi**2 / (2 * layers**2)
asymptote = correlation_gap_asymptote(layers)
for layer in [l for l in [10, 20, 50, 100] if l <= DEPTH]:
    k = layer - 1
    print(f"l = {layer:>3}: exact 1 − c = {exact[k].item():.5f}, "
          f"9π²/(2l²) is {bare[k].item() / exact[k].item():.2f}×, "
          f"the asymptote {asymptote[k].item() / exact[k].item():.3f}× the exact value")
measured_gap = 1 - torch.stack([correlation_by_depth(net) for net in networks]).mean(dim=0)[1:]

# %% [markdown]
# On log-log axes a power law is a straight line. **Look at** the slope: the exact recursion (grey dashed)
# and the measured networks (blue) bend onto the $-2$ slope of the asymptotes; nothing drops off
# exponentially. (The measured inputs start from $\bar c_0 \approx 0$, not exactly 0.)

# %%
BARE, ASYMPTOTE, EXACT = "9π²/(2l²)", "9π²/(2(l + 1.5 ln l + 4.39)²)", "recursion c ← F(c)"
MEASURED = f"measured, width {WIDTH}"
rows = []
for k, layer in enumerate(layers.tolist()):
    rows += [{"layer": layer, "gap": float(v), "curve": name} for name, v in
             [(BARE, bare[k]), (ASYMPTOTE, asymptote[k]), (EXACT, exact[k]), (MEASURED, measured_gap[k])]]
curves = [EXACT, ASYMPTOTE, BARE, MEASURED]
alt.Chart(alt.Data(values=rows)).mark_line(strokeWidth=2.2, clip=True).encode(
    x=alt.X("layer:Q", title="layer l (log scale)", scale=alt.Scale(type="log", domain=[1, DEPTH], nice=False)),
    y=alt.Y("gap:Q", title="1 − c̄ₗ (log scale)", scale=alt.Scale(type="log", domain=[1e-3, 1])),
    color=alt.Color("curve:N", title=None, sort=curves, legend=alt.Legend(columns=1, labelLimit=300), scale=alt.Scale(
        # The bare 1/l² law in orange: a third grey (or a paler one) was hard to tell from the other two.
        domain=curves, range=[THEORY_COLOR, THEORY_COLOR, ARCHITECTURE_COLORS["LSUV"], ARCHITECTURE_COLORS["plain"]])),
    strokeDash=alt.StrokeDash("curve:N", title=None, sort=curves, scale=alt.Scale(
        domain=curves, range=[THEORY_DASH, [2, 2], [4, 2], [1, 0]])),
    tooltip=["curve:N", "layer:Q", alt.Tooltip("gap:Q", format=".3e")],
).properties(width="container", height=280, title=["The gap to a constant function", "closes like 1/l²"])

# %% [markdown]
# ### Exercise 2: twice as deep (4 minutes)
#
# **Before running:** from layer 50 to layer 100 of an infinitely wide network, by what factor does the gap
# $1 - c_l$ shrink? By 2? By 4? Squared, as an exponential decay would have it?

# %% tags=["solution"]
# @title Solution 2: run it to check your prediction
chain = iterate_correlation(torch.tensor(0.0, dtype=torch.float64), 100)
factor = ((1 - chain[50]) / (1 - chain[100])).item()
factor_asymptote = (correlation_gap_asymptote(torch.tensor(50.0, dtype=torch.float64))
                    / correlation_gap_asymptote(torch.tensor(100.0, dtype=torch.float64))).item()
print(f"1 − c₅₀ = {1 - chain[50].item():.5f}, 1 − c₁₀₀ = {1 - chain[100].item():.5f}: shrinks {factor:.2f}×; "
      f"the asymptote says {factor_asymptote:.2f}×")
# Polynomial: a bit less than the 4× of 1/l² (the log correction), nowhere near squaring the gap.
assert 3 < factor < 4 and abs(factor_asymptote / factor - 1) < 0.01

# %% [markdown]
# ## What finite width adds
#
# The recursion describes the *average* over random networks of infinite width. A finite network differs:
# the typical one collapses *faster*. To see single networks we need many, and `model.finite_width_grams`
# samples them exactly without drawing a weight matrix: given $\varphi^l$, each neuron of $h^{l+1}$ over
# the $N$ inputs is an independent Gaussian vector with covariance $\tfrac2n\varphi^l\varphi^{l\top}$, so a
# layer costs $O(N^2 n)$. We take two orthogonal inputs and measure $1 - \hat c$ in every network.

# %%
# two orthogonal inputs of norm √d_in
pair = torch.linalg.qr(torch.randn(D_IN, 2, generator=seeded(3), dtype=torch.float64))[0].T * D_IN**0.5
theory_gap = 1 - iterate_correlation(torch.tensor(0.0, dtype=torch.float64), DEPTH)
rows = [{"layer": l, "gap": float(theory_gap[l]), "curve": "infinite width"} for l in range(1, DEPTH + 1)]
medians = {}
for width in FINITE_WIDTHS:
    grams = finite_width_grams(pair, width, DEPTH, FINITE_NETWORKS, seeded(4 + width))
    gap = 1 - grams[..., 0, 1] / torch.sqrt(grams[..., 0, 0] * grams[..., 1, 1])  # (layer, network)
    medians[width] = gap.median(dim=1).values
    for l in range(1, DEPTH + 1):
        rows.append({"layer": l, "gap": float(gap[l].mean()), "curve": f"width {width}, mean"})
        rows.append({"layer": l, "gap": float(medians[width][l].clamp(min=1e-12)), "curve": f"width {width}, median"})
    print(f"width {width:>4}, layer {DEPTH}: mean 1 − ĉ = {gap[DEPTH].mean().item():.2e}, "
          f"median {medians[width][DEPTH].item():.2e}, infinite width {theory_gap[DEPTH].item():.2e}; "
          f"{(gap[DEPTH] < theory_gap[DEPTH]).double().mean().item():.0%} of networks more collapsed than the theory")
for width in FINITE_WIDTHS:
    layer = round(0.39 * width)
    if layer <= DEPTH:
        print(f"depth/width ≈ 0.39 (layer {layer}, width {width}): median / theory = "
              f"{(medians[width][layer] / theory_gap[layer]).item():.2f}")

# %% [markdown]
# **Look at** the solid lines: the mean over networks stays close to the grey dashed infinite-width line (the
# distribution is skewed, so the mean of a few hundred networks is noisy deep down), while the median network
# (dotted) falls below it, more so for the narrow network. The last printed lines compare two
# widths at the same depth-to-width ratio: the median's shortfall is governed by $l/n$ (Li, Nica & Roy, 2022;
# Jakub & Nica, 2023).

# %%
shades = [WIDTH_SHADES.get(w, ARCHITECTURE_COLORS["plain"]) for w in FINITE_WIDTHS]
curves = ["infinite width"] + [f"width {w}, {stat}" for w in FINITE_WIDTHS for stat in ("mean", "median")]
# The infinite-width line drawn again on top: the means run along it and would hide it.
finite_width_chart = alt.Chart(alt.Data(values=rows)).mark_line(strokeWidth=2, clip=True).encode(
    x=alt.X("layer:Q", title="layer l (log scale)", scale=alt.Scale(type="log", domain=[1, DEPTH], nice=False)),
    y=alt.Y("gap:Q", title="1 − ĉ, two orthogonal inputs (log)",
            scale=alt.Scale(type="log", domain=[1e-4, 1])),
    color=alt.Color("curve:N", title=None, sort=curves, legend=alt.Legend(columns=2), scale=alt.Scale(
        domain=curves, range=[THEORY_COLOR] + [s for s in shades for _ in range(2)])),
    strokeDash=alt.StrokeDash("curve:N", title=None, sort=curves, scale=alt.Scale(
        domain=curves, range=[THEORY_DASH] + [[1, 0], [2, 2]] * len(FINITE_WIDTHS))),
    tooltip=["curve:N", "layer:Q", alt.Tooltip("gap:Q", format=".3e")],
)
alt.layer(finite_width_chart, finite_width_chart.transform_filter("datum.curve == 'infinite width'").mark_line(
    strokeWidth=2.5, clip=True)).properties(
    width="container", height=280, title=["Mean and median network,", f"{FINITE_NETWORKS} networks per width"])

# %% [markdown]
# ## What to take away
#
# - The collapse is the loss of meaningful variance: $\sum_i V_i / \sum_i M_i = (1 - \bar c_l)(1 - 1/N)$ for
#   inputs of equal norm.
# - One ReLU keeps less than half of it, $(1 - \mathcal F(c))/(2(1 - c))$; He's factor 2 restores the second
#   moment, but as shared mean.
# - For infinite width the meaningful share falls like $9\pi^2/(2l^2)$, polynomially; the bare leading term is
#   a poor approximation at moderate depth.
# - Finite width adds a random scale per input (a floor under the across-input variance) and makes the typical
#   network more collapsed than the average one, by an amount set by depth over width.
#
# ## What to try next
#
# - Set `WIDTH = 64`, then `WIDTH = 1024`: how does the excess of the measured share over the prediction deep
#   down change, and the log-norm term of the identity?
# - In `relu_second_moment_split` (the cell near the top), replace `arccos_map(c)` by `c`, as for a layer
#   without ReLU: what happens to the split, and why does a deep linear network not collapse?
# - Raise `FINITE_NETWORKS` to 2000: the median network's curve settles, the mean's tail stays noisy.
#
# [Notebook 3](consequences.ipynb), the companion of [chapter 3](../consequences.md), measures what this does to
# gradients, curvature and training.
