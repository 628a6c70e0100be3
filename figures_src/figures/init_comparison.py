"""What initialisation schemes change, and what they cannot: He, orthogonal, LSUV, MetaInit, zero branches."""

import altair as alt
import torch

from figures_src import theme
from figures_src.charts import dot_panels
from figures_src.experiments import SETUP, build, diverged, runs_over_seeds, seed_mean, task, value_key
from figures_src.figure import Figure, Result

PARAMS = {**SETUP, "depth": 100, "seeds": 1}
# (label, architecture, init, colour key of theme.ARCHITECTURE_COLORS)
CASES = [
    ("plain · He", "plain", "He", "plain"),
    ("plain · orthogonal", "plain", "orthogonal", "plain"),
    ("plain · LSUV", "plain", "LSUV", "LSUV"),
    ("plain · MetaInit", "plain", "MetaInit", "MetaInit"),
    ("residual · He", "residual", "He", "residual"),
    ("residual · LSUV", "residual", "LSUV", "LSUV"),
    ("residual · MetaInit", "residual", "MetaInit", "MetaInit"),
    ("residual · zero branch", "residual", "zero branch", "residual"),
]
MEASURES = [("correlation", "mean cosine c̄_L", "linear"), ("gradient_quotient", "gradient quotient", "log"),
            ("lambda_max", "λ_max of the Hessian", "log"), ("final_loss", "loss after training", "log")]


def compute(p: dict) -> Result:
    setup = {k: p[k] for k in SETUP}
    runs = runs_over_seeds([(architecture, init, p["depth"]) for _, architecture, init, _ in CASES], p["seeds"],
                           setup)
    results = {label: case_runs for (label, *_), case_runs in zip(CASES, runs)}
    rows, values = [], {}
    for label, architecture, init, color in CASES:
        for seed, r in enumerate(results[label]):
            row = {"case": label, "family": architecture, "init": init, "color_key": color, "seed": seed}
            row.update({m: r[m] for m, _, _ in MEASURES})
            rows.append(row)
        for m, _, _ in MEASURES:
            values[f"{value_key(label)}_{m}"] = seed_mean(results[label], m)  # final loss: inf if a run diverged
        values[f"{value_key(label)}_diverged"] = diverged(results[label])
    # Per-layer scaling leaves every cosine of a bias-free ReLU MLP unchanged: compare whole profiles c̄_0 … c̄_L.
    def change(a: str, b: str) -> float:
        return max((ra["profile"] - rb["profile"]).abs().max().item() for ra, rb in zip(results[a], results[b]))
    values["metainit_output_gain"] = sum(m["output_std"] / h["output_std"] for m, h in
                                         zip(results["plain · MetaInit"], results["plain · He"])) / p["seeds"]
    values["lsuv_max_cosine_change"] = change("plain · LSUV", "plain · orthogonal")
    values["metainit_max_cosine_change"] = change("plain · MetaInit", "plain · He")
    # LSUV sets the variance over the batch of every matrix's output to 1. For the single readout unit that is the
    # variance across inputs, which the collapse has made small: LSUV scales the whole output up.
    x, _ = task(setup)
    with torch.no_grad():
        orthogonal = build("plain", "orthogonal", p["depth"], 0, setup)
        normalised = build("plain", "LSUV", p["depth"], 0, setup)
        before, after = orthogonal(x), normalised(x)
    values["lsuv_output_std_before"] = before.std().item()
    values["lsuv_output_std_after"] = after.std().item()
    values["lsuv_output_gain"] = (after.std() / before.std()).item()
    values["lsuv_readout_gain"] = (normalised.weights[-1].norm() / orthogonal.weights[-1].norm()).item()
    values["orthogonal_vs_he_cosine"] = values["plain_orthogonal_correlation"] - values["plain_he_correlation"]
    values.update({"depth": p["depth"], "seeds": p["seeds"], "lr": p["lr"], "steps": p["steps"],
                   "width": p["width"], "metainit_steps": p["metainit_steps"]})
    return Result(rows, values)


def chart(rows: list, p: dict) -> alt.HConcatChart:
    keys = list(dict.fromkeys(c[3] for c in CASES))
    return dot_panels(rows, [c[0] for c in CASES], MEASURES, {k: theme.ARCHITECTURE_COLORS[k] for k in keys})


FIGURE = Figure(
    id="init-comparison",
    title="What initialisation schemes change, and what they cannot",
    caption=(
        "Networks of depth {{ value: init-comparison.depth }} and width {{ value: init-comparison.width }} on the "
        "chapter-3 task (one mark per network, {{ value: init-comparison.seeds }} per row), residual branches with "
        "α² = 1/L. From left: mean cosine c̄_L of the task's inputs at the last layer, MetaInit's gradient quotient, "
        "the top Hessian eigenvalue at initialisation, and the loss after {{ value: init-comparison.steps }} steps "
        "of gradient descent at learning rate {{ value: init-comparison.lr }} (a cross at the right edge: diverged). "
        "In the plain network LSUV and MetaInit leave every cosine where it was (largest change over all layers: "
        "{{ value: init-comparison.lsuv_max_cosine_change | .1e }} and "
        "{{ value: init-comparison.metainit_max_cosine_change | .1e }}); MetaInit lowers the gradient quotient from "
        "{{ value: init-comparison.plain_he_gradient_quotient | .0f }} to "
        "{{ value: init-comparison.plain_metainit_gradient_quotient | .2f }} without training any better."
    ),
    params=PARAMS,
    compute=compute,
    chart=chart,
    alt_text=(
        "Four dot plots side by side, one row per network and initialisation: plain with He, orthogonal, LSUV and "
        "MetaInit; residual with He, LSUV, MetaInit and zero branches. Mean cosine at the last layer: plain "
        "networks all near {{ value: init-comparison.plain_he_correlation | .3f }}, residual ones lower "
        "({{ value: init-comparison.residual_he_correlation | .3f }} with He). Gradient quotient, top Hessian "
        "eigenvalue and final training loss are on log scales; the plain networks end near "
        "{{ value: init-comparison.plain_he_final_loss | .2f }}, the residual He network at "
        "{{ value: init-comparison.residual_he_final_loss | .3f }}."
    ),
)
