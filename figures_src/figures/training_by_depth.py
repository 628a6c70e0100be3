"""Full-batch gradient descent on a random-teacher regression task: how many steps each depth needs, at a
learning rate tuned per depth and at one fixed learning rate, and the tuned rate next to 2/λ_max at init."""

import json

import altair as alt
import torch

from figures_src import theme
from figures_src.curvature import HessianOperator, lanczos
from figures_src.figure import Figure, Result, table
from figures_src.model import MLP, MLPConfig, seeded
from figures_src.training import steps_to, teacher_task, train_mlps

PARAMS = {"d_in": 16, "n_samples": 64, "task_seed": 0, "width": 32, "depths": [2, 4, 8, 16, 32], "seeds": 3,
          "lrs": [2.0**-k for k in range(1, 9)], "steps": 600, "threshold": 0.05, "record_every": 15}

TUNED, FIXED = "tuned", "fixed"  # the data's codes; the menu and legends show LABELS
LABELS = {TUNED: "tuned per depth", FIXED: "fixed (best for the shallowest)"}
DEPTH_COLORS = ["#A9CFEA", "#7FB5E0", "#4A97D1", "#2373B8", "#0B4F8A"]  # plain-network blues (the WIDTH_SHADES range), darker = deeper


def networks(p: dict, depth: int) -> list[MLP]:
    return [MLP(MLPConfig(d_in=p["d_in"], width=p["width"], depth=depth), seeded(1000 * depth + seed))
            for seed in range(p["seeds"])]


def top_eigenvalue(net: MLP, x: torch.Tensor, y: torch.Tensor, seed: int) -> float:
    net64 = MLP(net.config, dtype=torch.float64)
    with torch.no_grad():
        for target, source in zip(net64.weights, net.weights):
            target.copy_(source.double())
    op = HessianOperator(net64, x.double(), y.double())
    return lanczos(op, op.dim, tol=1e-4, generator=seeded(seed), which="top").top


def rank_key(steps: torch.Tensor, final: torch.Tensor) -> tuple[float, float]:
    """How good a learning rate is over the seeds: median steps to the threshold, then median final loss
    (a diverged run has final loss inf)."""
    return steps.median().item(), final.nan_to_num(nan=float("inf")).median().item()


