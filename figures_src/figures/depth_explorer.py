"""The whole argument in one chart: choose a depth and an architecture, and five linked views show what the
network computes, its collapse layer by layer, the meaningful share left, one gradient step's two terms, and
training at the network's best learning rate.

The networks are chapter 4's (`experiments.SETUP`, He weights, α² = 1/L for residual branches): at depth 100
their instruments and at depths 10 and 100 their learning-rate sweeps are the runs the Solutions figures
already computed, taken from the shared cache.
"""

import functools
import math

import altair as alt
import torch

from figures_src import theme
from figures_src.claims import Above, All, Below, Claim, Differs, Equals
from figures_src.cache import shared_runs
from figures_src.charts import line_legend, two_by_row
from figures_src.experiments import NETWORKS, SETUP, SWEEP, build, runs_over_seeds, single_thread, sweeps, task, value_key
from figures_src.figure import Figure, Result, table
from figures_src.gradient_step import fitted_domain, step_lines, step_terms
from figures_src.markers import state_name
from figures_src.measures import gram, pooled_variance_fraction
from figures_src.model import great_circle, on_sphere, seeded
from figures_src.stats import difference_ci, mean_ci, median_ci
from figures_src.theory import arccos_map, batch_norm_correlation, residual_recursion

RUNS = "depth-explorer-network"  # this figure's own runs in the shared cache: the tests read them back
ARCHITECTURES = ["plain", "batch norm", "residual", "residual + batch norm"]
PARAMS = {**SETUP, **SWEEP, "depths": [1, 3, 10, 30, 100], "trained_depths": [1, 3, 10, 100],
          "default_depth": 100, "default_architecture": "plain", "shallow_depth": 1, "deep_depth": 100,
          "circle_points": 40, "circle_networks": 2, "circle_seed": 9, "step_points": 21, "step_max": 2.5}
# living numbers for every control setting (`markers.state_name`), each with its interval and n
RUN_PARAMS = ("circle_points", "circle_networks", "circle_seed", "step_points", "step_max")
STATE_NAMES = {"depth"} | {f"{name}{suffix}"
                           for name in ("cbar", "share", "useful_decrease", "useful_median", "best_decrease")
                           for suffix in ("", "_ci_low", "_ci_high", "_n")}


def theory_profile(architecture: str, depth: int, pair_cosines: torch.Tensor, batch: int) -> list[float] | None:
    """The infinite-width c̄ₗ, l = 0 … depth, averaged over the input pairs: plain (𝓕 iterated; bias-free ReLU
    layers map cosines whatever the norms) and residual (c ← (c + α²𝓕(c))/(1 + α²), every input's second moment
    growing by the same factor); batch norm: its depth-independent fixed point 𝓕(−1/(N − 1)) from layer 1.
    None for residual + batch norm: its recursion assumes an isotropic fixed point these inputs do not start at."""
    if architecture == "plain":
        c, profile = pair_cosines, [pair_cosines.mean().item()]
        for _ in range(depth):
            c = arccos_map(c)
            profile.append(c.mean().item())
        return profile
    if architecture == "residual":
        return residual_recursion(pair_cosines, depth, 1 / depth)[1].mean(dim=1).tolist()
    if architecture == "batch norm":
        return [pair_cosines.mean().item()] + [batch_norm_correlation(batch)] * depth
    return None


def extras(item: dict) -> dict:
    """What the shared runs do not measure, for one network (item: architecture, depth, seed, p): the meaningful
    share at every layer, one gradient step's terms (its curve for seed 0), and the output along a circle of
    inputs (the first few seeds), as JSON."""
    p, seed = item["p"], item["seed"]
    setup = {k: p[k] for k in SETUP}
    x, y = task(setup)
    net = build(item["architecture"], "He", item["depth"], seed, setup)
    with torch.no_grad():
        # on the inputs rescaled to one norm, as in chapter 2, so the share starts from the inputs' directions
        shares = pooled_variance_fraction(torch.stack([gram(f) for f in net.features(on_sphere(x))])).tolist()
    etas = [p["step_max"] * k / (p["step_points"] - 1) for k in range(p["step_points"])] if seed == 0 else []
    out = {"share": shares, "step": step_terms(net, x, y, etas)}
    if seed < p["circle_networks"]:
        theta, circle = great_circle(p["circle_points"], p["d_in"], seeded(p["circle_seed"]), dtype=x.dtype)
        with torch.no_grad():
            f = net(circle * math.sqrt(p["d_in"]))[:, 0]  # the task's inputs have norm ≈ √d_in
        out["circle"] = (theta.tolist(), (f / f.pow(2).mean().sqrt()).tolist())  # ÷ RMS: the shape, any scale
    return out


