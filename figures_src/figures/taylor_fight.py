"""One gradient step, expanded: ΔL(η) ≈ −η‖g‖² + ½η²gᵀHg against the measured loss change, for several depths."""

import json

import altair as alt
import torch

from figures_src import theme
from figures_src.charts import depth_menu, line_legend
from figures_src.curvature import HessianOperator, flatten, mse
from figures_src.figure import Figure, Result, table
from figures_src.model import MLP, MLPConfig, seeded
from figures_src.training import teacher_task

PARAMS = {"d_in": 32, "n_samples": 64, "task_seed": 0, "width": 64, "depths": [1, 2, 4, 8, 16, 32, 64],
          "seeds": 16, "shown_seed": 0, "eta_max": 2.5, "eta_points": 41, "default_depth": 32}

FIRST, SECOND, MODEL, MEASURED, USEFUL = ("first order −η‖g‖²", "second order ½η²gᵀHg", "sum (quadratic model)",
                                         "measured ΔL", "measured: input-dependent part")
TERMS = [FIRST, SECOND, MODEL, MEASURED, USEFUL]
TERM_COLORS = ["#009E73", "#D55E00", theme.THEORY_COLOR, "#0072B2", "#56B4E9"]  # the model: grey, as theory
TERM_DASHES = [[1, 0], [1, 0], theme.THEORY_DASH, [1, 0], [3, 2]]


