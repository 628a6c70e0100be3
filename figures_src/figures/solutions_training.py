"""Training every solution on the chapter-3 task, each network at its own best learning rate: which deep
networks actually train."""

import math

import altair as alt
import torch

from figures_src import theme
from figures_src.charts import annotation, architecture_encodings
from figures_src.claims import Above, All, Below, Claim, Differs, Equals
from figures_src.experiments import NETWORKS, SETUP, SWEEP, sweeps, value_key
from figures_src.figure import Figure, Result, table
from figures_src.stats import difference_ci, mean_ci

PARAMS = {**SETUP, **SWEEP, "depths": [10, 100]}
OUTCOMES = ("reached", "stalled", "diverged")


def best_runs(sweep: dict) -> list[dict]:
    return [r for r in sweep["runs"] if r["stage"] == "fine" and r["lr"] == sweep["best_lr"]]


def compute(p: dict) -> Result:
    setup = {k: p[k] for k in SETUP}
    sweep_params = {k: p[k] for k in SWEEP}
    networks = [(name, depth) for depth in p["depths"] for name in NETWORKS]
    results = sweeps([(*NETWORKS[name], depth) for name, depth in networks], setup, sweep_params)
    rows, summary, values = [], [], {}
    best = {}
    for (name, depth), sweep in zip(networks, results):
        key = f"{value_key(name)}_d{depth}"
        for r in sweep["runs"]:
            rows.append({"network": name, "depth": depth, "stage": r["stage"], "lr": r["lr"], "seed": r["seed"],
                         "outcome": r["outcome"], "steps_to": r["steps_to"], "final_loss": r["final_loss"],
                         "best_lr": r["lr"] == sweep["best_lr"] and r["stage"] == "fine"})
        # aggregated rows for the chart: every (stage, rate), the share of runs reaching the threshold
        for stage in ("coarse", "fine"):
            for lr in sorted({r["lr"] for r in sweep["runs"] if r["stage"] == stage}):
                group = [r for r in sweep["runs"] if r["stage"] == stage and r["lr"] == lr]
                reached = mean_ci([r["outcome"] == "reached" for r in group])
                counts = {o: sum(r["outcome"] == o for r in group) for o in OUTCOMES}
                finals = torch.tensor([r["final_loss"] for r in group], dtype=torch.float64)
                loss = mean_ci(finals.log10()) if counts["diverged"] == 0 else None
                summary.append({"network": name, "depth": depth, "stage": stage, "lr": lr, "networks": len(group),
                                **reached.columns("reached_share"), **counts,
                                "log10_final_loss": loss.mean if loss else None,
                                "log10_final_loss_ci_low": loss.low if loss else None,
                                "log10_final_loss_ci_high": loss.high if loss else None,
                                "best": lr == sweep["best_lr"] and stage == "fine"})
        runs = best_runs(sweep)
        best[(name, depth)] = runs
        values[f"{key}_best_lr"] = sweep["best_lr"]
        values[f"{key}_coarse_best_lr"] = sweep["coarse_best_lr"]
        for o in OUTCOMES:
            values[f"{key}_{o}"] = sum(r["outcome"] == o for r in runs)
        values.update(mean_ci([r["outcome"] == "reached" for r in runs]).values(f"{key}_reached_share"))
        # the final loss and the steps to the threshold, over the 8 seeds at the best rate: non-finite (and
        # unquotable) when a run diverged, resp. when one never reached the threshold
        values.update(mean_ci([r["final_loss"] for r in runs]).values(f"{key}_final_loss"))
        values.update(mean_ci([r["steps_to"] for r in runs]).values(f"{key}_steps_to"))
        values[f"{key}_worst_final_loss"] = max(r["final_loss"] for r in runs)
        # the grid brackets the best rate: at its largest rate every run diverges, at its smallest none reaches
        coarse = [r for r in sweep["runs"] if r["stage"] == "coarse"]
        values[f"{key}_largest_rate_diverged"] = sum(r["outcome"] == "diverged" for r in coarse
                                                     if r["lr"] == max(p["lrs"]))
        values[f"{key}_smallest_rate_reached"] = sum(r["outcome"] == "reached" for r in coarse
                                                     if r["lr"] == min(p["lrs"]))
        values[f"{key}_coarse_reached_rates"] = len({r["lr"] for r in coarse if r["outcome"] == "reached"})
    deep, shallow = max(p["depths"]), min(p["depths"])

    def final(name, depth):
        return [r["final_loss"] for r in best[(name, depth)]]
    # comparisons at each network's best rate (different networks: unpaired)
    for a, b in [("plain", "residual"), ("plain", "residual + batch norm"), ("batch norm", "residual + batch norm"),
                 ("plain", "batch norm"), ("LSUV", "residual"), ("MetaInit", "residual")]:
        values.update(difference_ci(final(a, deep), final(b, deep), paired=False).values(
            f"final_loss_d{deep}_{value_key(a)}_minus_{value_key(b)}"))
    values.update(difference_ci([r["steps_to"] for r in best[("residual", deep)]],
                                [r["steps_to"] for r in best[("residual + batch norm", deep)]], paired=False)
                  .values(f"steps_to_d{deep}_residual_minus_residual_batch_norm"))
    values["networks_reaching_d100"] = sum(values[f"{value_key(n)}_d{deep}_reached"] == p["seeds"] for n in NETWORKS)
    values["networks_reaching_d10"] = sum(values[f"{value_key(n)}_d{shallow}_reached"] == p["seeds"] for n in NETWORKS)
    values.update({"steps": p["steps"], "threshold": p["threshold"], "width": p["width"], "n_samples": p["n_samples"],
                   "seeds": p["seeds"], "coarse_seeds": p["coarse_seeds"], "shallow": shallow, "deep": deep,
                   "rates": len(p["lrs"]), "smallest_lr": min(p["lrs"]), "largest_lr": max(p["lrs"]),
                   "diverged_factor": p["diverged_factor"]})
    return Result(rows, values, summary=summary)