def compute(p: dict) -> Result:
    setup = {k: p[k] for k in SETUP}
    x = task(setup)[0]
    n = x.shape[0]
    cosines = torch.nn.functional.normalize(x, dim=1) @ torch.nn.functional.normalize(x, dim=1).T
    pair_cosines = cosines[tuple(torch.triu_indices(n, n, offset=1))]
    settings = [(a, d) for d in p["depths"] for a in ARCHITECTURES]
    measured = runs_over_seeds([(*NETWORKS[a], d) for a, d in settings], p["seeds"], setup)
    trained = dict(zip([(a, d) for d in p["trained_depths"] for a in ARCHITECTURES],
                       sweeps([(*NETWORKS[a], d) for d in p["trained_depths"] for a in ARCHITECTURES], setup,
                              {k: p[k] for k in SWEEP})))
    run_params = {k: p[k] for k in (*SETUP, *RUN_PARAMS)}  # only what a run depends on: its cache key
    items = [{"architecture": a, "depth": d, "seed": seed, "p": run_params}
             for a, d in settings for seed in range(p["seeds"])]
    computed = shared_runs(RUNS, items, lambda item: single_thread(lambda: extras(item)), __name__)
    rows, summary, values, per = [], [], {}, {}
    for k, ((architecture, depth), runs) in enumerate(zip(settings, measured)):
        at = {"architecture": architecture, "depth": depth}
        more = computed[k * p["seeds"]:(k + 1) * p["seeds"]]
        profiles = torch.stack([r["profile"] for r in runs])
        shares = torch.tensor([m["share"] for m in more], dtype=torch.float64)
        steps = [m["step"] for m in more]
        for seed, (r, m) in enumerate(zip(runs, more)):
            rows += [{"kind": "layer", **at, "seed": seed, "layer": l, "cbar": c, "share": s}
                     for l, (c, s) in enumerate(zip(r["profile"].tolist(), m["share"]))]
            rows.append({"kind": "step", **at, "seed": seed, **{k: m["step"][k] for k in (
                "loss", "grad_sq", "ghg", "eta_star", "best_decrease", "measured_decrease", "useful_decrease")}})
            if "circle" in m:
                summary += [{"kind": "circle", **at, "draw": seed + 1, "theta": round(t, 3), "output": round(f, 3)}
                            for t, f in zip(*m["circle"])]
        theory = theory_profile(architecture, depth, pair_cosines, n)
        for layer in range(depth + 1):
            summary.append({"kind": "layer", **at, "layer": layer, "networks": p["seeds"],
                            **mean_ci(profiles[:, layer]).columns("cbar"),
                            **mean_ci(shares[:, layer]).columns("share"),
                            "theory": theory[layer] if theory else None,
                            "share_theory": (1 - theory[layer]) * (1 - 1 / n) if theory else None})
        summary += [{"kind": "step", **at, **point, "model": point["first"] + point["second"]}
                    for point in steps[0]["curve"]]
        curved = [s for s in steps if s["ghg"] > 0]  # η* exists only where gᵀHg > 0
        state = ({"depth": depth} | mean_ci(profiles[:, -1]).values("cbar") | mean_ci(shares[:, -1]).values("share")
                 | mean_ci([s["useful_decrease"] for s in curved]).values("useful_decrease")
                 # one network stepping along a nearly flat direction can carry the mean: the median too
                 | median_ci([s["useful_decrease"] for s in curved]).values("useful_median")
                 | mean_ci([s["best_decrease"] for s in curved]).values("best_decrease"))
        values |= {state_name(name, at): v for name, v in state.items()}
        key = f"{value_key(architecture)}_d{depth}"
        values |= {f"{key}_{name}": v for name, v in state.items()}
        values[f"{key}_flat_curvature"] = len(steps) - len(curved)
        if theory:  # how far finite width keeps the share above its infinite-width value, per network
            values[f"{key}_share_theory"] = (1 - theory[-1]) * (1 - 1 / n)
            values |= mean_ci(shares[:, -1] - values[f"{key}_share_theory"]).values(f"{key}_share_excess")
        per[(architecture, depth)] = {"cbar": profiles[:, -1].tolist(),
                                      "useful_decrease": [s["useful_decrease"] for s in curved]}
        if (architecture, depth) in trained:
            sweep = trained[(architecture, depth)]
            best = [r for r in sweep["runs"] if r["stage"] == "fine" and r["lr"] == sweep["best_lr"]]
            curves = torch.tensor([r["losses"] for r in best], dtype=torch.float64)
            for step in range(0, curves.shape[1], 2):
                alive = curves[:, step][~torch.isnan(curves[:, step])]
                summary.append({"kind": "train", **at, "step": step, "lr": sweep["best_lr"], "runs": len(alive),
                                "loss": alive.mean().item() if len(alive) else None,
                                "loss_low": alive.min().item() if len(alive) else None,
                                "loss_high": alive.max().item() if len(alive) else None})
            values[f"{key}_best_lr"] = sweep["best_lr"]
            values[f"{key}_reached"] = sum(r["outcome"] == "reached" for r in best)
            values |= mean_ci([r["final_loss"] for r in best]).values(f"{key}_final_loss")
        else:
            summary.append({"kind": "untrained", **at})
    deep, shallow = p["deep_depth"], p["shallow_depth"]
    for name in ("cbar", "useful_decrease"):
        values |= difference_ci(per[("plain", deep)][name], per[("plain", shallow)][name], paired=False).values(
            f"plain_{name}_d{deep}_minus_d{shallow}")
    default = {"architecture": p["default_architecture"], "depth": deep}
    # the plain living numbers: their value at the chart's default setting, which the prose and claims quote
    values |= {name: values[state_name(name, default)] for name in sorted(STATE_NAMES)}
    untrained = [d for d in p["depths"] if d not in p["trained_depths"]]
    # the depths the prose names: the control's range, and the two the plain_d… comparisons are at
    values |= {"min_depth": min(p["depths"]), "max_depth": max(p["depths"]), "shallow_depth": shallow,
               "deep_depth": deep}
    values |= {"untrained_depth": untrained[0], "seeds": p["seeds"], "width": p["width"],
               "n_samples": p["n_samples"], "steps": p["steps"], "threshold": p["threshold"]}
    return Result(rows, values, summary=summary)


