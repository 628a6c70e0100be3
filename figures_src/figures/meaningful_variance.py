"""The meaningful share 1 − c̄ₗ closes like 1/l², and at finite width the pooled variance fraction hits a floor."""

import altair as alt
import torch

from figures_src import theme
from figures_src.charts import annotation, drawn, end_labels, width_encodings
from figures_src.claims import Above, All, Below, Between, Claim, Differs, Indistinguishable
from figures_src.figure import Figure, Result, table
from figures_src.experiments import collapse_runs
from figures_src.measures import cosine_matrix, gram, off_diagonal, pooled_variance_fraction
from figures_src.model import gaussian_inputs, on_sphere, seeded
from figures_src.stats import difference_ci, mean_ci, mean_ci_columns
from figures_src.theory import correlation_gap_asymptote, iterate_correlation, kernel_after_layers

PARAMS = {"d_in": 64, "n_inputs": 32, "depth": 100, "widths": [64, 256, 1024], "seeds": 16, "input_seed": 0}

GAP = "1 − c̄ₗ"
POOLED = "pooled across-input fraction"
LOG_NORM = "variance of log-norms"


def compute(p: dict) -> Result:
    x = on_sphere(gaussian_inputs(p["n_inputs"], p["d_in"], seeded(p["input_seed"])))
    layers = torch.arange(1, p["depth"] + 1, dtype=torch.float64)
    theory_gap = 1 - iterate_correlation(off_diagonal(cosine_matrix(x.double())), p["depth"]).mean(dim=1)
    theory_pooled = pooled_variance_fraction(kernel_after_layers(gram(x.double()), p["depth"]))
    asymptote = correlation_gap_asymptote(layers)
    rows = []
    for l in range(1, p["depth"] + 1):
        rows += [{"layer": l, "width": None, "source": "theory", "series": GAP, "value": theory_gap[l]},
                 {"layer": l, "width": None, "source": "asymptote", "series": GAP, "value": asymptote[l - 1]},
                 {"layer": l, "width": None, "source": "theory", "series": POOLED, "value": theory_pooled[l]}]
    values = {"n_inputs": p["n_inputs"], "seeds": p["seeds"], "depth": p["depth"]}
    for l in (10, 20, 50, 100):
        values[f"theory_gap_l{l}"] = theory_gap[l]
        values[f"asymptote_l{l}"] = asymptote[l - 1]
        values[f"asymptote_error_l{l}"] = asymptote[l - 1] / theory_gap[l] - 1
        values[f"theory_pooled_l{l}"] = theory_pooled[l]
    # Local log-log slope of the recursion's gap between layers 50 and 100 (−2 for an exact 1/l² law).
    values["theory_gap_slope_l50_l100"] = torch.log(theory_gap[100] / theory_gap[50]) / torch.log(torch.tensor(2.0))
    values["bare_leading_term_ratio_l10"] = 9 * torch.pi**2 / (2 * 10**2) / theory_gap[10]
    summary = [dict(row, value_ci_low=None, value_ci_high=None, networks=None) for row in rows]
    shared = collapse_runs(p, p["widths"])  # the same networks as Figures 1.3 and 2.2
    runs = {}
    for width in p["widths"]:
        measured = shared[width]
        gap, pool, log_norm = runs[width] = (1 - measured["mean_cosine"], measured["pooled"],
                                             measured["log_norm_var"])  # (network, layer)
        for series, v in ((GAP, gap), (POOLED, pool), (LOG_NORM, log_norm)):
            mean, low, high = mean_ci_columns(v)
            rows += [{"layer": l, "width": width, "source": "simulation", "series": series, "seed": seed, "value": v[seed, l]}
                     for seed in range(p["seeds"]) for l in range(1, p["depth"] + 1)]
            summary += [{"layer": l, "width": width, "source": "simulation", "series": series, "value": mean[l],
                         "value_ci_low": low[l], "value_ci_high": high[l], "networks": p["seeds"]}
                        for l in range(1, p["depth"] + 1)]
        for l in (10, 20, 50, 100):
            values |= mean_ci(gap[:, l]).values(f"gap_l{l}_w{width}")
            values |= mean_ci(gap[:, l] / theory_gap[l] - 1).values(f"gap_relative_error_l{l}_w{width}")
            values |= mean_ci(pool[:, l]).values(f"pooled_l{l}_w{width}")
            values |= mean_ci(log_norm[:, l]).values(f"log_norm_var_l{l}_w{width}")
        values |= mean_ci(width * log_norm[:, p["depth"]]).values(f"width_times_log_norm_var_l100_w{width}")
        values |= mean_ci(pool[:, p["depth"]] / log_norm[:, p["depth"]]).values(f"pooled_over_log_norm_var_l100_w{width}")
        values |= mean_ci(pool[:, p["depth"]] / theory_pooled[p["depth"]]).values(f"pooled_over_theory_l100_w{width}")
        values |= difference_ci(pool[:, 100], pool[:, 50], paired=True).values(f"pooled_l100_minus_l50_w{width}")
    for narrow, wide in ((64, 256), (256, 1024)):
        values |= difference_ci(runs[narrow][1][:, 100], runs[wide][1][:, 100], paired=False).values(
            f"pooled_l100_w{narrow}_minus_w{wide}")
        values |= difference_ci(runs[narrow][2][:, 100], runs[wide][2][:, 100], paired=False).values(
            f"log_norm_var_l100_w{narrow}_minus_w{wide}")
    return Result(rows, values, summary=summary)


