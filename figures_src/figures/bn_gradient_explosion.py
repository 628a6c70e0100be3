"""At initialisation, gradients of a batch-normalised ReLU MLP grow geometrically towards the input."""

import math

import altair as alt
import torch

from figures_src import theme
from figures_src.charts import line_legend
from figures_src.claims import Above, All, Below, Claim, Differs, Near
from figures_src.figure import Figure, Result, table
from figures_src.measures import per_layer_growth_factor, weight_gradient_sq_norms
from figures_src.model import MLP, MLPConfig, gaussian_inputs, seeded
from figures_src.stats import difference_ci, mean_ci
from figures_src.theory import BN_GRADIENT_FACTOR

PARAMS = {"d_in": 64, "width": 256, "depth": 50, "batch_sizes": [8, 32, 128], "plain_batch": 128,
          "seeds": 16, "fit_skip": 5}
BN_SHADES = {8: "#D9782E", 32: "#D55E00", 128: "#B0581C"}  # batch norm's vermillion, darker = larger batch
BN_DASHES = {8: [2, 2], 32: [6, 3], 128: [1, 0]}


def gradient_profile(batch_norm: bool, batch: int, p: dict, seed: int) -> torch.Tensor:
    """‖∂L/∂Wˡ‖², l = 1 … L (hidden matrices; the readout left out), MSE to Gaussian targets."""
    x = gaussian_inputs(batch, p["d_in"], seeded(10_000 + seed))
    y = torch.randn(batch, 1, generator=seeded(20_000 + seed)).to(x.device)
    net = MLP(MLPConfig(d_in=p["d_in"], width=p["width"], depth=p["depth"], batch_norm=batch_norm), seeded(seed))
    loss = 0.5 * (net(x) - y).pow(2).mean()
    return weight_gradient_sq_norms(loss, list(net.weights))[:-1]


def key_of(arch: str, batch: int) -> str:
    return f"bn_b{batch}" if arch == "batch norm" else "plain"


