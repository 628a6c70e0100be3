"""Why a ReLU leaves no negative cosine and raises every cosine: it folds each neuron's pair of values into the
positive orthant, where no product is negative."""

import altair as alt
import torch

from figures_src import theme
from figures_src.charts import stacked
from figures_src.claims import All, Above, Below, Claim
from figures_src.figure import Figure, Result, table
from figures_src.model import seeded
from figures_src.theory import arccos_map

PARAMS = {"c_grid": [round(0.1 * k, 1) for k in range(-9, 10)], "default_c": -0.5, "neurons": 100_000,
          "neurons_shown": 150, "seed": 0}

BEFORE = "before ReLU (u, v)"
AFTER = "after ReLU (relu u, relu v)"


def cosine(u: torch.Tensor, v: torch.Tensor) -> float:
    return (u @ v / (u.norm() * v.norm())).item()


def neuron_pairs(c: float, neurons: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Two inputs' pre-activations over `neurons` neurons: unit-variance Gaussian pairs with correlation c."""
    z = torch.randn(2, neurons, generator=generator, dtype=torch.float64)
    return z[0], c * z[0] + (1 - c * c) ** 0.5 * z[1]


def compute(p: dict) -> Result:
    rows, after = [], []
    for k, c in enumerate(p["c_grid"]):
        u, v = neuron_pairs(c, p["neurons"], seeded(p["seed"] + k))
        after.append(cosine(torch.relu(u), torch.relu(v)))
        shown = slice(0, p["neurons_shown"])
        for stage, (a, b) in ((BEFORE, (u, v)), (AFTER, (torch.relu(u), torch.relu(v)))):
            rows += [{"c": c, "stage": stage, "neuron": i, "u": a[i], "v": b[i]} for i in range(*shown.indices(len(u)))]
    grid = torch.tensor(p["c_grid"], dtype=torch.float64)
    theory = arccos_map(grid)
    measured = torch.tensor(after, dtype=torch.float64)
    rows += [{"c": c, "stage": "cosine", "neuron": None, "u": measured[k], "v": theory[k]}
             for k, c in enumerate(p["c_grid"])]
    values = {"neurons": p["neurons"], "min_after": measured.min(), "max_gap": (measured - theory).abs().max(),
              "min_increase": (measured - grid).min(), "min_increase_theory": (theory - grid).min(),
              "after_c_minus90": measured[0], "theory_c_minus90": theory[0],
              "lowest_rho": p["c_grid"][0], "highest_rho": p["c_grid"][-1]}
    return Result(rows, values)


def chart(rows: list, p: dict) -> alt.VConcatChart:
    rho = alt.param(name="rho", value=p["default_c"], bind=alt.binding_range(
        min=p["c_grid"][0], max=p["c_grid"][-1], step=0.1, name="pre-activation cosine ρ "))  # short: a long name left a phone's slider 50 px
    data = alt.Chart(table(rows))
    square = alt.Scale(domain=[-3.5, 3.5], nice=False)
    whole = alt.Axis(values=[-3, -2, -1, 0, 1, 2, 3], format="d")  # 0 labelled: the shaded quarter's edge
    stages = alt.Scale(domain=[BEFORE, AFTER], range=[theme.SKY_BLUE, theme.ORANGE])  # as relu-variance's stages
    orthant = alt.Chart(alt.Data(values=[{"x": 0, "x2": 3.5, "y": 0, "y2": 3.5}])).mark_rect(
        # Opacity 0.12: at 0.07 the quarter vanished on the dark page.
        color=theme.ARCHITECTURE_COLORS["plain"], opacity=0.12).encode(x="x:Q", x2="x2:Q", y="y:Q", y2="y2:Q")
    points = data.transform_filter("datum.stage != 'cosine' && abs(datum.c - rho) < 0.001").mark_circle(
        size=22, opacity=0.75).encode(
        x=alt.X("u:Q", title="input a's pre-activation, one point per neuron", scale=square, axis=whole),
        y=alt.Y("v:Q", title="input b's pre-activation", scale=square, axis=whole),
        color=alt.Color("stage:N", title=None, scale=stages,  # the legend under the panel it keys, not above its title
                        legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=300)),
        tooltip=[alt.Tooltip("stage:N"), alt.Tooltip("u:Q", format=".2f"), alt.Tooltip("v:Q", format=".2f")])
    pairs = alt.layer(orthant, points)
    pairs_title = alt.Title(alt.expr("['Each neuron: a pair of values, before', 'and after the ReLU; shaded: the positive', "
                                     "'orthant, where no product is negative']"))
    curve = data.transform_filter("datum.stage == 'cosine'")
    # the same five ticks at every width: a phone's automatic ticks skipped 0
    x = alt.X("c:Q", title="cosine before the ReLU, ρ", scale=alt.Scale(domain=[-1, 1]),
              axis=alt.Axis(values=[-1, -0.5, 0, 0.5, 1]))
    y = alt.Y("v:Q", title="cosine after the ReLU", scale=alt.Scale(domain=[-1, 1]))
    identity = alt.Chart(alt.Data(values=[{"c": -1, "v": -1}, {"c": 1, "v": 1}])).mark_line(
        color=theme.THEORY_COLOR, strokeWidth=1, opacity=0.6).encode(x=x, y=y)
    theory = curve.mark_line(color=theme.THEORY_COLOR, strokeDash=theme.THEORY_DASH, strokeWidth=2).encode(x=x, y=y)
    measured = curve.mark_point(color=theme.ARCHITECTURE_COLORS["plain"], filled=True, size=45).encode(
        x=x, y=alt.Y("u:Q", title="cosine after the ReLU", scale=alt.Scale(domain=[-1, 1])),
        tooltip=[alt.Tooltip("c:Q", title="before", format=".1f"), alt.Tooltip("u:Q", title="after (sampled)",
                                                                             format=".3f"),
                 alt.Tooltip("v:Q", title="after (𝓕, theory)", format=".3f")])
    now = curve.transform_filter("abs(datum.c - rho) < 0.001")
    # From the top down to the curve: below it, at some ρ, a full-height rule would cross the diagonal's label.
    # Grey and dotted, as a guide: in the orange of the pairs "after the ReLU" it read as data.
    marker = now.mark_rule(color=theme.ANNOTATION_COLOR, strokeWidth=2, strokeDash=[2, 2]).encode(
        x=x, y="v:Q", y2=alt.datum(1))
    labels = alt.Chart(alt.Data(values=[{"c": 0.95, "v": -0.35, "text": "no change (diagonal)"}])).mark_text(
        align="right", fontSize=12, color=theme.THEORY_COLOR).encode(x=x, y=y, text="text:N")
    cosines = alt.layer(identity, theory, measured, marker, labels)
    cosines_title = alt.Title(alt.expr(
        "['After the ReLU the cosine is never', 'negative, and above ρ', "
        "'ρ = ' + format(rho, '.1f') + ': 𝓕(ρ) = ' + format((sqrt(1 - rho * rho) + "
        "(PI - acos(rho)) * rho) / PI, '.4f'), 'dots: sampled; grey dashed: 𝓕(ρ)']"))
    # Its own legend, under the panel it keys (a shared one would go under the whole chart).
    return stacked([(pairs, pairs_title), (cosines, cosines_title)], rho, width=320, height=320).resolve_legend(
        color="independent")


