"""What initialisation schemes change, and what they cannot: He, orthogonal, LSUV, MetaInit, zero branches."""

import functools

import altair as alt
import torch

from figures_src.charts import mean_panels
from figures_src.claims import Above, All, Below, Claim, Differs, Indistinguishable
from figures_src.experiments import SETUP, build, runs_over_seeds, task, value_key
from figures_src.figure import Figure, Result
from figures_src.stats import Estimate, difference_ci, geometric_mean_ci, mean_ci

PARAMS = {**SETUP, "depth": 100, "seeds": 8}
# (label, architecture, init, colour key of theme.ARCHITECTURE_COLORS)
CASES = [
    ("plain · He", "plain", "He", "plain"),
    ("plain · orthogonal", "plain", "orthogonal", "plain"),
    ("plain · LSUV", "plain", "LSUV", "LSUV"),
    ("plain · MetaInit", "plain", "MetaInit", "MetaInit"),
    ("residual · He", "residual", "He", "residual"),
    ("residual · LSUV", "residual", "LSUV", "LSUV"),
    ("residual · MetaInit", "residual", "MetaInit", "MetaInit"),
    ("residual · zero branch", "residual", "zero branch", "residual"),
]
MEASURES = [("correlation", "last-layer mean cosine c̄", "linear"), ("gradient_quotient", "gradient quotient", "log"),
            ("lambda_max", "λₘₐₓ of the Hessian", "log"), ("output_std", "output spread over inputs", "log")]


LOG_MEASURES = ("gradient_quotient", "lambda_max", "output_std")



def estimate(runs: list[dict], m: str) -> Estimate:
    """Mean cosine; geometric mean of the scales, which vary over decades between networks."""
    samples = [r[m] for r in runs]
    return geometric_mean_ci(samples) if m in LOG_MEASURES else mean_ci(samples)


def compute(p: dict) -> Result:
    setup = {k: p[k] for k in SETUP}
    runs = runs_over_seeds([(architecture, init, p["depth"]) for _, architecture, init, _ in CASES], p["seeds"],
                           setup)
    results = {label: case_runs for (label, *_), case_runs in zip(CASES, runs)}
    rows, values = [], {}
    for label, architecture, init, color in CASES:
        for seed, r in enumerate(results[label]):
            row = {"case": label, "family": architecture, "init": init, "color_key": color, "seed": seed}
            row.update({m: r[m] for m, _, _ in MEASURES})
            rows.append(row)
        for m, _, _ in MEASURES:
            values.update(estimate(results[label], m).values(f"{value_key(label)}_{m}"))

    def per_network(label: str, m: str) -> torch.Tensor:
        return torch.tensor([r[m] for r in results[label]], dtype=torch.float64)
    # the cases share seeds (the same draws before LSUV or MetaInit rescale them): paired differences
    for a, b, m in [("plain · He", "plain · MetaInit", "gradient_quotient"),
                    ("plain · He", "plain · MetaInit", "lambda_max"),
                    ("plain · He", "plain · MetaInit", "output_std"),
                    ("plain · LSUV", "plain · orthogonal", "lambda_max"),
                    ("plain · He", "residual · He", "correlation"),
                    ("residual · He", "residual · LSUV", "correlation"),
                    ("residual · He", "residual · MetaInit", "correlation"),
                    ("residual · He", "residual · zero branch", "correlation")]:
        # heavy-tailed scales (GQ, λ_max, output spread vary over decades between networks): log10 ratios
        log = m in LOG_MEASURES
        ya, yb = (per_network(a, m).log10(), per_network(b, m).log10()) if log else (per_network(a, m), per_network(b, m))
        values.update(difference_ci(ya, yb, paired=True)
                      .values(f"{'log10_' if log else ''}{m}_{value_key(a)}_minus_{value_key(b)}"))
    lowered = per_network("plain · MetaInit", "gradient_quotient") < per_network("plain · He", "gradient_quotient")
    values["metainit_lowered_gq"] = int(lowered.sum())
    values.update(mean_ci(lowered).values("metainit_lowered_gq_share"))
    # Per-layer scaling leaves every cosine of a bias-free ReLU MLP unchanged: compare whole profiles c̄_0 … c̄_L.
    def change(a: str, b: str) -> float:
        return max((ra["profile"] - rb["profile"]).abs().max().item() for ra, rb in zip(results[a], results[b]))
    values.update(geometric_mean_ci(per_network("plain · MetaInit", "output_std") / per_network("plain · He", "output_std"))
                  .values("metainit_output_gain"))
    values.update(geometric_mean_ci(per_network("plain · LSUV", "output_std") / per_network("plain · orthogonal", "output_std"))
                  .values("lsuv_output_gain_over_seeds"))
    values.update(mean_ci(per_network("plain · orthogonal", "correlation") - per_network("plain · He", "correlation"))
                  .values("orthogonal_minus_he_correlation"))
    values["lsuv_max_cosine_change"] = change("plain · LSUV", "plain · orthogonal")
    values["metainit_max_cosine_change"] = change("plain · MetaInit", "plain · He")
    # LSUV sets the variance over the batch of every matrix's output to 1. For the single readout unit that is the
    # variance across inputs, which the collapse has made small: LSUV scales the whole output up.
    x, _ = task(setup)
    with torch.no_grad():
        orthogonal = build("plain", "orthogonal", p["depth"], 0, setup)
        normalised = build("plain", "LSUV", p["depth"], 0, setup)
        before, after = orthogonal(x), normalised(x)
    values["lsuv_output_std_before"] = before.std().item()
    values["lsuv_output_std_after"] = after.std().item()
    values["lsuv_output_gain"] = (after.std() / before.std()).item()
    values["lsuv_readout_gain"] = (normalised.weights[-1].norm() / orthogonal.weights[-1].norm()).item()
    values.update({"depth": p["depth"], "seeds": p["seeds"], "width": p["width"],
                   "metainit_steps": p["metainit_steps"]})
    summary = []
    for label, architecture, init, color in CASES:
        row = {"case": label, "family": architecture, "init": init, "color_key": color, "networks": p["seeds"]}
        for m, _, _ in MEASURES:
            row.update(estimate(results[label], m).columns(m))
        summary.append(row)
    return Result(rows, values, summary=summary)


