"""Mean-field recursions with any weight gain σ_w² and bias variance σ_b²: only σ_w² = 2, σ_b = 0 keeps q constant."""

import altair as alt
import torch

from figures_src import theme
from figures_src.charts import drawn
from figures_src.claims import Above, All, Below, Claim, Equals
from figures_src.figure import Figure, Result, table
from figures_src.theory import mean_field_recursion

PARAMS = {"weight_vars": [round(1.6 + 0.1 * k, 1) for k in range(9)],
          "bias_vars": [round(0.05 * k, 2) for k in range(11)],
          "depth": 100, "c_in": 0.0, "q_in": 1.0,
          "stored_layers": list(range(0, 9)) + [10, 12, 14, 17, 20, 25, 30, 40, 50, 60, 70, 80, 90, 100]}


def compute(p: dict) -> Result:
    c_in = torch.tensor(p["c_in"], dtype=torch.float64)
    rows, runs = [], {}
    for weight_var in p["weight_vars"]:
        for bias_var in p["bias_vars"]:
            q, c = mean_field_recursion(c_in, p["depth"], weight_var, bias_var, p["q_in"])
            runs[weight_var, bias_var] = (q, c)
            rows += [{"weight_var": weight_var, "bias_var": bias_var, "layer": l, "q": q[l], "c": c[l]}
                     for l in p["stored_layers"]]
    he = runs[2.0, 0.0]
    values = {"depth": p["depth"], "he_q": he[0][0], "he_q_drift": (he[0] - he[0][0]).abs().max()}
    for l in (1, 10, 50, 100):
        values[f"he_c_l{l}"] = he[1][l]
        for bias_var in (0.05, 0.1, 0.5):
            values[f"bias{round(100 * bias_var):02d}_c_l{l}"] = runs[2.0, bias_var][1][l]
    for weight_var in (1.6, 1.8, 2.2, 2.4):
        values[f"q_l100_w{round(10 * weight_var)}"] = runs[weight_var, 0.0][0][p["depth"]]
    # "Any bias speeds the collapse": the smallest margin c(σ_w², σ_b²) − c(σ_w², 0) over the whole grid.
    values["min_bias_margin"] = min((runs[w, b][1] - runs[w, 0.0][1]).min() for w, b in runs if b > 0)
    # Without bias the gain cancels from the correlation: the largest effect of σ_w² on c_l over the grid.
    values["max_gain_effect_no_bias"] = max((runs[w, 0.0][1] - he[1]).abs().max() for w in p["weight_vars"])
    first = {b: int((runs[2.0, b][1] > 0.99).nonzero()[0]) for b in (0.0, 0.1, 0.5)}
    values.update({f"first_above_99pct_b{round(100 * b):02d}": v for b, v in first.items()})
    return Result(rows, values)


