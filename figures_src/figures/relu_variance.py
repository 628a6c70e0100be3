"""What one ReLU layer and He's factor 2 do to a neuron's mean² and variance over inputs."""

import json
from functools import partial

import altair as alt
import torch

from figures_src import theme
from figures_src.claims import All, Below, Claim, Near
from figures_src.figure import Figure, Result, table
from figures_src.theory import relu_kept_variance, relu_second_moment_split

PARAMS = {"c_grid": [round(0.05 * k, 2) for k in range(20)], "default_c": 0.3, "default_offset": 0.5}

FAKE = "mean² over inputs (fake)"
MEANINGFUL = "variance across inputs (meaningful)"
dumps = partial(json.dumps, ensure_ascii=False)  # string literals for Vega expressions
STAGES = {"pre": "1. before ReLU", "relu": "2. after ReLU", "he": "3. after ×2 (He)"}


def compute(p: dict) -> Result:
    c = torch.tensor(p["c_grid"], dtype=torch.float64)
    split = relu_second_moment_split(c)
    kept = relu_kept_variance(c)
    rows = []
    for k, ck in enumerate(p["c_grid"]):
        for stage, label in STAGES.items():
            for part, key in ((FAKE, "mean"), (MEANINGFUL, "variance")):
                rows.append({"c": ck, "stage": label, "part": part, "value": split[f"{stage}_{key}"][k],
                             "kept": kept[k]})
    values = {}
    for ck in (0.0, 0.5, 0.9):
        k = p["c_grid"].index(ck)
        tag = f"{round(100 * ck):02d}"
        values[f"kept_c{tag}"] = kept[k]
        values[f"relu_mean_share_c{tag}"] = split["he_mean"][k]
        values[f"he_variance_c{tag}"] = split["he_variance"][k]
    values["kept_max"] = kept.max()
    values["kept_c00_closed_form"] = (1 - 1 / torch.pi) / 2
    values["one_over_pi"] = 1 / torch.pi
    return Result(rows, values)


