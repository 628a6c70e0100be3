"""The Hessian at initialisation vs depth: top eigenvalue, curvature along the gradient, the direction of the
top eigenvector, and the conditioning of the neural tangent kernel, for several widths."""


import altair as alt
import torch

from figures_src import theme
from figures_src.charts import annotation, end_labels, width_encodings
from figures_src.claims import Above, All, Below, Between, Claim, Differs, Near
from figures_src.curvature import HessianOperator, flatten, lanczos
from figures_src.figure import Figure, Result, table
from figures_src.measures import empirical_ntk
from figures_src.model import MLP, MLPConfig, seeded
from figures_src.stats import difference_ci, mean_ci
from figures_src.theory import ntk_blocks_infinite_width
from figures_src.training import teacher_task

PARAMS = {
    "d_in": 32, "n_inputs": 32, "task_seed": 0, "seeds": 8, "ntk_seeds": 16, "lanczos_tol": 1e-3,
    # Hessian (Lanczos) for these widths and depths; the NTK alone (cheap) for the widths in ntk_only.
    "hessian": {"64": [1, 2, 4, 8, 16, 32, 64], "256": [1, 2, 4, 8, 16]},
    "ntk_only": {"256": [32, 64], "1024": [1, 2, 4, 8, 16, 32]},
    "theory_depths": [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64],
}


def condition_number(kernel: torch.Tensor) -> torch.Tensor:
    eigenvalues = torch.linalg.eigvalsh(kernel)
    return eigenvalues[-1] / eigenvalues[0]


def measure(width: int, depth: int, seed: int, x: torch.Tensor, y: torch.Tensor, p: dict, hessian: bool) -> dict:
    dtype = torch.float64 if hessian else torch.float32
    net = MLP(MLPConfig(d_in=p["d_in"], width=width, depth=depth), seeded(10_000 * width + 100 * depth + seed),
              dtype=dtype)
    x, y = x.to(dtype), y.to(dtype)
    blocks, output = empirical_ntk(net, x)
    blocks = blocks.double()
    ntk = blocks.sum(dim=0)
    row = {"width": width, "depth": depth, "seed": seed,
           "ntk_condition": condition_number(ntk), "readout_condition": condition_number(blocks[-1]),
           "gauss_newton_top": torch.linalg.eigvalsh(ntk)[-1] / len(x) / width}
    if hessian:
        # "Shift all outputs together": the parameter direction that moves every f(x_a) up at once.
        shift = flatten(torch.autograd.grad(output.sum(), list(net.parameters())))
        op = HessianOperator(net, x, y)
        result = lanczos(op, op.dim, tol=p["lanczos_tol"], generator=seeded(seed))
        g = op.gradient
        row |= {"top": result.top / width, "bottom": result.bottom / width,
                "along_gradient": (g @ op(g)) / (g @ g) / width,
                "alignment": (shift @ result.top_vector).abs() / shift.norm(), "matvecs": result.matvecs}
    return row


def compute(p: dict) -> Result:
    x, y = teacher_task(p["d_in"], p["n_inputs"], p["task_seed"], dtype=torch.float64)
    rows, values = [], {}
    runs = [(int(w), d, True) for w, ds in p["hessian"].items() for d in ds] + \
           [(int(w), d, False) for w, ds in p["ntk_only"].items() for d in ds]
    for width, depth, hessian in runs:
        for seed in range(p["seeds"] if hessian else p["ntk_seeds"]):
            rows.append({"source": "network"} | measure(width, depth, seed, x, y, p, hessian))
    gram0 = x @ x.T / p["d_in"]
    # The same infinite-width kernel for orthonormal inputs (Gram matrix I): how much of its conditioning
    # comes from the N = d_in Gaussian inputs' own ill-conditioned Gram matrix.
    orthonormal = torch.eye(len(x), dtype=torch.float64)
    values["input_condition"] = condition_number(gram0)
    for depth in p["theory_depths"]:
        blocks = ntk_blocks_infinite_width(gram0, depth)
        ntk = blocks.sum(dim=0)
        rows.append({"source": "theory", "width": None, "depth": depth, "seed": None,
                     "ntk_condition": condition_number(ntk), "readout_condition": condition_number(blocks[-1]),
                     "gauss_newton_top": torch.linalg.eigvalsh(ntk)[-1] / len(x),
                     "ntk_condition_orthonormal": condition_number(ntk_blocks_infinite_width(orthonormal, depth).sum(dim=0))})
    values |= summarise(rows, p)
    return Result(rows, values, summary=aggregate(rows))


