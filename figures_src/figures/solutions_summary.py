"""Every solution on every instrument: one comparison at depth 100."""

import altair as alt

from figures_src import theme
from figures_src.charts import dot_panels
from figures_src.experiments import NETWORKS, SETUP, diverged, runs_over_seeds, seed_mean, value_key
from figures_src.figure import Figure, Result

PARAMS = {**SETUP, "depth": 100, "seeds": 2}
MEASURES = [("correlation", "collapse: mean cosine c̄_L", "linear"),
            ("useful_share", "useful gradient share", "log"),
            ("lambda_max", "curvature: λ_max", "log"),
            ("gradient_quotient", "gradient quotient", "log"),
            ("final_loss", "loss after training", "log")]


def compute(p: dict) -> Result:
    setup = {k: p[k] for k in SETUP}
    runs = runs_over_seeds([(*NETWORKS[name], p["depth"]) for name in NETWORKS], p["seeds"], setup)
    rows, values = [], {}
    for name, results in zip(NETWORKS, runs):
        for seed, r in enumerate(results):
            rows.append({"network": name, "color_key": name, "seed": seed, **{m: r[m] for m, _, _ in MEASURES},
                         "steps_to": r["steps_to"]})
        for m, _, _ in MEASURES:
            values[f"{value_key(name)}_{m}"] = seed_mean(results, m)  # final loss: inf if a run diverged
        values[f"{value_key(name)}_diverged"] = diverged(results)
    values.update({"depth": p["depth"], "seeds": p["seeds"], "lr": p["lr"], "steps": p["steps"]})
    return Result(rows, values)


def chart(rows: list, p: dict) -> alt.HConcatChart:
    names = list(NETWORKS)
    return dot_panels(rows, names, MEASURES, {n: theme.ARCHITECTURE_COLORS[n] for n in names},
                      row_field="network", shape_field=None)


FIGURE = Figure(
    id="solutions-summary",
    title="Every solution on every instrument",
    caption=(
        "The six networks of the training figure above at depth {{ value: solutions-summary.depth }}, "
        "{{ value: solutions-summary.seeds }} seeds each, on the instruments of chapters 1 to 3, all measured at "
        "initialisation on the task's inputs except the last: the mean cosine c̄_L at the last layer, the useful "
        "share of the readout gradient (zero-mean residuals against a shift of all outputs), the top Hessian "
        "eigenvalue, MetaInit's gradient quotient, and the loss after {{ value: solutions-summary.steps }} steps at "
        "learning rate {{ value: solutions-summary.lr }}. Batch norm makes the loss invariant to the scale of the "
        "weights before it, so its λ_max is not comparable with the others."
    ),
    params=PARAMS,
    compute=compute,
    chart=chart,
    alt_text=(
        "Five dot plots side by side, one row per network: plain, batch norm, residual, residual + batch norm, "
        "LSUV, MetaInit. Mean cosine at the last layer: plain {{ value: solutions-summary.plain_correlation | .3f }}, "
        "batch norm {{ value: solutions-summary.batch_norm_correlation | .3f }}, residual "
        "{{ value: solutions-summary.residual_correlation | .3f }}, residual + batch norm "
        "{{ value: solutions-summary.residual_batch_norm_correlation | .3f }}. Useful gradient share: plain "
        "{{ value: solutions-summary.plain_useful_share | .2e }}, residual "
        "{{ value: solutions-summary.residual_useful_share | .2e }}. Loss after training: plain "
        "{{ value: solutions-summary.plain_final_loss | .3f }}, residual "
        "{{ value: solutions-summary.residual_final_loss | .3f }}, residual + batch norm "
        "{{ value: solutions-summary.residual_batch_norm_final_loss | .3f }}."
    ),
)
