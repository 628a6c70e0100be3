"""Batch normalisation (batch statistics) keeps the representations of a batch apart at every depth."""

import math

import altair as alt
import torch

from figures_src import theme
from figures_src.charts import (angle_x, architecture_encodings, drawn, end_labels, at_slider_layer, class_strip, layer_slider, layer_title,
                                unit_encodings)
from figures_src.claims import Above, All, Below, Claim, Differs, Near
from figures_src.figure import Figure, Result, table
from figures_src.measures import cosine_matrix, correlation_by_depth, effective_rank, off_diagonal
from figures_src.model import MLP, MLPConfig, gaussian_inputs, great_circle, seeded
from figures_src.stats import difference_ci, mean_ci
from figures_src.theory import batch_norm_correlation, iterate_correlation

# The circle, the network's weights and the readout are those of `collapse-function` (same seed, same draws):
# the only difference is BN before every ReLU. The depth curves use the inputs of `correlation-by-depth`.
PARAMS = {
    "d_in": 64, "width": 256, "depth": 100, "n_points": 72, "units_shown": 3, "classes": 3, "seed": 1,
    "stored_layers": [0, 1, 2, 5, 10, 20, 50, 100],
    "n_inputs": 32, "input_seed": 0, "seeds": 16, "curve_layers_every": 4,
}
ARCHITECTURES = ["plain", "batch norm"]


def compute(p: dict) -> Result:
    rows, values = [], {}
    # 1. The function along the circle, BN counterpart of collapse-function.
    generator = seeded(p["seed"])
    theta, x = great_circle(p["n_points"], p["d_in"], generator)
    net = MLP(MLPConfig(d_in=p["d_in"], width=p["width"], depth=p["depth"], batch_norm=True), generator)
    heads = {n: torch.randn(n, p["classes"], generator=generator, dtype=x.dtype).to(x.device) / n**0.5
             for n in (p["d_in"], p["width"])}
    with torch.no_grad():
        features = net.features(x)
    for layer in p["stored_layers"]:
        reps = features[layer]
        rms = reps.pow(2).mean().sqrt()
        predicted = (reps @ heads[reps.shape[1]]).argmax(dim=1)
        for k in range(p["n_points"]):
            for unit in range(p["units_shown"]):
                rows.append({"panel": "circle", "layer": layer, "theta": theta[k], "unit": f"unit {unit + 1}",
                             "activation": reps[k, unit] / rms, "predicted_class": predicted[k] + 1})
        values[f"circle_classes_l{layer}"] = len(predicted.unique())
        values[f"circle_min_cosine_l{layer}"] = off_diagonal(cosine_matrix(reps)).min()
        values[f"circle_mean_cosine_l{layer}"] = off_diagonal(cosine_matrix(reps)).mean()
        # neighbours on the circle (5° apart): BN also pushes them to the common cosine, i.e. the map is chaotic
        values[f"circle_neighbour_cosine_l{layer}"] = cosine_matrix(reps).diagonal(offset=1).mean()

    # 2. Mean cosine and effective rank vs depth, plain vs BN, on 32 Gaussian inputs (a batch of 32).
    x = gaussian_inputs(p["n_inputs"], p["d_in"], seeded(p["input_seed"]))
    theory_plain = iterate_correlation(off_diagonal(cosine_matrix(x)).double(), p["depth"]).mean(dim=1)
    theory_bn = batch_norm_correlation(p["n_inputs"])
    shown = sorted(set(range(0, p["depth"] + 1, p["curve_layers_every"])) | {1, 3, 5})
    per_arch = {}
    for arch in ARCHITECTURES:
        cosines, ranks = [], []
        for seed in range(p["seeds"]):
            net = MLP(MLPConfig(d_in=p["d_in"], width=p["width"], depth=p["depth"],
                                batch_norm=arch == "batch norm"), seeded(500 + seed))
            with torch.no_grad():
                feats = net.features(x)
            cosines.append(correlation_by_depth(feats))
            ranks.append(torch.stack([effective_rank(f) for f in feats]))
        cosines, ranks = torch.stack(cosines), torch.stack(ranks)
        per_arch[arch] = (cosines, ranks)
        for l in shown:
            theory = theory_plain[l] if arch == "plain" else (theory_bn if l > 0 else theory_plain[0])
            rows.append({"panel": "depth", "architecture": arch, "layer": l, "networks": p["seeds"],
                         **mean_ci(cosines[:, l]).columns("correlation"), "theory": theory,
                         **mean_ci(ranks[:, l]).columns("effective_rank")})
        key = arch.replace(" ", "_")
        for l in (1, 10, 50, 100):
            values.update(mean_ci(cosines[:, l]).values(f"{key}_cosine_l{l}"))
            values.update(mean_ci(ranks[:, l]).values(f"{key}_rank_l{l}"))
        values[f"{key}_max_cosine_after_l1"] = cosines[:, 1:].mean(dim=0).max()
        values[f"{key}_min_cosine_after_l1"] = cosines[:, 1:].mean(dim=0).min()
    # plain vs batch norm: the same inputs and the same weight seeds, so paired
    (pc, pr), (bc, br) = per_arch["plain"], per_arch["batch norm"]
    values.update(difference_ci(pc[:, 100], bc[:, 100], paired=True).values("cosine_l100_plain_minus_batch_norm"))
    values.update(difference_ci(br[:, 100], pr[:, 100], paired=True).values("rank_l100_batch_norm_minus_plain"))
    values.update(mean_ci(bc[:, 1:].mean(dim=1)).values("batch_norm_cosine_mean_over_layers"))
    values["rank_l0"] = ranks[:, 0].mean()
    values["theory_bn"] = theory_bn
    values["one_over_pi"] = 1 / torch.pi
    values["theory_plain_l50"] = theory_plain[50]
    values.update({"n_points": p["n_points"], "depth": p["depth"], "width": p["width"], "n_inputs": p["n_inputs"], "seeds": p["seeds"]})
    return Result(rows, values)