# What the chart's data calls the series and sources (short: a thousand rows carry them)
CODES = {GAP: "gap", POOLED: "pooled", LOG_NORM: "log_norm", "simulation": "sim"}


def chart(rows: list, p: dict) -> alt.VConcatChart:
    data = alt.Chart(table(drawn(rows, ["layer", "width", "source", "series", "value", "value_ci_low", "value_ci_high"],
                                 digits=3, codes=CODES)))
    color, dash, shape = width_encodings(p["widths"])
    x = alt.X("layer:Q", title="layer l (log scale)", scale=alt.Scale(type="log", domain=[1, p["depth"]], nice=False,
                                                                      padding=6),  # the end points whole
              axis=alt.Axis(values=[v for v in (1, 2, 5, 10, 20, 50, 100, 200, 500) if v <= p["depth"]]))
    tooltip = [alt.Tooltip("layer:Q"), alt.Tooltip("width:O"), alt.Tooltip("value:Q", format=".3~e")]
    y_scale = alt.Scale(type="log", domain=[1e-3, 1], clamp=True)

    def theory_line(series: str, source: str, dash_pattern: list[int], width: float = 2.5) -> alt.Chart:
        return data.transform_filter(f"datum.series == '{series}' && datum.source == '{source}'").mark_line(
            color=theme.THEORY_COLOR, strokeDash=dash_pattern, strokeWidth=width).encode(x=x, y="value:Q", tooltip=tooltip)

    simulated = data.transform_filter("datum.source == 'sim'")

    def band(series: str) -> alt.Chart:  # the 95% interval of the mean over networks
        return simulated.transform_filter(f"datum.series == '{series}'").mark_area(opacity=0.25, clip=True).encode(
            x=x, y=alt.Y("value_ci_low:Q", scale=y_scale), y2="value_ci_high:Q", color=color)

    gap = alt.layer(
        band("gap"),
        simulated.transform_filter("datum.series == 'gap'").mark_line(strokeWidth=2).encode(
            x=x, y=alt.Y("value:Q", title="1 − c̄ₗ (log scale)", scale=y_scale), color=color, strokeDash=dash,
            tooltip=tooltip),
        theory_line("gap", "theory", theme.THEORY_DASH),
        theory_line("gap", "asymptote", [1, 3], 2),
        annotation("every width and the theory: one line,", ("layer", 1.1), ("value", 0.004)),
        annotation("slope −2: the 1/l² law", ("layer", 1.1), ("value", 0.0022)),
    ).properties(height=theme.HEIGHT - 60, width=theme.STATIC_WIDTH - 90,
                 title=alt.Title("Meaningful share 1 − c̄ₗ", subtitle=["grey dashed: exact recursion",
                                                                       "dotted: 9π²/2(l + 1.5 ln l + C)²",
                                                                       "bands: 95% interval over networks"]))
    log_norm = simulated.transform_filter("datum.series == 'log_norm'")
    pooled_lines = simulated.transform_filter("datum.series == 'pooled'")
    pooled = alt.layer(
        band("pooled"),
        pooled_lines.mark_line(strokeWidth=2).encode(
            x=x, y=alt.Y("value:Q", title="fraction (log scale)", scale=y_scale), color=color, strokeDash=dash,
            tooltip=tooltip),
        log_norm.mark_rule(opacity=0.5).encode(x=x, y="value_ci_low:Q", y2="value_ci_high:Q", color=color),
        log_norm.mark_point(size=18, filled=True, opacity=0.8).encode(
            x=x, y="value:Q", color=color, shape=shape, tooltip=tooltip),
        theory_line("pooled", "theory", theme.THEORY_DASH),
        end_labels(pooled_lines, "layer", "value", "width", "'n = ' + datum.width", color),
        annotation("narrow: levels off on its floor", ("layer", 100), ("value", 0.7), align="right", dx=-3),
        annotation("∞ width keeps falling", ("layer", 100), ("value", 0.0016), align="right", dx=-3),
    ).properties(height=theme.HEIGHT, width=theme.STATIC_WIDTH - 90,  # taller: room between the three widths' ends
                 title=alt.Title("Pooled across-input fraction 1 − 1ᵀG1/(N·tr G)",
                                 subtitle=["grey dashed: infinite width",
                                           "dots (floors): variance of log ‖φˡ(x)‖",
                                           "bands and bars: 95% interval over networks"]))
    return alt.vconcat(gap, pooled, spacing=18).resolve_scale(color="shared", strokeDash="shared", shape="shared")