def aggregate(rows: list) -> list:
    """Per width and depth: the mean of each measure over networks, its 95% interval, and the theory rows."""
    groups = sorted({(r["width"], r["depth"]) for r in rows if r["source"] == "network"})
    out = []
    for width, depth in groups:
        group = [r for r in rows if r["source"] == "network" and r["width"] == width and r["depth"] == depth]
        row = {"source": "network", "width": width, "depth": depth, "networks": len(group)}
        for key in ("top", "bottom", "along_gradient", "alignment", "ntk_condition", "readout_condition",
                    "gauss_newton_top"):
            if key in group[0]:
                row |= mean_ci([float(r[key]) for r in group]).columns(key)
        out.append(row)
    return out + [r for r in rows if r["source"] == "theory"]


def samples(rows: list, key: str, width: int, depth: int) -> torch.Tensor:
    return torch.tensor([float(r[key]) for r in rows
                         if r["source"] == "network" and r["width"] == width and r["depth"] == depth])


def mean_of(rows: list, key: str, width: int, depth: int) -> float:
    return float(samples(rows, key, width, depth).mean())


def summarise(rows: list, p: dict) -> dict:
    theory = {r["depth"]: r for r in rows if r["source"] == "theory"}
    values = {"seeds": p["seeds"], "ntk_seeds": p["ntk_seeds"], "n_inputs": p["n_inputs"],
              "lanczos_tol": p["lanczos_tol"]}
    orth = {d: r["ntk_condition_orthonormal"] for d, r in theory.items()}
    peak = max(orth, key=lambda d: orth[d])
    values |= {"theory_condition_orth_peak": orth[peak], "theory_condition_orth_peak_depth": peak}
    for depth in (1, 2, 4, 8, 16, 32, 64):
        values[f"theory_condition_orth_l{depth}"] = orth[depth]
        values[f"theory_top_l{depth}"] = theory[depth]["gauss_newton_top"]
        values[f"theory_condition_l{depth}"] = theory[depth]["ntk_condition"]
        values[f"theory_readout_condition_l{depth}"] = theory[depth]["readout_condition"]
    hessian_rows = [r for r in rows if "top" in r]
    for width, depths in p["hessian"].items():
        w = int(width)
        for depth in depths:
            for key in ("top", "bottom", "along_gradient", "alignment", "gauss_newton_top"):
                values |= mean_ci(samples(rows, key, w, depth)).values(f"{key}_l{depth}_w{w}")
            values[f"min_alignment_l{depth}_w{w}"] = min(r["alignment"] for r in hessian_rows
                                                         if r["width"] == w and r["depth"] == depth)
    for width in (64, 256, 1024):
        for depth in (1, 8, 16, 32, 64):
            if any(r["source"] == "network" and r["width"] == width and r["depth"] == depth for r in rows):
                values |= mean_ci(samples(rows, "ntk_condition", width, depth)).values(f"condition_l{depth}_w{width}")
    values["min_alignment"] = min(r["alignment"] for r in hessian_rows)
    values["min_alignment_w256"] = min(r["alignment"] for r in hessian_rows if r["width"] == 256)
    values["max_depth_w256"] = max(p["hessian"]["256"])
    values["max_bottom_ratio"] = max(-r["bottom"] / r["top"] for r in hessian_rows)
    values["max_matvecs"] = max(r["matvecs"] for r in hessian_rows)
    # Depth and width comparisons: different networks, unpaired.
    values |= difference_ci(samples(rows, "top", 64, 64), samples(rows, "top", 64, 1), paired=False).values(
        "top_l64_minus_l1_w64")
    values |= difference_ci(samples(rows, "top", 256, 16), samples(rows, "top", 256, 1), paired=False).values(
        "top_l16_minus_l1_w256")
    values |= difference_ci(samples(rows, "ntk_condition", 64, 64), samples(rows, "ntk_condition", 256, 64),
                            paired=False).values("condition_l64_w64_minus_w256")
    values |= difference_ci(samples(rows, "alignment", 256, 16), samples(rows, "alignment", 64, 64),
                            paired=False).values("alignment_l16_w256_minus_l64_w64")
    values["bottom_over_top_mean"] = float(torch.tensor([-r["bottom"] / r["top"] for r in hessian_rows]).mean())
    values["top_ratio_l16_l1_w64"] = values["top_l16_w64"] / values["top_l1_w64"]
    values["top_ratio_l16_l1_w256"] = values["top_l16_w256"] / values["top_l1_w256"]
    values["theory_top_ratio_l64_l1"] = values["theory_top_l64"] / values["theory_top_l1"]
    return values


