"""Which gradients vanish: per-layer batch gradients against per-example gradients, and the share of the
gradient that can fit input-dependent targets."""


import altair as alt
import torch

from figures_src import theme
from figures_src.charts import depth_menu, line_legend
from figures_src.claims import Above, All, Below, Claim, Differs
from figures_src.figure import Figure, Result, table
from figures_src.measures import empirical_ntk, layer_gradient_norms, useful_gradient_share
from figures_src.model import MLP, MLPConfig, seeded
from figures_src.stats import difference_ci, mean_ci
from figures_src.theory import ntk_blocks_infinite_width
from figures_src.training import teacher_task

PARAMS = {"width": 256, "n_samples": 64, "task_seed": 0, "input_correlation": 0.5, "seeds": 16,
          "shown_depths": [2, 10, 25, 50, 100], "share_depths": [1, 2, 5, 10, 25, 50, 100], "default_depth": 50}

BATCH, EXAMPLE = "batch gradient ‖∇L‖", "mean per-example gradient ‖∇ℓₐ‖"
READOUT, WHOLE = "readout layer", "whole network"


def networks(p: dict, depth: int, x: torch.Tensor, y: torch.Tensor) -> list:
    """(seed, blocks, residual) of each seed's network: the per-layer tangent kernels and r = f − y."""
    runs = []
    for seed in range(p["seeds"]):
        net = MLP(MLPConfig(d_in=p["width"], width=p["width"], depth=depth), seeded(1000 * depth + seed),
                  dtype=torch.float64)
        blocks, output = empirical_ntk(net, x)
        runs.append((seed, blocks, (output - y).detach()))
    return runs


def compute(p: dict) -> Result:
    # d_in = width: the first weight matrix has the same shape as the others, so all layers compare directly.
    # Inputs of pairwise cosine ≈ input_correlation, like real data; with independent inputs (cosine 0) the
    # first layer's per-example gradients are orthogonal at any depth and their batch gradient cancels anyway.
    x, y = teacher_task(p["width"], p["n_samples"], p["task_seed"], input_correlation=p["input_correlation"],
                        dtype=torch.float64)
    rows, values, per_depth = [], {}, {}
    cache = {depth: networks(p, depth, x, y) for depth in sorted(set(p["shown_depths"]) | set(p["share_depths"]))}
    for depth in p["shown_depths"]:
        # Divided by the network's rms residual √(2L): the size of its errors, which varies from network to network.
        runs = [(seed, *(n / r.pow(2).mean().sqrt() for n in layer_gradient_norms(blocks, r)))
                for seed, blocks, r in cache[depth]]
        batch = torch.stack([b for _, b, _ in runs])
        example = torch.stack([e for _, _, e in runs])
        for layer in range(depth + 1):
            for kind, norms in ((BATCH, batch), (EXAMPLE, example)):
                rows.append({"panel": "layers", "depth": depth, "layer": layer + 1, "kind": kind,
                             "networks": norms.shape[0], **mean_ci(norms[:, layer]).columns("norm")})
        ratio = batch[:, -1] / batch[:, 0]
        values |= mean_ci(ratio).values(f"batch_ratio_last_first_l{depth}")
        per_depth[depth] = {"ratio": ratio}
        values[f"min_batch_ratio_last_first_l{depth}"] = ratio.min()
        coherence = batch / example
        values |= mean_ci(coherence[:, 0]).values(f"coherence_first_l{depth}")
        values |= mean_ci(coherence[:, -1]).values(f"coherence_last_l{depth}")
        # Readout against first layer, in the same networks: paired.
        values |= difference_ci(coherence[:, -1], coherence[:, 0], paired=True).values(
            f"coherence_last_minus_first_l{depth}")
        per_depth[depth]["coherence_first"] = coherence[:, 0]
        values[f"coherence_ratio_l{depth}"] = (coherence[:, -1] / coherence[:, 0]).mean()
        mean_example = example.mean(dim=0)  # all weight matrices W¹ … Wᴸ have n × n entries (d_in = n)
        values[f"example_spread_l{depth}"] = mean_example[:-1].max() / mean_example[:-1].min()
        values[f"example_spread_worst_l{depth}"] = (example[:, :-1].max(dim=1).values
                                                    / example[:, :-1].min(dim=1).values).max()
    first, last = min(p["shown_depths"]), max(p["shown_depths"])
    values |= difference_ci(per_depth[last]["coherence_first"], per_depth[first]["coherence_first"],
                            paired=False).values(f"coherence_first_l{last}_minus_l{first}")
    values |= difference_ci(per_depth[10]["ratio"], per_depth[first]["ratio"], paired=False).values(
        f"batch_ratio_l10_minus_l{first}")
    deep = [values[f"batch_ratio_last_first_l{d}"] for d in p["shown_depths"] if d >= 10]
    values["batch_ratio_deep_ci_low"] = min(values[f"batch_ratio_last_first_l{d}_ci_low"] for d in p["shown_depths"] if d >= 10)
    values["batch_ratio_deep_ci_high"] = max(values[f"batch_ratio_last_first_l{d}_ci_high"] for d in p["shown_depths"] if d >= 10)
    values["batch_ratio_deep_min"], values["batch_ratio_deep_max"] = min(deep), max(deep)
    gram0 = x @ x.T / p["width"]
    share_samples = {}
    for depth in p["share_depths"]:
        shares = {READOUT: [], WHOLE: []}
        for _, blocks, _ in cache[depth]:
            shares[READOUT].append(useful_gradient_share(blocks[-1]))
            shares[WHOLE].append(useful_gradient_share(blocks.sum(dim=0)))
        theory = ntk_blocks_infinite_width(gram0, depth, input_ratio=1.0)
        predicted = {READOUT: useful_gradient_share(theory[-1]), WHOLE: useful_gradient_share(theory.sum(dim=0))}
        for kind, measured in shares.items():
            m = torch.stack(measured)
            rows.append({"panel": "share", "depth": depth, "kind": kind, "source": "network",
                         "networks": m.numel(), **mean_ci(m).columns("share")})
            rows.append({"panel": "share", "depth": depth, "kind": kind, "source": "theory", "share": predicted[kind]})
            tag = "readout" if kind == READOUT else "whole"
            values |= mean_ci(m).values(f"share_{tag}_l{depth}")
            share_samples[tag, depth] = m
            values[f"theory_share_{tag}_l{depth}"] = predicted[kind]
    d0, d1 = min(p["share_depths"]), max(p["share_depths"])
    for tag in ("readout", "whole"):
        values |= difference_ci(share_samples[tag, d1], share_samples[tag, d0], paired=False).values(
            f"share_{tag}_l{d1}_minus_l{d0}")
    values |= difference_ci(share_samples["whole", d1], share_samples["readout", d1], paired=True).values(
        f"share_whole_minus_readout_l{d1}")
    values |= {"width": p["width"], "seeds": p["seeds"], "n_samples": p["n_samples"],
               "input_correlation": p["input_correlation"],
               "default_depth": p["default_depth"]}
    return Result(rows, values)


