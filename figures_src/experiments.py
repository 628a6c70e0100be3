"""The experiment chapter 4's figures share: one network per (architecture, initialisation, depth, seed) on
chapter 3's task, its instruments at initialisation and its training curve.

A run is expensive (Lanczos, MetaInit, 80 training steps at depth 100) and several figures need the same
ones, so runs are cached on disk by content (`cache.shared_runs`): figures computed in parallel processes
split them instead of each computing all of them.
"""

import math
import re

import torch

from figures_src.cache import shared_runs
from figures_src.curvature import HessianOperator, lanczos
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
RUNS = "chapter-4-network"  # the kind of run in the shared cache


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


def measure_and_train(run: dict) -> dict:
    """One run (architecture, init, depth, seed, setup): the instruments at initialisation (c̄_l on the
    task's inputs for every layer, useful gradient share of the readout, gradient quotient, λ_max by
    Lanczos) and the training curve (loss before each step, inf after a divergence), as JSON."""
    setup, seed = run["setup"], run["seed"]
    x, y = task(setup)
    net = build(run["architecture"], run["init"], run["depth"], seed, setup)
    with torch.no_grad():
        features = net.features(x)
        profile = correlation_by_depth(features)
        useful = useful_gradient_share(features[-1] @ features[-1].T).item()
        output_std = net(x).std().item()
    gq = model_gradient_quotient(net, x, y)
    operator = HessianOperator(net, x, y)
    top = lanczos(operator, operator.dim, max_steps=setup["lanczos_steps"], tol=1e-3,
                  generator=seeded(60_000 + seed), which="top").top
    losses = train(net, x, y, setup["lr"], setup["steps"])
    return {"correlation": profile[-1].item(), "profile": profile.tolist(), "useful_share": useful,
            "output_std": output_std, "gradient_quotient": gq, "lambda_max": top,
            "initial_loss": losses[0].item(), "losses": losses.tolist(), "final_loss": losses[-1].item(),
            "steps_to": steps_to(losses, setup["threshold"]).item()}


def runs_over_seeds(networks: list[tuple[str, str, int]], seeds: int, setup: dict = SETUP) -> list[list[dict]]:
    """For each (architecture, initialisation, depth), its runs with seeds 0 … seeds − 1 (`measure_and_train`,
    with the profile and the losses as tensors). A figure asks for all its runs in this one call, so that
    processes computing figures at the same time split the runs they have in common."""
    runs = [{"architecture": architecture, "init": init, "depth": depth, "seed": seed, "setup": setup}
            for architecture, init, depth in networks for seed in range(seeds)]
    results = [result | {"profile": torch.tensor(result["profile"], dtype=DTYPE),
                         "losses": torch.tensor(result["losses"], dtype=DTYPE)}
               for result in shared_runs(RUNS, runs, measure_and_train, __name__)]
    return [results[k * seeds:(k + 1) * seeds] for k in range(len(networks))]


def seed_mean(runs: list[dict], measure: str) -> float:
    """The mean of a measure over a network's seeds; inf when a run diverged and the measure is its loss."""
    return torch.tensor([r[measure] for r in runs], dtype=DTYPE).mean().item()


def diverged(runs: list[dict]) -> int:
    return sum(not math.isfinite(r["final_loss"]) for r in runs)


def value_key(label: str) -> str:
    """A network's label as part of a living number's name: "residual + batch norm" → "residual_batch_norm"."""
    return re.sub(r"\W+", "_", label).lower()
