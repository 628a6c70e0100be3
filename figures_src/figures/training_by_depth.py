"""Full-batch gradient descent on a random-teacher regression task, plain He students of several depths.

Each depth gets its own learning-rate sweep, in two stages: a coarse sweep over a log grid (2 seeds per rate),
then `seeds` networks at the best rate of the coarse sweep and its two neighbours, extended rate by rate
until the best is bracketed by rates that do worse. Every run's outcome is
classified: `diverged` (a non-finite loss, or a final loss above 10× the initial one), `reached` (the loss got
below the threshold within the step budget), `stalled` (neither). A run that did not reach the threshold has
no step count (NaN in the rows, never the step budget). Depths are compared at each depth's best rate, and at
one shared rate (the best for the shallowest depth), with the same `seeds` networks per depth; the tuned rate
is shown next to 2/λ_max of the Hessian at initialisation."""

import functools
import json
import math

import altair as alt
import torch

from figures_src import theme
from figures_src.charts import haloed, line_legend, two_by_row
from figures_src.claims import Above, All, Below, Claim, Differs, Equals
from figures_src.curvature import HessianOperator, lanczos
from figures_src.figure import Figure, Result, table
from figures_src.model import MLP, MLPConfig, seeded
from figures_src.stats import difference_ci, mean_ci
from figures_src.training import steps_to, teacher_task, train_mlps

PARAMS = {"d_in": 16, "n_samples": 64, "task_seed": 0, "width": 32, "depths": [2, 4, 8, 16, 32],
          "coarse_seeds": 2, "seeds": 8, "lrs": [2.0**-k for k in range(-1, 11)], "steps": 600,
          "threshold": 0.05, "diverged_factor": 10, "record_every": 15}

TUNED, FIXED = "tuned", "fixed"  # the data's codes; the menu and legends show LABELS
LABELS = {TUNED: "best rate of each depth", FIXED: "shared rate (best for the shallowest)"}
OUTCOMES = ["reached", "stalled", "diverged"]
OUTCOME_COLORS = [theme.BLUE, theme.ORANGE, "#D55E00"]


def networks(p: dict, depth: int, count: int) -> list[MLP]:
    return [MLP(MLPConfig(d_in=p["d_in"], width=p["width"], depth=depth), seeded(1000 * depth + seed))
            for seed in range(count)]


def top_eigenvalue(net: MLP, x: torch.Tensor, y: torch.Tensor, seed: int) -> float:
    net64 = MLP(net.config, dtype=torch.float64)
    with torch.no_grad():
        for target, source in zip(net64.weights, net.weights):
            target.copy_(source.double())
    op = HessianOperator(net64, x.double(), y.double())
    return lanczos(op, op.dim, tol=1e-4, generator=seeded(seed), which="top").top


def outcomes(losses: torch.Tensor, p: dict) -> tuple[list[str], torch.Tensor]:
    """Each run's outcome and its steps to the threshold (NaN unless it reached it)."""
    steps = steps_to(losses, p["threshold"])
    final = losses[:, -1]
    diverged = ~torch.isfinite(final) | (final > p["diverged_factor"] * losses[:, 0])
    kinds = ["diverged" if d else ("reached" if math.isfinite(s) else "stalled")
             for d, s in zip(diverged.tolist(), steps.tolist())]
    steps = torch.tensor([s if k == "reached" else float("nan") for k, s in zip(kinds, steps.tolist())],
                         dtype=torch.float64)
    return kinds, steps


def rank_key(kinds: list[str], steps: torch.Tensor, final: torch.Tensor) -> tuple:
    """How good a rate is over its runs: most runs reaching the threshold, then fewest median steps (a run that
    did not reach counts as never), then lowest median final loss."""
    never = steps.nan_to_num(nan=float("inf"))
    return (-kinds.count("reached"), never.median().item(), final.nan_to_num(nan=float("inf")).median().item())


def sweep(models: list[MLP], rates: list[float], x, y, p) -> torch.Tensor:
    """(rates, networks, steps + 1) losses: every network at every rate."""
    return train_mlps([m for _ in rates for m in models], x, y, [lr for lr in rates for _ in models],
                      p["steps"]).view(len(rates), len(models), -1)