PANELS = {  # field: (axis title, scale, heading)
    "top": ("λₘₐₓ(H) / n", "log", "Top Hessian eigenvalue ÷ width"),
    "along_gradient": ("gᵀHg / (‖g‖² n)", "log", "Curvature along the gradient ÷ width"),
    "alignment": ("|cos(top eigenvector, shift)|", "linear", "Top eigenvector vs. the shift-all-outputs direction"),
    "ntk_condition": ("condition number of the NTK", "log", "Conditioning of the tangent kernel"),
}
THEORY_KEY = {"top": "gauss_newton_top", "ntk_condition": "ntk_condition"}
DECADES = [10.0 ** k for k in range(-6, 7)]
# What each panel's caption sentence points at: (text, depth, value, text alignment).
NOTES = {
    "top": [("grey: infinite-width Gauss–Newton", 1.1, 40, "left"), ("▽: most negative eigenvalue", 1.1, 0.002, "left")],
    "alignment": [("≈ 1: the top direction", 1.1, 0.72, "left"), ("shifts every output together", 1.1, 0.66, "left"),
                  ("narrow and deep: less so", 64, 0.6, "right")],  # low: width 64's label goes under its intervals
    "ntk_condition": [("∞ width, readout layer", 1.1, 3000, "left"), ("∞ width, whole network", 1.1, 20, "left")],
}


def chart(rows: list, p: dict) -> alt.VConcatChart:
    data = alt.Chart(table(rows))
    widths = sorted({int(w) for group in (p["hessian"], p["ntk_only"]) for w in group})
    color, dash, shape = width_encodings(widths)
    x = alt.X("depth:Q", title="depth L (hidden layers)", scale=alt.Scale(type="log", base=2, domain=[1, 64], nice=False),
              axis=alt.Axis(values=[1, 2, 4, 8, 16, 32, 64]))
    panels = []
    for key, (title, scale, heading) in PANELS.items():
        y = alt.Y(f"{key}:Q", title=title,  # log panels labelled at decades: Vega's own picks skipped some
                  scale=alt.Scale(type="log") if scale == "log" else alt.Scale(zero=False, domain=[0.5, 1.0]),
                  axis=alt.Axis(values=DECADES) if scale == "log" else alt.Axis())
        networks = data.transform_filter(f"datum.source == 'network' && isValid(datum.{key})")
        tooltip = [alt.Tooltip("width:O"), alt.Tooltip("depth:Q"),
                   alt.Tooltip(f"{key}:Q", title="mean over networks", format=".4g"),
                   alt.Tooltip(f"{key}_ci_low:Q", title="95% CI low", format=".4g"),
                   alt.Tooltip(f"{key}_ci_high:Q", title="95% CI high", format=".4g"),
                   alt.Tooltip("networks:Q")]
        layers = [
            networks.mark_rule(strokeWidth=1.5, opacity=0.5).encode(
                x=x, y=f"{key}_ci_low:Q", y2=f"{key}_ci_high:Q", color=color),
            networks.mark_line(strokeWidth=2).encode(x=x, y=y, color=color, strokeDash=dash, tooltip=tooltip),
            networks.mark_point(filled=True, size=30, opacity=1).encode(x=x, y=y, color=color, shape=shape,
                                                                        tooltip=tooltip),
            # The condition number's narrow line is named at depth 32: at 64 it runs up into the readout
            # layer's theory curve, and its label would seem to name that curve. Width 256 is named at its
            # end, above the whole network's theory curve that width 1024 (ending at 32) runs along.
            end_labels(networks, "depth", key, "width", "'n = ' + datum.width", color,
                       at="datum.depth == (datum.width == 256 ? 64 : 32)" if key == "ntk_condition" else None),
        ]
        if key in THEORY_KEY:
            layers.append(data.transform_filter("datum.source == 'theory'").mark_line(
                color=theme.THEORY_COLOR, strokeDash=theme.THEORY_DASH, strokeWidth=2.5).encode(
                x=x, y=alt.Y(f"{THEORY_KEY[key]}:Q"),
                tooltip=[alt.Tooltip("depth:Q"), alt.Tooltip(f"{THEORY_KEY[key]}:Q", title="infinite width",
                                                             format=".4g")]))
        if key == "ntk_condition":
            layers.append(data.transform_filter("datum.source == 'theory'").mark_line(
                color=theme.THEORY_COLOR, strokeDash=[1, 3], strokeWidth=2.5).encode(
                x=x, y=alt.Y("readout_condition:Q"),
                tooltip=[alt.Tooltip("depth:Q"), alt.Tooltip("readout_condition:Q",
                                                             title="readout layer, infinite width", format=".4g")]))
        if key == "top":
            # The other end of the spectrum: the most negative eigenvalue, in magnitude (hollow triangles).
            layers.append(networks.transform_calculate(negative="-datum.bottom").mark_point(
                shape="triangle-down", filled=False, size=40, opacity=0.8).encode(
                x=x, y=alt.Y("negative:Q"), color=color,
                tooltip=[alt.Tooltip("width:O"), alt.Tooltip("depth:Q"),
                         alt.Tooltip("bottom:Q", title="most negative eigenvalue / n (mean)", format=".4g")]))
        layers += [annotation(text, ("depth", at), (key, value), align=align, dx=-3 if align == "right" else 0)
                   for text, at, value, align in NOTES.get(key, [])]
        panels.append(alt.layer(*layers).properties(height=190, title=alt.Title(heading, fontSize=13)))
    return alt.vconcat(*panels, spacing=14).resolve_scale(color="shared", strokeDash="shared", shape="shared")


