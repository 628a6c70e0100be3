"""Residual branches slow the collapse; branches scaled by α² = 1/L stop it."""

import altair as alt
import torch

from figures_src import theme
from figures_src.charts import architecture_encodings
from figures_src.claims import Above, All, Below, Claim, Near
from figures_src.figure import Figure, Result, table
from figures_src.measures import cosine_matrix, correlation_by_depth, off_diagonal
from figures_src.model import MLP, MLPConfig, gaussian_inputs, seeded
from figures_src.stats import mean_ci
from figures_src.theory import (arccos_map, iterate_correlation, residual_batch_norm_recursion,
                                residual_recursion)

PARAMS = {"d_in": 64, "width": 256, "depth": 100, "n_inputs": 32, "input_seed": 0, "seeds": 16,
          "branch_vars": [0.01, 0.1, 1.0], "stored_every": 2, "other_depths": [10, 1000, 10000]}
ARCHITECTURES = ["plain", "residual", "residual + batch norm"]


def label(branch_var: float, depth: int) -> str:
    return f"α² = 1/L = {branch_var:g}" if abs(branch_var * depth - 1) < 1e-9 else f"α² = {branch_var:g}"


def compute(p: dict) -> Result:
    depth = p["depth"]
    x = gaussian_inputs(p["n_inputs"], p["d_in"], seeded(p["input_seed"]))
    pairs = off_diagonal(cosine_matrix(x)).double()
    q0 = x.double().pow(2).mean().item()  # second moment per coordinate of the stream h⁰ = W⁰x
    plain = iterate_correlation(pairs, depth).mean(dim=1)
    shown = sorted(set(range(0, depth + 1, p["stored_every"])) | {1, 3, 5})
    rows, values = [], {}
    for branch_var in p["branch_vars"]:
        for l in shown:  # the plain network's theory, repeated for each slider value
            rows.append({"branch_var": branch_var, "architecture": "plain", "layer": l, "correlation": None,
                         "theory": plain[l]})
        theories = {
            "residual": residual_recursion(pairs, depth, branch_var, q0)[1].mean(dim=1),
            "residual + batch norm": residual_batch_norm_recursion(pairs, depth, branch_var, p["n_inputs"], q0)[1]
            .mean(dim=1),
        }
        for arch, theory in theories.items():
            runs = []
            for seed in range(p["seeds"]):
                net = MLP(MLPConfig(d_in=p["d_in"], width=p["width"], depth=depth, branch_scale=branch_var**0.5,
                                    batch_norm=arch == "residual + batch norm"), seeded(700 + seed))
                with torch.no_grad():
                    runs.append(correlation_by_depth(net.features(x)))
            runs = torch.stack(runs).double()
            mean = runs.mean(dim=0)
            rows += [{"branch_var": branch_var, "architecture": arch, "layer": l, "networks": p["seeds"],
                      **mean_ci(runs[:, l]).columns("correlation"), "theory": theory[l]} for l in shown]
            key = f"{'res' if arch == 'residual' else 'resbn'}_a{branch_var:g}".replace(".", "p")
            values.update(mean_ci(runs[:, depth]).values(f"{key}_l{depth}"))
            values.update(mean_ci(runs[:, 10]).values(f"{key}_l10"))
            values[f"{key}_theory_l{depth}"] = theory[depth]
            values[f"{key}_max_gap"] = (mean - theory).abs().max()
            values[f"{key}_theory_l10"] = theory[10]
    values["plain_theory_l100"] = plain[depth]
    values["plain_theory_l10"] = plain[10]
    values["resbn_max_cosine"] = max(r["correlation"] for r in rows
                                     if r["architecture"] == "residual + batch norm")
    # α² = 1/L at other depths, from c_0 = 0: the stream's cosine, and the cosine after one more ReLU.
    zero = torch.zeros(1, dtype=torch.float64)
    for length in [depth] + p["other_depths"]:
        c_final = residual_recursion(zero, length, 1 / length)[1][-1, 0]
        values[f"scaled_stream_L{length}"] = c_final
        values[f"scaled_relu_L{length}"] = arccos_map(c_final)
    values.update({"depth": depth, "width": p["width"], "seeds": p["seeds"], "n_inputs": p["n_inputs"],
                   "c0": pairs.mean(), "scaled_branch_var": 1 / depth})
    return Result(rows, values)


