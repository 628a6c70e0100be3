"""Mean cosine between inputs' representations vs depth: finite widths against the infinite-width map."""

import altair as alt
import torch

from figures_src import theme
from figures_src.charts import width_encodings
from figures_src.claims import Above, All, Below, Claim
from figures_src.figure import Figure, Result, table
from figures_src.measures import cosine_matrix, correlation_by_depth, off_diagonal
from figures_src.model import MLP, MLPConfig, gaussian_inputs, seeded
from figures_src.theory import iterate_correlation

PARAMS = {"d_in": 64, "n_inputs": 32, "depth": 100, "widths": [64, 256, 1024], "seeds": 8, "input_seed": 0}


def compute(p: dict) -> Result:
    x = gaussian_inputs(p["n_inputs"], p["d_in"], seeded(p["input_seed"]))
    # Theory: the arc-cosine map iterated from each actual input pair, then averaged over pairs.
    theory = iterate_correlation(off_diagonal(cosine_matrix(x)), p["depth"]).mean(dim=1)
    rows = [{"layer": l, "width": None, "source": "theory", "correlation": theory[l],
             "correlation_min": None, "correlation_max": None} for l in range(p["depth"] + 1)]
    values = {"c0": theory[0], "depth": p["depth"], "seeds": p["seeds"], "n_inputs": p["n_inputs"]}
    for width in p["widths"]:
        with torch.no_grad():
            runs = torch.stack([
                correlation_by_depth(MLP(MLPConfig(d_in=p["d_in"], width=width, depth=p["depth"]),
                                         seeded(1000 * width + seed)).features(x))
                for seed in range(p["seeds"])])
        mean = runs.mean(dim=0)
        rows += [{"layer": l, "width": width, "source": "simulation", "correlation": mean[l],
                  "correlation_min": runs[:, l].min(), "correlation_max": runs[:, l].max()}
                 for l in range(p["depth"] + 1)]
        for l in (1, 10, 20, 50, 100):
            values[f"simulation_l{l}_w{width}"] = mean[l]
        values[f"max_gap_to_theory_w{width}"] = (mean - theory).abs().max()
        values[f"spread_l10_w{width}"] = runs[:, 10].max() - runs[:, 10].min()
    for l in (1, 2, 5, 10, 20, 50, 100):
        values[f"theory_l{l}"] = theory[l]
    values["theory_first_above_90pct"] = int((theory > 0.9).nonzero()[0])
    return Result(rows, values)


def chart(rows: list, p: dict) -> alt.VConcatChart:
    data = alt.Chart(table(rows)).transform_calculate(gap="1 - datum.correlation",
                                                      gap_min="1 - datum.correlation_max",
                                                      gap_max="1 - datum.correlation_min")
    width_color, width_dash = width_encodings()
    x = alt.X("layer:Q", title="layer l", scale=alt.Scale(domain=[0, p["depth"]], nice=False))
    hover = alt.selection_point(name="hover", fields=["layer"], nearest=True, on="pointerover",
                                clear="pointerout", empty=False)
    tooltip = [alt.Tooltip("layer:Q"), alt.Tooltip("source:N"), alt.Tooltip("width:O"),
               alt.Tooltip("correlation:Q", title="mean cosine", format=".4f"),
               alt.Tooltip("correlation_min:Q", title="lowest network", format=".4f"),
               alt.Tooltip("correlation_max:Q", title="highest network", format=".4f")]

    def panel(field: str, low: str, high: str, y_axis: alt.Y, height: int, with_hover: bool) -> alt.LayerChart:
        simulation = data.transform_filter("datum.source == 'simulation'")
        layers = [
            simulation.mark_area(opacity=0.15, clip=True).encode(x=x, y=f"{low}:Q", y2=f"{high}:Q", color=width_color),
            simulation.mark_line(strokeWidth=2, clip=True).encode(x=x, y=y_axis, color=width_color, strokeDash=width_dash),
            data.transform_filter("datum.source == 'theory'").mark_line(
                color=theme.THEORY_COLOR, strokeDash=theme.THEORY_DASH, strokeWidth=2.5).encode(x=x, y=y_axis),
        ]
        rule = data.transform_filter("datum.source == 'theory'").mark_rule(color=theme.THEORY_COLOR).encode(
            x=x, opacity=alt.condition(hover, alt.value(0.7), alt.value(0)), tooltip=tooltip)
        layers.append(rule.add_params(hover) if with_hover else rule)
        return alt.layer(*layers).properties(height=height)

    cosine = panel("correlation", "correlation_min", "correlation_max",
                   alt.Y("correlation:Q", title="mean cosine c̄ₗ", scale=alt.Scale(domain=[0, 1])),
                   theme.HEIGHT - 60, with_hover=True).properties(
        title="Mean cosine between inputs' representations (grey dashed: infinite width)")
    gap = panel("gap", "gap_min", "gap_max",
                alt.Y("gap:Q", title="1 − c̄ₗ (log scale)", scale=alt.Scale(type="log", domain=[3e-4, 1])),
                theme.HEIGHT - 100, with_hover=False).properties(
        title="Gap to a constant function, 1 − c̄ₗ: where finite widths leave the theory")
    return alt.vconcat(cosine, gap, spacing=16)


FIGURE = Figure(
    id="correlation-by-depth",
    title="The collapse is gradual, and infinite-width theory predicts it",
    caption=(
        "Mean uncentered cosine c̄ₗ between the representations of {{ value: correlation-by-depth.n_inputs }} "
        "random inputs after l ReLU layers, averaged over {{ value: correlation-by-depth.seeds }} networks per "
        "width (band: lowest to highest network). The grey dashed line iterates the arc-cosine map from the "
        "actual input pairs; the lower panel shows the gap 1 − c̄ₗ on a log scale. Look at how slowly the curves approach 1: "
        "{{ value: correlation-by-depth.theory_l10 | .3f }} at layer 10, "
        "{{ value: correlation-by-depth.theory_l100 | .3f }} at layer 100. Hover the upper panel for values."
    ),
    params=PARAMS,
    claims=(
        Claim("gradual", All(Below("theory_l2", "theory_l10"), Below("theory_l10", "theory_l20"),
                             Below("theory_l20", "theory_l100"), Below("theory_l10", 0.9), Above("theory_l100", 0.99))),
        Claim("wide-follows-theory", Below("max_gap_to_theory_w1024", "max_gap_to_theory_w64")),
    ),
    compute=compute,
    chart=chart,
    alt_text=(
        "Line chart of the mean cosine between inputs' representations against layer, 0 to "
        "{{ value: correlation-by-depth.depth }}, for widths 64, 256 and 1024 and the infinite-width theory. "
        "All curves rise from {{ value: correlation-by-depth.c0 | .2f }}: the theory reaches "
        "{{ value: correlation-by-depth.theory_l10 | .3f }} at layer 10 and "
        "{{ value: correlation-by-depth.theory_l100 | .3f }} at layer 100; width 1024 measures "
        "{{ value: correlation-by-depth.simulation_l100_w1024 | .3f }} at layer 100."
    ),
)
