"""Shattered gradients: the input gradients of nearby inputs decorrelate with depth while their features align."""


import altair as alt
import torch

from figures_src import theme
from figures_src.claims import Above, All, Below, Claim, Near
from figures_src.figure import Figure, Result, table
from figures_src.measures import input_gradients
from figures_src.model import MLP, MLPConfig, device, seeded
from figures_src.stats import mean_ci
from figures_src.theory import backward_correlation, iterate_correlation

PARAMS = {"d_in": 64, "width": 256, "pairs": 16, "seeds": 16, "input_cosines": [0.5, 0.9, 0.99],
          "depths": [0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50]}
COLORS = [theme.ORANGE, "#009E73", "#CC79A7"]


def input_pairs(n_pairs: int, d_in: int, cosine: float, generator: torch.Generator) -> torch.Tensor:
    """2·n_pairs inputs of norm √d_in: rows 2k and 2k + 1 have exactly the given cosine."""
    rows = []
    for _ in range(n_pairs):
        u, v = torch.linalg.qr(torch.randn(d_in, 2, generator=generator, dtype=torch.float64))[0].T
        rows += [u, cosine * u + (1 - cosine**2) ** 0.5 * v]
    return (torch.stack(rows) * d_in**0.5).to(device())


def pair_cosines(vectors: torch.Tensor) -> torch.Tensor:
    a, b = vectors[0::2], vectors[1::2]
    return (a * b).sum(dim=1) / (a.norm(dim=1) * b.norm(dim=1))


def compute(p: dict) -> Result:
    rows, values = [], {}
    depth = max(p["depths"])
    for i, c0 in enumerate(p["input_cosines"]):
        measured = {d: [] for d in p["depths"]}
        for seed in range(p["seeds"]):
            generator = seeded(100 * i + seed)
            x = input_pairs(p["pairs"], p["d_in"], c0, generator).requires_grad_(True)
            net = MLP(MLPConfig(d_in=p["d_in"], width=p["width"], depth=depth), generator, dtype=torch.float64)
            features = net.features(x)
            for d in p["depths"]:
                # A network of depth d: the first d layers and a fresh random linear readout f = wᵀφᵈ.
                fan_in = features[d].shape[1]
                readout = torch.randn(fan_in, 1, generator=generator, dtype=torch.float64).to(x.device) / fan_in**0.5
                measured[d].append(pair_cosines(input_gradients(features[d] @ readout, x)).detach())
        theory_backward = backward_correlation(torch.tensor(c0, dtype=torch.float64), depth)
        theory_forward = iterate_correlation(torch.tensor(c0, dtype=torch.float64), depth)
        # Per network: the mean cosine over its pairs; intervals over networks.
        per_network = {d: torch.stack([m.mean() for m in measured[d]]) for d in p["depths"]}
        estimates = {d: mean_ci(per_network[d]) for d in p["depths"]}
        for d in p["depths"]:
            rows.append({"c0": c0, "depth": d, "source": "network", "networks": p["seeds"],
                         **estimates[d].columns("gradient_cosine")})
        rows += [{"c0": c0, "depth": d, "source": "theory", "gradient_cosine": theory_backward[d],
                  "feature_cosine": theory_forward[d]} for d in range(depth + 1)]
        tag = f"c{round(c0 * 100)}"
        for d in (1, 5, 10, 20, 50):
            if d in measured:
                values |= estimates[d].values(f"measured_{tag}_l{d}")
                values[f"ratio_to_theory_{tag}_l{d}"] = estimates[d].mean / theory_backward[d].item()
            values[f"theory_{tag}_l{d}"] = theory_backward[d]
            values[f"feature_{tag}_l{d}"] = theory_forward[d]
        gaps = torch.stack([per_network[d].mean() - theory_backward[d] for d in p["depths"]])
        values[f"max_gap_{tag}"] = gaps.abs().max()
        values[f"mean_gap_{tag}"] = gaps.abs().mean()
        # Where mean field stops holding at this width: the shallowest depth from which every deeper depth's 95%
        # interval lies above the prediction; and the largest gap before it.
        above = [estimates[d].low > theory_backward[d].item() for d in p["depths"]]
        departs = next((d for i, d in enumerate(p["depths"]) if all(above[i:])), float("nan"))
        values[f"departs_{tag}"] = departs
        values[f"max_gap_before_departure_{tag}"] = max(
            [abs(per_network[d].mean() - theory_backward[d]).item() for d in p["depths"] if d < departs] or [0.0])
    values |= {"width": p["width"], "pairs": p["pairs"], "seeds": p["seeds"], "depth": depth}
    return Result(rows, values)