def chart(rows: list, p: dict) -> alt.VConcatChart:
    data = alt.Chart(table(rows))
    depth = depth_menu(p["shown_depths"], p["default_depth"])
    kinds = [BATCH, EXAMPLE]
    color = alt.Color("kind:N", title=None, sort=kinds, scale=alt.Scale(domain=kinds, range=[theme.BLUE, theme.ORANGE]),
                      legend=line_legend(labelLimit=400, direction="vertical"))
    layers = data.transform_filter("datum.panel == 'layers' && datum.depth == depth")
    # Whole matrices only: at depth 2 a tick count of 3 makes d3 step by ½ ("1 2 2 3 3"); a count of L steps by 1.
    x = alt.X("layer:Q", title="weight matrix Wˡ (L + 1: the readout)",
              scale=alt.Scale(nice=False, zero=False, padding=6),
              axis=alt.Axis(format="d", tickCount=alt.expr("min(toNumber(depth), 5)")))
    y = alt.Y("norm:Q", title="gradient norm ÷ rms error (log scale)", scale=alt.Scale(type="log"),
              axis=alt.Axis(values=[10.0 ** k for k in range(-4, 5)]))  # decades: Vega's picks skipped 10
    tooltip = [alt.Tooltip("kind:N", title="what"), alt.Tooltip("layer:Q", title="l"),
               alt.Tooltip("norm:Q", title=f"mean of {p['seeds']} networks", format=".3g"),
               alt.Tooltip("norm_ci_low:Q", title="95% CI low", format=".3g"),
               alt.Tooltip("norm_ci_high:Q", title="95% CI high", format=".3g")]
    top = alt.layer(
        layers.mark_area(opacity=0.2).encode(x=x, y="norm_ci_low:Q", y2="norm_ci_high:Q", color=color),
        layers.mark_line(strokeWidth=2.2, point=alt.OverlayMarkDef(size=14)).encode(x=x, y=y, color=color,
                                                                                     tooltip=tooltip),
    ).add_params(depth).properties(height=theme.HEIGHT - 60, title=alt.Title(
        alt.expr("['Gradient of each weight matrix,', 'depth L = ' + depth]")))  # two lines: a phone's width

    share = data.transform_filter("datum.panel == 'share'")
    share_color = alt.Color("kind:N", title=None, scale=alt.Scale(domain=[READOUT, WHOLE],
                                                                  range=[theme.BLUE, "#009E73"]),
                              legend=alt.Legend(symbolOpacity=1))  # the lines' colours, not the error bars' tints
    depth_x = alt.X("depth:Q", title="depth L", scale=alt.Scale(type="log", domain=[1, max(p["share_depths"])],
                                                               nice=False, padding=6),  # end points whole
                    axis=alt.Axis(values=p["share_depths"]))
    share_y = alt.Y("share:Q", title="useful share (log scale)", scale=alt.Scale(type="log"))
    measured = share.transform_filter("datum.source == 'network'")
    bottom = alt.layer(
        measured.mark_rule(strokeWidth=1.5, opacity=0.6).encode(x=depth_x, y="share_ci_low:Q", y2="share_ci_high:Q",
                                                                color=share_color),
        measured.mark_line(strokeWidth=2.2, point=True).encode(
            x=depth_x, y=share_y, color=share_color,
            tooltip=[alt.Tooltip("kind:N"), "depth:Q", alt.Tooltip("share:Q", format=".3g", title="measured mean"),
                     alt.Tooltip("share_ci_low:Q", format=".3g", title="95% CI low"),
                     alt.Tooltip("share_ci_high:Q", format=".3g", title="95% CI high")]),
        share.transform_filter("datum.source == 'theory'").mark_line(strokeWidth=2.2, strokeDash=theme.THEORY_DASH,
                                                                     opacity=0.9).encode(
            x=depth_x, y=share_y, detail="kind:N", color=alt.value(theme.THEORY_COLOR),
            tooltip=[alt.Tooltip("kind:N"), "depth:Q", alt.Tooltip("share:Q", format=".3g", title="infinite width")]),
    ).properties(height=theme.HEIGHT - 110, title=alt.Title(
        ["How strongly the gradient responds", "to input-dependent errors"], subtitle="relative to a shift of all outputs",
        fontSize=13))
    return alt.vconcat(top, bottom, spacing=18).resolve_scale(color="independent")