def compute(p: dict) -> Result:
    torch.set_num_threads(1)  # small matrices: threads cost more than they give
    x, y = teacher_task(p["d_in"], p["n_samples"], p["task_seed"])
    lrs = p["lrs"]
    rows, summary, values = [], [], {}
    runs = {}  # (depth, lr index) -> (kinds, steps, losses) of the `seeds` networks
    edges = {}
    bracketed = 0  # depths whose best rate has a worse rate tried on either side
    for depth in p["depths"]:
        coarse_nets = networks(p, depth, p["coarse_seeds"])
        coarse = sweep(coarse_nets, lrs, x, y, p)
        ranking = []
        for i, lr in enumerate(lrs):
            kinds, steps = outcomes(coarse[i], p)
            ranking.append((rank_key(kinds, steps, coarse[i, :, -1]), i))
            rows += [{"stage": "coarse", "depth": depth, "lr": lr, "seed": s, "outcome": kinds[s],
                      "steps_to_threshold": steps[s].item(), "final_loss": coarse[i, s, -1].item()}
                     for s in range(len(coarse_nets))]
            summary.append({"panel": "sweep", "depth": depth, "lr": lr, "networks": len(coarse_nets),
                            "reached": kinds.count("reached") / len(kinds)})
        best_coarse = min(ranking)[1]
        candidates = [i for i in (best_coarse - 1, best_coarse, best_coarse + 1) if 0 <= i < len(lrs)]
        nets = networks(p, depth, p["seeds"])
        fine = sweep(nets, [lrs[i] for i in candidates], x, y, p)
        for j, i in enumerate(candidates):
            kinds, steps = outcomes(fine[j], p)
            runs[depth, i] = (kinds, steps, fine[j])
        sharpness = torch.tensor([top_eigenvalue(net, x, y, s) for s, net in enumerate(nets)], dtype=torch.float64)
        edges[depth] = 2 / sharpness
        def rank(i: int):
            return rank_key(runs[depth, i][0], runs[depth, i][1], runs[depth, i][2][:, -1])

        # The best rate must be bracketed by rates that do worse: while it sits at the edge of the rates tried
        # with `seeds` networks, try the next one out (unless the grid ends there).
        best = min(candidates, key=rank)
        while best in (min(candidates), max(candidates)):
            beyond = best - 1 if best == min(candidates) else best + 1
            if not 0 <= beyond < len(lrs) or beyond in candidates:
                break
            losses = sweep(nets, [lrs[beyond]], x, y, p)[0]
            runs[depth, beyond] = (*outcomes(losses, p), losses)
            candidates.append(beyond)
            best = min(candidates, key=rank)
        runs[depth, "best"] = best
        bracketed += min(candidates) < best < max(candidates)
    shared = runs[p["depths"][0], "best"]
    for depth in p["depths"]:
        if (depth, shared) not in runs:
            losses = sweep(networks(p, depth, p["seeds"]), [lrs[shared]], x, y, p)[0]
            runs[depth, shared] = (*outcomes(losses, p), losses)
    values["fixed_lr"] = lrs[shared]
    values["bracketed_depths"] = bracketed

    for depth in p["depths"]:
        best = runs[depth, "best"]
        for i in sorted(k for d, k in runs if d == depth and k != "best"):
            kinds, steps, losses = runs[depth, i]
            rows += [{"stage": "fine", "depth": depth, "lr": lrs[i], "seed": s, "outcome": kinds[s],
                      "steps_to_threshold": steps[s].item(), "final_loss": losses[s, -1].item(),
                      "best_rate": i == best, "shared_rate": i == shared} for s in range(len(kinds))]
        for setting, i in ((TUNED, best), (FIXED, shared)):
            kinds, steps, losses = runs[depth, i]
            for outcome in OUTCOMES:
                summary.append({"panel": "outcomes", "setting": setting, "depth": depth, "lr": lrs[i],
                                "outcome": outcome, "runs": kinds.count(outcome), "networks": len(kinds)})
                values[f"{outcome}_{setting}_l{depth}"] = kinds.count(outcome)
            # The loss curve of the median run at each recorded step (diverged runs count as +inf), and the
            # middle half of the runs.
            curve = losses[:, ::p["record_every"]].nan_to_num(nan=float("inf"))
            quartiles = torch.quantile(curve.clamp(max=1e30), torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64), dim=0)
            for k in range(curve.shape[1]):
                summary.append({"panel": "curve", "setting": setting, "depth": depth, "step": k * p["record_every"],
                                "networks": len(kinds), "loss": quartiles[1, k].item(),
                                "loss_q25": quartiles[0, k].item(), "loss_q75": quartiles[2, k].item()})
            # Median steps to the threshold: finite only if more than half the runs reached it.
            values[f"steps_{setting}_l{depth}"] = steps.nan_to_num(nan=float("inf")).median().item()
            final = losses[:, -1]
            stalled = torch.tensor([k == "stalled" for k in kinds])
            if stalled.sum() >= 2:
                values |= mean_ci(final[stalled]).values(f"final_stalled_{setting}_l{depth}")
                values[f"final_stalled_min_{setting}_l{depth}"] = final[stalled].min().item()
                values[f"final_stalled_max_{setting}_l{depth}"] = final[stalled].max().item()
            if setting == TUNED:
                if all(k == "reached" for k in kinds):
                    estimate = mean_ci(steps)
                    values |= estimate.values(f"mean_steps_tuned_l{depth}")
                    summary.append({"panel": "steps", "depth": depth, "lr": lrs[i], "networks": len(kinds),
                                    **estimate.columns("steps")})
                values[f"best_lr_l{depth}"] = lrs[i]
                ratio = lrs[i] / edges[depth]
                values |= mean_ci(ratio).values(f"best_lr_over_edge_l{depth}")
                values |= mean_ci(edges[depth]).values(f"edge_l{depth}")
                summary.append({"panel": "lr", "depth": depth, "networks": len(kinds), "best_lr": lrs[i],
                                **mean_ci(edges[depth]).columns("edge")})
    # Depth against the shallowest, at each one's best rate (different networks: unpaired).
    first = p["depths"][0]
    for depth in p["depths"][1:]:
        if f"mean_steps_tuned_l{depth}" in values and f"mean_steps_tuned_l{first}" in values:
            a, b = runs[depth, runs[depth, "best"]][1], runs[first, runs[first, "best"]][1]
            values |= difference_ci(a, b, paired=False).values(f"steps_l{depth}_minus_l{first}")
    ratios = [values[f"best_lr_over_edge_l{d}"] for d in p["depths"]]
    values["best_over_edge_min"], values["best_over_edge_max"] = min(ratios), max(ratios)
    values["best_above_edge"] = sum(values[f"best_lr_over_edge_l{d}_ci_low"] > 1 for d in p["depths"])
    values["best_below_edge"] = sum(values[f"best_lr_over_edge_l{d}_ci_high"] < 1 for d in p["depths"])
    values["depth_count"] = len(p["depths"])
    values["all_reached_tuned"] = sum(values[f"reached_tuned_l{d}"] == p["seeds"] for d in p["depths"])
    # Old names the front pages quote: reached_fixed_lX is the count of runs that reached at the shared rate.
    values |= {"width": p["width"], "seeds": p["seeds"], "coarse_seeds": p["coarse_seeds"],
               "n_samples": p["n_samples"], "d_in": p["d_in"], "steps": p["steps"], "threshold": p["threshold"],
               "diverged_factor": p["diverged_factor"], "deepest": max(p["depths"]), "shallowest": min(p["depths"]),
               "depth_over_width": max(p["depths"]) / p["width"], "grid_size": len(lrs), "lr_max": max(lrs),
               "lr_min": min(lrs)}
    return Result(rows, values, summary=summary)