def chart(rows: list, p: dict, stacked: bool = False) -> alt.HConcatChart | alt.VConcatChart:
    return mean_panels(rows, [c[0] for c in CASES], MEASURES, list(dict.fromkeys(c[3] for c in CASES)), stacked=stacked)


FIGURE = Figure(
    id="init-comparison",
    title="What initialisation schemes change, and what they cannot",
    caption=(
        "Networks of depth {{ value: init-comparison.depth }} and width {{ value: init-comparison.width }} on the "
        "chapter-3 task ({{ value: init-comparison.seeds }} networks per row, the same seeds in every row: the mean cosine, and geometric means of the scales, which vary over decades between networks, with 95% intervals), residual branches with "
        "α² = 1/L. The panels: mean cosine $\\bar c_L$ of the task's inputs at the last layer, MetaInit's gradient quotient, "
        "the top Hessian eigenvalue at initialisation, and the standard deviation of the output over the task's "
        "inputs. "
        "In the plain network LSUV and MetaInit leave every cosine where it was (largest change over all layers: "
        "{{ value: init-comparison.lsuv_max_cosine_change | .1e }} and "
        "{{ value: init-comparison.metainit_max_cosine_change | .1e }}); MetaInit lowers the gradient quotient (geometric mean) from "
        "{{ value: init-comparison.plain_he_gradient_quotient | .0f }} to "
        "{{ value: init-comparison.plain_metainit_gradient_quotient | .2f }}."
    ),
    params=PARAMS,
    compute=compute,
    chart=chart,
    stacked_chart=functools.partial(chart, stacked=True),
    alt_text=(
        "Four dot plots side by side, one row per network and initialisation: plain with He, orthogonal, LSUV and "
        "MetaInit; residual with He, LSUV, MetaInit and zero branches. Mean cosine at the last layer: plain "
        "networks all near {{ value: init-comparison.plain_he_correlation | .3f }}, residual ones lower "
        "({{ value: init-comparison.residual_he_correlation | .3f }} with He). Gradient quotient, top Hessian "
        "eigenvalue and the output's spread are on log scales: MetaInit lowers the first two in the plain network, "
        "LSUV raises the last two."
    ),
    claims=(
        Claim("cosines-unchanged", All(Below("lsuv_max_cosine_change", 1e-6), Below("metainit_max_cosine_change", 1e-6))),
        Claim("orthogonal-like-he", Indistinguishable("orthogonal_minus_he_correlation")),
        Claim("lsuv-scales-up", All(Above("lsuv_output_gain_over_seeds", 1, interval=True),
                                    Differs("log10_lambda_max_plain_lsuv_minus_plain_orthogonal"),
                                    Above("log10_lambda_max_plain_lsuv_minus_plain_orthogonal", 0))),
        Claim("metainit-lowers-gq", All(Differs("log10_gradient_quotient_plain_he_minus_plain_metainit"),
                                        Above("log10_gradient_quotient_plain_he_minus_plain_metainit", 0),
                                        Above("metainit_lowered_gq_share", 0.5, interval=True),
                                        Below("metainit_output_gain", 1, interval=True),
                                        Differs("log10_lambda_max_plain_he_minus_plain_metainit"),
                                        Above("log10_lambda_max_plain_he_minus_plain_metainit", 0))),
        Claim("residual-scaling-moves-cosines", All(Differs("correlation_residual_he_minus_residual_lsuv"),
                                                    Differs("correlation_residual_he_minus_residual_metainit"))),
        Claim("residual-below-plain", All(Differs("correlation_plain_he_minus_residual_he"),
                                          Above("correlation_plain_he_minus_residual_he", 0))),
    ),
)