def chart(rows: list, p: dict) -> alt.LayerChart:
    data = alt.Chart(table(rows))
    domain = p["input_cosines"]
    color = alt.Color("c0:O", title="cosine of the two inputs c₀", scale=alt.Scale(domain=domain, range=COLORS),
                      legend=alt.Legend(symbolOpacity=1))  # the lines' colours, not the bands' tints
    x = alt.X("depth:Q", title="depth L of the network", scale=alt.Scale(domain=[0, max(p["depths"])], nice=False),
              axis=alt.Axis(tickCount=5))
    y = alt.Y("gradient_cosine:Q", title="cosine", scale=alt.Scale(domain=[0, 1]))
    networks = data.transform_filter("datum.source == 'network'")
    theory = data.transform_filter("datum.source == 'theory'")
    return alt.layer(
        theory.mark_line(strokeWidth=2, strokeDash=[2, 3]).encode(
            x=x, y="feature_cosine:Q", color=color,
            tooltip=[alt.Tooltip("c0:O", title="c₀"), "depth:Q",
                     alt.Tooltip("feature_cosine:Q", title="feature cosine after L layers (theory)", format=".4f")]),
        networks.mark_area(opacity=0.25, clip=True).encode(x=x, y="gradient_cosine_ci_low:Q", y2="gradient_cosine_ci_high:Q", color=color),
        theory.mark_line(color=theme.THEORY_COLOR, strokeDash=theme.THEORY_DASH, strokeWidth=2.2).encode(
            x=x, y=y, detail="c0:O",
            tooltip=[alt.Tooltip("c0:O", title="c₀"), "depth:Q",
                     alt.Tooltip("gradient_cosine:Q", title="∏ 𝓕′(cₖ) (theory)", format=".4f")]),
        networks.mark_line(strokeWidth=2.2, point=True).encode(
            x=x, y=y, color=color,
            tooltip=[alt.Tooltip("c0:O", title="c₀"), "depth:Q",
                     alt.Tooltip("gradient_cosine:Q", title="measured mean", format=".4f"),
                     alt.Tooltip("gradient_cosine_ci_low:Q", title="95% CI low", format=".3f"),
                     alt.Tooltip("gradient_cosine_ci_high:Q", title="95% CI high", format=".3f")]),
    ).properties(width="container", height=theme.HEIGHT,
                 title=alt.Title(["Two inputs' gradients decorrelate (solid)", "while their features align (dotted)"]))


FIGURE = Figure(
    id="gradient-shattering",
    title="Shattered gradients: nearby inputs, unrelated input gradients",
    caption=(
        "Cosine between the input gradients ∂f/∂x of two inputs with cosine c₀, for networks of depth L "
        "(width {{ value: gradient-shattering.width }}, {{ value: gradient-shattering.pairs }} pairs × "
        "{{ value: gradient-shattering.seeds }} networks per point; mean over networks of each network's mean over "
        "its pairs, band: 95% interval). "
        "Grey dashed: the mean-field prediction, the product of the slopes $\\mathcal F'(c_k)$ of the arc-cosine map over "
        "the L layers. Dotted, in colour: the cosine of the same two inputs' features after L layers, which "
        "climbs toward 1. The forward pass makes inputs alike; the backward pass makes "
        "them unrelated."
    ),
    params=PARAMS,
    compute=compute,
    chart=chart,
    alt_text=(
        "Line chart of the cosine between two inputs' input gradients against depth 0 to "
        "{{ value: gradient-shattering.depth }}, for input cosines 0.5, 0.9 and 0.99, with the mean-field "
        "prediction. For inputs at cosine 0.9 the gradient cosine falls from 0.9 to "
        "{{ value: gradient-shattering.measured_c90_l10 | .2f }} at depth 10 and "
        "{{ value: gradient-shattering.measured_c90_l50 | .2f }} at depth 50 (theory "
        "{{ value: gradient-shattering.theory_c90_l50 | .2f }}), while the features' cosine rises to "
        "{{ value: gradient-shattering.feature_c90_l50 | .3f }}."
    ),
    claims=(
        Claim("shatter", All(Below("measured_c90_l10", 0.9, interval=True), Below("measured_c90_l50", "measured_c90_l10",
                                                                                interval=True),
                             Above("feature_c90_l50", 0.98))),
        Claim("mean-field-holds", All(Near("measured_c90_l10", "theory_c90_l10", tolerance=0.05),
                                      Below("max_gap_before_departure_c90", 0.05))),
        Claim("mean-field-stops", All(Above("measured_c90_l50_ci_low", "theory_c90_l50"), Above("departs_c90", 5),
                                      Above("ratio_to_theory_c90_l50", 1.5))),
    ),
)
