"""At initialisation, gradients of a batch-normalised ReLU MLP grow geometrically towards the input."""

import altair as alt
import torch

from figures_src import theme
from figures_src.charts import line_legend
from figures_src.figure import Figure, Result, table
from figures_src.measures import per_layer_growth_factor, weight_gradient_sq_norms
from figures_src.model import MLP, MLPConfig, gaussian_inputs, seeded
from figures_src.theory import BN_GRADIENT_FACTOR

PARAMS = {"d_in": 64, "width": 256, "depth": 50, "batch_sizes": [8, 32, 128], "plain_batch": 128,
          "seeds": 4, "fit_skip": 5}
BN_SHADES = {8: "#F2B48A", 32: "#E8833F", 128: "#D55E00"}
BN_DASHES = {8: [2, 2], 32: [6, 3], 128: [1, 0]}


def gradient_profile(batch_norm: bool, batch: int, p: dict, seed: int) -> torch.Tensor:
    """‖∂L/∂Wˡ‖², l = 1 … L (hidden matrices; the readout left out), MSE to Gaussian targets."""
    x = gaussian_inputs(batch, p["d_in"], seeded(10_000 + seed))
    y = torch.randn(batch, 1, generator=seeded(20_000 + seed)).to(x.device)
    net = MLP(MLPConfig(d_in=p["d_in"], width=p["width"], depth=p["depth"], batch_norm=batch_norm), seeded(seed))
    loss = 0.5 * (net(x) - y).pow(2).mean()
    return weight_gradient_sq_norms(loss, list(net.weights))[:-1]


def compute(p: dict) -> Result:
    rows, values = [], {}
    depth, skip = p["depth"], p["fit_skip"]
    runs = [("batch norm", batch) for batch in p["batch_sizes"]] + [("plain", p["plain_batch"])]
    for arch, batch in runs:
        profiles = torch.stack([gradient_profile(arch == "batch norm", batch, p, seed) for seed in range(p["seeds"])])
        relative = (profiles / profiles[:, -1:]).double()  # 1 at the last hidden layer, per network
        log_mean = relative.log().mean(dim=0)
        # fit over hidden layers skip+1 … L−skip (W¹ has fan-in d_in, and the ends of the net differ)
        factors = torch.stack([per_layer_growth_factor(prof[skip:depth - skip]) for prof in profiles])
        label = f"{arch}, batch {batch}"
        for l in range(2, depth + 1):  # W¹ (fan-in d_in, fewer entries) is left out of the plot
            rows.append({"run": label, "architecture": arch, "batch": batch, "layer": l,
                         "relative_sq_grad": log_mean[l - 1].exp(),
                         "relative_min": relative[:, l - 1].min(), "relative_max": relative[:, l - 1].max(),
                         "theory": BN_GRADIENT_FACTOR ** (depth - l) if arch == "batch norm" else 1.0})
        key = f"bn_b{batch}" if arch == "batch norm" else "plain"
        values[f"{key}_factor"] = factors.mean()
        values[f"{key}_factor_min"] = factors.min()
        values[f"{key}_factor_max"] = factors.max()
        values[f"{key}_first_over_last"] = log_mean[0].exp()
        rows.append({"run": label, "architecture": arch, "batch": batch, "layer": None, "factor": factors.mean(),
                     "factor_min": factors.min(), "factor_max": factors.max()})
    values["theory_factor"] = BN_GRADIENT_FACTOR
    values["theory_first_over_last"] = BN_GRADIENT_FACTOR ** (depth - 1)
    values.update({"depth": depth, "width": p["width"], "seeds": p["seeds"], "fit_from": skip + 1,
                   "fit_to": depth - skip, "plain_batch": p["plain_batch"],
                   "largest_batch": max(p["batch_sizes"]), "smallest_batch": min(p["batch_sizes"])})
    return Result(rows, values)


