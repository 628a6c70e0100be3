"""Each neuron's second moment over inputs = mean² ("fake") + variance ("meaningful"), layer by layer."""

import json

import altair as alt
import torch

from figures_src import theme
from figures_src.claims import Above, All, Below, Claim, Differs, Indistinguishable
from figures_src.figure import Figure, Result, table
from figures_src.markers import format_number  # a bound: rounded up, as the caption's
from figures_src.experiments import collapse_runs
from figures_src.measures import gram, gram_split
from figures_src.model import gaussian_inputs, on_sphere, seeded
from figures_src.stats import difference_ci, mean_ci, mean_ci_columns
from figures_src.theory import kernel_after_layers

PARAMS = {"d_in": 64, "n_inputs": 32, "depth": 100, "width": 1024, "seeds": 16, "input_seed": 0,
          "shown_layers": [0, 1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50, 70, 100]}

FAKE = "mean² over inputs (fake)"
MEANINGFUL = "variance across inputs (meaningful)"


def compute(p: dict) -> Result:
    x = on_sphere(gaussian_inputs(p["n_inputs"], p["d_in"], seeded(p["input_seed"])))
    # Infinite width: the Gram matrix of φˡ from the arc-cosine map, split exactly as the measured neurons are.
    predicted_mean, predicted_var = gram_split(kernel_after_layers(gram(x.double()), p["depth"]))
    predicted = torch.stack([predicted_mean, predicted_var], dim=1)
    # Per neuron M = m² + V over the inputs, averaged over the neurons of the layer (from the Gram matrix,
    # `gram_split`), for the same networks as Figures 1.3 and 2.3.
    measured = collapse_runs(p, [p["width"]])[p["width"]]
    splits = torch.stack([measured["mean_sq"], measured["variance"]], dim=2)  # (network, layer, [mean², variance])
    totals = splits.sum(dim=2)
    per_network = splits / totals[..., None]  # each network's split as shares of its own second moment
    predicted_shares = predicted / predicted.sum(dim=1, keepdim=True)
    share, share_low, share_high = mean_ci_columns(per_network)
    moment, moment_low, moment_high = mean_ci_columns(splits)
    parts = (FAKE, MEANINGFUL)
    rows = [{"seed": seed, "layer": l, "part": part, "share": per_network[seed, l, k], "second_moment": splits[seed, l, k]}
            for seed in range(p["seeds"]) for l in range(p["depth"] + 1) for k, part in enumerate(parts)]
    summary = [{"layer": l, "part": part, "networks": p["seeds"],
                "share": share[l, k], "share_ci_low": share_low[l, k], "share_ci_high": share_high[l, k],
                "predicted_share": predicted_shares[l, k],
                "second_moment": moment[l, k], "second_moment_ci_low": moment_low[l, k],
                "second_moment_ci_high": moment_high[l, k], "predicted_second_moment": predicted[l, k]}
               for l in range(p["depth"] + 1) for k, part in enumerate(parts)]
    meaningful = per_network[:, :, 1]
    ratio = totals / totals[:, :1]  # second moment at layer l ÷ the input's, per network
    values = {"width": p["width"], "seeds": p["seeds"], "n_inputs": p["n_inputs"], "depth": p["depth"],
              "max_share_gap": (share[:, 1] - predicted_shares[:, 1]).abs().max(),
              "max_boundary_ci_width": (share_high[:, 0] - share_low[:, 0]).max(),
              "total_min_l100": ratio[:, p["depth"]].min(), "total_max_l100": ratio[:, p["depth"]].max()}
    values |= mean_ci(ratio[:, p["depth"]]).values("total_ratio_l100")
    values |= mean_ci(ratio[:, p["depth"]] - 1).values("total_ratio_minus_one_l100")
    for l in (0, 1, 2, 5, 10, 20, 50, 100):
        values |= mean_ci(meaningful[:, l]).values(f"meaningful_share_l{l}")
        values[f"predicted_share_l{l}"] = predicted_shares[l, 1]
        values[f"fake_share_l{l}"] = share[l, 0]
        values |= mean_ci(meaningful[:, l] - predicted_shares[l, 1]).values(f"share_deviation_l{l}")
    for l in (1, 10, 100):
        values |= mean_ci(1 - meaningful[:, l] / meaningful[:, 0]).values(f"lost_by_l{l}")
        values[f"predicted_lost_by_l{l}"] = 1 - predicted_shares[l, 1] / predicted_shares[0, 1]
    values |= difference_ci(meaningful[:, 0], meaningful[:, 1], paired=True).values("drop_l0_minus_l1")
    values |= difference_ci(meaningful[:, 1], meaningful[:, 10], paired=True).values("drop_l1_minus_l10")
    values |= mean_ci(meaningful[:, 100] / predicted_shares[100, 1]).values("excess_ratio_l100")
    return Result(rows, values, summary=summary)