def chart(rows: list, p: dict, stacked: bool = False) -> alt.VConcatChart | alt.ConcatChart:
    data = alt.Chart(table(rows))
    setting = alt.param(name="setting", value=TUNED,
                        bind=alt.binding_select(options=[TUNED, FIXED], labels=[LABELS[TUNED], LABELS[FIXED]],
                                                name="learning rate "))
    # Depths by colour and dash (theme.DEPTH_COLORS, DEPTH_DASHES), named once above the first panel.
    depth_color = alt.Color("depth:O", title="depth L", scale=alt.Scale(
        domain=p["depths"], range=[theme.DEPTH_COLORS[d] for d in p["depths"]]),
                            legend=line_legend(orient="top", direction="horizontal"))
    depth_dash = alt.StrokeDash("depth:O", title="depth L", scale=alt.Scale(
        domain=p["depths"], range=[theme.DEPTH_DASHES[d] for d in p["depths"]]),
        legend=line_legend(orient="top", direction="horizontal"))
    chosen = "datum.setting == setting"
    curve = data.transform_filter(f"datum.panel == 'curve' && {chosen}")
    x_steps = alt.X("step:Q", title="gradient-descent step", scale=alt.Scale(domain=[0, p["steps"]], nice=False))
    # Clipped, not clamped: a run below 1e-4 leaves through the axis instead of running along it like a plateau.
    loss_scale = alt.Scale(type="log", domain=[1e-4, 10])
    y_loss = alt.Y("loss:Q", title="training loss (log scale)", scale=loss_scale)
    curves = alt.layer(
        curve.mark_area(opacity=0.15, clip=True).encode(x=x_steps, y=alt.Y("loss_q25:Q", scale=loss_scale),
                                             y2="loss_q75:Q", color=depth_color),
        curve.mark_line(strokeWidth=2.5, clip=True).encode(
            x=x_steps, y=y_loss, color=depth_color, strokeDash=depth_dash,
            tooltip=[alt.Tooltip("depth:O"), alt.Tooltip("step:Q"), alt.Tooltip("loss:Q", format=".4g", title="median run"),
                     alt.Tooltip("loss_q25:Q", format=".4g", title="25th percentile"),
                     alt.Tooltip("loss_q75:Q", format=".4g", title="75th percentile")]))
    threshold = alt.Chart(alt.InlineData(values=[{"loss": p["threshold"]}])).mark_rule(
        color=theme.THEORY_COLOR, strokeDash=theme.THEORY_DASH).encode(y="loss:Q")
    # Haloed and drawn last: at the shared rate the deepest network's band covers the line it names.
    constant = haloed(alt.Chart(alt.InlineData(values=[{"loss": 0.5, "label": "predicting the mean"}])),
                      {"y": "loss:Q", "text": "label:N"}, align="right", baseline="bottom", x="width", dx=-4, dy=-3,
                      fontSize=11, color=theme.THEORY_COLOR)
    constant_rule = alt.Chart(alt.InlineData(values=[{"loss": 0.5}])).mark_rule(
        color=theme.THEORY_COLOR, strokeDash=[1, 3]).encode(y="loss:Q")
    top = alt.layer(constant_rule, threshold, curves, constant).add_params(setting).properties(
        height=theme.HEIGHT - 60,
        title=alt.Title(alt.expr(f"['Loss of the median run,', "  # two lines: the longer setting fits a phone
                                 f"(setting == 'tuned' ? {json.dumps(LABELS[TUNED])} : {json.dumps(LABELS[FIXED])})]"),
                        subtitle=f"band: middle half of {p['seeds']} runs"))

    depth_x = alt.X("depth:O", title="depth L", axis=alt.Axis(labelAngle=0))  # upright: 12-px digits, not 8-px wide
    outcome_color = alt.Color("outcome:N", title="run", sort=OUTCOMES,
                              scale=alt.Scale(domain=OUTCOMES, range=OUTCOME_COLORS))
    bars = data.transform_filter("datum.panel == 'outcomes'").mark_bar().encode(
        x=depth_x, y=alt.Y("runs:Q", title=f"runs (of {p['seeds']})"), color=outcome_color,
        row=alt.Row("setting:N", title=None, sort=[TUNED, FIXED],  # rows, not columns: narrow screens
                    header=alt.Header(labelAngle=0, labelOrient="top", labelAnchor="start",
                                      labelExpr=f"datum.value == 'tuned' ? {json.dumps(LABELS[TUNED])} : "
                                                f"{json.dumps(LABELS[FIXED])}")),
        order=alt.Order("outcome:N", sort="descending"),
        tooltip=[alt.Tooltip("setting:N"), "depth:O", alt.Tooltip("lr:Q", format=".4g"), "outcome:N", "runs:Q"]
    ).properties(height=80, title=alt.Title(
        f"Outcome of each run within {p['steps']} steps", subtitle=f"threshold {p['threshold']}", fontSize=13))

    # Interval caps 12 px wide: as wide as a depth's column they read as reference lines.
    steps = data.transform_filter("datum.panel == 'steps'")
    steps_panel = alt.layer(
        steps.mark_errorbar(ticks={"size": 12}, color=theme.BLUE).encode(x=depth_x, y=alt.Y("steps_ci_low:Q", title="steps to the threshold"),
                                               y2="steps_ci_high:Q"),
        steps.mark_point(filled=True, size=60, color=theme.BLUE).encode(
            x=depth_x, y="steps:Q",
            tooltip=["depth:O", alt.Tooltip("lr:Q", format=".4g", title="best rate"),
                     alt.Tooltip("steps:Q", format=".1f", title="mean"),
                     alt.Tooltip("steps_ci_low:Q", format=".1f", title="95% CI low"),
                     alt.Tooltip("steps_ci_high:Q", format=".1f", title="95% CI high")]),
    ).properties(height=140, title=alt.Title("Steps to the threshold at each depth's best rate",
                                             subtitle="mean, 95% CI", fontSize=13))

    sweep = data.transform_filter("datum.panel == 'sweep'")
    sweep_panel = sweep.mark_line(point=True, strokeWidth=1.8).encode(
        x=alt.X("lr:Q", title="learning rate (log scale)", scale=alt.Scale(type="log", base=2),
                axis=alt.Axis(values=p["lrs"][::2], format=".2~g")),
        y=alt.Y("reached:Q", title=f"share reaching {p['threshold']:g}", axis=alt.Axis(format="%")), color=depth_color,
        strokeDash=depth_dash,
        tooltip=["depth:O", alt.Tooltip("lr:Q", format=".4g"), alt.Tooltip("reached:Q", format=".0%"), "networks:Q"]
    ).properties(height=110, title=alt.Title(f"Coarse sweep: {p['coarse_seeds']} networks per rate", fontSize=13))

    lr_rows = data.transform_filter("datum.panel == 'lr'")
    lr_y = alt.Y("best_lr:Q", title="learning rate (log)", scale=alt.Scale(type="log", base=2),
                 axis=alt.Axis(format=".2~g"))
    bottom = alt.layer(
        lr_rows.mark_errorbar(ticks={"size": 12}, color=theme.THEORY_COLOR).encode(
            x=depth_x, y=alt.Y("edge_ci_low:Q", title="learning rate (log)", scale=alt.Scale(type="log", base=2)),
            y2="edge_ci_high:Q"),
        lr_rows.mark_point(shape="diamond", filled=True, size=60, color=theme.THEORY_COLOR).encode(
            x=depth_x, y=alt.Y("edge:Q"),
            tooltip=["depth:O", alt.Tooltip("edge:Q", format=".4g", title="2/λₘₐₓ at init (mean)"),
                     alt.Tooltip("edge_ci_low:Q", format=".4g", title="95% CI low"),
                     alt.Tooltip("edge_ci_high:Q", format=".4g", title="95% CI high")]),
        lr_rows.mark_line(point=True, strokeWidth=2.2, color=theme.BLUE).encode(
            x=depth_x, y=lr_y, tooltip=["depth:O", alt.Tooltip("best_lr:Q", format=".4g", title="best rate")]),
    ).properties(height=140, title=alt.Title(  # as tall as its rotated axis title
        "Best rate (blue) next to 2/λₘₐₓ at initialisation", subtitle="grey: mean, 95% CI", fontSize=13))
    # Each panel names its own lines: the loss curves and the sweep get a depth legend (colour and dash) each.
    return two_by_row([top, bars, steps_panel, bottom, sweep_panel], stacked, spacing=18).resolve_scale(
        color="independent", strokeDash="independent")