def chart(rows: list, p: dict) -> alt.VConcatChart:
    def panel_data(name: str, digits: int) -> alt.Chart:  # a table per panel: no empty columns in the page
        panel_rows = [row for row in rows if row["panel"] == name]
        return alt.Chart(table(drawn(panel_rows, [k for k in panel_rows[0] if k != "panel"], digits=digits)))

    # Every unit at every stored layer inside the panel: a spike is data, never cut at the edge.
    activations = [row["activation"] for row in rows if row["panel"] == "circle"]
    activation_domain = [min(-0.5, math.floor(min(activations))), math.ceil(max(activations))]
    layer = layer_slider(default=p["depth"], depth=p["depth"])
    circle = at_slider_layer(panel_data("circle", 3), p["stored_layers"])
    units = circle.mark_line(strokeWidth=2).encode(
        x=angle_x(),
        y=alt.Y("activation:Q", title="activation ÷ layer RMS", scale=alt.Scale(domain=activation_domain)),
        **unit_encodings(),
        tooltip=["layer:Q", alt.Tooltip("theta:Q", format=".2f"), "unit:N",
                 alt.Tooltip("activation:Q", title="value", format=".3f")],
    ).add_params(layer).properties(
        height=theme.HEIGHT - 80,
        title=layer_title("With batch norm: three units of φ at layer", p["stored_layers"]))
    classes = class_strip(circle, p["n_points"], p["classes"])

    depth = panel_data("depth", 4)
    x = alt.X("layer:Q", title="layer l", scale=alt.Scale(domain=[0, p["depth"]], nice=False))
    arch_color, arch_dash, _ = architecture_encodings(ARCHITECTURES)
    tooltip = [alt.Tooltip("architecture:N", title="network"), alt.Tooltip("layer:Q"),
               alt.Tooltip("correlation:Q", title="mean cosine", format=".4f"),
               alt.Tooltip("theory:Q", title="theory", format=".4f"),
               alt.Tooltip("effective_rank:Q", title="effective rank", format=".2f")]

    def panel(field: str, title: str, domain: list, theory: bool, height: int) -> alt.LayerChart:
        y = alt.Y(f"{field}:Q", title=title, scale=alt.Scale(domain=domain))
        layers = [
            depth.mark_area(opacity=0.2, clip=True).encode(x=x, y=f"{field}_ci_low:Q", y2=f"{field}_ci_high:Q",
                                                            color=arch_color),
            depth.mark_line(strokeWidth=2, clip=True).encode(x=x, y=y, color=arch_color, strokeDash=arch_dash),
            depth.mark_point(size=60, filled=True, opacity=0, clip=True).encode(x=x, y=y, tooltip=tooltip),
        ]
        if theory:
            layers.append(depth.mark_line(color=theme.THEORY_COLOR, strokeDash=theme.THEORY_DASH, strokeWidth=2)
                          .encode(x=x, y="theory:Q", detail="architecture:N"))
        layers.append(end_labels(depth, "layer", field, "architecture", "datum.architecture", arch_color))
        return alt.layer(*layers).properties(height=height)

    cosine = panel("correlation", "mean cosine c̄ₗ", [-0.05, 1], True, theme.HEIGHT - 100).properties(
        title=alt.Title("Mean cosine between the batch's representations", subtitle="grey dashed: infinite width"))
    rank = panel("effective_rank", "effective rank (of 32)", [0, p["n_inputs"]], False,
                 theme.HEIGHT - 120).properties(title="Effective rank of the batch's representations")
    return alt.vconcat(units, classes, cosine, rank, spacing=14).resolve_scale(color="independent",
                                                                           strokeDash="independent")