def chart(rows: list, p: dict, stacked: bool = False) -> alt.VConcatChart | alt.ConcatChart:
    depth = alt.param(name="depth", value=p["default_depth"], bind=alt.binding_radio(
        options=p["depths"], name="depth L "))
    architecture = alt.param(name="architecture", value=p["default_architecture"], bind=alt.binding_radio(
        options=ARCHITECTURES, name="network "))
    shown = "datum.depth == depth && datum.architecture == architecture"

    def view(kind: str) -> alt.Chart:  # each view gets only its rows, without the kind column: a lighter page
        mine = [{k: v for k, v in r.items() if k != "kind"} for r in rows if r["kind"] == kind]
        return alt.Chart(table(mine)).transform_filter(shown)

    color = alt.Color("architecture:N", legend=None, scale=alt.Scale(
        domain=ARCHITECTURES, range=[theme.ARCHITECTURE_COLORS[a] for a in ARCHITECTURES]))
    setting = "architecture + ' network, depth ' + depth"
    height = 120

    circle = view("circle").mark_line(strokeWidth=2).encode(
        x=alt.X("theta:Q", title="angle θ along a circle of inputs", scale=alt.Scale(domain=[0, 6.3], nice=False)),
        # ±3.5: batch norm's outputs reach 3.3 RMS; a narrower domain pressed their dips onto the axis
        y=alt.Y("output:Q", title="output ÷ its RMS", scale=alt.Scale(domain=[-3.5, 3.5], clamp=True)),
        color=color, strokeDash=alt.StrokeDash("draw:N", legend=None),  # which of the networks drawn
        tooltip=[alt.Tooltip("draw:N", title="network"), alt.Tooltip("theta:Q", format=".2f"),
                 alt.Tooltip("output:Q", format=".3f")],
    ).properties(height=height, title=alt.Title(alt.expr(f"['(a) What it computes', {setting}]"),
                                                subtitle="two networks: solid and dashed"))

    layers = view("layer")
    # Whole layers only, and at depth 1 (layers 0 and 1) no tick between them to round to a second "1".
    # The domain given, not computed: residual + batch norm draws no theory, and an empty layer's computed
    # extent is infinite (Vega warns in the console).
    layer_x = alt.X("layer:Q", title="layer l", scale=alt.Scale(domain=[0, alt.expr("depth")], nice=False),
                    axis=alt.Axis(tickMinStep=1, format="d", tickCount=alt.expr("min(depth, 5)")))
    tooltip = [alt.Tooltip("layer:Q"), alt.Tooltip("cbar:Q", title="c̄ (mean)", format=".4f"),
               alt.Tooltip("theory:Q", title="infinite width", format=".4f"),
               alt.Tooltip("share:Q", title="meaningful share", format=".4f"), alt.Tooltip("networks:Q")]

    # the key the caption gives, at the views: readers on a phone see a view and not the caption
    theory_key = "grey dashed: infinite width, where known"  # residual + batch norm: none (a subtitle is fixed text)

    def by_layer(field: str, theory: str, axis_title: str, title: str) -> alt.LayerChart:
        """A mean over networks by layer, its 95% band and the infinite-width curve (grey dashed)."""
        return alt.layer(
            layers.mark_area(opacity=0.2).encode(x=layer_x, y=alt.Y(f"{field}_ci_low:Q", scale=alt.Scale(domain=[0, 1])),
                                                 y2=f"{field}_ci_high:Q", color=color),
            layers.mark_line(strokeWidth=2.5, point=alt.OverlayMarkDef(size=20)).encode(
                x=layer_x, y=alt.Y(f"{field}:Q", title=axis_title, scale=alt.Scale(domain=[0, 1])), color=color,
                tooltip=tooltip),
            layers.transform_filter(f"isValid(datum.{theory})").mark_line(
                color=theme.THEORY_COLOR, strokeDash=theme.THEORY_DASH, strokeWidth=2).encode(x=layer_x, y=f"{theory}:Q"),
        ).properties(height=height, title=alt.Title(title, subtitle=theory_key))

    collapse = by_layer("cbar", "theory", "mean cosine c̄ₗ", "(b) Collapse: mean cosine between inputs")
    share = by_layer("share", "share_theory", "meaningful share", "(c) Meaningful share of the second moment")

    curves: dict[str, list[dict]] = {}
    for r in rows:
        if r["kind"] == "step":
            curves.setdefault(f"{r['architecture']} {r['depth']}", []).append(r)
    step = step_lines(
        view("step"), alt.X("eta_rel:Q", title="step size η ÷ η* (the model's best step)",
                            scale=alt.Scale(nice=False), axis=alt.Axis(tickCount=6)),
        alt.Tooltip("eta_rel:Q", format=".2f", title="η ÷ η*"),
        line_legend(orient="bottom", direction="vertical", labelLimit=300),
        measured_color=alt.expr(" : ".join(f"architecture == '{a}' ? '{theme.ARCHITECTURE_COLORS[a]}'"
                                           for a in ARCHITECTURES) + f" : '{theme.BLUE}'"),  # the network's own
        domain=fitted_domain(curves, "architecture + ' ' + depth"),
    ).properties(height=height + 20, title="(d) One step: first against second order")

    train_x = alt.X("step:Q", title="gradient-descent step", scale=alt.Scale(domain=[0, p["steps"]], nice=False))
    # Up to 50: at their best rate some networks' first steps overshoot to a loss of several tens; down to 1e-6:
    # batch norm at depth 10 goes below 1e-4, and a floor there read as a plateau.
    loss_scale = alt.Scale(type="log", domain=[1e-6, 50], clamp=True)
    train_height = height + 50  # six decades of loss: at the others' height they pressed together
    trained = view("train").transform_filter("isValid(datum.loss)")
    training = alt.layer(
        trained.mark_area(opacity=0.2).encode(x=train_x, y=alt.Y("loss_low:Q", scale=loss_scale), y2="loss_high:Q",
                                              color=color),
        trained.mark_line(strokeWidth=2.5).encode(
            x=train_x, y=alt.Y("loss:Q", title="training loss (log)", scale=loss_scale,
                               axis=alt.Axis(values=[1e-6, 1e-4, 1e-2, 1], format=".0e")), color=color,
            tooltip=[alt.Tooltip("step:Q"), alt.Tooltip("loss:Q", title="mean loss", format=".4f"),
                     alt.Tooltip("lr:Q", title="learning rate", format=".2g"), alt.Tooltip("runs:Q")]),
        alt.Chart(alt.InlineData(values=[{"loss": 0.5}, {"loss": p["threshold"]}])).mark_rule(
            color=theme.THEORY_COLOR, strokeDash=theme.THEORY_DASH).encode(y=alt.Y("loss:Q", scale=loss_scale)),
        # Between the 0.1 threshold and the axis: centred, the two lines sat on the threshold's rule.
        view("untrained").mark_text(fontSize=13, align="left").encode(
            x=alt.value(12), y=alt.value(train_height * 0.7),
            text=alt.value(["no training runs at this depth",  # two lines: one is wider than a phone's column
                            f"(trained: {', '.join(map(str, p['trained_depths']))})"])),
    ).properties(height=train_height, title=alt.Title("(e) Training at its best learning rate", subtitle=[
        "line: mean of the runs; band: their range",
        f"grey dashed: ½ (a constant output) and {p['threshold']:g}"]))

    return two_by_row([circle, collapse, share, step, training], stacked, spacing=22).add_params(
        depth, architecture).resolve_scale(color="independent", strokeDash="independent")