def chart(rows: list, p: dict) -> alt.VConcatChart:
    weight = alt.param(name="weight_var", value=2.0, bind=alt.binding_range(
        min=p["weight_vars"][0], max=p["weight_vars"][-1], step=0.1, name="weight variance × fan-in "))
    bias = alt.param(name="bias_var", value=0.0, bind=alt.binding_range(
        min=0, max=p["bias_vars"][-1], step=0.05, name="bias variance "))
    data = alt.Chart(table(drawn(rows, ["weight_var", "bias_var", "layer", "q", "c"], digits=3)))
    chosen = data.transform_filter("abs(datum.weight_var - weight_var) < 1e-6 && abs(datum.bias_var - bias_var) < 1e-6")
    he = data.transform_filter("datum.weight_var == 2 && datum.bias_var == 0")
    x = alt.X("layer:Q", title="layer l", scale=alt.Scale(domain=[0, p["depth"]], nice=False))
    tooltip = [alt.Tooltip("layer:Q"), alt.Tooltip("weight_var:Q", title="weight variance × fan-in"), alt.Tooltip("bias_var:Q", title="bias variance"),
               alt.Tooltip("q:Q", format=".4~g"), alt.Tooltip("c:Q", format=".4f")]
    blue = theme.ARCHITECTURE_COLORS["plain"]

    def panel(field: str, y: alt.Y, title: str | alt.Title, height: int) -> alt.LayerChart:
        return alt.layer(
            he.mark_line(color=theme.THEORY_COLOR, strokeDash=theme.THEORY_DASH, strokeWidth=2).encode(x=x, y=y),
            chosen.mark_line(color=blue, strokeWidth=2.5, point=alt.OverlayMarkDef(size=18, color=blue)).encode(
                x=x, y=y, tooltip=tooltip),
        ).properties(height=height, width=theme.STATIC_WIDTH - 90, title=title)

    q_panel = panel("q", alt.Y("q:Q", title="second moment qₗ (log scale)",
                              scale=alt.Scale(type="log", domain=[1e-10, 1e10], clamp=True),  # every setting's curve
                              axis=alt.Axis(format=".0e")),
                    alt.Title("Second moment of the pre-activations", subtitle="grey dashed: He, weight variance 2/fan-in, no bias"), theme.HEIGHT - 80)
    c_panel = panel("c", alt.Y("c:Q", title="correlation cₗ", scale=alt.Scale(domain=[0, 1])),
                    "Correlation between two orthogonal inputs", theme.HEIGHT - 80)
    return alt.vconcat(q_panel.add_params(weight, bias), c_panel, spacing=18)


FIGURE = Figure(
    id="init-gain",
    title="Without bias only He's gain keeps the scale; any bias speeds the collapse",
    caption=(
        "The infinite-width recursions for a weight variance $\\sigma_w^2$/fan-in and a bias variance $\\sigma_b^2$, from two "
        "orthogonal inputs. Top, without bias: $q_l$ is constant only at $\\sigma_w^2 = 2$; at $\\sigma_w^2 = 1.6$ it has shrunk to "
        "{{ value: init-gain.q_l100_w16 | .1e }} by layer {{ value: init-gain.depth }}, at $\\sigma_w^2 = 2.4$ grown to "
        "{{ value: init-gain.q_l100_w24 | .1e }}. A bias adds to $q_l$ at every layer: at $\\sigma_w^2 = 2$ it grows "
        "linearly, below 2 it levels off at $\\sigma_b^2/(1 - \\sigma_w^2/2)$ instead of vanishing. Bottom: without "
        "bias the correlation does not depend on $\\sigma_w^2$ at all; "
        "a bias pushes it up at every layer. With $\\sigma_w^2 = 2$, the correlation first exceeds 0.99 at layer "
        "{{ value: init-gain.first_above_99pct_b00 }} without bias, at layer {{ value: init-gain.first_above_99pct_b10 }} "
        "with $\\sigma_b^2 = 0.1$ and at layer {{ value: init-gain.first_above_99pct_b50 }} with $\\sigma_b^2 = 0.5$."
    ),
    params=PARAMS,
    claims=(
        Claim("gain-cancels", All(Below("max_gain_effect_no_bias", 1e-9), Equals("he_q_drift", 0),
                                  Below("q_l100_w16", 1e-6), Above("q_l100_w24", 1e6))),
        Claim("bias-raises", Above("min_bias_margin", 0)),
        Claim("first-above-99", All(Below("first_above_99pct_b50", "first_above_99pct_b10"),
                                    Below("first_above_99pct_b10", "first_above_99pct_b00"))),
    ),
    compute=compute,
    chart=chart,
    alt_text=(
        "Two line charts against layer 0 to {{ value: init-gain.depth }} with sliders for the weight and bias variances. "
        "Top, log scale: the second moment qₗ, flat at {{ value: init-gain.he_q | .0f }} for He initialisation, "
        "falling or rising geometrically for other weight variances without bias. Bottom: the correlation cₗ, rising "
        "towards 1 (from 0 without bias, from above 0 with one); "
        "with weight variance 2/fan-in it reaches {{ value: init-gain.he_c_l10 | .3f }} at layer 10 without bias and "
        "{{ value: init-gain.bias10_c_l10 | .3f }} with bias variance 0.1."
    ),
)