FIGURE = Figure(
    id="bn-collapse",
    title="Batch normalisation keeps the function rich at every depth",
    caption=(
        "Top: one network, that of chapter 1's first figure (same circle of inputs, same weights, same readout) with "
        "batch normalisation before every ReLU (the batch: the {{ value: bn-collapse.n_points }} points of the "
        "circle). <span class='dl-screen-only'>Move the slider: at</span><span class='dl-print-only'>At</span> layer {{ value: bn-collapse.depth }} the units still vary along the circle and the "
        "readout predicts {{ value: bn-collapse.circle_classes_l100 }} classes. Middle: mean cosine of "
        "{{ value: bn-collapse.n_inputs }} random inputs (a batch of {{ value: bn-collapse.n_inputs }}), "
        "{{ value: bn-collapse.seeds }} networks each (bands: 95% intervals over networks); with batch norm it stays at "
        "{{ value: bn-collapse.batch_norm_cosine_l100 | ci .3f }} at layer 100, within 0.01 of the predicted "
        "F(−1/(N−1)) = {{ value: bn-collapse.theory_bn | .3f }} (slightly above it). Bottom: the effective rank of the batch "
        "falls to {{ value: bn-collapse.plain_rank_l100 | .2f }} without batch norm and stays at "
        "{{ value: bn-collapse.batch_norm_rank_l100 | .1f }} with it."
    ),
    params=PARAMS,
    compute=compute,
    chart=chart,
    alt_text=(
        "Four stacked panels. First, three units of a batch-normalised width-{{ value: bn-collapse.width }} ReLU "
        "network as functions of the input angle, with a layer slider; they keep varying down to layer "
        "{{ value: bn-collapse.depth }}, and a strip below shows a random readout predicting "
        "{{ value: bn-collapse.circle_classes_l100 }} classes at layer 100. Then the mean cosine against layer: "
        "the plain network climbs to {{ value: bn-collapse.plain_cosine_l100 | .3f }} at layer 100, the "
        "batch-normalised one stays flat near {{ value: bn-collapse.batch_norm_cosine_l100 | .3f }}. Last, the "
        "effective rank: plain falls from {{ value: bn-collapse.rank_l0 | .1f }} to "
        "{{ value: bn-collapse.plain_rank_l100 | .2f }}, batch norm stays near "
        "{{ value: bn-collapse.batch_norm_rank_l100 | .1f }}."
    ),
    claims=(
        Claim("bn-at-fixed-point", All(Near("batch_norm_cosine_l50", "theory_bn", 0.01),
                                       Near("batch_norm_cosine_l100", "theory_bn", 0.01))),
        Claim("plain-collapses", Above("plain_cosine_l100", 0.95, interval=True)),
        Claim("bn-below-plain", All(Differs("cosine_l100_plain_minus_batch_norm"),
                                    Above("cosine_l100_plain_minus_batch_norm", 0.5))),
        Claim("rank-kept", All(Differs("rank_l100_batch_norm_minus_plain"), Above("rank_l100_batch_norm_minus_plain", 0),
                               Below("plain_rank_l100", 1.5, interval=True),
                               Above("batch_norm_rank_l100", 10, interval=True))),
        Claim("classes-kept", Above("circle_classes_l100", 1)),
        Claim("neighbours-decorrelate", All(Above("circle_neighbour_cosine_l1", 0.9),
                                            Near("circle_neighbour_cosine_l100", "circle_mean_cosine_l100", 0.1))),
    ),
)