def compute(p: dict) -> Result:
    x, y = teacher_task(p["d_in"], p["n_samples"], p["task_seed"])
    rows, values, curves, best = [], {}, {}, {}
    for depth in p["depths"]:
        nets = networks(p, depth)
        grid = train_mlps([net for _ in p["lrs"] for net in nets], x, y,
                          [lr for lr in p["lrs"] for _ in nets], p["steps"]).view(len(p["lrs"]), len(nets), -1)
        curves[depth] = grid
        ranking = []
        for i, lr in enumerate(p["lrs"]):
            steps = steps_to(grid[i], p["threshold"])
            final = grid[i, :, -1]
            ranking.append((rank_key(steps, final), i))
            rows += [{"panel": "grid", "depth": depth, "lr": lr, "seed": s, "steps_to_threshold": steps[s],
                      "final_loss": final[s]} for s in range(len(nets))]
        best[depth] = min(ranking)[1]
        sharpness = torch.tensor([top_eigenvalue(net, x, y, s) for s, net in enumerate(nets)])
        rows.append({"panel": "lr", "depth": depth, "best_lr": p["lrs"][best[depth]],
                     "edge": (2 / sharpness).mean(), "edge_min": (2 / sharpness).min(),
                     "edge_max": (2 / sharpness).max(), "lambda_max": sharpness.mean()})
        values[f"best_lr_l{depth}"] = p["lrs"][best[depth]]
        values[f"edge_l{depth}"] = (2 / sharpness).mean()
        values[f"lambda_max_l{depth}"] = sharpness.mean()
        values[f"best_lr_over_edge_l{depth}"] = p["lrs"][best[depth]] / (2 / sharpness).mean()
    ratios = [values[f"best_lr_over_edge_l{d}"] for d in p["depths"]]
    values["best_over_edge_min"], values["best_over_edge_max"] = min(ratios), max(ratios)
    values["best_above_edge"] = sum(r > 1 for r in ratios)
    values["depth_count"] = len(p["depths"])
    fixed = best[p["depths"][0]]
    values["fixed_lr"] = p["lrs"][fixed]
    for depth in p["depths"]:
        for setting, i in ((TUNED, best[depth]), (FIXED, fixed)):
            grid = curves[depth][i]
            steps = steps_to(grid, p["threshold"])
            for s in range(grid.shape[0]):
                diverged = torch.isinf(grid[s]).nonzero()
                for k in range(0, p["steps"] + 1, p["record_every"]):
                    rows.append({"panel": "curve", "setting": setting, "depth": depth, "seed": s, "step": k,
                                 "loss": grid[s, k]})
                if len(diverged):
                    rows.append({"panel": "diverged", "setting": setting, "depth": depth, "seed": s,
                                 "step": diverged[0, 0].item()})
                rows.append({"panel": "steps", "setting": setting, "depth": depth, "seed": s,
                             "lr": p["lrs"][i], "steps_to_threshold": steps[s],
                             "final_loss": grid[s, -1]})
            tag = "tuned" if setting == TUNED else "fixed"
            # A run that never reaches the threshold has no step count (inf, null in the rows): the median run's
            # steps are not finite when most runs never reach it, and `reached_` counts the runs that do.
            values[f"steps_{tag}_l{depth}"] = steps.median().item()
            values[f"reached_{tag}_l{depth}"] = int(torch.isfinite(steps).sum())
            values[f"final_{tag}_l{depth}"] = grid[:, -1].nan_to_num(nan=float("inf")).median().item()
            values[f"diverged_{tag}_l{depth}"] = int(torch.isinf(grid[:, -1]).sum())
    values |= {"width": p["width"], "seeds": p["seeds"], "n_samples": p["n_samples"], "d_in": p["d_in"],
               "steps": p["steps"], "threshold": p["threshold"], "deepest": max(p["depths"]),
               "shallowest": min(p["depths"]), "depth_over_width": max(p["depths"]) / p["width"],
               "grid_size": len(p["lrs"]), "lr_max": max(p["lrs"]), "lr_min": min(p["lrs"])}
    return Result(rows, values)