FIGURE = Figure(
    id="gradient-by-layer",
    title="Per-example gradients keep their size; batch gradients of early layers cancel",
    caption=(
        "Plain He networks of width {{ value: gradient-by-layer.width }} at initialisation, squared loss on "
        "{{ value: gradient-by-layer.n_samples }} samples of a random teacher (inputs of pairwise cosine "
        "{{ value: gradient-by-layer.input_correlation }}); mean of "
        "{{ value: gradient-by-layer.seeds }} networks (band and bars: 95% interval of the mean). Top: for every weight matrix, the "
        "norm of the batch gradient (the mean of the per-example gradients) and the mean norm of the per-example "
        "gradients, both divided by the network's rms error<span class='dl-screen-only'>; choose the depth in the menu</span>. Bottom: the useful share, how much gradient a zero-mean error "
        "pattern produces relative to a uniform one of the same size (ratio of squared norms), for the readout "
        "weights alone and for all weights; grey dashed: infinite width."
    ),
    params=PARAMS,
    compute=compute,
    chart=chart,
    alt_text=(
        "Top: line chart of gradient norm (log scale) against layer for a network of depth chosen in a menu "
        "(default {{ value: gradient-by-layer.default_depth }}); the per-example line is flat across hidden layers, "
        "the batch-gradient line rises toward the readout; at depth 50 the readout's batch gradient is "
        "{{ value: gradient-by-layer.batch_ratio_last_first_l50 | .1f }} times the first layer's. Bottom: the useful "
        "share against depth, log scales: for the readout it falls from "
        "{{ value: gradient-by-layer.share_readout_l1 | .2f }} at depth 1 to "
        "{{ value: gradient-by-layer.share_readout_l100 | .1e }} at depth 100; for the whole network from "
        "{{ value: gradient-by-layer.share_whole_l1 | .2f }} to {{ value: gradient-by-layer.share_whole_l100 | .3f }}."
    ),
    claims=(
        Claim("example-flat", Below("example_spread_l25", 1.2)),
        Claim("example-drift", Above("example_spread_l100", "example_spread_l25")),
        Claim("first-cancels", All(Differs("coherence_first_l100_minus_l2"), Below("coherence_first_l100_minus_l2", 0),
                                   Below("coherence_first_l2", 1, interval=True))),
        Claim("readout-coheres", All(Differs("coherence_last_minus_first_l100"),
                                     Above("coherence_last_minus_first_l100", 0))),
        Claim("ratio-grows", All(Differs("batch_ratio_l10_minus_l2"), Above("batch_ratio_l10_minus_l2", 0))),
        Claim("ratio-bounded", All(Above("batch_ratio_deep_ci_low", 1), Below("batch_ratio_deep_ci_high", 10))),
        Claim("readout-share-falls", All(Differs("share_readout_l100_minus_l1"), Below("share_readout_l100_minus_l1", 0),
                                         Below("share_readout_l100", "share_readout_l1", interval=True))),
        Claim("readout-floor", Above("share_readout_l100_ci_low", "theory_share_readout_l100")),
        Claim("whole-share-does-not-fall", All(Differs("share_whole_l100_minus_l1"), Above("share_whole_l100_minus_l1", 0))),
        Claim("whole-above-readout", All(Differs("share_whole_minus_readout_l100"),
                                         Above("share_whole_minus_readout_l100", 0))),
        Claim("not-vanish", All(Below("example_spread_l25", 1.2), Below("coherence_first_l100_minus_l2", 0),
                                Differs("share_readout_l100_minus_l1"), Below("share_readout_l100_minus_l1", 0),
                                Above("share_whole_l100_minus_l1", 0, interval=True))),
    ),
)