FIGURE = Figure(
    id="meaningful-variance",
    title="The meaningful share closes like 1/l², down to a floor set by width",
    caption=(
        "Top: the meaningful share 1 − c̄ₗ on log-log axes, measured on {{ value: meaningful-variance.seeds }} networks per "
        "width ({{ value: meaningful-variance.n_inputs }} inputs of equal norm), against the exact recursion (grey dashed) "
        "and its asymptote (dotted), which is within {{ value: meaningful-variance.asymptote_error_l50 | up .1% }} of the "
        "recursion at layer 50. A straight line of slope −2 is the 1/l² law. Bottom: the fraction of all neurons' second "
        "moment that varies across inputs. Bands and bars: 95% intervals of the means over networks. For infinite width it is (1 − c̄ₗ)(1 − 1/N) and keeps falling; a finite network "
        "stops falling where it meets the variance of the inputs' log-norms (dots), the scales s(x) that finite width "
        "spreads apart: at layer 100, {{ value: meaningful-variance.pooled_l100_w64 | .3f }} for width 64 and "
        "{{ value: meaningful-variance.pooled_l100_w256 | .3f }} for 256. Only width 64 has levelled off by layer 100; "
        "256 and 1024 ({{ value: meaningful-variance.pooled_l100_w1024 | .4f }}) are still falling."
    ),
    params=PARAMS,
    claims=(
        Claim("gradual-loss", All(Between("theory_gap_l10", 0.05, 0.2), Below("theory_gap_l100", 0.01))),
        Claim("polynomial-slope", Between("theory_gap_slope_l50_l100", -2.1, -1.6)),
        Claim("bare-leading-term", Above("bare_leading_term_ratio_l10", 3)),
        Claim("asymptote-error", All(Above("asymptote_error_l10", "asymptote_error_l20"),
                                     Above("asymptote_error_l20", "asymptote_error_l50"),
                                     Between("asymptote_error_l50", 0, 0.01))),
        Claim("wide-follows-recursion", All(*(Indistinguishable(f"gap_relative_error_l{l}_w1024") for l in (10, 20, 50, 100)))),
        Claim("floor-w64", Indistinguishable("pooled_l100_minus_l50_w64")),
        Claim("still-falling", All(Differs("pooled_l100_minus_l50_w1024"), Below("pooled_l100_minus_l50_w1024", 0),
                                   Differs("pooled_l100_minus_l50_w256"), Below("pooled_l100_minus_l50_w256", 0))),
        Claim("floor-by-width", All(Differs("pooled_l100_w64_minus_w256"), Above("pooled_l100_w64_minus_w256", 0),
                                    Differs("pooled_l100_w256_minus_w1024"), Above("pooled_l100_w256_minus_w1024", 0))),
        Claim("above-infinite-width", Above("pooled_over_theory_l100_w1024", 2, interval=True)),
        Claim("floor-is-log-norms", All(*(All(Above(f"pooled_over_log_norm_var_l100_w{w}", 0.75, interval=True),
                                              Below(f"pooled_over_log_norm_var_l100_w{w}", 1.25, interval=True))
                                          for w in (64, 256)))),
        Claim("log-norms-by-width", All(Differs("log_norm_var_l100_w64_minus_w256"), Above("log_norm_var_l100_w64_minus_w256", 0),
                                        Differs("log_norm_var_l100_w256_minus_w1024"),
                                        Above("log_norm_var_l100_w256_minus_w1024", 0),
                                        *(All(Above(f"width_times_log_norm_var_l100_w{w}", 5, interval=True),
                                              Below(f"width_times_log_norm_var_l100_w{w}", 16, interval=True))
                                          for w in (64, 256, 1024)))),
    ),
    compute=compute,
    chart=chart,
    alt_text=(
        "Two log-log line charts against layer 1 to {{ value: meaningful-variance.depth }}. Top: 1 − c̄ₗ for widths 64, "
        "256 and 1024 follows the infinite-width recursion, {{ value: meaningful-variance.theory_gap_l10 | .3f }} at layer 10 "
        "and {{ value: meaningful-variance.theory_gap_l100 | .4f }} at layer 100, a slope close to −2. Bottom: the pooled "
        "across-input variance fraction flattens at {{ value: meaningful-variance.pooled_l100_w64 | .3f }} for width 64 and "
        "is still falling at {{ value: meaningful-variance.pooled_l100_w1024 | .4f }} for width 1024 at layer 100, "
        "approaching the variance of log-norms."
    ),
)