def chart(rows: list, p: dict) -> alt.VConcatChart:
    data = alt.Chart(table(rows))
    profiles = data.transform_filter("isValid(datum.layer)")
    labels = [f"batch norm, batch {b}" for b in p["batch_sizes"]] + [f"plain, batch {p['plain_batch']}"]
    colors = [BN_SHADES[b] for b in p["batch_sizes"]] + [theme.ARCHITECTURE_COLORS["plain"]]
    dashes = [BN_DASHES[b] for b in p["batch_sizes"]] + [[1, 0]]
    color = alt.Color("run:N", title=None, scale=alt.Scale(domain=labels, range=colors),
                      legend=line_legend(columns=3))
    dash = alt.StrokeDash("run:N", title=None, scale=alt.Scale(domain=labels, range=dashes))
    x = alt.X("layer:Q", title="layer l of the weight matrix Wˡ (input on the left)",
              scale=alt.Scale(domain=[2, p["depth"]], nice=False))
    y = alt.Y("relative_sq_grad:Q", title="‖∂L/∂Wˡ‖² ÷ last layer's (log)",
              scale=alt.Scale(type="log"), axis=alt.Axis(format="~e"))
    tooltip = [alt.Tooltip("run:N", title="network"), alt.Tooltip("layer:Q"),
               alt.Tooltip("relative_sq_grad:Q", title="relative squared gradient", format=".3~e"),
               alt.Tooltip("theory:Q", title="(π/(π−1))^(L−l)", format=".3~e")]
    lines = alt.layer(
        profiles.mark_line(strokeWidth=2).encode(x=x, y=y, color=color, strokeDash=dash),
        profiles.transform_filter(f"datum.batch == {max(p['batch_sizes'])} && datum.architecture == 'batch norm'")
        .mark_line(color=theme.THEORY_COLOR, strokeDash=theme.THEORY_DASH, strokeWidth=2.5)
        .encode(x=x, y="theory:Q"),
        profiles.mark_point(size=40, filled=True, opacity=0).encode(x=x, y=y, tooltip=tooltip),
    ).properties(height=theme.HEIGHT - 40,
                 title="Squared gradient norm per layer at initialisation (grey dashed: (π/(π−1))^(L−l))")

    factors = data.transform_filter("!isValid(datum.layer)")
    factor_scale = alt.Scale(domain=[0.8, 1.9], nice=False)
    fx = alt.X("factor:Q", title="fitted growth factor per layer (squared norm)", scale=factor_scale)
    fy = alt.Y("run:N", title=None, sort=labels)
    ftip = [alt.Tooltip("run:N", title="network"), alt.Tooltip("factor:Q", title="mean factor", format=".4f"),
            alt.Tooltip("factor_min:Q", title="lowest network", format=".4f"),
            alt.Tooltip("factor_max:Q", title="highest network", format=".4f")]
    dots = alt.layer(
        factors.mark_rule(strokeWidth=2).encode(x=alt.X("factor_min:Q", scale=factor_scale), x2="factor_max:Q", y=fy,
                                                color=alt.Color("run:N", scale=alt.Scale(domain=labels, range=colors),
                                                                legend=None)),
        factors.mark_point(size=90, filled=True).encode(
            x=fx, y=fy, tooltip=ftip,
            color=alt.Color("run:N", scale=alt.Scale(domain=labels, range=colors), legend=None)),
        alt.Chart(alt.InlineData(values=[{"factor": BN_GRADIENT_FACTOR}])).mark_rule(
            color=theme.THEORY_COLOR, strokeDash=theme.THEORY_DASH, strokeWidth=2).encode(x=alt.X("factor:Q", scale=factor_scale)),
    ).properties(height=150, title="Growth factor per layer, fitted on the middle layers (grey dashed: π/(π−1))")
    return alt.vconcat(lines, dots, spacing=18).resolve_scale(color="independent", strokeDash="independent")


FIGURE = Figure(
    id="bn-gradient-explosion",
    title="Batch norm's price: gradients explode towards the input",
    caption=(
        "Squared norm of the gradient of the loss (mean squared error to random targets) with respect to each "
        "weight matrix of a depth-{{ value: bn-gradient-explosion.depth }}, width-{{ value: bn-gradient-explosion.width }} "
        "ReLU MLP at initialisation, relative to the last hidden layer (geometric mean of "
        "{{ value: bn-gradient-explosion.seeds }} networks). With batch norm it grows by a fixed factor per layer "
        "towards the input: {{ value: bn-gradient-explosion.bn_b128_factor | .3f }} for batches of "
        "{{ value: bn-gradient-explosion.largest_batch }}, against π/(π−1) = "
        "{{ value: bn-gradient-explosion.theory_factor | .3f }} predicted for large batches; small batches explode "
        "faster ({{ value: bn-gradient-explosion.bn_b8_factor | .3f }} for batches of "
        "{{ value: bn-gradient-explosion.smallest_batch }}). The plain He network stays flat "
        "({{ value: bn-gradient-explosion.plain_factor | .3f }} per layer)."
    ),
    params=PARAMS,
    compute=compute,
    chart=chart,
    alt_text=(
        "Upper panel: log-scale line chart of the squared gradient norm of each layer's weights, relative to the "
        "last hidden layer, against layer 1 to {{ value: bn-gradient-explosion.depth }}. Batch-normalised networks "
        "are straight lines rising towards the input, steeper for smaller batches; the plain network is flat. At the "
        "first layer the batch-norm ratio is about {{ value: bn-gradient-explosion.bn_b128_first_over_last | .2e }} "
        "for batches of {{ value: bn-gradient-explosion.largest_batch }}. Lower panel: the fitted factor per layer, "
        "{{ value: bn-gradient-explosion.bn_b8_factor | .3f }}, {{ value: bn-gradient-explosion.bn_b32_factor | .3f }} "
        "and {{ value: bn-gradient-explosion.bn_b128_factor | .3f }} for batches of 8, 32 and 128, against π/(π−1) = {{ value: bn-gradient-explosion.theory_factor | .3f }}, "
        "and {{ value: bn-gradient-explosion.plain_factor | .3f }} for the plain network."
    ),
)
