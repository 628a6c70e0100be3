"""One gradient step, expanded: ΔL(η) ≈ −η‖g‖² + ½η²gᵀHg against the measured loss change, for several depths."""

import json
import math

import altair as alt
import torch

from figures_src import theme
from figures_src.charts import depth_menu, line_legend
from figures_src.claims import Above, All, Below, Claim, Differs, Equals, Indistinguishable
from figures_src.figure import Figure, Result, table
from figures_src.gradient_step import step_lines, step_terms
from figures_src.model import MLP, MLPConfig, seeded
from figures_src.stats import difference_ci, mean_ci
from figures_src.training import teacher_task

PARAMS = {"d_in": 32, "n_samples": 64, "task_seed": 0, "width": 64, "depths": [1, 2, 4, 8, 16, 32, 64],
          "seeds": 32, "shown_seed": 0, "eta_max": 2.5, "eta_points": 41, "default_depth": 32}


def compute(p: dict) -> Result:
    x, y = teacher_task(p["d_in"], p["n_samples"], p["task_seed"], dtype=torch.float64)
    rows, values, aggregated, per_depth = [], {}, [], {}
    for depth in p["depths"]:
        summary = []
        for seed in range(p["seeds"]):
            net = MLP(MLPConfig(d_in=p["d_in"], width=p["width"], depth=depth), seeded(100 * depth + seed),
                      dtype=torch.float64)
            shown = seed == p["shown_seed"]
            # The shown network's step sizes, as multiples of η* = ‖g‖²/gᵀHg.
            etas = [p["eta_max"] * k / (p["eta_points"] - 1) for k in range(p["eta_points"])] if shown else []
            f = step_terms(net, x, y, etas)
            f["curvature"] = f["ghg"] / f["grad_sq"]
            f["grad_sq_rel"] = f["grad_sq"] / f["loss"]
            summary.append(f)
            rows.append({"kind": "seed", "depth": depth, "seed": seed,
                         **{k: f[k] for k in ("best_decrease", "measured_decrease", "useful_decrease",
                                              "eta_star", "curvature")}})
            if not shown:
                continue
            for point in f["curve"]:
                rows.append({"kind": "curve", "depth": depth, "eta": point["eta_rel"] * f["eta_star"],
                             "first": point["first"], "second": point["second"],
                             "model": point["first"] + point["second"], "measured": point["measured"],
                             "useful": point["useful"]})
            rows.append({"kind": "optimum", "depth": depth, "eta": f["eta_star"], "change": -f["best_decrease"],
                         "measured": -f["measured_decrease"], "loss": f["loss"], "grad_sq": f["grad_sq"],
                         "curvature": f["curvature"]})
            values[f"shown_measured_decrease_l{depth}"] = f["measured_decrease"]
            values[f"shown_delivered_l{depth}"] = f["measured_decrease"] / f["best_decrease"]
            values[f"loss_l{depth}"] = f["loss"]
            values[f"eta_star_l{depth}"] = f["eta_star"]
            values[f"shown_best_decrease_l{depth}"] = f["best_decrease"]
        curved = [s for s in summary if s["ghg"] > 0]
        values[f"negative_curvature_l{depth}"] = len(summary) - len(curved)
        values[f"curved_l{depth}"] = len(curved)
        for key in ("best_decrease", "useful_decrease", "measured_decrease", "eta_star", "curvature", "grad_sq_rel"):
            among = curved if key not in ("curvature", "grad_sq_rel") else summary
            values[f"median_{key}_l{depth}"] = torch.tensor([s[key] for s in among]).median()
            estimate = mean_ci([s[key] for s in among])
            values |= estimate.values(f"{key}_l{depth}")
            aggregated.append({"kind": "mean", "depth": depth, "what": key, "networks": len(among),
                               "value": estimate.mean, "value_ci_low": estimate.low, "value_ci_high": estimate.high})
        per_depth[depth] = summary
        # η* is heavy-tailed (a network with almost flat curvature along g has a huge one): its geometric mean,
        # with the interval of the mean of log₁₀ η* mapped back.
        log_eta = mean_ci([math.log10(s["eta_star"]) for s in curved])
        values |= {f"geo_eta_star_l{depth}": 10**log_eta.mean, f"geo_eta_star_l{depth}_ci_low": 10**log_eta.low,
                   f"geo_eta_star_l{depth}_ci_high": 10**log_eta.high, f"geo_eta_star_l{depth}_n": log_eta.n}
        # How much of the promised decrease the step delivers: measured / quadratic model, per network.
        values |= mean_ci([s["measured_decrease"] / s["best_decrease"] for s in curved]).values(
            f"delivered_l{depth}")
        values[f"max_increase_l{depth}"] = max(0.0, -min(s["measured_decrease"] for s in curved))
        values[f"max_relative_increase_l{depth}"] = max(
            [0.0] + [-s["measured_decrease"] / s["best_decrease"] for s in curved])
        values[f"increased_l{depth}"] = sum(s["measured_decrease"] < 0 for s in curved)
        values[f"max_taylor_gap_l{depth}"] = max(abs(s["measured_decrease"] - s["best_decrease"]) for s in curved)
    first, last = p["depths"][0], p["depths"][-1]
    # Depth comparisons (different networks at each depth: unpaired).
    for key in ("grad_sq_rel", "curvature", "useful_decrease", "measured_decrease", "best_decrease"):
        for a, b in ((last, first), (32, first), (last, 32)):
            if a in per_depth and b in per_depth:
                values |= difference_ci([s[key] for s in per_depth[a] if s["ghg"] > 0 or key in ("grad_sq_rel", "curvature")],
                                        [s[key] for s in per_depth[b] if s["ghg"] > 0 or key in ("grad_sq_rel", "curvature")],
                                        paired=False).values(f"{key}_l{a}_minus_l{b}")
    for a, b in zip(p["depths"][1:], p["depths"][:-1]):
        values |= difference_ci([s["useful_decrease"] for s in per_depth[a] if s["ghg"] > 0],
                                [s["useful_decrease"] for s in per_depth[b] if s["ghg"] > 0],
                                paired=False).values(f"useful_decrease_l{a}_minus_l{b}")
    values["useful_falls_at_doublings"] = sum(values[f"useful_decrease_l{a}_minus_l{b}_ci_high"] < 0
                                              for a, b in zip(p["depths"][1:], p["depths"][:-1]))
    values["doublings"] = len(p["depths"]) - 1
    values["negative_curvature"] = sum(values[f"negative_curvature_l{d}"] for d in p["depths"])
    values |= {"width": p["width"], "seeds": p["seeds"], "n_samples": p["n_samples"], "first_depth": first,
               "last_depth": last, "default_depth": p["default_depth"],
               "useful_ratio": values[f"median_useful_decrease_l{last}"] / values[f"median_useful_decrease_l{first}"]}
    # The chart: the shown network's curves (one network) and the means over networks with their intervals.
    return Result(rows, values, summary=[r for r in rows if r["kind"] != "seed"] + aggregated)


