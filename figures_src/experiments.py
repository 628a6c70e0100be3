"""Runs several figures share, cached on disk by content.

Chapter 4: one network per (architecture, initialisation, depth, seed) on chapter 3's task, its instruments at
initialisation, and every network's learning-rate sweep. Chapters 1 and 2: the He networks whose cosines and
variance split three figures measure (`collapse_runs`).

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
from figures_src.measures import (correlation_by_depth, gram, gram_split, log_norm_variance, pooled_variance_fraction,
                                  useful_gradient_share)
from figures_src.model import MLP, MLPConfig, gaussian_inputs, on_sphere, seeded
from figures_src.training import run_outcomes, steps_to, teacher_task, train_stacked

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


def single_thread(compute):
    """Run `compute()` on one thread: small batched products are faster so on a shared 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return compute()
    finally:
        torch.set_num_threads(threads)


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


def measure(run: dict) -> dict:
    """One run (architecture, init, depth, seed, setup): the instruments at initialisation (c̄_l on the
    task's inputs for every layer, useful gradient share of the readout, gradient quotient, λ_max by
    Lanczos, the output's spread), as JSON. Training is in the learning-rate sweeps (`sweeps`)."""
    def compute():
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
        return {"correlation": profile[-1].item(), "profile": profile.tolist(), "useful_share": useful,
                "output_std": output_std, "gradient_quotient": gq, "lambda_max": top}
    return single_thread(compute)


def runs_over_seeds(networks: list[tuple[str, str, int]], seeds: int, setup: dict = SETUP) -> list[list[dict]]:
    """For each (architecture, initialisation, depth), its runs with seeds 0 … seeds − 1 (`measure`, with the
    profile as a tensor). A figure asks for all its runs in this one call, so that
    processes computing figures at the same time split the runs they have in common."""
    runs = [{"architecture": architecture, "init": init, "depth": depth, "seed": seed, "setup": setup}
            for architecture, init, depth in networks for seed in range(seeds)]
    results = [result | {"profile": torch.tensor(result["profile"], dtype=DTYPE)}
               for result in shared_runs(RUNS, runs, measure, __name__)]
    return [results[k * seeds:(k + 1) * seeds] for k in range(len(networks))]


def seed_mean(runs: list[dict], measure: str) -> float:
    """The mean of a measure over a network's seeds; inf when a run diverged and the measure is its loss."""
    return torch.tensor([r[measure] for r in runs], dtype=DTYPE).mean().item()


def diverged(runs: list[dict]) -> int:
    return sum(not math.isfinite(r["final_loss"]) for r in runs)


def value_key(label: str) -> str:
    """A network's label as part of a living number's name: "residual + batch norm" → "residual_batch_norm"."""
    return re.sub(r"\W+", "_", label).lower()


# ---- learning-rate sweeps: every network at its own best rate

SWEEP = {"lrs": [10.0 ** k for k in range(-5, 3)],  # the coarse grid, 1e-5 … 1e2; the fine stage adds √10 steps
         "coarse_seeds": 2, "seeds": 8, "diverged_factor": 10.0, "sweep_dtype": "float32"}
SWEEP_RUNS = "chapter-4-sweep"


def rate_order(losses: torch.Tensor, outcomes: list[str], threshold: float) -> tuple:
    """How good a learning rate is from its runs (smaller is better): most runs reaching the threshold, then
    fewest diverged, then the fewest steps to the threshold (mean over the runs that reached it), then the
    lowest mean final loss of the runs that did not diverge."""
    reached = [o == "reached" for o in outcomes]
    steps = [steps_to(curve[~torch.isnan(curve)], threshold).item() for curve in losses]
    finite_steps = [s for s, r in zip(steps, reached) if r]
    finals = [curve[~torch.isnan(curve)][-1].item() for curve, o in zip(losses, outcomes) if o != "diverged"]
    return (-sum(reached), sum(o == "diverged" for o in outcomes),
            sum(finite_steps) / len(finite_steps) if finite_steps else math.inf,
            sum(finals) / len(finals) if finals else math.inf)