FIGURE = Figure(
    id="training-by-depth",
    title="Deeper plain networks train slower, and at one learning rate they stall or diverge",
    caption=(
        "Full-batch gradient descent, squared loss, on {{ value: training-by-depth.n_samples }} samples of a random "
        "teacher network; plain He students of width {{ value: training-by-depth.width }} and depth "
        "{{ value: training-by-depth.shallowest }} to {{ value: training-by-depth.deepest }}. Each depth has its own "
        "learning-rate sweep: {{ value: training-by-depth.grid_size }} powers of 2 from "
        "{{ value: training-by-depth.lr_min | .4f }} to {{ value: training-by-depth.lr_max }} with "
        "{{ value: training-by-depth.coarse_seeds }} networks each (the coarse sweep), then "
        "{{ value: training-by-depth.seeds }} networks at the best rate and its neighbours, extended until the best is "
        "bracketed by rates that do worse. A run *reached* "
        "the threshold {{ value: training-by-depth.threshold }} within {{ value: training-by-depth.steps }} steps, "
        "*diverged* (non-finite loss or final loss above {{ value: training-by-depth.diverged_factor }}× the initial "
        "one), or *stalled*. The five charts, in reading order: the loss of the median run at each depth's best "
        "rate or at the shared rate {{ value: training-by-depth.fixed_lr }} (<span class='dl-screen-only'>menu; </span>dotted: the loss of predicting "
        "the mean, dashed: the threshold); outcomes; steps to the threshold at the best rate; the best rate next to "
        "$2/\\lambda_\\max$ of the Hessian at initialisation; and the coarse sweep."
    ),
    params=PARAMS,
    compute=compute,
    chart=chart,
    stacked_chart=functools.partial(chart, stacked=True),
    alt_text=(
        "Five charts. Median loss curves of gradient descent for depths {{ value: training-by-depth.shallowest }} to "
        "{{ value: training-by-depth.deepest }}; bars of run outcomes (reached, stalled, diverged) per depth at each "
        "depth's best rate and at the shared rate {{ value: training-by-depth.fixed_lr }}, where "
        "{{ value: training-by-depth.reached_fixed_l32 }} of {{ value: training-by-depth.seeds }} networks of depth 32 "
        "reach the threshold; mean steps to the threshold at the best rate with 95% intervals; the best rate and "
        "2/λₘₐₓ against depth; and the coarse sweep's share of runs reaching the threshold against the rate."
    ),
    claims=(
        Claim("tuned-trains", All(*(Equals(f"{outcome}_tuned_l{depth}", "seeds" if outcome == "reached" else 0)
                                    for depth in (2, 4, 8, 16, 32)
                                    for outcome in ("reached", "stalled", "diverged")))),
        Claim("best-bracketed", Equals("bracketed_depths", "depth_count")),
        Claim("deep-slower", All(Differs("steps_l32_minus_l2"), Above("steps_l32_minus_l2", 0),
                                 Differs("steps_l16_minus_l2"), Above("steps_l16_minus_l2", 0))),
        Claim("depth4-faster", All(Differs("steps_l4_minus_l2"), Below("steps_l4_minus_l2", 0))),
        Claim("shared-fails", All(Equals("reached_fixed_l2", "seeds"), Below("reached_fixed_l32", 4))),
        Claim("shared-stall-and-diverge", All(Above("diverged_fixed_l32", 0), Above("stalled_fixed_l32", 0))),
        Claim("stalled-loss", All(Above("final_stalled_min_fixed_l32", "threshold"),
                                  Below("final_stalled_max_fixed_l32", 0.51))),
        Claim("above-edge-l32", All(Above("best_lr_over_edge_l32", 1, interval=True),
                                    Above("best_lr_over_edge_l2", 1, interval=True))),
        Claim("edge-scale", All(Above("best_over_edge_min", 1), Below("best_over_edge_max", 10),
                                Above("best_above_edge", 2))),
        Claim("not-below-edge", Above("best_above_edge", 2)),
        Claim("deep-trains", Equals("reached_tuned_l32", "seeds")),
        Claim("slower-and-fragile", All(Differs("steps_l32_minus_l2"), Above("steps_l32_minus_l2", 0),
                                        Below("reached_fixed_l32", "reached_fixed_l2"))),
        Claim("shared-depth16", Above("diverged_fixed_l16", 0)),
    ),
)
