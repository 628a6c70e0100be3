"""The tangent kernel's spectrum split in two: its top eigenvector, which moves all outputs together, and the
input-dependent rest; for the whole network and for its readout layer alone, by depth."""

import altair as alt
import torch

from figures_src import theme
from figures_src.charts import GUIDE_NAME, end_labels, stacked
from figures_src.claims import All, Above, Claim, Differs
from figures_src.figure import Figure, Result, table
from figures_src.measures import empirical_ntk
from figures_src.model import MLP, MLPConfig, gaussian_inputs, seeded
from figures_src.stats import difference_ci, mean_ci
from figures_src.theory import ntk_blocks_infinite_width

PARAMS = {"d_in": 64, "width": 256, "n_inputs": 32, "input_seed": 0, "depths": [1, 2, 4, 8, 16, 32, 64, 100],
          "seeds": 16, "default_depth": 100}

SHIFT = "top eigenvalue: shift all outputs"
REST = "mean of the others: input-dependent"
KERNELS = {"whole": "all weights", "readout": "readout weights alone"}


def split(kernel: torch.Tensor, width: int) -> dict[str, float | torch.Tensor]:
    """A tangent kernel (N × N) split into its top eigenvalue and the mean of the others, both ÷ width, their
    ratio, the |cosine| of the top eigenvector with the all-ones direction, and all eigenvalues ÷ width."""
    eigenvalues, eigenvectors = torch.linalg.eigh(kernel / width)
    eigenvalues, top = eigenvalues.flip(0), eigenvectors[:, -1]
    rest = eigenvalues[1:].mean()
    return {"top": eigenvalues[0].item(), "rest": rest.item(), "ratio": (eigenvalues[0] / rest).item(),
            "alignment": top.sum().abs().item() / kernel.shape[0] ** 0.5, "spectrum": eigenvalues}


def three_figures(numbers: dict[str, float]) -> dict[str, float]:
    """Ratios reach the thousands with intervals wider than a tenth: more than three figures is false precision."""
    return {k: v if k.endswith("_n") else float(f"{v:.3g}") for k, v in numbers.items()}


def network_kernels(p: dict, x: torch.Tensor, depth: int, seed: int) -> dict[str, torch.Tensor]:
    net = MLP(MLPConfig(d_in=p["d_in"], width=p["width"], depth=depth), seeded(1000 * depth + seed),
              dtype=torch.float64)
    blocks, _ = empirical_ntk(net, x)
    return {"whole": blocks.sum(dim=0), "readout": blocks[-1]}


def compute(p: dict) -> Result:
    x = gaussian_inputs(p["n_inputs"], p["d_in"], seeded(p["input_seed"]), dtype=torch.float64)
    gram0 = x @ x.T / p["d_in"]
    rows, values, ratios, tops = [], {}, {}, {}
    for depth in p["depths"]:
        per_network = [{k: split(kernel, p["width"]) for k, kernel in network_kernels(p, x, depth, seed).items()}
                       for seed in range(p["seeds"])]
        blocks = ntk_blocks_infinite_width(gram0, depth, input_ratio=p["d_in"] / p["width"])
        theory = {"whole": split(blocks.sum(dim=0), 1), "readout": split(blocks[-1], 1)}
        for kernel, label in KERNELS.items():
            for part, name in ((SHIFT, "top"), (REST, "rest")):
                estimate = mean_ci([s[kernel][name] for s in per_network])
                rows.append({"kind": "by depth", "kernel": label, "depth": depth, "part": part, "rank": None,
                             **estimate.columns("eigenvalue"), "theory": theory[kernel][name],
                             "networks": p["seeds"]})
                values |= estimate.values(f"{kernel}_{name}_l{depth}")
            ratios[kernel, depth] = torch.tensor([s[kernel]["ratio"] for s in per_network])
            values |= three_figures(mean_ci(ratios[kernel, depth]).values(f"{kernel}_ratio_l{depth}"))
            values[f"theory_{kernel}_ratio_l{depth}"] = theory[kernel]["ratio"]
        tops[depth] = torch.tensor([s["whole"]["top"] for s in per_network])
        alignment = torch.tensor([s["whole"]["alignment"] for s in per_network])
        values |= mean_ci(alignment).values(f"alignment_l{depth}")
        values[f"min_alignment_l{depth}"] = alignment.min()
        spectrum = torch.stack([s["whole"]["spectrum"] for s in per_network]).mean(dim=0)
        rows += [{"kind": "spectrum", "kernel": KERNELS["whole"], "depth": depth, "part": SHIFT if k == 0 else REST,
                  "rank": k + 1, "eigenvalue": spectrum[k], "eigenvalue_ci_low": None, "eigenvalue_ci_high": None,
                  "theory": theory["whole"]["spectrum"][k], "networks": p["seeds"]} for k in range(p["n_inputs"])]
    first, last = p["depths"][0], p["depths"][-1]
    values |= difference_ci(ratios["readout", last], ratios["whole", last], paired=True).values(
        f"readout_minus_whole_ratio_l{last}")
    values |= difference_ci(tops[last], tops[first], paired=False).values(f"whole_top_l{last}_minus_l{first}")
    values |= difference_ci(ratios["whole", last], ratios["whole", first], paired=False).values(
        f"whole_ratio_l{last}_minus_l{first}")
    shallow = [d for d in p["depths"] if d <= 32]
    values["min_alignment_to_l32"] = min(values[f"min_alignment_l{d}"] for d in shallow)
    values["max_depth_aligned"] = max(shallow)
    values |= {"seeds": p["seeds"], "n_inputs": p["n_inputs"], "width": p["width"], "depth": last,
               "top_growth": values[f"whole_top_l{last}"] / values[f"whole_top_l{first}"]}
    return Result(rows, values)


