"""Training every solution on the chapter-3 task: which deep networks actually train.

This module also holds the experiment the other chapter-4 comparisons share (`build`, `run`): one
network per (architecture, initialisation, depth, seed), its instruments at initialisation and its
training curve. `run` is memoised so that `init-comparison` and `solutions-summary` reuse the runs
this figure makes when they are computed in the same build.
"""

from functools import lru_cache

import altair as alt
import torch

from figures_src import theme
from figures_src.curvature import HessianOperator, lanczos
from figures_src.figure import Figure, Result, table
from figures_src.initialization import lsuv, metainit, model_gradient_quotient
from figures_src.measures import correlation_by_depth, useful_gradient_share
from figures_src.model import MLP, MLPConfig, seeded
from figures_src.training import steps_to, teacher_task, train

# The regime (chapter 3's task and loss): full-batch gradient descent at one fixed learning rate for every
# network, width 64, so that depth 100 is deep for the width (depth/width > 1).
SETUP = {"d_in": 16, "n_samples": 128, "task_seed": 0, "width": 64, "lr": 0.03, "steps": 80,
         "threshold": 0.1, "metainit_steps": 40, "metainit_batch": 32, "lanczos_steps": 12}

# (architecture, initialisation): the networks of chapter 4. Residual branches use α² = 1/L.
NETWORKS = {
    "plain": ("plain", "He"),
    "batch norm": ("batch norm", "He"),
    "residual": ("residual", "He"),
    "residual + batch norm": ("residual + batch norm", "He"),
    "LSUV": ("plain", "LSUV"),
    "MetaInit": ("plain", "MetaInit"),
}
DTYPE = torch.float64


def task(setup: dict = SETUP) -> tuple[torch.Tensor, torch.Tensor]:
    return teacher_task(setup["d_in"], setup["n_samples"], setup["task_seed"], dtype=DTYPE)


def build(architecture: str, init: str, depth: int, seed: int, setup: dict = SETUP) -> MLP:
    """One network at initialisation. init: He, orthogonal, LSUV (orthogonal, then LSUV on the task's
    inputs), MetaInit (He, then MetaInit on random Gaussian data), zero branch (residual only)."""
    x, _ = task(setup)
    residual = architecture.startswith("residual")
    config = MLPConfig(d_in=setup["d_in"], width=setup["width"], depth=depth,
                       batch_norm=architecture.endswith("batch norm"),
                       branch_scale=(1 / depth) ** 0.5 if residual else None,
                       init={"orthogonal": "orthogonal", "LSUV": "orthogonal",
                             "zero branch": "zero_branch"}.get(init, "gaussian"))
    net = MLP(config, seeded(seed), dtype=DTYPE)
    if init == "LSUV":
        lsuv(net, x)
    elif init == "MetaInit":
        metainit(net, (setup["metainit_batch"], setup["d_in"]), seeded(50_000 + seed), steps=setup["metainit_steps"])
    return net


@lru_cache(maxsize=None)
def _run(architecture: str, init: str, depth: int, seed: int, setup_items: tuple) -> dict:
    return _measure_and_train(architecture, init, depth, seed, dict(setup_items))


def _measure_and_train(architecture: str, init: str, depth: int, seed: int, setup: dict) -> dict:
    x, y = task(setup)
    net = build(architecture, init, depth, seed, setup)
    with torch.no_grad():
        features = net.features(x)
        profile = correlation_by_depth(features)
        correlation = profile[-1].item()
        useful = useful_gradient_share(features[-1] @ features[-1].T).item()
        output_std = net(x).std().item()
    gq = model_gradient_quotient(net, x, y)
    operator = HessianOperator(net, x, y)
    top = lanczos(operator, operator.dim, max_steps=setup["lanczos_steps"], tol=1e-3,
                  generator=seeded(60_000 + seed), which="top").top
    losses = train(net, x, y, setup["lr"], setup["steps"])
    return {"correlation": correlation, "profile": profile, "useful_share": useful, "output_std": output_std, "gradient_quotient": gq, "lambda_max": top,
            "initial_loss": losses[0].item(), "losses": losses,
            "final_loss": losses[-1].item(), "steps_to": steps_to(losses, setup["threshold"]).item()}


def run(architecture: str, init: str, depth: int, seed: int, setup: dict = SETUP) -> dict:
    """Instruments at initialisation (c̄_L on the task's inputs, useful gradient share of the readout,
    gradient quotient, λ_max by Lanczos) and the training curve (loss before each step, inf after a divergence)."""
    return _run(architecture, init, depth, seed, tuple(sorted(setup.items())))


PARAMS = {**SETUP, "depths": [10, 100], "seeds": 2, "every": 5}