def chart(rows: list, p: dict) -> alt.LayerChart:
    shown = p["shown_layers"]
    base = alt.Chart(table(rows)).transform_filter(alt.FieldOneOfPredicate(field="layer", oneOf=shown))
    narrow = "width < 520"  # a phone: the layer numbers turn upright, or they would run together
    x = alt.X("layer:O", title="layer l (after l ReLU layers)", sort=shown,
              axis=alt.Axis(labelAngle=alt.expr(f"{narrow} ? -90 : 0"),
                            labelAlign=alt.expr(f"{narrow} ? 'right' : 'center'"),
                            labelBaseline=alt.expr(f"{narrow} ? 'middle' : 'top'")))
    tooltip = [alt.Tooltip("layer:O"), alt.Tooltip("part:N"),
               alt.Tooltip("share:Q", title="share (measured)", format=".2%"),
               alt.Tooltip("share_ci_low:Q", title="95% interval from", format=".2%"),
               alt.Tooltip("share_ci_high:Q", title="95% interval to", format=".2%"),
               alt.Tooltip("predicted_share:Q", title="share (infinite width)", format=".2%"),
               alt.Tooltip("second_moment:Q", title="second moment (measured)", format=".4f"),
               alt.Tooltip("predicted_second_moment:Q", title="second moment (infinite width)", format=".4f")]
    bars = base.transform_calculate(order=f"datum.part == {json.dumps(FAKE)} ? 0 : 1").mark_bar().encode(
        x=x,
        y=alt.Y("share:Q", title="share of the neuron's second moment", stack="zero",
                scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        color=alt.Color("part:N", title=None, sort=[FAKE, MEANINGFUL],
                        scale=alt.Scale(domain=[FAKE, MEANINGFUL],
                                        range=[theme.ORANGE, theme.BLUE]),  # two hues, not two shades
                        legend=alt.Legend(labelLimit=300, direction="vertical")),
        order=alt.Order("order:Q"),
        tooltip=tooltip,
    )
    # The predicted boundary between the two parts (the predicted mean² share), drawn on each bar.
    # 4 px thick: at 2.5 the tick was lost on the boundary between the two colours.
    boundary = base.transform_filter(f"datum.part == {json.dumps(FAKE)}").mark_tick(
        color=theme.THEORY_COLOR, thickness=4).encode(x=x, y="predicted_share:Q", tooltip=tooltip)
    # The 95% interval over networks of the measured boundary is a few pixels at most: named, not drawn.
    widest = format_number(max(r["share_ci_high"] - r["share_ci_low"] for r in rows if r["part"] == FAKE), "up .1%",
                           "widest interval", "figure variance-decomposition")
    return alt.layer(bars, boundary).properties(
        width="container", height=theme.HEIGHT,
        title=alt.Title("A neuron's second moment over inputs, split",
                        subtitle=["grey tick: infinite-width prediction",
                                  f"95% interval of the boundary: at most {widest}"]))


FIGURE = Figure(
    id="variance-decomposition",
    title="He initialisation keeps the second moment; its meaningful part drains away",
    caption=(
        "For each layer, the second moment of a neuron of φˡ over {{ value: variance-decomposition.n_inputs }} inputs "
        "of equal norm, averaged over the neurons of {{ value: variance-decomposition.seeds }} networks of width "
        "{{ value: variance-decomposition.width }} and split into the squared mean over inputs (orange: the same for "
        "every input, \"fake\") and the variance across inputs (blue: the part that differs between inputs; deep "
        "down, at finite width, much of it is the spread of the inputs' scales: [what finite width adds](reasons.md#what-finite-width-adds)). The 95% interval "
        "over networks of the boundary between them is at most "
        "{{ value: variance-decomposition.max_boundary_ci_width | up .1% }} of the bar, too thin to draw"
        "<span class='dl-screen-only'> (a bar's tooltip gives it)</span>. The variance share "
        "falls from {{ value: variance-decomposition.meaningful_share_l0 | .3f }} at the input to "
        "{{ value: variance-decomposition.meaningful_share_l1 | .3f }} after one layer, "
        "{{ value: variance-decomposition.meaningful_share_l10 | .3f }} at layer 10 and "
        "{{ value: variance-decomposition.meaningful_share_l100 | .4f }} at layer 100. Grey ticks: the "
        "infinite-width prediction of the boundary, from the arc-cosine map.<span class='dl-screen-only'> Hover a bar for the second moments.</span>"
    ),
    params=PARAMS,
    claims=(
        Claim("second-moment-kept", Indistinguishable("total_ratio_minus_one_l100")),
        Claim("share-falls", All(Differs("drop_l0_minus_l1"), Above("drop_l0_minus_l1", 0),
                                 Differs("drop_l1_minus_l10"), Above("drop_l1_minus_l10", 0))),
        Claim("gone-by-ten", All(Above("lost_by_l10", 0.8, interval=True), Below("lost_by_l1", 0.5, interval=True))),
        Claim("prediction-follows", All(*(All(Above(f"share_deviation_l{l}", -0.015, interval=True),
                                              Below(f"share_deviation_l{l}", 0.015, interval=True))
                                          for l in (1, 2, 5, 10, 20, 50, 100)))),
        Claim("excess-deep", All(Above("excess_ratio_l100", 2, interval=True), Differs("share_deviation_l100"),
                                 Above("share_deviation_l100", 0))),
        Claim("second-moment-wanders", All(Below("total_min_l100", 0.5), Above("total_max_l100", 2))),
    ),
    compute=compute,
    chart=chart,
    alt_text=(
        "Stacked bar chart over layers 0 to {{ value: variance-decomposition.depth }}: each bar is the second moment "
        "of a neuron over inputs, as shares, split into an orange mean-squared part and a blue variance part. The "
        "blue part is {{ value: variance-decomposition.meaningful_share_l0 | .2f }} of the bar at layer 0, "
        "{{ value: variance-decomposition.meaningful_share_l1 | .2f }} at layer 1, "
        "{{ value: variance-decomposition.meaningful_share_l10 | .2f }} at layer 10 and "
        "{{ value: variance-decomposition.meaningful_share_l100 | .3f }} at layer 100. "
        "Grey ticks mark the infinite-width prediction of the boundary."
    ),
)
