"""Mean cosine between inputs' representations vs depth: finite widths against the infinite-width map."""

import altair as alt
import torch

from figures_src import theme
from figures_src.charts import annotation, end_labels, width_encodings
from figures_src.claims import Above, All, Below, Between, Claim, Differs, Indistinguishable, Near
from figures_src.figure import Figure, Result, table
from figures_src.experiments import collapse_runs
from figures_src.measures import cosine_matrix, off_diagonal
from figures_src.model import gaussian_inputs, seeded
from figures_src.stats import difference_ci, mean_ci, mean_ci_columns
from figures_src.theory import iterate_correlation

PARAMS = {"d_in": 64, "n_inputs": 32, "depth": 100, "widths": [64, 256, 1024], "seeds": 16, "input_seed": 0}
QUOTED_LAYERS = (1, 10, 20, 50, 100)


def compute(p: dict) -> Result:
    x = gaussian_inputs(p["n_inputs"], p["d_in"], seeded(p["input_seed"]))
    # Theory: the arc-cosine map iterated from each actual input pair, then averaged over pairs.
    theory = iterate_correlation(off_diagonal(cosine_matrix(x)).double(), p["depth"]).mean(dim=1)
    orthogonal = iterate_correlation(torch.tensor(0.0, dtype=torch.float64), p["depth"])
    rows = [{"layer": l, "width": None, "seed": None, "source": "theory", "correlation": theory[l]}
            for l in range(p["depth"] + 1)]
    summary = [{"layer": l, "width": None, "source": "theory", "networks": None, "correlation": theory[l],
                "correlation_ci_low": None, "correlation_ci_high": None} for l in range(p["depth"] + 1)]
    values = {"c0": theory[0], "depth": p["depth"], "seeds": p["seeds"], "n_inputs": p["n_inputs"],
              "orthogonal_l1": orthogonal[1], "one_over_pi": 1 / torch.pi}
    shared = collapse_runs(p, p["widths"])  # the same networks as Figures 2.2 and 2.3
    runs = {}
    for width in p["widths"]:
        runs[width] = shared[width]["mean_cosine"]  # (network, layer): c̄ₗ of each network
        mean, low, high = mean_ci_columns(runs[width])
        rows += [{"layer": l, "width": width, "seed": seed, "source": "simulation", "correlation": runs[width][seed, l]}
                 for seed in range(p["seeds"]) for l in range(p["depth"] + 1)]
        summary += [{"layer": l, "width": width, "source": "simulation", "networks": p["seeds"], "correlation": mean[l],
                     "correlation_ci_low": low[l], "correlation_ci_high": high[l]} for l in range(p["depth"] + 1)]
        deviation = runs[width] - theory  # each network's c̄ₗ minus the infinite-width prediction
        for l in QUOTED_LAYERS:
            values |= mean_ci(runs[width][:, l]).values(f"simulation_l{l}_w{width}")
            values |= mean_ci(deviation[:, l]).values(f"deviation_l{l}_w{width}")
        values |= mean_ci(deviation[:, 10].abs()).values(f"distance_l10_w{width}")
    for wide, narrow in ((1024, 64), (1024, 256), (256, 64)):
        values |= difference_ci(runs[wide][:, 50], runs[narrow][:, 50], paired=False).values(
            f"difference_l50_w{wide}_minus_w{narrow}")
    values |= difference_ci(runs[64][:, 10] - theory[10], runs[1024][:, 10] - theory[10], paired=False).values(
        "deviation_difference_l10_w64_minus_w1024")
    values |= difference_ci((runs[64][:, 10] - theory[10]).abs(), (runs[1024][:, 10] - theory[10]).abs(),
                            paired=False).values("distance_difference_l10_w64_minus_w1024")
    for l in (1, 2, 5, 10, 20, 50, 100):
        values[f"theory_l{l}"] = theory[l]
    first = int((theory > 0.9).nonzero()[0])
    values["theory_first_above_90pct"] = first
    values["theory_before_first_above_90pct"] = theory[first - 1]
    values["theory_at_first_above_90pct"] = theory[first]
    return Result(rows, values, summary=summary)