def loss_split(net: MLP, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(L, input-dependent part of L): L = ½ r̄² + (1/2N)‖r − r̄‖²; only the second part needs the output to
    depend on the input, a constant shift of all outputs removes the first."""
    with torch.no_grad():
        r = net(x) - y
    return mse(net(x), y).item(), 0.5 * (r - r.mean()).pow(2).mean().item()


def step(net: MLP, theta: torch.Tensor, direction: torch.Tensor, eta: float) -> None:
    """Set the parameters to θ − η·direction."""
    with torch.no_grad():
        start = 0
        for p in net.parameters():
            p.copy_((theta[start:start + p.numel()] - eta * direction[start:start + p.numel()]).view_as(p))
            start += p.numel()


def fight(net: MLP, x: torch.Tensor, y: torch.Tensor) -> dict:
    """The first- and second-order terms of one step along −g, and the measured effect of the best one."""
    op = HessianOperator(net, x, y)
    g = op.gradient
    gg, ghg = (g @ g).item(), (g @ op(g)).item()
    theta = flatten(net.parameters())
    loss, useful = loss_split(net, x, y)
    eta_star = gg / ghg
    step(net, theta, g, eta_star)
    loss_star, useful_star = loss_split(net, x, y)
    step(net, theta, g, 0.0)
    return {"loss": loss, "useful_loss": useful, "grad_sq": gg, "curvature": ghg / gg, "eta_star": eta_star,
            "best_decrease": 0.5 * gg**2 / ghg / loss, "measured_decrease": (loss - loss_star) / loss,
            "useful_decrease": (useful - useful_star) / useful, "theta": theta, "g": g, "ghg": ghg}


def compute(p: dict) -> Result:
    x, y = teacher_task(p["d_in"], p["n_samples"], p["task_seed"], dtype=torch.float64)
    rows, values = [], {}
    for depth in p["depths"]:
        summary = []
        for seed in range(p["seeds"]):
            net = MLP(MLPConfig(d_in=p["d_in"], width=p["width"], depth=depth), seeded(100 * depth + seed),
                      dtype=torch.float64)
            f = fight(net, x, y)
            f["grad_sq_rel"] = f["grad_sq"] / f["loss"]
            summary.append(f)
            rows.append({"kind": "seed", "depth": depth, "seed": seed,
                         **{k: f[k] for k in ("best_decrease", "measured_decrease", "useful_decrease",
                                              "eta_star", "curvature")}})
            if seed != p["shown_seed"]:
                continue
            for k in range(p["eta_points"]):
                eta = p["eta_max"] * f["eta_star"] * k / (p["eta_points"] - 1)
                step(net, f["theta"], f["g"], eta)
                loss, useful = loss_split(net, x, y)
                terms = {"first": -eta * f["grad_sq"], "second": 0.5 * eta**2 * f["ghg"],
                         "model": -eta * f["grad_sq"] + 0.5 * eta**2 * f["ghg"], "measured": loss - f["loss"],
                         "useful": useful - f["useful_loss"]}
                rows.append({"kind": "curve", "depth": depth, "eta": eta} |
                            {key: value / f["loss"] for key, value in terms.items()})
            rows.append({"kind": "optimum", "depth": depth, "eta": f["eta_star"], "change": -f["best_decrease"],
                         "measured": -f["measured_decrease"], "loss": f["loss"], "grad_sq": f["grad_sq"],
                         "curvature": f["curvature"]})
            values[f"loss_l{depth}"] = f["loss"]
            values[f"eta_star_l{depth}"] = f["eta_star"]
            values[f"shown_best_decrease_l{depth}"] = f["best_decrease"]
        for key in ("best_decrease", "useful_decrease", "measured_decrease", "eta_star", "curvature", "grad_sq_rel"):
            values[f"median_{key}_l{depth}"] = torch.tensor([s[key] for s in summary]).median()
        values[f"max_increase_l{depth}"] = max(0.0, -min(s["measured_decrease"] for s in summary))
        values[f"max_taylor_gap_l{depth}"] = max(abs(s["measured_decrease"] - s["best_decrease"]) for s in summary)
    first, last = p["depths"][0], p["depths"][-1]
    values |= {"width": p["width"], "seeds": p["seeds"], "n_samples": p["n_samples"], "first_depth": first,
               "last_depth": last, "default_depth": p["default_depth"],
               "useful_ratio": values[f"median_useful_decrease_l{last}"] / values[f"median_useful_decrease_l{first}"]}
    return Result(rows, values)


def chart(rows: list, p: dict) -> alt.VConcatChart:
    data = alt.Chart(table(rows))
    depth = depth_menu(p["depths"], p["default_depth"])
    term_color = alt.Color("term:N", title=None, sort=TERMS, scale=alt.Scale(domain=TERMS, range=TERM_COLORS),
                           legend=line_legend(columns=2, labelLimit=400))
    term_dash = alt.StrokeDash("term:N", title=None, sort=TERMS, scale=alt.Scale(domain=TERMS, range=TERM_DASHES))
    eta_axis = alt.X("eta:Q", title="step size η (along −g)", scale=alt.Scale(nice=False))
    y = alt.Y("change:Q", title="loss change ΔL / L", scale=alt.Scale(domain=[-1, 0.5], clamp=False))
    shown = "datum.depth == depth"
    keys = ["first", "second", "model", "measured", "useful"]
    label = " : ".join(f"datum.key == {json.dumps(k)} ? {json.dumps(t)}" for k, t in zip(keys, TERMS)) + " : ''"
    curves = data.transform_filter(f"datum.kind == 'curve' && {shown}").transform_fold(
        keys, as_=["key", "change"]).transform_calculate(term=label).mark_line(strokeWidth=2.2, clip=True).encode(
        x=eta_axis, y=y, color=term_color, strokeDash=term_dash,
        tooltip=[alt.Tooltip("term:N"), alt.Tooltip("eta:Q", format=".3g", title="η"),
                 alt.Tooltip("change:Q", format=".4f", title="ΔL / L")])
    optimum = data.transform_filter(f"datum.kind == 'optimum' && {shown}")
    rule = optimum.mark_rule(color=theme.THEORY_COLOR, strokeDash=[1, 3]).encode(x="eta:Q")
    point = optimum.mark_point(shape="diamond", size=120, filled=True, color=theme.THEORY_COLOR).encode(
        x="eta:Q", y="change:Q",
        tooltip=[alt.Tooltip("eta:Q", title="η* = ‖g‖²/gᵀHg", format=".3g"),
                 alt.Tooltip("change:Q", title="best decrease ½‖g‖⁴/gᵀHg, ÷ L", format=".4f"),
                 alt.Tooltip("measured:Q", title="measured ΔL/L at η*", format=".4f"),
                 alt.Tooltip("loss:Q", title="loss L", format=".3f")])
    value = optimum.mark_text(align="left", dx=8, dy=-10, fontSize=12).encode(
        x="eta:Q", y="change:Q", text=alt.Text("change:Q", format=".3f"))
    top = alt.layer(curves, rule, point, value).add_params(depth).properties(
        height=theme.HEIGHT - 40, title=alt.Title(alt.expr("'One step along −g, depth L = ' + depth")))

    whats = ["quadratic model: ½‖g‖⁴/(gᵀHg·L)", "measured ΔL/L at η*", "measured, input-dependent part"]
    seeds = data.transform_filter("datum.kind == 'seed'").transform_fold(
        ["best_decrease", "measured_decrease", "useful_decrease"], as_=["which", "decrease"]).transform_calculate(
        what=f"datum.which == 'best_decrease' ? {json.dumps(whats[0])} : "
             f"(datum.which == 'measured_decrease' ? {json.dumps(whats[1])} : {json.dumps(whats[2])})")
    what_color = alt.Color("what:N", title=None, sort=whats,
                           scale=alt.Scale(domain=whats, range=[theme.THEORY_COLOR, "#0072B2", "#56B4E9"]),
                           legend=alt.Legend(labelLimit=400, columns=2))
    depth_x = alt.X("depth:Q", title="depth L", scale=alt.Scale(type="log", base=2, domain=[1, max(p["depths"])], nice=False),
                    axis=alt.Axis(values=p["depths"]))
    dec_y = alt.Y("decrease:Q", title="relative decrease in one step",
                  scale=alt.Scale(domain=[-0.4, 1]))
    dots = seeds.mark_point(opacity=0.35, size=18, filled=True, clip=True).encode(
        x=depth_x, y=dec_y, color=what_color,
        tooltip=[alt.Tooltip("what:N"), "depth:Q", "seed:Q", alt.Tooltip("decrease:Q", format=".4f")])
    medians = seeds.mark_line(strokeWidth=2.5, point=True).encode(
        x=depth_x, y=alt.Y("median(decrease):Q"), color=what_color,
        tooltip=[alt.Tooltip("what:N"), "depth:Q", alt.Tooltip("median(decrease):Q", format=".4f", title="median")])
    bottom = alt.layer(dots, medians).properties(
        height=theme.HEIGHT - 110,
        title=alt.Title(f"The step η* vs depth (each dot one network, line: median of {p['seeds']})", fontSize=13))
    return alt.vconcat(top, bottom, spacing=18).resolve_scale(color="independent", strokeDash="independent")


FIGURE = Figure(
    id="taylor-fight",
    title="First order against second order, for one gradient step",
    caption=(
        "A plain He network of width {{ value: taylor-fight.width }} at initialisation, regression on "
        "{{ value: taylor-fight.n_samples }} samples of a random teacher. Top: the loss change along the negative "
        "gradient as a function of the step size η, relative to the loss: the first-order term (green) falls "
        "linearly, the second-order term (vermillion) rises quadratically, their sum, the quadratic model (grey dashed), is best at "
        "η\\* = ‖g‖²/gᵀHg (diamond), and the measured change (blue) follows it. The light-blue dotted line is the "
        "measured change of the input-dependent part of the loss, the part a constant shift of the outputs cannot "
        "remove. Choose the depth in the menu. Bottom, for {{ value: taylor-fight.seeds }} networks per depth: the "
        "decrease the quadratic model promises at η\\*, the measured decrease of the loss at η\\*, and the measured "
        "decrease of its input-dependent part."
    ),
    params=PARAMS,
    compute=compute,
    chart=chart,
    alt_text=(
        "Two charts. Top: for one network (depth chosen in a menu, default {{ value: taylor-fight.default_depth }}), "
        "lines of the relative loss change against step size: a falling first-order line, a rising second-order "
        "parabola, their sum, the measured change and the measured change of the input-dependent part, with the "
        "optimal step marked. Bottom: the best relative decrease in one step against depth on log axes; its median "
        "falls from {{ value: taylor-fight.median_best_decrease_l1 | .2f }} at depth 1 to "
        "{{ value: taylor-fight.median_best_decrease_l64 | .3f }} at depth 64, and the decrease of the "
        "input-dependent part from {{ value: taylor-fight.median_useful_decrease_l1 | .2f }} to "
        "{{ value: taylor-fight.median_useful_decrease_l64 | .3f }}."
    ),
)
