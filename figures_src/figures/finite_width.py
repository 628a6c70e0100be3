"""Thousands of finite networks: the mean follows mean-field theory, the typical (median) network collapses faster."""

import altair as alt
import torch

from figures_src import theme
from figures_src.charts import (annotation, at_slider_layer, drawn, layer_slider, layer_title,
                                width_encodings)
from figures_src.claims import Above, All, Below, Claim, Differs, Indistinguishable
from figures_src.figure import Figure, Result, table
from figures_src.stats import mean_ci_columns, quantile_ci
from figures_src.model import finite_width_grams, seeded
from figures_src.stats import RESAMPLES, SEED, Estimate, mean_ci
from figures_src.theory import iterate_correlation

NAMED_DEPTHS = (10, 20, 25, 50, 100)  # the depths the prose and caption quote: the slider reaches each of them
PARAMS = {"widths": [64, 128, 256, 512, 1024], "depth": 100, "networks": 1000, "seed": 7, "default_layer": 50,
          "stored_layers": sorted({*range(1, 11), *range(12, 31, 2), *range(35, 101, 5), *NAMED_DEPTHS})}


def gap_statistics(gap: torch.Tensor) -> dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Across networks (last axis) of 1 − ĉ, (layer, network): the mean, the median and the 10th and 90th
    percentiles, each (value, 95% low, 95% high) per layer: a bootstrap interval for the mean, the
    order-statistic interval for the quantiles."""
    return {"mean": mean_ci_columns(gap.T), "median": quantile_ci(gap, 0.5),
            "q10": quantile_ci(gap, 0.1), "q90": quantile_ci(gap, 0.9)}


def median_difference_ci(a: torch.Tensor, b: torch.Tensor) -> Estimate:
    """median(a) − median(b) of two independent groups of networks, with its 95% percentile-bootstrap interval."""
    generator = torch.Generator().manual_seed(SEED)
    medians = [x[torch.randint(0, len(x), (RESAMPLES, len(x)), generator=generator)].median(dim=1).values
               for x in (a.double().cpu(), b.double().cpu())]
    low, high = torch.quantile(medians[0] - medians[1], torch.tensor([0.025, 0.975], dtype=torch.float64)).tolist()
    return Estimate((a.median() - b.median()).item(), low, high, min(len(a), len(b)))


def compute(p: dict) -> Result:
    # Two orthogonal inputs of equal norm (c₀ = 0): the infinite-width prediction is 𝓕ˡ(0).
    x = torch.eye(2, dtype=torch.float64) * 2**0.5
    theory = 1 - iterate_correlation(torch.tensor(0.0, dtype=torch.float64), p["depth"])
    rows = [{"width": None, "layer": l, "statistic": "theory", "value": theory[l], "value_ci_low": None,
             "value_ci_high": None, "networks": None} for l in p["stored_layers"]]
    values = {"networks": p["networks"], "depth": p["depth"]}
    generator = seeded(p["seed"])
    ratios = {}
    for width in p["widths"]:
        g = finite_width_grams(x, width, p["depth"], p["networks"], generator)
        gap = 1 - g[..., 0, 1] / (g[..., 0, 0] * g[..., 1, 1]).sqrt()  # (layer, network): 1 − ĉ of each network
        stats = gap_statistics(gap)
        stats["median_over_theory"] = tuple(v / theory for v in stats["median"])
        stats["mean_over_theory"] = tuple(v / theory for v in stats["mean"])
        ratios[width] = gap / theory[:, None]
        for l in p["stored_layers"]:
            rows += [{"width": width, "layer": l, "statistic": name, "value": v[l], "value_ci_low": low[l],
                      "value_ci_high": high[l], "networks": p["networks"]} for name, (v, low, high) in stats.items()]
        for l in NAMED_DEPTHS:
            for name in ("mean", "median", "q10", "q90", "median_over_theory", "mean_over_theory"):
                v, low, high = stats[name]
                values |= Estimate(v[l].item(), low[l].item(), high[l].item(), p["networks"]).values(f"{name}_l{l}_w{width}")
        values |= mean_ci((gap[p["depth"]] < theory[p["depth"]]).double()).values(f"below_theory_share_l100_w{width}")
        values |= mean_ci(ratios[width][p["depth"]] - 1).values(f"mean_over_theory_minus_one_l100_w{width}")
    same_ratio = (ratios[64][25], ratios[128][50], ratios[256][100])  # l/n ≈ 0.39
    values |= median_difference_ci(same_ratio[0], same_ratio[2]).values("median_ratio_l25_w64_minus_l100_w256")
    values |= median_difference_ci(same_ratio[1], same_ratio[2]).values("median_ratio_l50_w128_minus_l100_w256")
    values |= median_difference_ci(ratios[256][100], ratios[64][100]).values("median_ratio_l100_w256_minus_w64")
    for l in NAMED_DEPTHS:
        values[f"theory_l{l}"] = theory[l]
    return Result(rows, values)


def chart(rows: list, p: dict) -> alt.VConcatChart:
    layer = layer_slider(default=p["default_layer"], depth=p["depth"], first=1, label="depth l ")
    shown = [row for row in rows if row["statistic"] != "mean_over_theory"]  # the statistics the chart draws
    data = alt.Chart(table(drawn(shown, ["width", "layer", "statistic", "value", "value_ci_low", "value_ci_high"],
                                 digits=3, codes={"median_over_theory": "ratio"})))
    at_layer = at_slider_layer(data, p["stored_layers"])
    widths = p["widths"]
    x = alt.X("width:Q", title="width n (log scale)",
              scale=alt.Scale(type="log", domain=[widths[0] / 1.3, widths[-1] * 1.3], nice=False),
              axis=alt.Axis(values=widths, format="d"))
    y_scale = alt.Scale(type="log", domain=[1e-5, 1], clamp=True)
    stat_color = alt.Color("statistic:N", title=None, sort=["mean", "median"],
                           scale=alt.Scale(domain=["mean", "median"], range=[theme.ARCHITECTURE_COLORS["plain"], theme.ORANGE]),
                           legend=alt.Legend(labelExpr="datum.label == 'mean' ? 'mean over networks' : 'median network'",
                                             symbolOpacity=1))
    tooltip = [alt.Tooltip("width:Q"), alt.Tooltip("layer:Q"), alt.Tooltip("statistic:N"),
               alt.Tooltip("value:Q", title="1 − ĉ", format=".3~e")]
    band = at_layer.transform_filter("datum.statistic == 'q10' || datum.statistic == 'q90'").transform_pivot(
        "statistic", value="value", groupby=["width", "layer"]).mark_area(
        opacity=0.18, color=theme.ARCHITECTURE_COLORS["plain"]).encode(x=x, y=alt.Y("q10:Q"), y2="q90:Q")
    central = at_layer.transform_filter("datum.statistic == 'mean' || datum.statistic == 'median'")
    lines = central.mark_line(strokeWidth=2, point=alt.OverlayMarkDef(size=60, filled=True)).encode(
        x=x, y=alt.Y("value:Q", title="1 − ĉ at depth l (log scale)", scale=y_scale,
                     axis=alt.Axis(values=[1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1], format="~g")), color=stat_color,
        tooltip=tooltip)
    intervals = central.mark_rule(strokeWidth=2.5, opacity=0.6).encode(
        x=x, y=alt.Y("value_ci_low:Q", scale=y_scale), y2="value_ci_high:Q", color=stat_color)
    theory = at_layer.transform_filter("datum.statistic == 'theory'").mark_rule(
        color=theme.THEORY_COLOR, strokeDash=theme.THEORY_DASH, strokeWidth=2.5).encode(
        y="value:Q", tooltip=[alt.Tooltip("value:Q", title="infinite width", format=".3~e")])
    distribution = alt.layer(band, intervals, lines, theory).add_params(layer).properties(
        height=theme.HEIGHT - 40, width=theme.STATIC_WIDTH - 90,
        title=layer_title("at depth", p["stored_layers"], before=(f"1 − ĉ over {p['networks']} networks per width,",),
                          noun="depth",
                          subtitle=["band: 10th to 90th percentile; bars: 95% intervals", "grey dashed: infinite width"]))
    # A legend, not labels at the curves' ends: the curves coincide, which is the point, and their ends crowd.
    width_color, width_dash, _ = width_encodings(widths, orient="bottom", direction="horizontal", columns=3)
    medians = data.transform_filter("datum.statistic == 'ratio'").transform_calculate(
        depth_over_width="datum.layer / datum.width")
    ratio_x = alt.X("depth_over_width:Q", title="depth / width, l/n (log scale)",
                    scale=alt.Scale(type="log", domain=[1 / widths[-1], p["depth"] / widths[0]], nice=False),
                    axis=alt.Axis(values=[0.001, 0.01, 0.1, 1], format="~g", labelFlush=True))
    ratio_scale = alt.Scale(type="log", domain=[0.05, 1.2], clamp=True)
    ratio_y = alt.Y("value:Q", title="median ÷ infinite width", scale=ratio_scale,
                    axis=alt.Axis(values=[0.05, 0.1, 0.2, 0.5, 1], format="~g"))
    ratio = alt.layer(
        medians.mark_area(opacity=0.2).encode(x=ratio_x, y=alt.Y("value_ci_low:Q", scale=ratio_scale),
                                              y2="value_ci_high:Q",
                                              # fill, not color: the line's colour and dash make one legend
                                              fill=alt.Fill("width:O", legend=None, scale=width_color["scale"])),
        medians.mark_line(strokeWidth=2).encode(
            x=ratio_x, y=alt.Y("value:Q", title="median ÷ infinite width", scale=ratio_scale),
            color=width_color, strokeDash=width_dash, tooltip=[alt.Tooltip("width:O"), alt.Tooltip("layer:Q"),
                                        alt.Tooltip("value:Q", title="median ÷ theory", format=".3f"),
                                        alt.Tooltip("value_ci_low:Q", title="95% interval from", format=".3f"),
                                        alt.Tooltip("value_ci_high:Q", title="95% interval to", format=".3f")]),
        # Bottom left: the curve starts at the top left and is low only to the right.
        annotation(f"every width, n = {widths[0]} … {widths[-1]}, on one curve:", (ratio_x, 0.0012), (ratio_y, 0.085)),
        annotation("the median falls as l/n grows", (ratio_x, 0.0012), (ratio_y, 0.063)),
    ).properties(height=theme.HEIGHT - 80, width=theme.STATIC_WIDTH - 90,
                 title=alt.Title("Median network ÷ infinite width", subtitle="one curve in depth/width; bands: 95% intervals"))
    return alt.vconcat(distribution, ratio, spacing=18).resolve_scale(color="independent", strokeDash="independent")


FIGURE = Figure(
    id="finite-width",
    title="The average network follows the theory; the typical one collapses faster",
    caption=(
        "Two orthogonal inputs through {{ value: finite-width.networks }} random networks per width, sampled exactly "
        "layer by layer. Top, at the depth <span class='dl-screen-only'>on the slider</span><span class='dl-print-only'>in the panel's title</span>: the gap 1 − ĉ of the mean over networks sits on the "
        "infinite-width line, but the median network is more collapsed. At depth 100 and width 64 the mean is "
        "{{ value: finite-width.mean_l100_w64 | .2e }} and the median {{ value: finite-width.median_l100_w64 | .2e }}, "
        "against {{ value: finite-width.theory_l100 | .2e }} for infinite width. Bottom: the median's shortfall depends "
        "on depth/width: widths 64, 128 and 256 at depths 25, 50 and 100 (l/n ≈ 0.39) all reach "
        "{{ value: finite-width.median_over_theory_l25_w64 | .2f }}, {{ value: finite-width.median_over_theory_l50_w128 | .2f }} "
        "and {{ value: finite-width.median_over_theory_l100_w256 | .2f }} of the theory."
    ),
    params=PARAMS,
    claims=(
        Claim("mean-on-theory", Indistinguishable("mean_over_theory_minus_one_l100_w64")),
        Claim("median-below-theory", All(Below("median_over_theory_l100_w64", 1, interval=True),
                                         Above("below_theory_share_l100_w64", 0.5, interval=True))),
        Claim("depth-over-width", All(Indistinguishable("median_ratio_l25_w64_minus_l100_w256"),
                                      Indistinguishable("median_ratio_l50_w128_minus_l100_w256"))),
        Claim("same-depth-differs", All(Differs("median_ratio_l100_w256_minus_w64"),
                                        Above("median_ratio_l100_w256_minus_w64", 0))),
    ),
    compute=compute,
    chart=chart,
    alt_text=(
        "Top: for widths 64 to 1024, the mean and the median over {{ value: finite-width.networks }} networks of the gap "
        "1 − ĉ between two inputs at a depth chosen with a slider, with a 10 to 90 percent band and the infinite-width "
        "value as a dashed line. The mean follows the line; the median is below it, at depth 100 by a factor of "
        "{{ value: finite-width.median_over_theory_l100_w64 | .2f }} for width 64 and "
        "{{ value: finite-width.median_over_theory_l100_w1024 | .2f }} for width 1024. Bottom: the median divided by "
        "the theory against depth over width; the curves for all widths nearly coincide."
    ),
)