def chart(rows: list, p: dict) -> alt.VConcatChart:
    depth = alt.param(name="depth", value=p["default_depth"], bind=alt.binding_select(
        options=p["depths"], name="spectrum at depth "))
    parts = alt.Scale(domain=[SHIFT, REST], range=[theme.ARCHITECTURE_COLORS["batch norm"],
                                                   theme.ARCHITECTURE_COLORS["plain"]])
    kernels = alt.Scale(domain=list(KERNELS.values()), range=[[1, 0], [6, 3]])
    data = alt.Chart(table(rows))
    by_depth = data.transform_filter("datum.kind == 'by depth'")
    x = alt.X("depth:Q", title="depth L (log scale)", scale=alt.Scale(type="log", domain=[1, 100], nice=False),
              axis=alt.Axis(values=p["depths"]))
    y = alt.Y("eigenvalue:Q", title="eigenvalue ÷ width (log scale)", scale=alt.Scale(type="log"))
    color = alt.Color("part:N", title=None, scale=parts, legend=None)  # lines are labelled directly
    dash = alt.StrokeDash("kernel:N", title=None, scale=kernels, legend=None)
    band = by_depth.mark_area(opacity=0.18).encode(
        x=x, y=alt.Y("eigenvalue_ci_low:Q", title="eigenvalue ÷ width (log scale)", scale=alt.Scale(type="log")),
        y2="eigenvalue_ci_high:Q", color=color, detail="kernel:N")
    line = by_depth.mark_line(point=True, strokeWidth=2.2).encode(
        x=x, y=y, color=color, strokeDash=dash,
        tooltip=[alt.Tooltip("kernel:N"), alt.Tooltip("depth:Q"), alt.Tooltip("part:N"),
                 alt.Tooltip("eigenvalue:Q", format=".3g"),
                 alt.Tooltip("eigenvalue_ci_low:Q", title="95% CI low", format=".3g"),
                 alt.Tooltip("eigenvalue_ci_high:Q", title="95% CI high", format=".3g"),
                 alt.Tooltip("theory:Q", title="infinite width", format=".3g"), alt.Tooltip("networks:Q")])
    theory = by_depth.mark_line(color=theme.THEORY_COLOR, strokeDash=theme.THEORY_DASH, strokeWidth=1.3).encode(
        x=x, y="theory:Q", detail="kernel:N", order="part:N")
    # Colour tells the top eigenvalue from the rest, dash the kernel (as the subtitle says): one label per
    # colour, at the end of its outermost line, where nothing lies beyond it (the top eigenvalue on the whole
    # network's line, the rest on the readout's); inside the bundle, a label sat nearer the other colour's lines.
    outermost = (f"datum.part == {SHIFT!r} ? datum.kernel == {KERNELS['whole']!r} "
                 f": datum.kernel == {KERNELS['readout']!r}")
    labels = end_labels(by_depth.transform_filter(outermost), x, y, "part",
                        f"datum.part == {SHIFT!r} ? 'top eigenvalue' : 'mean of the rest'", color)
    # Faint, under the labels: where it runs through one (the depth chosen in the menu), the halo breaks it.
    now = by_depth.transform_filter("datum.depth == toNumber(depth)").mark_rule(
        color=theme.THEORY_COLOR, opacity=0.5).encode(x=x).properties(name=f"{GUIDE_NAME}_depth")
    left = alt.layer(band, theory, line, now, labels)
    spectrum = data.transform_filter("datum.kind == 'spectrum' && datum.depth == toNumber(depth)").mark_bar().encode(
        x=alt.X("rank:O", title="eigenvector of the whole kernel, largest first",
                axis=alt.Axis(values=[1, 8, 16, 24, 32], labelAngle=0)),
        # One axis for every depth (the menu compares them), with a labelled tick each decade.
        y=alt.Y("eigenvalue:Q", title="eigenvalue ÷ width (log scale)",
                scale=alt.Scale(type="log", domain=[0.1, 1000], nice=False),
                axis=alt.Axis(values=[0.1, 1, 10, 100, 1000], format="~g")),
        y2=alt.datum(0.1),  # a log axis has no zero for bars to start from
        color=alt.Color("part:N", scale=parts, legend=None),
        tooltip=[alt.Tooltip("rank:O"), alt.Tooltip("eigenvalue:Q", format=".3g", title="mean over networks"),
                 alt.Tooltip("theory:Q", format=".3g", title="infinite width")],
    )
    return stacked([(left, alt.Title("Top eigenvalue and the rest, by depth",
                                      subtitle=["solid: all weights, dashed: readout weights alone",
                                                "grey: infinite width"])),
                    (spectrum, alt.Title(alt.expr("'The whole spectrum at depth ' + depth"),
                                         subtitle="mean over networks"))],
                   depth, width=theme.STATIC_WIDTH - 120, height=theme.HEIGHT - 40)