def chart(rows: list, p: dict) -> alt.VConcatChart:
    data = alt.Chart(table(rows))
    depth = depth_menu(p["depths"], p["default_depth"])
    eta_axis = alt.X("eta:Q", title="step size η (along −g)", scale=alt.Scale(nice=False),
                     axis=alt.Axis(labelFlush=True, labelBound=True))  # tick labels stay inside the plot
    shown = "datum.depth == depth"
    curves = step_lines(data.transform_filter(f"datum.kind == 'curve' && {shown}"), eta_axis,
                        alt.Tooltip("eta:Q", format=".3g", title="η"),
                        line_legend(orient="bottom", direction="vertical", labelLimit=400))  # inside, it hid curves
    optimum = data.transform_filter(f"datum.kind == 'optimum' && {shown}")
    # A drop line from the optimum to the η axis: above the diamond the plot stays free for the note.
    rule = optimum.mark_rule(color=theme.THEORY_COLOR, strokeDash=[1, 3]).encode(x="eta:Q", y="change:Q",
                                                                                  y2=alt.datum(-1))
    point = optimum.mark_point(shape="diamond", size=120, filled=True, color=theme.THEORY_COLOR).encode(
        x="eta:Q", y="change:Q",
        tooltip=[alt.Tooltip("eta:Q", title="η* = ‖g‖²/gᵀHg", format=".3g"),
                 alt.Tooltip("change:Q", title="best decrease ½‖g‖⁴/gᵀHg, ÷ L", format=".4f"),
                 alt.Tooltip("measured:Q", title="measured ΔL/L at η*", format=".4f"),
                 alt.Tooltip("loss:Q", title="loss L", format=".3f")])
    # The model's best decrease between the title and the plot: inside it, a curve crosses any fixed corner at
    # some depth (the second-order parabola leaves through the top-left at depths 2 and 8).
    value = optimum.transform_calculate(note="'◆ model at η*: ' + format(datum.change, '.3f')").mark_text(
        align="left", baseline="bottom", fontSize=12, style=theme.NOTE).encode(
        x=alt.value(0), y=alt.value(-4), text="note:N")
    top = alt.layer(curves, rule, point, value).add_params(depth).properties(
        height=theme.HEIGHT - 40, title=alt.Title(alt.expr("'One step along −g, depth L = ' + depth"), offset=20))

    whats = ["quadratic model: ½‖g‖⁴/(gᵀHg·L)", "measured ΔL/L at η*", "measured, input-dependent part"]
    means = data.transform_filter(
        "datum.kind == 'mean' && indexof(['best_decrease', 'measured_decrease', 'useful_decrease'], datum.what) >= 0"
    ).transform_calculate(
        which=f"datum.what == 'best_decrease' ? {json.dumps(whats[0])} : "
              f"(datum.what == 'measured_decrease' ? {json.dumps(whats[1])} : {json.dumps(whats[2])})")
    what_color = alt.Color("which:N", title=None, sort=whats,
                           scale=alt.Scale(domain=whats, range=[theme.THEORY_COLOR, theme.BLUE, theme.SKY_BLUE]),
                           legend=line_legend(orient="top-right", labelLimit=400))
    depth_x = alt.X("depth:Q", title="depth L", scale=alt.Scale(type="log", base=2, domain=[1, max(p["depths"])], nice=False),
                    axis=alt.Axis(values=p["depths"]))
    dec_y = alt.Y("value:Q", title="relative decrease in one step", scale=alt.Scale(domain=[-0.1, 1]))
    bands = means.mark_area(opacity=0.18).encode(x=depth_x, y=alt.Y("value_ci_low:Q", scale=alt.Scale(domain=[-0.1, 1])),
                                                  y2="value_ci_high:Q", color=what_color)
    # The input-dependent part dotted, as in the panel above: two blues alone are hard to tell apart.
    what_dash = alt.StrokeDash("which:N", title=None, sort=whats, legend=line_legend(orient="top-right", labelLimit=400),
                               scale=alt.Scale(domain=whats, range=[[1, 0], [1, 0], [2, 2]]))
    lines = means.mark_line(strokeWidth=2.5, point=True).encode(
        x=depth_x, y=dec_y, color=what_color, strokeDash=what_dash,
        tooltip=[alt.Tooltip("which:N"), "depth:Q", alt.Tooltip("value:Q", format=".4f", title="mean"),
                 alt.Tooltip("value_ci_low:Q", format=".4f", title="95% CI low"),
                 alt.Tooltip("value_ci_high:Q", format=".4f", title="95% CI high"), "networks:Q"])
    bottom = alt.layer(bands, lines).properties(
        height=theme.HEIGHT - 110,
        title=alt.Title("The step η* vs depth", fontSize=13,
                        subtitle=[f"mean of {p['seeds']} networks per depth (band: 95% CI);",
                                  "networks with gᵀHg ≤ 0 left out"]))
    return alt.vconcat(top, bottom, spacing=18).resolve_scale(color="independent", strokeDash="independent")