def chart(rows: list, p: dict) -> alt.LayerChart:
    depth = p["depth"]
    options = p["branch_vars"]
    scale_param = alt.param(name="branch_var", value=1 / depth, bind=alt.binding_select(
        options=options, labels=[label(v, depth) for v in options], name="branch scale "))
    data = alt.Chart(table(rows)).transform_filter("abs(datum.branch_var - branch_var) < 1e-9")
    x = alt.X("layer:Q", title="layer l", scale=alt.Scale(domain=[0, depth], nice=False), axis=alt.Axis(tickCount=5))
    y = alt.Y("correlation:Q", title="mean cosine c̄ₗ of the stream hˡ", scale=alt.Scale(domain=[-0.05, 1.06], nice=False),
              axis=alt.Axis(values=[0, 0.2, 0.4, 0.6, 0.8, 1]))  # room above 1 for a label at any branch scale
    # A legend, not direct labels: at the default scale the two lines end 0.1 apart, and at α² = 1 a label
    # above the residual line would sit on the plain curve; no place by the ends names its line in every state.
    color, dash, _ = architecture_encodings(ARCHITECTURES[1:], orient="bottom", direction="horizontal", labelLimit=300)
    measured = data.transform_filter("isValid(datum.correlation)")
    tooltip = [alt.Tooltip("architecture:N", title="network"), alt.Tooltip("layer:Q"),
               alt.Tooltip("correlation:Q", title="measured", format=".4f"),
               alt.Tooltip("theory:Q", title="recursion", format=".4f")]
    return alt.layer(
        measured.mark_area(opacity=0.15, clip=True).encode(x=x, y="correlation_ci_low:Q", y2="correlation_ci_high:Q",
                                                          color=color),
        measured.mark_line(strokeWidth=2.5, clip=True).encode(x=x, y=y, color=color, strokeDash=dash),
        data.transform_filter("datum.architecture == 'plain'").mark_line(
            strokeWidth=2, strokeDash=[2, 3], color=theme.ARCHITECTURE_COLORS["plain"]).encode(x=x, y="theory:Q"),
        data.transform_filter("datum.architecture != 'plain'").mark_line(
            color=theme.THEORY_COLOR, strokeDash=theme.THEORY_DASH, strokeWidth=2).encode(
            x=x, y="theory:Q", detail="architecture:N"),
        measured.mark_point(size=60, filled=True, opacity=0).encode(x=x, y=y, tooltip=tooltip),
    ).add_params(scale_param).properties(
        width="container", height=theme.HEIGHT,
        title=alt.Title("Mean cosine of the residual stream vs depth",
                        subtitle=["grey dashed: recursion", "dotted blue: the plain network (theory), for comparison"]))


FIGURE = Figure(
    id="residual-collapse",
    title="Residual branches slow the collapse; scaled branches stop it",
    caption=(
        "Mean cosine c̄ₗ between the residual streams hˡ of {{ value: residual-collapse.n_inputs }} random inputs, "
        "for hˡ = hˡ⁻¹ + α·Wˡ relu(hˡ⁻¹) (green) and with batch norm in the branch (pink), width "
        "{{ value: residual-collapse.width }}, {{ value: residual-collapse.seeds }} networks each (band: 95% "
        "interval over networks). Grey dashed: the recursions of the text. <span class='dl-screen-only'>Choose the branch scale: with</span><span class='dl-print-only'>With</span> α² = 1 the stream still "
        "collapses ({{ value: residual-collapse.res_a1_l100 | .3f }} at layer 100), only more slowly than the plain "
        "network (dotted, {{ value: residual-collapse.plain_theory_l100 | .3f }}); with α² = 1/L it ends at "
        "{{ value: residual-collapse.res_a0p01_l100 | .3f }} (recursion: "
        "{{ value: residual-collapse.res_a0p01_theory_l100 | .3f }}). With batch norm it never exceeds about 1/π."
    ),
    params=PARAMS,
    compute=compute,
    chart=chart,
    alt_text=(
        "Line chart of the mean cosine of the residual stream against layer, 0 to {{ value: residual-collapse.depth }}, "
        "with a menu for the branch scale α². For α² = 1/L = 0.01 the residual network rises only to "
        "{{ value: residual-collapse.res_a0p01_l100 | .3f }} at layer 100; for α² = 0.1 to "
        "{{ value: residual-collapse.res_a0p1_l100 | .3f }}; for α² = 1 to {{ value: residual-collapse.res_a1_l100 | .3f }}, "
        "while the plain network's theory reaches {{ value: residual-collapse.plain_theory_l100 | .3f }}. With batch "
        "norm in the branches the mean cosine never exceeds {{ value: residual-collapse.resbn_max_cosine | up .3f }}. Measured curves "
        "follow the dashed recursions."
    ),
    claims=(
        Claim("unscaled-still-collapses", Above("res_a1_l100", 0.95, interval=True)),
        Claim("unscaled-slower", Below("res_a1_l10_ci_high", "plain_theory_l10")),
        Claim("scaled-stops", All(Below("res_a0p01_l100", 0.3, interval=True),
                                  Near("res_a0p01_l100", "res_a0p01_theory_l100", 0.03))),
        Claim("follows-recursion", All(Below("res_a1_max_gap", 0.03), Below("res_a0p01_max_gap", 0.03))),
        Claim("bn-branches-decorrelated", Below("resbn_max_cosine", 0.35)),
        Claim("depth-independent-limit", All(Near("scaled_stream_L10", "scaled_stream_L10000", 0.02),
                                             Near("scaled_stream_L100", "scaled_stream_L10000", 0.02),
                                             Near("scaled_relu_L10000", 0.4555, 0.001))),
    ),
)