def chart(rows: list, p: dict) -> alt.VConcatChart:
    corr = alt.param(name="corr", value=p["default_c"],
                     bind=alt.binding_range(min=0, max=p["c_grid"][-1], step=0.05, name="correlation between inputs c "))
    offset = alt.param(name="offset", value=p["default_offset"],
                       bind=alt.binding_range(min=-2, max=2, step=0.25, name="this neuron: shared component z "))
    stage_colors = alt.Scale(domain=list(STAGES.values()), range=[theme.SKY_BLUE, theme.ORANGE, theme.ARCHITECTURE_COLORS["plain"]])
    # One neuron, over inputs: h = √c·z + √(1 − c)·ε with q = 1, z fixed for the neuron, ε independent per input.
    densities = alt.Chart(alt.sequence(-3.5, 5.01, 0.025, as_="x")).transform_calculate(
        mu="sqrt(corr) * offset", sd="max(sqrt(1 - corr), 0.01)",
    ).transform_calculate(
        pre="densityNormal(datum.x, datum.mu, datum.sd)",
        relu="datum.x > 0 ? densityNormal(datum.x, datum.mu, datum.sd) : null",
        he="datum.x > 0 ? densityNormal(datum.x / sqrt(2), datum.mu, datum.sd) / sqrt(2) : null",
    ).transform_fold(list(STAGES), as_=["key", "density"]).transform_calculate(
        stage=f"{dumps(STAGES)}[datum.key]").mark_line(strokeWidth=2.2).encode(
        x=alt.X("x:Q", title="value of the neuron for one input", scale=alt.Scale(domain=[-3.5, 5], nice=False)),
        y=alt.Y("density:Q", title="density over inputs"),
        color=alt.Color("stage:N", title=None, scale=stage_colors, sort=list(STAGES.values()),
                        legend=alt.Legend(direction="vertical")),
        strokeDash=alt.StrokeDash("stage:N", title=None, sort=list(STAGES.values()),
                                  scale=alt.Scale(domain=list(STAGES.values()), range=[[5, 3], [1, 0], [1, 0]])),
    )
    mass = alt.Chart(alt.sequence(0, 1, 1, as_="i")).transform_calculate(
        x="0", p="cumulativeNormal(0, sqrt(corr) * offset, max(sqrt(1 - corr), 0.01))")
    mass_rule = mass.mark_rule(color=theme.ORANGE, strokeWidth=5, opacity=0.7).encode(
        x="x:Q", y=alt.Y("zero:Q"), y2="p:Q").transform_calculate(zero="0")
    one_neuron = alt.layer(densities, mass_rule).add_params(corr, offset).properties(
        height=theme.HEIGHT - 80, width=theme.STATIC_WIDTH - 90,
        title=alt.Title(alt.expr(
            f"[{dumps('One neuron over inputs:')}, {dumps('mean √c·z, variance 1 − c')}, "
            f"{dumps('orange bar: ')} + format(cumulativeNormal(0, sqrt(corr) * offset, max(sqrt(1 - corr), 0.01)), '.0%')"
            f" + {dumps(' of inputs set to 0')}]")))
    parts = alt.Chart(table(rows)).transform_filter("abs(datum.c - corr) < 0.001")
    bars = parts.transform_calculate(order=f"datum.part == {dumps(FAKE)} ? 0 : 1").mark_bar(height=26).encode(
        y=alt.Y("stage:N", title=None, sort=list(STAGES.values())),
        x=alt.X("value:Q", title="second moment over inputs (q = 1)", stack="zero",
                scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("part:N", title=None, sort=[FAKE, MEANINGFUL], legend=alt.Legend(labelLimit=300, direction="vertical"),
                        scale=alt.Scale(domain=[FAKE, MEANINGFUL], range=[theme.ORANGE, theme.BLUE])),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("stage:N"), alt.Tooltip("part:N"), alt.Tooltip("value:Q", format=".3f")],
    )
    f = "(sqrt(1 - corr * corr) + (PI - acos(corr)) * corr) / PI"  # 𝓕(c), the arc-cosine map
    kept = dumps("ReLU keeps ") + f" + format((1 - {f}) / (2 * (1 - corr)), '.1%') + " + dumps(" of the variance")
    split = (dumps("after ×2: ") + f" + format({f}, '.1%') + " + dumps(" mean², ") + f" + format(1 - {f}, '.1%') + "
             + dumps(" variance"))
    before = (dumps("(before the ReLU: ") + " + format(corr, '.0%') + " + dumps(" and ") + " + format(1 - corr, '.0%') + "
              + dumps(")"))
    average = bars.properties(
        height=130, width=theme.STATIC_WIDTH - 90,
        title=alt.Title(alt.expr(f"[{dumps('Averaged over neurons')}, {kept}, {split}, {before}]")))
    return alt.vconcat(one_neuron, average, spacing=20).resolve_scale(color="independent", strokeDash="independent")


FIGURE = Figure(
    id="relu-variance",
    title="ReLU halves the second moment and takes more than half of the variance",
    caption=(
        "Top: one neuron's value over many inputs, a Gaussian with mean √c·z (the part shared by all inputs) and "
        "variance 1 − c, before the ReLU, after it and after He's factor 2 (×√2 on values). A neuron with a negative "
        "shared component loses most of its spread to the zero; a positive one keeps it. Bottom: averaged over "
        "neurons, the ReLU keeps {{ value: relu-variance.kept_c00 | .3f }} of the variance across inputs when c = 0 "
        "and never more than {{ value: relu-variance.kept_max | .3f }} on this grid; He's ×2 restores the second "
        "moment to 1, but the variance part stays at 1 − 𝓕(c) = {{ value: relu-variance.he_variance_c00 | .3f }} for "
        "c = 0, down from 1."
    ),
    params=PARAMS,
    claims=(
        Claim("kept-at-zero", All(Near("kept_c00", "kept_c00_closed_form", tolerance=1e-6), Below("kept_c00", 0.5))),
        Claim("kept-below-half", Below("kept_max", 0.5)),
        Claim("mean-from-nothing", Near("relu_mean_share_c00", "one_over_pi", tolerance=1e-6)),
    ),
    compute=compute,
    chart=chart,
    alt_text=(
        "Top: density curves of one neuron's values over inputs before the ReLU, after it (with a bar for the inputs "
        "set to zero) and after multiplication by the square root of 2, for a correlation c and a neuron offset set "
        "with sliders. Bottom: three stacked bars of mean squared and variance: before the ReLU they are c and 1 − c; "
        "after the ReLU half of the second moment is gone and the variance part is a smaller share; after He's factor "
        "2 the total is back to 1 with variance {{ value: relu-variance.he_variance_c00 | .3f }} at c = 0: the ReLU kept "
        "{{ value: relu-variance.kept_c00 | .3f }} of the variance."
    ),
)