def chart(rows: list, p: dict) -> alt.VConcatChart:
    data = alt.Chart(table(rows))
    setting = alt.param(name="setting", value=TUNED,
                        bind=alt.binding_select(options=[TUNED, FIXED], labels=[LABELS[TUNED], LABELS[FIXED]],
                                                name="learning rate "))
    depth_color = alt.Color("depth:O", title="depth L", scale=alt.Scale(domain=p["depths"], range=DEPTH_COLORS))
    chosen = f"datum.setting == setting"
    curves = data.transform_filter(f"datum.panel == 'curve' && {chosen} && isValid(datum.loss)").mark_line(
        strokeWidth=1.8, clip=True).encode(
        x=alt.X("step:Q", title="gradient-descent step", scale=alt.Scale(domain=[0, p["steps"]], nice=False)),
        y=alt.Y("loss:Q", title="training loss (log scale)", scale=alt.Scale(type="log", domain=[1e-4, 10])),
        color=depth_color, detail="seed:N",
        tooltip=[alt.Tooltip("depth:O"), alt.Tooltip("seed:N"), alt.Tooltip("step:Q"),
                 alt.Tooltip("loss:Q", format=".4g")])
    threshold = alt.Chart(alt.InlineData(values=[{"loss": p["threshold"]}])).mark_rule(
        color=theme.THEORY_COLOR, strokeDash=theme.THEORY_DASH).encode(y="loss:Q")
    constant = alt.Chart(alt.InlineData(values=[{"loss": 0.5, "label": "predicting the mean"}])).mark_text(
        align="right", x="width", dx=-4, dy=-7, fontSize=11, color=theme.THEORY_COLOR).encode(
        y="loss:Q", text="label:N")
    constant_rule = alt.Chart(alt.InlineData(values=[{"loss": 0.5}])).mark_rule(
        color=theme.THEORY_COLOR, strokeDash=[1, 3]).encode(y="loss:Q")
    diverged = data.transform_filter(f"datum.panel == 'diverged' && {chosen}").transform_calculate(
        loss="8").mark_point(shape="cross", size=90, strokeWidth=2.5).encode(
        x="step:Q", y="loss:Q", color=depth_color,
        tooltip=[alt.Tooltip("depth:O"), alt.Tooltip("seed:N"), alt.Tooltip("step:Q", title="diverged at step")])
    top = alt.layer(constant_rule, constant, threshold, curves, diverged).add_params(setting).properties(
        height=theme.HEIGHT - 40,
        title=alt.Title(alt.expr(f"'Loss curves, learning rate ' + (setting == 'tuned' ? "
                                 f"{json.dumps(LABELS[TUNED])} : {json.dumps(LABELS[FIXED])}) + ' (× at the top: diverged)'")))

    depth_x = alt.X("depth:Q", title="depth L", scale=alt.Scale(type="log", base=2, nice=False,
                                                               domain=[min(p["depths"]), max(p["depths"])]),
                    axis=alt.Axis(values=p["depths"]))
    settings = [TUNED, FIXED]
    setting_color = alt.Color("setting:N", title="learning rate", sort=settings,
                              scale=alt.Scale(domain=settings, range=["#0072B2", "#D55E00"]),
                              legend=alt.Legend(labelLimit=400, labelExpr=f"datum.value == 'tuned' ? "
                                                f"{json.dumps(LABELS[TUNED])} : {json.dumps(LABELS[FIXED])}"))
    ceiling = p["steps"] * 1.25
    steps = data.transform_filter("datum.panel == 'steps'").transform_calculate(
        reached="isValid(datum.steps_to_threshold)",
        shown=f"isValid(datum.steps_to_threshold) ? datum.steps_to_threshold : {ceiling}",
        outcome=f"isValid(datum.steps_to_threshold) ? 'reached' : "
                f"(isValid(datum.final_loss) ? {json.dumps('not within ' + str(p['steps']) + ' steps')} : 'diverged')")
    steps_y = alt.Y("shown:Q", title=f"steps to loss {p['threshold']} (log scale)",
                    scale=alt.Scale(type="log", domain=[10, ceiling * 1.1]))
    steps_tooltip = [alt.Tooltip("setting:N"), "depth:Q", "seed:N", alt.Tooltip("lr:Q", format=".4g"),
                     alt.Tooltip("outcome:N"), alt.Tooltip("steps_to_threshold:Q", title="steps"),
                     alt.Tooltip("final_loss:Q", format=".4g", title=f"loss after {p['steps']} steps")]
    middle = alt.layer(
        steps.mark_line(strokeWidth=2.2).encode(
            x=depth_x, y=alt.Y("median(shown):Q"), color=setting_color),
        steps.mark_point(size=50, filled=True, opacity=0.8).encode(
            x=depth_x, y=steps_y, color=setting_color,
            shape=alt.Shape("outcome:N", title="run", legend=alt.Legend(symbolFillColor=theme.THEORY_COLOR,
                                                                        symbolStrokeColor=theme.THEORY_COLOR),
                            scale=alt.Scale(
                domain=["reached", f"not within {p['steps']} steps", "diverged"],
                range=["circle", "triangle-up", "cross"])),
            tooltip=steps_tooltip),
        alt.Chart(alt.InlineData(values=[{"shown": ceiling, "label": "not reached"}])).mark_text(
            align="left", x=4, dy=-8, fontSize=11, color=theme.THEORY_COLOR).encode(y="shown:Q", text="label:N"),
    ).properties(height=theme.HEIGHT - 110, title=alt.Title(
        f"Steps to reach loss {p['threshold']} (dots: {p['seeds']} networks; line: their median)",
        fontSize=13))

    lr_rows = data.transform_filter("datum.panel == 'lr'")
    lr_y = alt.Y("value:Q", title="learning rate (log scale)", scale=alt.Scale(type="log", base=2),
                 axis=alt.Axis(format=".2~g"))
    kinds = ["best learning rate of the grid", "2 / λ_max at initialisation"]
    kind_color = alt.Color("kind:N", title=None, sort=kinds, scale=alt.Scale(domain=kinds,
                                                                          range=["#0072B2", theme.THEORY_COLOR]),
                           legend=alt.Legend(labelLimit=400))
    folded = lr_rows.transform_fold(["best_lr", "edge"], as_=["key", "value"]).transform_calculate(
        kind=f"datum.key == 'best_lr' ? {json.dumps(kinds[0])} : {json.dumps(kinds[1])}")
    bottom = alt.layer(
        lr_rows.mark_rule(color=theme.THEORY_COLOR, strokeWidth=1.5).encode(x=depth_x, y="edge_min:Q",
                                                                            y2="edge_max:Q"),
        folded.mark_line(strokeWidth=2.2, point=True).encode(
            x=depth_x, y=lr_y, color=kind_color, strokeDash=alt.StrokeDash("kind:N", sort=kinds, title=None,
                                                                           scale=alt.Scale(domain=kinds, range=[[1, 0], theme.THEORY_DASH])),
            tooltip=[alt.Tooltip("kind:N"), "depth:Q", alt.Tooltip("value:Q", format=".4g"),
                     alt.Tooltip("lambda_max:Q", format=".4g", title="λ_max at init (mean)")]),
    ).properties(height=theme.HEIGHT - 130, title=alt.Title(
        "The tuned learning rate next to 2/λ_max at initialisation", fontSize=13))
    return alt.vconcat(top, middle, bottom, spacing=18).resolve_scale(color="independent", shape="independent",
                                                                       strokeDash="independent")