def compute(p: dict) -> Result:
    rows, values = [], {}
    depth, skip = p["depth"], p["fit_skip"]
    all_factors = {}
    runs = [("batch norm", batch) for batch in p["batch_sizes"]] + [("plain", p["plain_batch"])]
    for arch, batch in runs:
        profiles = torch.stack([gradient_profile(arch == "batch norm", batch, p, seed) for seed in range(p["seeds"])])
        relative = (profiles / profiles[:, -1:]).double()  # 1 at the last hidden layer, per network
        log_mean = relative.log().mean(dim=0)
        # fit over hidden layers skip+1 … L−skip (W¹ has fan-in d_in, and the ends of the net differ)
        factors = torch.stack([per_layer_growth_factor(prof[skip:depth - skip]) for prof in profiles])
        label = f"{arch}, batch {batch}"
        all_factors[key_of(arch, batch)] = factors
        for l in range(2, depth + 1):  # W¹ (fan-in d_in, fewer entries) is left out of the plot
            log_ci = mean_ci(relative[:, l - 1].log())  # geometric mean over networks, with its interval
            rows.append({"run": label, "architecture": arch, "batch": batch, "layer": l, "networks": p["seeds"],
                         "relative_sq_grad": math.exp(log_ci.mean), "relative_sq_grad_ci_low": math.exp(log_ci.low),
                         "relative_sq_grad_ci_high": math.exp(log_ci.high),
                         "theory": BN_GRADIENT_FACTOR ** (depth - l) if arch == "batch norm" else 1.0})
        key = key_of(arch, batch)
        values.update(mean_ci(factors).values(f"{key}_factor"))
        values[f"{key}_factor_min"] = factors.min()
        values[f"{key}_factor_max"] = factors.max()
        values[f"{key}_first_over_last"] = log_mean[0].exp()
        # the same ratio the other way round, last layer over first (geometric mean over networks, interval)
        inverse = mean_ci(-relative[:, 0].log())
        values.update({f"{key}_last_over_first": math.exp(inverse.mean),
                       f"{key}_last_over_first_ci_low": math.exp(inverse.low),
                       f"{key}_last_over_first_ci_high": math.exp(inverse.high), f"{key}_last_over_first_n": inverse.n})
        factor = mean_ci(factors)
        rows.append({"run": label, "architecture": arch, "batch": batch, "layer": None, "networks": p["seeds"],
                     **factor.columns("factor")})
    # smaller batches explode faster: the same weight seeds at every batch size, so paired
    b = sorted(p["batch_sizes"])
    for small, large in zip(b, b[1:]):
        values.update(difference_ci(all_factors[f"bn_b{small}"], all_factors[f"bn_b{large}"], paired=True)
                      .values(f"factor_b{small}_minus_b{large}"))
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
                      # below the plot: inside, at a phone's width, it would hide the steepest line
                      legend=line_legend(orient="bottom", direction="vertical"))
    dash = alt.StrokeDash("run:N", title=None, scale=alt.Scale(domain=labels, range=dashes))
    x = alt.X("layer:Q", title="layer l of Wˡ (input on the left)",
              scale=alt.Scale(domain=[2, p["depth"]], nice=False))
    y = alt.Y("relative_sq_grad:Q", title="‖∂L/∂Wˡ‖² ÷ last layer's (log)",
              scale=alt.Scale(type="log"), axis=alt.Axis(format="~e"))
    tooltip = [alt.Tooltip("run:N", title="network"), alt.Tooltip("layer:Q"),
               alt.Tooltip("relative_sq_grad:Q", title="relative squared gradient", format=".3~e"),
               alt.Tooltip("theory:Q", title="(π/(π−1))ᴸ⁻ˡ", format=".3~e")]
    lines = alt.layer(
        profiles.mark_area(opacity=0.2).encode(x=x, y="relative_sq_grad_ci_low:Q", y2="relative_sq_grad_ci_high:Q",
                                               color=color),
        profiles.mark_line(strokeWidth=2).encode(x=x, y=y, color=color, strokeDash=dash),
        profiles.transform_filter(f"datum.batch == {max(p['batch_sizes'])} && datum.architecture == 'batch norm'")
        .mark_line(color=theme.THEORY_COLOR, strokeDash=theme.THEORY_DASH, strokeWidth=2.5)
        .encode(x=x, y="theory:Q"),
        profiles.mark_point(size=40, filled=True, opacity=0).encode(x=x, y=y, tooltip=tooltip),
    ).properties(height=theme.HEIGHT - 40,
                 title=alt.Title(["Squared gradient norm per layer,", "at initialisation"],
                                 subtitle="grey dashed: (π/(π−1))ᴸ⁻ˡ"))

    factors = data.transform_filter("!isValid(datum.layer)")
    factor_scale = alt.Scale(domain=[0.8, 1.9], nice=False)
    fx = alt.X("factor:Q", title="factor per layer (squared norm)", scale=factor_scale)
    # Row names on two lines ("batch norm" / "batch 8"): one line would push both plots right on a phone.
    fy = alt.Y("run:N", title=None, sort=labels, axis=alt.Axis(labelExpr="split(datum.label, ', ')"))
    ftip = [alt.Tooltip("run:N", title="network"), alt.Tooltip("factor:Q", title="mean factor", format=".4f"),
            alt.Tooltip("factor_ci_low:Q", title="95% interval from", format=".4f"),
            alt.Tooltip("factor_ci_high:Q", title="to", format=".4f")]
    dots = alt.layer(
        factors.mark_rule(strokeWidth=2).encode(x=alt.X("factor_ci_low:Q", scale=factor_scale), x2="factor_ci_high:Q", y=fy,
                                                color=alt.Color("run:N", scale=alt.Scale(domain=labels, range=colors),
                                                                legend=None)),
        factors.mark_point(size=90, filled=True).encode(
            x=fx, y=fy, tooltip=ftip,
            color=alt.Color("run:N", scale=alt.Scale(domain=labels, range=colors), legend=None)),
        alt.Chart(alt.InlineData(values=[{"factor": BN_GRADIENT_FACTOR}])).mark_rule(
            color=theme.THEORY_COLOR, strokeDash=theme.THEORY_DASH, strokeWidth=2).encode(x=alt.X("factor:Q", scale=factor_scale)),
    ).properties(height=150, title=alt.Title(["Growth factor per layer,", "fitted on the middle layers"],
                                             subtitle="grey dashed: π/(π−1)"))
    return alt.vconcat(lines, dots, spacing=18).resolve_scale(color="independent", strokeDash="independent")