def chart(rows: list, p: dict) -> alt.VConcatChart:
    diverged_strip = 10 ** 0.7  # the loss axis above this line shows diverged runs, one row per network
    names = list(NETWORKS)
    depth_param = alt.param(name="depth", value=max(p["depths"]), bind=alt.binding_radio(
        options=p["depths"], labels=[f"depth {d}" for d in p["depths"]], name="network depth L "))
    data = alt.Chart(table(rows)).transform_filter("datum.depth == depth")
    color, dash, _ = architecture_encodings(names, field="network", columns=2)
    # Networks at the same rate and value (residual and residual + batch norm often are) nest, each a size
    # smaller than the one drawn before it, instead of hiding one another.
    nested = alt.Size("network:N", legend=None, scale=alt.Scale(
        domain=names, range=[150 - 90 * k / max(len(names) - 1, 1) for k in range(len(names))]))
    low, high = min(p["lrs"]) / 2, max(p["lrs"]) * 6
    decades = [10.0 ** k for k in range(math.ceil(math.log10(low)), math.floor(math.log10(high)) + 1)]
    # Decades only, flush at the ends: a narrow panel has room for them and none runs into the y axis.
    x = alt.X("lr:Q", title="learning rate (log)", scale=alt.Scale(type="log", domain=[low, high]),
              axis=alt.Axis(values=decades, format="~e", labelFlush=True))
    tooltip = [alt.Tooltip("network:N"), alt.Tooltip("depth:Q"), alt.Tooltip("lr:Q", format=".2g"),
               alt.Tooltip("stage:N"), alt.Tooltip("networks:Q", title="runs"), alt.Tooltip("reached:Q"),
               alt.Tooltip("stalled:Q"), alt.Tooltip("diverged:Q"),
               alt.Tooltip("reached_share:Q", format=".2f"), alt.Tooltip("best:N", title="best rate")]
    coarse = data.transform_filter("datum.stage == 'coarse'")
    fine = data.transform_filter("datum.stage == 'fine'")
    # final loss: geometric mean over the runs of a rate where none diverged; otherwise a cross in the strip
    # above 10, one row per network (0.4 decades apart), so that crosses of one rate do not pile up
    loss = data.transform_calculate(
        loss=f"datum.diverged > 0 ? pow(10, 3 - 0.4 * indexof({names}, datum.network)) : pow(10, datum.log10_final_loss)",
        loss_low="datum.diverged > 0 ? null : pow(10, datum.log10_final_loss_ci_low)",
        loss_high="datum.diverged > 0 ? null : pow(10, datum.log10_final_loss_ci_high)")
    loss_y = alt.Y("loss:Q", title="final loss (log; above the line: diverged)",
                   scale=alt.Scale(type="log", domain=[1e-7, 1e3], clamp=True),
                   axis=alt.Axis(values=[1e-7, 1e-5, 1e-3, 1e-1], format="~e"))  # above the line: rows, not losses
    finite = loss.transform_filter("datum.diverged == 0")
    losses = alt.layer(
        finite.transform_filter("datum.stage == 'coarse'").mark_line(strokeWidth=1.5, opacity=0.6, point=True)
        .encode(x=x, y=loss_y, color=color, strokeDash=dash),
        finite.transform_filter("datum.stage == 'fine'").mark_errorbar(ticks=True).encode(
            x=x, y=alt.Y("loss_low:Q", title="", scale=alt.Scale(type="log", domain=[1e-7, 1e3], clamp=True)),
            y2="loss_high:Q", color=color),
        loss.transform_filter("datum.stage == 'fine'").mark_point(filled=True).encode(
            x=x, y=loss_y, color=color, tooltip=tooltip, size=nested,
            shape=alt.condition("datum.best", alt.value("diamond"), alt.value("circle"))),
        loss.transform_filter("datum.diverged > 0").mark_point(shape="cross", size=70, filled=True, opacity=1).encode(
            x=x, y=loss_y, color=color, tooltip=tooltip),
        alt.Chart(alt.InlineData(values=[{"loss": 0.5}, {"loss": p["threshold"]}])).mark_rule(
            color=theme.THEORY_COLOR, strokeDash=theme.THEORY_DASH).encode(y="loss:Q"),
        # the strip of diverged runs, set off from the losses below it
        alt.Chart(alt.InlineData(values=[{"loss": diverged_strip}])).mark_rule(
            color=theme.ANNOTATION_COLOR, strokeWidth=0.8).encode(y="loss:Q"),
        annotation("↑ diverged", (x, high), (loss_y, diverged_strip), dx=-2, dy=8, align="right"),
    ).properties(width="container", height=theme.HEIGHT - 60,
                 title=alt.Title("Final loss after the budget at each rate",
                                 subtitle=["grey dashed: ½ (a constant prediction), threshold",
                                           f"lines: coarse grid, {p['coarse_seeds']} seeds",
                                           f"dots, 95% intervals: {p['seeds']} seeds at the best",
                                           "rate (diamond) and its neighbours"]))
    y = alt.Y("reached_share:Q", title=f"share reaching {p['threshold']:g}", scale=alt.Scale(domain=[0, 1]))
    shares = alt.layer(
        coarse.mark_line(strokeWidth=1.5, opacity=0.6, point=True).encode(x=x, y=y, color=color, strokeDash=dash),
        fine.mark_errorbar(ticks=True).encode(x=x, y=alt.Y("reached_share_ci_low:Q", title=""),
                                              y2="reached_share_ci_high:Q", color=color),
        fine.mark_point(filled=True).encode(
            x=x, y=y, color=color, size=nested,
            shape=alt.condition("datum.best", alt.value("diamond"), alt.value("circle")),
            tooltip=tooltip),
        coarse.mark_point(size=40, opacity=0).encode(x=x, y=y, tooltip=tooltip),
    ).properties(width="container", height=150,
                 title=alt.Title("Share of runs reaching the threshold", subtitle="within the budget"))
    return alt.vconcat(losses, shares, spacing=16).add_params(depth_param)