def sweep_run(run: dict) -> dict:
    """One network (architecture, init, depth) over a learning-rate sweep in two stages: `coarse_seeds`
    seeds at every rate of the grid, then `seeds` seeds at the best coarse rate and its two neighbours on the
    grid at a factor √10 (the best coarse rate ÷√10, itself and ×√10). Every run's loss curve (NaN after it stopped), outcome (reached / diverged / stalled) and steps to
    the threshold (inf if never), as JSON."""
    setup, sweep = run["setup"], run["sweep"]
    dtype = getattr(torch, sweep["sweep_dtype"])
    x, y = task(setup)
    x, y = x.to(dtype), y.to(dtype)
    nets = [build(run["architecture"], run["init"], run["depth"], seed, setup) for seed in range(sweep["seeds"])]
    stacked = [torch.stack([n.weights[i].detach().to(dtype) for n in nets]) for i in range(len(nets[0].weights))]
    config = nets[0].config
    lrs = list(sweep["lrs"])

    def stage(name: str, rates: list[float], seeds: int) -> list[dict]:
        index = torch.arange(seeds).repeat(len(rates))
        rate = torch.tensor(rates, dtype=torch.float64).repeat_interleave(seeds)
        losses = train_stacked([w[index] for w in stacked], x, y, rate.to(dtype), setup["steps"], config.batch_norm,
                               config.branch_scale, sweep["diverged_factor"])
        outcomes = run_outcomes(losses, setup["threshold"], sweep["diverged_factor"])
        return [{"stage": name, "lr": r, "seed": int(s), "losses": curve.tolist(), "outcome": o,
                 "steps_to": steps_to(curve[~torch.isnan(curve)], setup["threshold"]).item(),
                 "final_loss": curve[~torch.isnan(curve)][-1].item()}
                for r, s, curve, o in zip(rate.tolist(), index.tolist(), losses, outcomes)]

    def best(records: list[dict], rates: list[float]) -> float:
        def order(r):
            group = [g for g in records if g["lr"] == r]
            return rate_order(torch.tensor([g["losses"] for g in group], dtype=torch.float64),
                              [g["outcome"] for g in group], setup["threshold"])
        return min(rates, key=order)

    def compute():
        coarse = stage("coarse", lrs, sweep["coarse_seeds"])
        centre = best(coarse, lrs)
        rates = [centre / 10 ** 0.5, centre, centre * 10 ** 0.5]
        fine = stage("fine", rates, sweep["seeds"])
        return {"runs": coarse + fine, "best_lr": best(fine, rates), "coarse_best_lr": centre}
    return single_thread(compute)


def sweeps(networks: list[tuple[str, str, int]], setup: dict = SETUP, sweep: dict = SWEEP) -> list[dict]:
    """`sweep_run` for each (architecture, initialisation, depth), shared between figures and processes."""
    items = [{"architecture": a, "init": i, "depth": d, "setup": setup, "sweep": sweep} for a, i, d in networks]
    return shared_runs(SWEEP_RUNS, items, sweep_run, __name__)


# ---- chapters 1 and 2: the He networks that three figures measure, run once and shared

COLLAPSE_RUNS = "collapse-runs"
COLLAPSE_SERIES = ("mean_cosine", "pooled", "log_norm_var", "mean_sq", "variance")


def collapse_run(item: dict) -> dict[str, list[float]]:
    """One bias-free He network (item: d_in, n_inputs, input_seed, width, depth, seed; weights from
    seeded(1000·width + seed)) on `n_inputs` Gaussian inputs rescaled to equal norm (`on_sphere`), measured at
    every layer l = 0 … depth from its Gram matrix Gˡ: the mean pairwise cosine c̄ₗ, the pooled across-input
    fraction, the variance of the log-norms, and the neurons' mean² and variance over inputs (`gram_split`)."""
    x = on_sphere(gaussian_inputs(item["n_inputs"], item["d_in"], seeded(item["input_seed"])))
    with torch.no_grad():
        features = MLP(MLPConfig(d_in=item["d_in"], width=item["width"], depth=item["depth"]),
                       seeded(1000 * item["width"] + item["seed"])).features(x)
    grams = torch.stack([gram(f.double()) for f in features])
    norms = grams.diagonal(dim1=-2, dim2=-1).sqrt()
    cosines = grams / (norms[..., :, None] * norms[..., None, :])
    n = grams.shape[-1]
    mean_cosine = (cosines.sum(dim=(-1, -2)) - cosines.diagonal(dim1=-2, dim2=-1).sum(dim=-1)) / (n * (n - 1))
    mean_sq, variance = gram_split(grams)
    series = (mean_cosine, pooled_variance_fraction(grams), log_norm_variance(grams), mean_sq, variance)
    return {name: values.tolist() for name, values in zip(COLLAPSE_SERIES, series)}


def collapse_runs(p: dict, widths: list[int]) -> dict[int, dict[str, torch.Tensor]]:
    """`collapse_run` for p["seeds"] networks of each width (p: d_in, n_inputs, input_seed, depth, seeds), shared
    on disk with every figure that asks for the same networks: {width: {series: (network, layer)}}."""
    items = [{"d_in": p["d_in"], "n_inputs": p["n_inputs"], "input_seed": p["input_seed"], "width": width,
              "depth": p["depth"], "seed": seed} for width in widths for seed in range(p["seeds"])]
    runs = shared_runs(COLLAPSE_RUNS, items, collapse_run, __name__)
    out = {}
    for k, width in enumerate(widths):
        mine = runs[k * p["seeds"]:(k + 1) * p["seeds"]]
        out[width] = {name: torch.tensor([run[name] for run in mine], dtype=torch.float64) for name in COLLAPSE_SERIES}
    return out
