"""Training every solution on the chapter-3 task: which deep networks actually train."""

import math

import altair as alt

from figures_src import theme
from figures_src.charts import architecture_color
from figures_src.experiments import NETWORKS, SETUP, diverged, runs_over_seeds, seed_mean, value_key
from figures_src.figure import Figure, Result, table

PARAMS = {**SETUP, "depths": [10, 100], "seeds": 2, "every": 5}


def compute(p: dict) -> Result:
    setup = {k: p[k] for k in SETUP}
    networks = [(name, depth) for name in NETWORKS for depth in p["depths"]]
    runs = runs_over_seeds([(*NETWORKS[name], depth) for name, depth in networks], p["seeds"], setup)
    rows, values = [], {}
    for (name, depth), results in zip(networks, runs):
        for seed, r in enumerate(results):
            for step in range(0, p["steps"] + 1, p["every"]):
                rows.append({"network": name, "depth": depth, "seed": seed, "step": step,
                             "loss": r["losses"][step].item()})
        key = f"{value_key(name)}_d{depth}"
        # Over all seeds: a diverged run makes the mean and the worst loss inf, a run that never reaches the
        # threshold makes the steps inf; the counts say how many.
        values[f"{key}_final_loss"] = seed_mean(results, "final_loss")
        values[f"{key}_worst_final_loss"] = max(r["final_loss"] for r in results)
        values[f"{key}_diverged"] = diverged(results)
        values[f"{key}_trained"] = sum(math.isfinite(r["steps_to"]) for r in results)
        values[f"{key}_steps_to"] = max(r["steps_to"] for r in results)
    values.update({"lr": p["lr"], "steps": p["steps"], "threshold": p["threshold"], "width": p["width"],
                   "n_samples": p["n_samples"], "seeds": p["seeds"], "shallow": min(p["depths"]),
                   "deep": max(p["depths"])})
    return Result(rows, values)


def chart(rows: list, p: dict) -> alt.LayerChart:
    names = list(NETWORKS)
    depth_param = alt.param(name="depth", value=max(p["depths"]), bind=alt.binding_radio(
        options=p["depths"], labels=[f"depth {d}" for d in p["depths"]], name="network depth L "))
    data = alt.Chart(table(rows)).transform_filter("datum.depth == depth").transform_calculate(
        shown="isValid(datum.loss) ? datum.loss : 1e3", status="isValid(datum.loss) ? 'training' : 'diverged'")
    color = architecture_color(names, field="network", columns=3)
    x = alt.X("step:Q", title="gradient-descent step", scale=alt.Scale(domain=[0, p["steps"]], nice=False))
    y = alt.Y("shown:Q", title="training loss (log; top edge: diverged)",
              scale=alt.Scale(type="log", domain=[3e-3, 1e3], clamp=True))
    tooltip = [alt.Tooltip("network:N"), alt.Tooltip("depth:Q"), alt.Tooltip("seed:Q"), alt.Tooltip("step:Q"),
               alt.Tooltip("loss:Q", format=".4f"), alt.Tooltip("status:N")]
    return alt.layer(
        data.mark_line(strokeWidth=2, opacity=0.85).encode(x=x, y=y, color=color, detail="seed:N"),
        data.transform_filter("!isValid(datum.loss)").transform_aggregate(
            step="min(step)", groupby=["network", "seed", "depth"]).transform_calculate(shown="1e3").mark_point(
            shape="cross", size=90, filled=True).encode(x=x, y=y, color=color,
                                                        tooltip=["network:N", "seed:Q", alt.Tooltip("step:Q", title="diverged at")]),
        alt.Chart(alt.InlineData(values=[{"loss": 0.5}, {"loss": p["threshold"]}])).mark_rule(
            color=theme.THEORY_COLOR, strokeDash=theme.THEORY_DASH).encode(y="loss:Q"),
        data.mark_point(size=40, filled=True, opacity=0).encode(x=x, y=y, tooltip=tooltip),
    ).add_params(depth_param).properties(
        width="container", height=theme.HEIGHT,
        title=alt.Title("Training loss on the chapter-3 task, one learning rate for all",
                        subtitle="grey dashed: ½ (a constant prediction) and the threshold"))


FIGURE = Figure(
    id="solutions-training",
    title="Which deep networks train",
    caption=(
        "Full-batch gradient descent on the teacher regression task of chapter 3 "
        "({{ value: solutions-training.n_samples }} inputs), learning rate {{ value: solutions-training.lr }} for every "
        "network, width {{ value: solutions-training.width }}, {{ value: solutions-training.seeds }} seeds each (one "
        "line per seed); choose the depth. Loss ½ is what a constant prediction achieves. At depth "
        "{{ value: solutions-training.deep }} the plain network ends at "
        "{{ value: solutions-training.plain_d100_final_loss | .3f }} and the residual + batch norm network at "
        "{{ value: solutions-training.residual_batch_norm_d100_final_loss | .3f }}."
    ),
    params=PARAMS,
    compute=compute,
    chart=chart,
    alt_text=(
        "Log-scale training loss against gradient-descent step for six networks (plain, batch norm, residual, "
        "residual + batch norm, LSUV, MetaInit), with a depth selector. At depth {{ value: solutions-training.deep }} "
        "the plain network stays far above the threshold ({{ value: solutions-training.plain_d100_final_loss | .3f }} after "
        "{{ value: solutions-training.steps }} steps), the residual networks fall below "
        "{{ value: solutions-training.threshold }}: residual {{ value: solutions-training.residual_d100_final_loss | .3f }}, "
        "residual + batch norm {{ value: solutions-training.residual_batch_norm_d100_final_loss | .3f }}."
    ),
)