FIGURE = Figure(
    id="relu-orthant",
    title="A ReLU folds every pair of values into the positive orthant",
    caption=(
        "Theory and sampled neurons, no network. Top: for two inputs whose pre-activations have cosine ρ "
        "<span class='dl-screen-only'>(slider)</span><span class='dl-print-only'>(given in the lower panel's title)</span>, each point is one neuron's pair of values; the ReLU moves every point with a negative "
        "coordinate onto an axis of the shaded quarter, where no product of the two values is negative. Bottom: "
        "the cosine after the ReLU against the cosine before, sampled over "
        "{{ value: relu-orthant.neurons }} neurons (dots) and the arc-cosine map 𝓕 (grey dashed): it lies above "
        "the diagonal at every ρ below 1, so a ReLU makes every pair of inputs more alike, and at ρ = −0.9 it is "
        "only {{ value: relu-orthant.after_c_minus90 | .3f }} sampled ({{ value: relu-orthant.theory_c_minus90 | .4f }} "
        "from 𝓕), but not negative."
    ),
    params=PARAMS,
    claims=(
        Claim("no-negative", Above("min_after", 0)),
        Claim("cosine-grows", All(Above("min_increase", 0), Above("min_increase_theory", 0))),
        Claim("sampled-matches-map", Below("max_gap", 0.01)),
    ),
    compute=compute,
    chart=chart,
    alt_text=(
        "Top: a scatter of neurons' pairs of values for two inputs, before the ReLU an elongated cloud over all "
        "four quadrants, after the ReLU the same points folded onto the two positive axes and the positive "
        "quarter. Bottom: the cosine after the ReLU against the cosine before: the sampled dots follow the "
        "arc-cosine curve, which lies above the diagonal at every ρ sampled, from "
        "{{ value: relu-orthant.lowest_rho }} to {{ value: relu-orthant.highest_rho }} (the two meet only at "
        "ρ = 1, where both cosines are 1), and above zero everywhere, reaching "
        "{{ value: relu-orthant.after_c_minus90 | .3f }} at cosine −0.9 before."
    ),
)