FIGURE = Figure(
    id="taylor-fight",
    title="First order against second order, for one gradient step",
    caption=(
        "A plain He network of width {{ value: taylor-fight.width }} at initialisation, regression on "
        "{{ value: taylor-fight.n_samples }} samples of a random teacher. Top: the loss change along the negative "
        "gradient as a function of the step size η, relative to the loss: the first-order term (violet) falls "
        "linearly, the second-order term (brown) rises quadratically, their sum, the quadratic model (grey dashed), is best at "
        "η\\* = ‖g‖²/gᵀHg (diamond). The measured change (blue) follows it for shallow networks; at the default depth "
        "{{ value: taylor-fight.default_depth }} this network's measured decrease at η\\* is "
        "{{ value: taylor-fight.shown_delivered_l32 | .0% }} of the predicted one. This panel shows one network. The light-blue dotted line is the "
        "measured change of the input-dependent part of the loss, the part a constant shift of the outputs cannot "
        "remove.<span class='dl-screen-only'> Choose the depth in the menu.</span> Bottom, mean of {{ value: taylor-fight.seeds }} networks per depth "
        "(band: 95% interval; the few networks with gᵀHg ≤ 0, where η\\* is undefined, are left out and counted "
        "apart): the decrease the quadratic model promises at η\\*, the measured decrease of the loss at η\\*, "
        "and the measured decrease of its input-dependent part."
    ),
    params=PARAMS,
    compute=compute,
    chart=chart,
    alt_text=(
        "Two charts. Top: for one network (depth chosen in a menu, default {{ value: taylor-fight.default_depth }}), "
        "lines of the relative loss change against step size: a falling first-order line, a rising second-order "
        "parabola, their sum, the measured change and the measured change of the input-dependent part, with the "
        "optimal step marked. Bottom: the mean relative decrease in one step against depth on a log axis, with "
        "95% bands; the quadratic model's goes from {{ value: taylor-fight.best_decrease_l1 | .2f }} at depth 1 to "
        "{{ value: taylor-fight.best_decrease_l64 | .3f }} at depth 64, and the measured decrease of the "
        "input-dependent part from {{ value: taylor-fight.useful_decrease_l1 | .2f }} to "
        "{{ value: taylor-fight.useful_decrease_l64 | .3f }}."
    ),
    claims=(
        Claim("shallow-exact", All(Above("delivered_l1", 0.95, interval=True), Below("delivered_l1", 1.05, interval=True))),
        Claim("both-grow", All(Differs("grad_sq_rel_l32_minus_l1"), Above("grad_sq_rel_l32_minus_l1", 0),
                               Differs("curvature_l32_minus_l1"), Above("curvature_l32_minus_l1", 0))),
        Claim("deep-level", All(Indistinguishable("grad_sq_rel_l64_minus_l32"),
                                Indistinguishable("curvature_l64_minus_l32"))),
        Claim("eta-shrinks", Below("geo_eta_star_l64", "geo_eta_star_l1", interval=True)),
        Claim("promise-falls-little", All(Differs("best_decrease_l64_minus_l1"), Below("best_decrease_l64_minus_l1", 0),
                                          Above("best_decrease_l64", 0.1, interval=True))),
        Claim("model-breaks", All(Below("delivered_l64", 1, interval=True), Below("delivered_l64", "delivered_l1",
                                                                                 interval=True))),
        Claim("loss-rises", All(Above("increased_l32", 0), Above("increased_l64", 0), Above("max_increase_l32", 0))),
        Claim("negative-curvature", All(Above("negative_curvature_l64", 0), Equals("negative_curvature_l1", 0))),
        Claim("useful-falls", All(Differs("useful_decrease_l64_minus_l1"), Below("useful_decrease_l64_minus_l1", 0))),
        Claim("useful-falls-early", All(Differs("useful_decrease_l2_minus_l1"), Below("useful_decrease_l2_minus_l1", 0),
                                        Indistinguishable("useful_decrease_l64_minus_l32"))),
        Claim("gradient-does-not-vanish", All(Differs("grad_sq_rel_l64_minus_l1"), Above("grad_sq_rel_l64_minus_l1", 0))),
        Claim("summary", All(Below("geo_eta_star_l64", "geo_eta_star_l1", interval=True),
                             Below("useful_decrease_l64", 0.1, interval=True),
                             Below("useful_decrease_l64", "useful_decrease_l1", interval=True))),
    ),
)