FIGURE = Figure(
    id="curvature-by-depth",
    title="Curvature grows with depth, along the direction that shifts every output",
    caption=(
        "Plain He networks at initialisation on a {{ value: curvature-by-depth.n_inputs }}-sample regression task, "
        "mean of {{ value: curvature-by-depth.seeds }} networks per point with the Hessian, "
        "{{ value: curvature-by-depth.ntk_seeds }} with the kernel only (bars: 95% interval of the mean). "
        "Top panel: the algebraically largest Hessian eigenvalue from Lanczos (lines) and the magnitude of the "
        "most negative one (triangles), divided by the width n; grey: the infinite-width Gauss–Newton prediction. "
        "Second: the curvature the gradient step actually meets. Third: the top eigenvector is almost exactly the "
        "direction that moves every output up together (cosine at least "
        "{{ value: curvature-by-depth.min_alignment_w256 | down .3f }} at width 256), less so for narrow deep networks. Bottom: the condition number of the tangent kernel "
        "JJᵀ over these Gaussian inputs: bounded at infinite width, blowing up for narrow deep networks. Width 1024 and the "
        "deepest width-256 points have the kernel only (the Hessian would take too long to build)."
    ),
    params=PARAMS,
    compute=compute,
    chart=chart,
    alt_text=(
        "Four stacked line charts against depth 1 to 64 on a log axis, for widths 64, 256 and 1024. "
        "The top Hessian eigenvalue divided by width rises with depth: at infinite width from "
        "{{ value: curvature-by-depth.theory_top_l1 | .2f }} at depth 1 to "
        "{{ value: curvature-by-depth.theory_top_l64 | .1f }} at depth 64; width 64 measures "
        "{{ value: curvature-by-depth.top_l1_w64 | .2f }} and {{ value: curvature-by-depth.top_l64_w64 | .1f }}. "
        "The top eigenvector's cosine with the shift-all-outputs direction stays above "
        "{{ value: curvature-by-depth.min_alignment | down .2f }}. The kernel's condition number at infinite width "
        "falls from {{ value: curvature-by-depth.theory_condition_l1 | .0f }} to "
        "{{ value: curvature-by-depth.theory_condition_l64 | .0f }}, while width 64 reaches "
        "{{ value: curvature-by-depth.condition_l64_w64 | .0f }} at depth 64."
    ),
    claims=(
        Claim("top-grows-theory", Above("theory_top_l64", "theory_top_l1")),
        Claim("top-grows", All(Differs("top_l64_minus_l1_w64"), Above("top_l64_minus_l1_w64", 0),
                               Differs("top_l16_minus_l1_w256"), Above("top_l16_minus_l1_w256", 0))),
        Claim("aligned", Above("min_alignment_w256", 0.95)),
        Claim("alignment-weakens", All(Differs("alignment_l16_w256_minus_l64_w64"),
                                       Above("alignment_l16_w256_minus_l64_w64", 0))),
        Claim("negative-end", All(Above("max_bottom_ratio", 0.25), Above("bottom_over_top_mean", 0))),
        Claim("gaussian-condition-falls", All(Below("theory_condition_l64", "theory_condition_l1"),
                                              Below("theory_condition_l64", "theory_condition_l8"))),
        Claim("orthonormal-condition", All(Above("theory_condition_orth_peak", "theory_condition_orth_l1"),
                                           Below("theory_condition_orth_l64", "theory_condition_orth_peak"),
                                           Below("theory_condition_orth_peak", 100))),
        Claim("readout-blows-up", Above("theory_readout_condition_l64", "theory_condition_l64")),
        Claim("narrow-blows-up", All(Differs("condition_l64_w64_minus_w256"), Above("condition_l64_w64_minus_w256", 0))),
        Claim("not-every-direction", All(Above("min_alignment_w256", 0.95), Below("theory_condition_l64", 100),
                                         Below("theory_condition_orth_peak", 100),
                                         Above("theory_readout_condition_l64", "theory_condition_l64"),
                                         Differs("condition_l64_w64_minus_w256"))),
        Claim("per-width", Near("top_l1_w64", "top_l1_w256", tolerance=0.15, relative=True)),
        Claim("linear", Between("theory_top_ratio_l64_l1", 16, 64)),
    ),
)
