"""Every solution on every instrument: one comparison at depth 100."""

import functools

import altair as alt

import torch

from figures_src.charts import mean_panels
from figures_src.claims import Above, All, Below, Claim, Differs, Near
from figures_src.experiments import NETWORKS, SETUP, SWEEP, runs_over_seeds, sweeps, value_key
from figures_src.figure import Figure, Result
from figures_src.stats import difference_ci, geometric_mean_ci, mean_ci

PARAMS = {**SETUP, **SWEEP, "depth": 100}
MEASURES = [("correlation", "collapse: mean cosine c̄", "linear"),
            ("useful_share", "useful gradient share", "log"),
            ("lambda_max", "curvature: λₘₐₓ", "log"),
            ("gradient_quotient", "gradient quotient", "log"),
            ("final_loss", "loss at the best rate", "log")]



def compute(p: dict) -> Result:
    setup = {k: p[k] for k in SETUP}
    networks = [(*NETWORKS[name], p["depth"]) for name in NETWORKS]
    runs = runs_over_seeds(networks, p["seeds"], setup)
    trained = sweeps(networks, setup, {k: p[k] for k in SWEEP})
    rows, summary, values = [], [], {}
    per = {}
    for name, results, sweep in zip(NETWORKS, runs, trained):
        best = [r for r in sweep["runs"] if r["stage"] == "fine" and r["lr"] == sweep["best_lr"]]
        for seed, (r, b) in enumerate(zip(results, best)):
            rows.append({"network": name, "color_key": name, "seed": seed,
                         **{m: r[m] for m, _, _ in MEASURES[:-1]}, "final_loss": b["final_loss"],
                         "outcome": b["outcome"], "lr": b["lr"]})
        per[name] = {m: torch.tensor([row[m] for row in rows if row["network"] == name], dtype=torch.float64)
                     for m, _, _ in MEASURES}
        row = {"network": name, "color_key": name, "networks": p["seeds"]}
        for m, _, scale in MEASURES:
            # Diverged runs (no finite loss) are counted beside the mean of the others, not averaged in.
            finite = per[name][m][per[name][m].isfinite()]
            diverged = len(per[name][m]) - len(finite)
            values[f"{value_key(name)}_{m}_diverged"] = diverged
            if diverged:
                row[f"{m}_note"] = f"{diverged} of {len(per[name][m])} diverged"
            # scales that vary over decades between networks (log panels): geometric means
            estimate = geometric_mean_ci(finite) if scale == "log" else mean_ci(finite)
            values.update(estimate.values(f"{value_key(name)}_{m}"))
            row.update(estimate.columns(m))
        summary.append(row)
        values[f"{value_key(name)}_best_lr"] = sweep["best_lr"]
    # the same seeds: LSUV and MetaInit rescale He's (or the orthogonal) draw, residual nets another
    # architecture on the same inputs; unpaired where the architectures differ
    for a, b in [("plain", "batch norm"), ("plain", "residual")]:
        values.update(difference_ci(per[a]["correlation"], per[b]["correlation"], paired=False)
                      .values(f"correlation_{value_key(a)}_minus_{value_key(b)}"))
    values.update(difference_ci(per["residual"]["useful_share"].log10(), per["plain"]["useful_share"].log10(),
                                paired=False).values("log10_useful_share_residual_minus_plain"))
    values.update({"depth": p["depth"], "seeds": p["seeds"], "steps": p["steps"]})
    return Result(rows, values, summary=summary)


def chart(rows: list, p: dict, stacked: bool = False) -> alt.HConcatChart | alt.VConcatChart:
    names = list(NETWORKS)
    return mean_panels(rows, names, MEASURES, names, row_field="network", stacked=stacked)


FIGURE = Figure(
    id="solutions-summary",
    title="Every solution on every instrument",
    caption=(
        "The six networks of the training figure above at depth {{ value: solutions-summary.depth }}, "
        "{{ value: solutions-summary.seeds }} networks each (the mean cosine, and geometric means of the quantities on log "
        "scales, with 95% intervals), on the instruments of chapters 1 to 3, all measured at "
        "initialisation on the task's inputs except the last: the mean cosine $\\bar c_L$ at the last layer, the useful "
        "share of the readout gradient (zero-mean residuals against a shift of all outputs), the top Hessian "
        "eigenvalue, MetaInit's gradient quotient, and the loss after {{ value: solutions-summary.steps }} steps at "
        "each network's best learning rate (from the sweeps of the training figure); a run that diverged there is "
        "counted in its row, and the mean is over the others. Batch norm makes the loss invariant to the scale of the "
        "weights before it, so its $\\lambda_\\max$ and gradient quotient are not comparable with the others. MetaInit "
        "rescales the plain network's layers, so its cosine and useful share are the plain network's, run by run."
    ),
    params=PARAMS,
    compute=compute,
    chart=chart,
    stacked_chart=functools.partial(chart, stacked=True),
    alt_text=(
        "Five dot plots side by side, one row per network: plain, batch norm, residual, residual + batch norm, "
        "LSUV, MetaInit. Mean cosine at the last layer: plain {{ value: solutions-summary.plain_correlation | .3f }}, "
        "batch norm {{ value: solutions-summary.batch_norm_correlation | .3f }}, residual "
        "{{ value: solutions-summary.residual_correlation | .3f }}, residual + batch norm "
        "{{ value: solutions-summary.residual_batch_norm_correlation | .3f }}, LSUV "
        "{{ value: solutions-summary.lsuv_correlation | .3f }}, MetaInit "
        "{{ value: solutions-summary.metainit_correlation | .3f }}. Useful gradient share: plain "
        "{{ value: solutions-summary.plain_useful_share | .2e }}, residual "
        "{{ value: solutions-summary.residual_useful_share | .2e }}. Loss after training: plain "
        "{{ value: solutions-summary.plain_final_loss | .3f }}, residual "
        "{{ value: solutions-summary.residual_final_loss | .3f }}, residual + batch norm "
        "{{ value: solutions-summary.residual_batch_norm_final_loss | .3f }}."
    ),
    claims=(
        Claim("bn-passes-first-test", All(Differs("correlation_plain_minus_batch_norm"),
                                          Above("correlation_plain_minus_batch_norm", 0),
                                          Below("batch_norm_correlation", 0.5, interval=True))),
        Claim("init-leaves-collapse", All(Above("lsuv_correlation", 0.95, interval=True),
                                          Above("metainit_correlation", 0.95, interval=True))),
        Claim("lsuv-sharper", Above("lsuv_lambda_max_ci_low", "plain_lambda_max_ci_high")),
        # the caption: MetaInit only rescales the plain network's layers, which no cosine or share sees
        Claim("metainit-rescales-only", All(Near("metainit_correlation", "plain_correlation", 1e-9),
                                            Near("metainit_useful_share", "plain_useful_share", 1e-6, relative=True))),
        Claim("residual-useful-share", All(Differs("log10_useful_share_residual_minus_plain"),
                                           Above("log10_useful_share_residual_minus_plain", 0))),
    ),
)