FIGURE = Figure(
    id="solutions-training",
    title="Which deep networks train, each at its best learning rate",
    caption=(
        "Full-batch gradient descent for {{ value: solutions-training.steps }} steps on the teacher regression task of "
        "chapter 3 ({{ value: solutions-training.n_samples }} inputs; a constant prediction has loss ½), width "
        "{{ value: solutions-training.width }}<span class='dl-screen-only'>; choose the depth</span>. Every network gets its own learning-rate sweep: a "
        "coarse grid of {{ value: solutions-training.rates }} rates from {{ value: solutions-training.smallest_lr }} to "
        "{{ value: solutions-training.largest_lr }} ({{ value: solutions-training.coarse_seeds }} seeds each, lines), "
        "then {{ value: solutions-training.seeds }} seeds at the best coarse rate and at √10 below and above it (dots "
        "with 95% bootstrap intervals; the diamond is the best rate). A run reached the threshold "
        "{{ value: solutions-training.threshold }} within the budget, diverged (a non-finite loss or one above "
        "{{ value: solutions-training.diverged_factor }}× its initial loss) or stalled<span class='dl-screen-only'>; hover for the counts</span>."
    ),
    params=PARAMS,
    compute=compute,
    chart=chart,
    alt_text=(
        "Two panels against the learning rate (log scale), with a depth selector: the final loss of each rate of each "
        "sweep, and the share of runs reaching the loss threshold, for six networks (plain, "
        "batch norm, residual, residual + batch norm, LSUV, MetaInit). At depth "
        "{{ value: solutions-training.deep }} only the residual networks reach the threshold at their best rate; the "
        "plain, batch-norm, LSUV and MetaInit networks end near the constant prediction's loss or diverge."
    ),
    claims=(
        Claim("grid-brackets", All(*[check for name in NETWORKS for depth in PARAMS["depths"] for check in (
            Equals(f"{value_key(name)}_d{depth}_largest_rate_diverged", "coarse_seeds"),
            Equals(f"{value_key(name)}_d{depth}_smallest_rate_reached", 0))])),
        Claim("shallow-most-train", All(Equals("batch_norm_d10_reached", "seeds"), Equals("residual_d10_reached", "seeds"),
                                        Equals("residual_batch_norm_d10_reached", "seeds"),
                                        Above("plain_d10_reached_share", 0.5, interval=True))),
        Claim("shallow-lsuv-some", All(Above("lsuv_d10_reached", 0), Below("lsuv_d10_reached", "seeds"))),
        Claim("shallow-metainit", All(Below("metainit_d10_reached_share", "plain_d10_reached_share", interval=True),
                                      Below("metainit_d10_best_lr", "plain_d10_best_lr"))),
        Claim("deep-plain-stalls", All(Equals("plain_d100_stalled", "seeds"),
                                       Above("plain_d100_final_loss", 0.4, interval=True),
                                       Below("plain_d100_final_loss", 0.55, interval=True))),
        Claim("deep-bn-stalls", Equals("batch_norm_d100_reached", 0)),
        Claim("deep-init-stalls", All(Equals("lsuv_d100_reached", 0), Equals("metainit_d100_reached", 0))),
        Claim("deep-residual-train", All(Equals("residual_d100_reached", "seeds"),
                                         Equals("residual_batch_norm_d100_reached", "seeds"))),
        Claim("deep-count", All(Equals("networks_reaching_d100", 2), Equals("residual_d100_reached", "seeds"),
                                Equals("residual_batch_norm_d100_reached", "seeds"),
                                *[Equals(f"{k}_d100_reached", 0) for k in ("plain", "batch_norm", "lsuv", "metainit")])),
        Claim("which-train-deep", All(Equals("networks_reaching_d100", 2), Equals("residual_d100_reached", "seeds"),
                                      Equals("residual_batch_norm_d100_reached", "seeds"),
                                      *[Equals(f"{k}_d100_reached", 0) for k in ("plain", "batch_norm", "lsuv", "metainit")])),
        Claim("residual-beats-plain", All(Differs("final_loss_d100_plain_minus_residual"),
                                          Above("final_loss_d100_plain_minus_residual", 0),
                                          Differs("final_loss_d100_batch_norm_minus_residual_batch_norm"),
                                          Above("final_loss_d100_batch_norm_minus_residual_batch_norm", 0))),
        Claim("init-moves-rate", Below("lsuv_d100_best_lr", "plain_d100_best_lr")),
    ),
)