def chart(rows: list, p: dict) -> alt.VConcatChart:
    data = alt.Chart(table(rows)).transform_calculate(gap="1 - datum.correlation",
                                                      gap_low="1 - datum.correlation_ci_high",
                                                      gap_high="1 - datum.correlation_ci_low")
    width_color, width_dash, _ = width_encodings(p["widths"])
    x = alt.X("layer:Q", title="layer l", scale=alt.Scale(domain=[0, p["depth"]], nice=False))
    hover = alt.selection_point(name="hover", fields=["layer"], nearest=True, on="pointerover",
                                clear="pointerout", empty=False)
    tooltip = [alt.Tooltip("layer:Q"), alt.Tooltip("source:N"), alt.Tooltip("width:O"),
               alt.Tooltip("correlation:Q", title="mean cosine", format=".4f"),
               alt.Tooltip("correlation_ci_low:Q", title="95% interval from", format=".4f"),
               alt.Tooltip("correlation_ci_high:Q", title="95% interval to", format=".4f"),
               alt.Tooltip("networks:Q")]

    def panel(low: str, high: str, y_axis: alt.Y, height: int, with_hover: bool, notes: list) -> alt.LayerChart:
        simulation = data.transform_filter("datum.source == 'simulation'")
        layers = [
            simulation.mark_area(opacity=0.25, clip=True).encode(x=x, y=f"{low}:Q", y2=f"{high}:Q", color=width_color),
            simulation.mark_line(strokeWidth=2, clip=True).encode(x=x, y=y_axis, color=width_color, strokeDash=width_dash),
            data.transform_filter("datum.source == 'theory'").mark_line(
                color=theme.THEORY_COLOR, strokeDash=theme.THEORY_DASH, strokeWidth=2.5).encode(x=x, y=y_axis),
        ]
        rule = data.transform_filter("datum.source == 'theory'").mark_rule(color=theme.THEORY_COLOR).encode(
            x=x, opacity=alt.condition(hover, alt.value(0.7), alt.value(0)), tooltip=tooltip)
        layers.append(rule.add_params(hover) if with_hover else rule)
        return alt.layer(*layers, *notes).properties(height=height)

    cosine = panel("correlation_ci_low", "correlation_ci_high",
                   alt.Y("correlation:Q", title="mean cosine c̄ₗ", scale=alt.Scale(domain=[0, 1])),
                   theme.HEIGHT - 60, with_hover=True,
                   notes=[annotation("all widths, theory: one slow curve,", ("layer", 15), ("correlation", 0.5)),
                          annotation("still short of 1 at layer 100", ("layer", 15), ("correlation", 0.42))]).properties(
        title=alt.Title("Mean cosine between inputs' representations", subtitle="grey dashed: infinite width"))
    gap = panel("gap_low", "gap_high",
                alt.Y("gap:Q", title="1 − c̄ₗ (log scale)", scale=alt.Scale(type="log", domain=[3e-4, 1])),
                theme.HEIGHT - 100, with_hover=False,
                notes=[end_labels(data.transform_filter("datum.source == 'simulation'"), "layer", "gap", "width",
                                  "'n = ' + datum.width", width_color),
                       annotation("narrow networks leave the theory", ("layer", 2), ("gap", 0.0012))]).properties(
        title=alt.Title("Gap to a constant function, 1 − c̄ₗ", subtitle="where finite widths leave the theory"))
    return alt.vconcat(cosine, gap, spacing=16)


def within(name: str, tolerance: float) -> All:
    """The whole 95% interval of `name` lies within ±tolerance."""
    return All(Above(name, -tolerance, interval=True), Below(name, tolerance, interval=True))


FIGURE = Figure(
    id="correlation-by-depth",
    title="The collapse is gradual, and infinite-width theory predicts it",
    caption=(
        "Mean uncentered cosine c̄ₗ between the representations of {{ value: correlation-by-depth.n_inputs }} "
        "random inputs after l ReLU layers, averaged over {{ value: correlation-by-depth.seeds }} networks per "
        "width (band: 95% interval of that mean). The grey dashed line iterates the arc-cosine map from the "
        "actual input pairs; the lower panel shows the gap 1 − c̄ₗ on a log scale. Look at how slowly the curves approach 1: "
        "{{ value: correlation-by-depth.theory_l10 | .3f }} at layer 10, "
        "{{ value: correlation-by-depth.theory_l100 | .3f }} at layer 100.<span class='dl-screen-only'> Hover the upper panel for values.</span>"
    ),
    params=PARAMS,
    claims=(
        Claim("orthogonal", Near("orthogonal_l1", "one_over_pi", tolerance=1e-9)),
        Claim("measured-start", All(Between("c0", -0.05, 0.05), Near("theory_l1", "orthogonal_l1", tolerance=0.01))),
        Claim("gradual", All(Below("theory_l2", "theory_l10"), Below("theory_l10", "theory_l20"),
                             Below("theory_l20", "theory_l100"), Below("theory_l10", 0.9), Above("theory_l100", 0.99))),
        Claim("first-above-90pct", All(Between("theory_first_above_90pct", 10, 20),
                                       Below("theory_before_first_above_90pct", 0.9),
                                       Above("theory_at_first_above_90pct", 0.9))),
        Claim("ten-and-fifty", All(Between("theory_l10", 0.8, 0.9), Above("theory_l50", 0.98))),
        Claim("deep-nearly-constant", All(*(Above(f"simulation_l50_w{w}", 0.95, interval=True) for w in (64, 256, 1024)))),
        Claim("widths-at-50", All(Indistinguishable("difference_l50_w1024_minus_w64"),
                                  Indistinguishable("difference_l50_w1024_minus_w256"),
                                  Indistinguishable("difference_l50_w256_minus_w64"))),
        Claim("wide-follows-theory", All(*(within(f"deviation_l{l}_w1024", 0.01) for l in (1, 10, 50, 100)))),
        Claim("narrow-scatters", All(Differs("distance_difference_l10_w64_minus_w1024"),
                                     Above("distance_difference_l10_w64_minus_w1024", 0))),
    ),
    compute=compute,
    chart=chart,
    alt_text=(
        "Line chart of the mean cosine between inputs' representations against layer, 0 to "
        "{{ value: correlation-by-depth.depth }}, for widths 64, 256 and 1024 and the infinite-width theory, each width "
        "with a band for the 95% interval of its mean over networks. "
        "All curves rise from {{ value: correlation-by-depth.c0 | .2f }}: the theory reaches "
        "{{ value: correlation-by-depth.theory_l10 | .3f }} at layer 10 and "
        "{{ value: correlation-by-depth.theory_l100 | .3f }} at layer 100; width 1024 measures "
        "{{ value: correlation-by-depth.simulation_l100_w1024 | .3f }} at layer 100."
    ),
)