FIGURE = Figure(
    id="depth-explorer",
    title="Depth, collapse, the gradient step and training, in one chart",
    caption=(
        "<span class='dl-screen-only'>Choose a depth and a network; all five views follow.</span><span class='dl-print-only'>Shown at its default setting; on the site, all five views follow a chosen depth and network.</span> Chapter 4's networks: width "
        "{{ value: depth-explorer.width }}, He weights, residual branches scaled by α² = 1/L, measured on the "
        "{{ value: depth-explorer.n_samples }} inputs of a teacher regression task, {{ value: depth-explorer.seeds }} "
        "networks per setting (bands in (b) and (c): 95% intervals over them; grey dashed: infinite-width theory). "
        "(a) Two networks' outputs (solid, dashed) along a circle of inputs, divided by their root mean "
        "square: a flat line is "
        "the same output for every input ([Observation](observation.md)). (b) The mean cosine c̄ₗ between the "
        "inputs' representations (the residual stream for residual networks), with its infinite-width prediction "
        "for the plain and residual networks and batch norm's fixed point; residual + batch norm has none drawn "
        "([Reasons](reasons.md), [Solutions](solutions.md)). (c) The meaningful share, the across-input part of "
        "the second moment, on the inputs rescaled to one norm; its infinite-width value is (1 − c̄ₗ)(1 − 1/N), and "
        "at this width a spread of the representations' norms keeps it above ([Reasons](reasons.md)). (d) One "
        "step along the negative gradient of one network, against the step size, on a vertical scale fitted to "
        "the setting shown: the first-order gain, the second-order price, their sum, and what the step measurably removes of the loss and of its "
        "input-dependent part, the part a shift of all outputs cannot fit ([Consequences](consequences.md)). "
        "(e) Gradient descent for {{ value: depth-explorer.steps }} steps at the network's best learning rate (the "
        "sweeps of [Solutions](solutions.md)): the mean loss of {{ value: depth-explorer.seeds }} runs and their "
        "range, against ½ (a constant output) and the threshold {{ value: depth-explorer.threshold }}; at every depth "
        "but {{ value: depth-explorer.untrained_depth }}, where a sweep would cost more than the rest of the chart."
    ),
    params=PARAMS,
    compute=compute,
    chart=chart,
    stacked_chart=functools.partial(chart, stacked=True),
    alt_text=(
        "Five charts stacked, with a depth control ({{ value: depth-explorer.min_depth }} to "
        "{{ value: depth-explorer.max_depth }}) and a network control (plain, batch norm, "
        "residual, residual + batch norm), at the plain network of depth {{ value: depth-explorer.depth }}: its "
        "output is nearly the same for every input on a circle; the mean cosine rises to "
        "{{ value: depth-explorer.cbar | .3f }} at the last layer; the meaningful share falls to "
        "{{ value: depth-explorer.share | .3f }}; the median network's best gradient step removes "
        "{{ value: depth-explorer.useful_median | .1% }} of the input-dependent part of the loss; and training at "
        "the best learning rate stays near the loss of a constant output."
    ),
    claims=(
        Claim("deep-collapses", All(Above("plain_d100_cbar", 0.9, interval=True),
                                    Differs("plain_cbar_d100_minus_d1"), Above("plain_cbar_d100_minus_d1", 0))),
        Claim("share-drains", All(Below("plain_d100_share", "plain_d1_share", interval=True),
                                  Below("plain_d100_share", 0.25, interval=True))),
        Claim("finite-width-floor", Above("plain_d100_share_excess", 0.1, interval=True)),
        Claim("step-fits-less", All(Differs("plain_useful_decrease_d100_minus_d1"),
                                    Below("plain_useful_decrease_d100_minus_d1", 0))),
        Claim("deep-plain-stalls", All(Equals("plain_d100_reached", 0),
                                       Above("plain_d100_final_loss", 0.4, interval=True),
                                       Above("plain_d100_final_loss", "plain_d1_final_loss", interval=True))),
        Claim("residual-trains", All(Equals("residual_d100_reached", "seeds"),
                                     Below("residual_d100_cbar", 0.5, interval=True))),
    ),
)