FIGURE = Figure(
    id="tangent-kernel-split",
    title="The tangent kernel: one direction that shifts all outputs, and the rest",
    caption=(
        "Reference network; its tangent kernel Θ on the {{ value: tangent-kernel-split.n_inputs }} inputs, "
        "divided by the width. Top: Θ's top eigenvalue (vermillion), the direction \"move every output up together\": "
        "its eigenvector is close to the all-ones direction up to depth "
        "{{ value: tangent-kernel-split.max_depth_aligned }} (|cosine| at least "
        "{{ value: tangent-kernel-split.min_alignment_to_l32 | down .2f }} in every network), less so at depth "
        "{{ value: tangent-kernel-split.depth }}, where the mean |cosine| is "
        "{{ value: tangent-kernel-split.alignment_l100 | ci .2f }}; and the mean of its other eigenvalues, the input-dependent "
        "directions (blue), by depth; solid for the whole network's kernel, dashed for the readout layer's alone; "
        "means over {{ value: tangent-kernel-split.seeds }} networks with 95% intervals. For the whole network "
        "the top eigenvalue is {{ value: tangent-kernel-split.whole_ratio_l1 | ci .1f }} times the mean of the "
        "others at depth 1 and {{ value: tangent-kernel-split.whole_ratio_l100 | ci .1f }} times at depth "
        "{{ value: tangent-kernel-split.depth }}; for the readout layer the input-dependent part falls away. Bottom: the whole kernel's "
        "spectrum at one depth<span class='dl-screen-only'> (menu)</span>: one large eigenvalue, then the rest."
    ),
    params=PARAMS,
    claims=(
        Claim("top-grows", All(Differs("whole_top_l100_minus_l1"), Above("whole_top_l100_minus_l1", 0))),
        Claim("top-is-shift", Above("min_alignment_to_l32", 0.9)),
        Claim("whole-ratio-grows", All(Differs("whole_ratio_l100_minus_l1"), Above("whole_ratio_l100_minus_l1", 0))),
        Claim("readout-loses-rest", All(Differs("readout_minus_whole_ratio_l100"),
                                        Above("readout_minus_whole_ratio_l100", 0))),
    ),
    compute=compute,
    chart=chart,
    alt_text=(
        "Top: eigenvalues of the tangent kernel divided by the width against depth, both axes logarithmic: the "
        "top eigenvalue and the mean of the others, for the whole network (solid) and the readout layer (dashed), "
        "with grey dashed infinite-width curves. For the whole network both rise with depth; for the readout layer "
        "the mean of the others falls far below the top one. The top-to-rest ratio at depth 100 is "
        "{{ value: tangent-kernel-split.whole_ratio_l100 | .0f }} for the whole network and "
        "{{ value: tangent-kernel-split.readout_ratio_l100 | .0f }} for the readout layer. Bottom: bars of the whole "
        "kernel's eigenvalues at one depth on a log axis: one tall bar, then many small ones."
    ),
)