def compute(p: dict) -> Result:
    setup = {k: p[k] for k in SETUP}
    rows, values = [], {}
    for name, (architecture, init) in NETWORKS.items():
        key = name.replace(" + ", "_").replace(" ", "_").lower()
        for depth in p["depths"]:
            results = [run(architecture, init, depth, seed, setup) for seed in range(p["seeds"])]
            for seed, r in enumerate(results):
                for step in range(0, p["steps"] + 1, p["every"]):
                    rows.append({"network": name, "depth": depth, "seed": seed, "step": step,
                                 "loss": r["losses"][step].item()})
            finals = torch.tensor([r["final_loss"] for r in results])
            reached = torch.tensor([r["steps_to"] for r in results])
            values[f"{key}_d{depth}_final_loss"] = finals.nan_to_num(posinf=float("nan")).nanmean().item() \
                if torch.isfinite(finals).any() else -1.0
            values[f"{key}_d{depth}_worst_final_loss"] = finals.max().item() if torch.isfinite(finals).all() else -1.0
            values[f"{key}_d{depth}_diverged"] = int((~torch.isfinite(finals)).sum())
            values[f"{key}_d{depth}_trained"] = int(torch.isfinite(reached).sum())
            values[f"{key}_d{depth}_steps_to"] = reached.max().item() if torch.isfinite(reached).all() else -1.0
    values.update({"lr": p["lr"], "steps": p["steps"], "threshold": p["threshold"], "width": p["width"],
                   "n_samples": p["n_samples"], "seeds": p["seeds"], "shallow": min(p["depths"]),
                   "deep": max(p["depths"])})
    return Result(rows, values)


def chart(rows: list, p: dict) -> alt.LayerChart:
    names = list(NETWORKS)
    depth_param = alt.param(name="depth", value=max(p["depths"]), bind=alt.binding_radio(
        options=p["depths"], labels=[f"depth {d}" for d in p["depths"]], name="network depth L "))
    data = alt.Chart(table(rows)).transform_filter("datum.depth == depth").transform_calculate(
        shown="isValid(datum.loss) ? datum.loss : 1e3", status="isValid(datum.loss) ? 'training' : 'diverged'")
    color = alt.Color("network:N", title="network", scale=alt.Scale(
        domain=names, range=[theme.ARCHITECTURE_COLORS[n] for n in names]),
        legend=alt.Legend(symbolType="stroke", symbolStrokeWidth=2.5, columns=3))
    x = alt.X("step:Q", title="gradient-descent step", scale=alt.Scale(domain=[0, p["steps"]], nice=False))
    y = alt.Y("shown:Q", title="training loss (log; top edge: diverged)",
              scale=alt.Scale(type="log", domain=[3e-3, 1e3], clamp=True))
    tooltip = [alt.Tooltip("network:N"), alt.Tooltip("depth:Q"), alt.Tooltip("seed:Q"), alt.Tooltip("step:Q"),
               alt.Tooltip("loss:Q", format=".4f"), alt.Tooltip("status:N")]
    return alt.layer(
        data.mark_line(strokeWidth=2, opacity=0.85).encode(x=x, y=y, color=color, detail="seed:N"),
        data.transform_filter("!isValid(datum.loss)").transform_aggregate(
            step="min(step)", groupby=["network", "seed", "depth"]).transform_calculate(shown="1e3").mark_point(
            shape="cross", size=90, filled=True).encode(x=x, y=y, color=color,
                                                        tooltip=["network:N", "seed:Q", alt.Tooltip("step:Q", title="diverged at")]),
        alt.Chart(alt.InlineData(values=[{"loss": 0.5}, {"loss": p["threshold"]}])).mark_rule(
            color=theme.THEORY_COLOR, strokeDash=theme.THEORY_DASH).encode(y="loss:Q"),
        data.mark_point(size=40, filled=True, opacity=0).encode(x=x, y=y, tooltip=tooltip),
    ).add_params(depth_param).properties(
        width="container", height=theme.HEIGHT,
        title=alt.Title("Training loss on the chapter-3 task, one learning rate for all",
                        subtitle="grey dashed: ½ (a constant prediction) and the threshold"))


FIGURE = Figure(
    id="solutions-training",
    title="Which deep networks train",
    caption=(
        "Full-batch gradient descent on the teacher regression task of chapter 3 "
        "({{ value: solutions-training.n_samples }} inputs), learning rate {{ value: solutions-training.lr }} for every "
        "network, width {{ value: solutions-training.width }}, {{ value: solutions-training.seeds }} seeds each (one "
        "line per seed); choose the depth. Loss ½ is what a constant prediction achieves. At depth "
        "{{ value: solutions-training.deep }} the plain network ends at "
        "{{ value: solutions-training.plain_d100_final_loss | .3f }} and the residual + batch norm network at "
        "{{ value: solutions-training.residual_batch_norm_d100_final_loss | .3f }}."
    ),
    params=PARAMS,
    compute=compute,
    chart=chart,
    alt_text=(
        "Log-scale training loss against gradient-descent step for six networks (plain, batch norm, residual, "
        "residual + batch norm, LSUV, MetaInit), with a depth selector. At depth {{ value: solutions-training.deep }} "
        "the plain network stays far above the threshold ({{ value: solutions-training.plain_d100_final_loss | .3f }} after "
        "{{ value: solutions-training.steps }} steps), the residual networks fall below "
        "{{ value: solutions-training.threshold }}: residual {{ value: solutions-training.residual_d100_final_loss | .3f }}, "
        "residual + batch norm {{ value: solutions-training.residual_batch_norm_d100_final_loss | .3f }}."
    ),
)