FIGURE = Figure(
    id="training-by-depth",
    title="Deeper plain networks train slower, and at one learning rate they stall",
    caption=(
        "Full-batch gradient descent, squared loss, on {{ value: training-by-depth.n_samples }} samples of a random "
        "teacher network; plain He students of width {{ value: training-by-depth.width }} and depth "
        "{{ value: training-by-depth.shallowest }} to {{ value: training-by-depth.deepest }} (depth/width up to "
        "{{ value: training-by-depth.depth_over_width | .0f }}), {{ value: training-by-depth.seeds }} networks each. "
        "The learning rate is either the best of a grid of {{ value: training-by-depth.grid_size }} (powers of 2 from "
        "{{ value: training-by-depth.lr_min | .4f }} to {{ value: training-by-depth.lr_max }}) for each depth, or "
        "the one that is best for the shallowest network, {{ value: training-by-depth.fixed_lr }}, for all. "
        "Top: loss curves (switch the learning rate in the menu; dotted: the loss of predicting the mean, dashed: "
        "the threshold). Middle: steps to the threshold. Bottom: the best learning rate and 2/λ_max of the "
        "Hessian at initialisation (bar: range over networks)."
    ),
    params=PARAMS,
    compute=compute,
    chart=chart,
    alt_text=(
        "Three charts. Loss curves of gradient descent for depths {{ value: training-by-depth.shallowest }} to "
        "{{ value: training-by-depth.deepest }}; with a tuned learning rate the median number of steps to loss "
        "{{ value: training-by-depth.threshold }} is {{ value: training-by-depth.steps_tuned_l2 }} at depth 2 and "
        "{{ value: training-by-depth.steps_tuned_l32 }} at depth 32; at the fixed learning rate depth 32 reaches it "
        "in {{ value: training-by-depth.reached_fixed_l32 }} of {{ value: training-by-depth.seeds }} runs. "
        "The best learning rate stays above 2/λ_max for the deep networks."
    ),
)
