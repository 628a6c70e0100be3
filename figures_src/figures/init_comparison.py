"""What initialisation schemes change, and what they cannot: He, orthogonal, LSUV, MetaInit, zero branches."""

import altair as alt
import torch

from figures_src import theme
from figures_src.figure import Figure, Result, table
from figures_src.figures.solutions_training import SETUP, build, run, task

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


DIVERGED_AT = {"final_loss": 10.0}  # where a diverged run is drawn (a cross at the panel's right edge)


def key(label: str) -> str:
    return label.replace(" · ", "_").replace(" ", "_").lower()


def compute(p: dict) -> Result:
    setup = {k: p[k] for k in SETUP}
    rows, values = [], {}
    results = {}
    for label, architecture, init, color in CASES:
        runs = [run(architecture, init, p["depth"], seed, setup) for seed in range(p["seeds"])]
        results[label] = runs
        for seed, r in enumerate(runs):
            row = {"case": label, "family": architecture, "init": init, "color_key": color, "seed": seed}
            row.update({m: r[m] for m, _, _ in MEASURES})
            rows.append(row)
        for m, _, _ in MEASURES:
            vals = torch.tensor([r[m] for r in runs], dtype=torch.float64)
            values[f"{key(label)}_{m}"] = vals.mean().item() if torch.isfinite(vals).all() else -1.0
        values[f"{key(label)}_diverged"] = sum(not torch.isfinite(torch.tensor(r["final_loss"])) for r in runs)
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


def dot_panels(rows: list, labels: list[str], measures: list[tuple[str, str, str]], colors: dict[str, str],
               row_field: str = "case", shape_field: str | None = "family") -> alt.HConcatChart:
    """One small dot plot per measure, side by side, a row per network; one mark per seed. A diverged run
    (null value) is a cross at the right edge of its panel."""
    data = alt.Chart(table(rows))
    color = alt.Color("color_key:N", scale=alt.Scale(domain=list(colors), range=list(colors.values())), legend=None)
    panels = []
    for i, (field, title, scale) in enumerate(measures):
        shown = data.transform_calculate(
            shown=f"isValid(datum.{field}) ? datum.{field} : {DIVERGED_AT.get(field, 1)}",
            status=f"isValid(datum.{field}) ? 'finite' : 'diverged'")
        y = alt.Y(f"{row_field}:N", sort=labels, title=None,
                  axis=alt.Axis(labels=i == 0, ticks=i == 0, labelLimit=220, labelFontSize=12))
        x = alt.X("shown:Q", title=None, scale=alt.Scale(type="log") if scale == "log" else alt.Scale(domain=[0, 1]),
                  axis=alt.Axis(tickCount=4, format="~g" if scale != "log" else ".0e"))
        tooltip = [alt.Tooltip(f"{row_field}:N", title="network"), alt.Tooltip("seed:Q"),
                   alt.Tooltip(f"{field}:Q", title=title, format=".4~g"), alt.Tooltip("status:N")]
        encoding = {"x": x, "y": y, "color": color, "tooltip": tooltip}
        if shape_field:
            encoding["shape"] = alt.Shape(f"{shape_field}:N", legend=None,
                                          scale=alt.Scale(domain=["plain", "residual"], range=["circle", "square"]))
        layers = [shown.transform_filter("datum.status == 'finite'").mark_point(size=80, filled=True, opacity=0.85)
                  .encode(**encoding)]
        if any(row.get(field) is None for row in rows):  # diverged runs: a cross at the right edge
            layers.append(shown.transform_filter("datum.status == 'diverged'").mark_point(
                shape="cross", size=120, filled=True).encode(**{**encoding, "shape": alt.value("cross")}))
        panels.append(alt.layer(*layers).properties(height=34 * len(labels), title=alt.Title(title, fontSize=12)))
    return alt.hconcat(*panels, spacing=6)


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