FIGURE = Figure(
    id="bn-gradient-explosion",
    title="Batch norm's price: gradients explode towards the input",
    caption=(
        "Squared norm of the gradient of the loss (mean squared error to random targets) with respect to each "
        "weight matrix of a depth-{{ value: bn-gradient-explosion.depth }}, width-{{ value: bn-gradient-explosion.width }} "
        "ReLU MLP at initialisation, relative to the last hidden layer (geometric mean of "
        "{{ value: bn-gradient-explosion.seeds }} networks; bands and bars: 95% intervals over networks). With batch norm it grows by a fixed factor per layer "
        "towards the input: {{ value: bn-gradient-explosion.bn_b128_factor | .3f }} for batches of "
        "{{ value: bn-gradient-explosion.largest_batch }}, against π/(π−1) = "
        "{{ value: bn-gradient-explosion.theory_factor | .3f }} predicted for large batches; small batches explode "
        "faster ({{ value: bn-gradient-explosion.bn_b8_factor | .3f }} for batches of "
        "{{ value: bn-gradient-explosion.smallest_batch }}). The plain He network does not explode: "
        "its squared gradient falls towards the input instead ({{ value: bn-gradient-explosion.plain_factor | .3f }} "
        "per layer; the last hidden layer's is {{ value: bn-gradient-explosion.plain_last_over_first | .0f }} times "
        "the first's)."
    ),
    params=PARAMS,
    compute=compute,
    chart=chart,
    alt_text=(
        "Upper panel: log-scale line chart of the squared gradient norm of each layer's weights, relative to the "
        "last hidden layer, against layer 1 to {{ value: bn-gradient-explosion.depth }}. Batch-normalised networks "
        "are straight lines rising towards the input, steeper for smaller batches; the plain network's line falls gently towards the input. At the "
        "first layer the batch-norm ratio is about {{ value: bn-gradient-explosion.bn_b128_first_over_last | .2e }} "
        "for batches of {{ value: bn-gradient-explosion.largest_batch }}. Lower panel: the fitted factor per layer, "
        "{{ value: bn-gradient-explosion.bn_b8_factor | .3f }}, {{ value: bn-gradient-explosion.bn_b32_factor | .3f }} "
        "and {{ value: bn-gradient-explosion.bn_b128_factor | .3f }} for batches of 8, 32 and 128, against π/(π−1) = {{ value: bn-gradient-explosion.theory_factor | .3f }}, "
        "and {{ value: bn-gradient-explosion.plain_factor | .3f }} for the plain network."
    ),
    claims=(
        Claim("near-pi-factor", All(Near("bn_b128_factor", "theory_factor", 0.05),
                                    Above("bn_b128_factor", 1, interval=True))),
        Claim("smaller-batches-faster", All(Differs("factor_b8_minus_b32"), Above("factor_b8_minus_b32", 0),
                                            Differs("factor_b32_minus_b128"), Above("factor_b32_minus_b128", 0))),
        Claim("plain-no-explosion", All(Below("plain_factor", 1, interval=True),
                                        Above("plain_last_over_first", 1, interval=True))),
        Claim("first-over-last-large", Above("bn_b128_first_over_last", 1e6)),
    ),
)
