"""What plain and residual networks compute on inputs around a circle, side by side at the same depths: the plain
network's outputs flatten into one shape scaled by the input, the residual network's keep their bumps."""

import functools

import altair as alt
import torch

from figures_src import theme
from figures_src.charts import ANGLE_DOMAIN
from figures_src.claims import All, Above, Claim, Differs
from figures_src.figure import Figure, Result, table
from figures_src.model import MLP, MLPConfig, great_circle, seeded
from figures_src.stats import difference_ci, mean_ci

PARAMS = {"d_in": 64, "width": 256, "depths": [1, 10, 100], "n_points": 72, "outputs": 3, "seed": 1, "networks": 16}

PLAIN = "plain (He)"
RESIDUAL = "residual, α² = 1/L"
ARCHITECTURES = {PLAIN: None, RESIDUAL: "residual"}  # name → residual or not


def outputs(p: dict, architecture: str, depth: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(θ, f(x(θ))) of one random network on its own random great circle, with `outputs` random readouts."""
    generator = seeded(seed)
    theta, x = great_circle(p["n_points"], p["d_in"], generator)
    scale = (1 / depth) ** 0.5 if ARCHITECTURES[architecture] else None
    net = MLP(MLPConfig(d_in=p["d_in"], width=p["width"], depth=depth, d_out=p["outputs"], branch_scale=scale),
              generator)
    with torch.no_grad():
        return theta, net(x)


def varying_share(f: torch.Tensor) -> torch.Tensor:
    """The share of each output's second moment around the circle that varies with the input, Var_θ f / E_θ f²,
    averaged over the outputs: 0 for a constant function, 1 for one with zero mean."""
    return (f.var(dim=0, correction=0) / f.pow(2).mean(dim=0)).mean()


def compute(p: dict) -> Result:
    rows, values, shares = [], {}, {}
    for name in ARCHITECTURES:
        key = "residual" if ARCHITECTURES[name] else "plain"
        for depth in p["depths"]:
            theta, f = outputs(p, name, depth, p["seed"])  # the network drawn
            f = f / f.pow(2).mean().sqrt()  # outputs in units of their RMS over the circle
            rows += [{"architecture": name, "depth": depth, "theta": theta[k], "output": f"output {j + 1}",
                      "value": f[k, j]}
                     for k in range(p["n_points"]) for j in range(p["outputs"])]
            shares[key, depth] = torch.stack([varying_share(outputs(p, name, depth, p["seed"] + s)[1])
                                              for s in range(p["networks"])])
            values |= mean_ci(shares[key, depth]).values(f"varying_{key}_l{depth}")
    deep, shallow = max(p["depths"]), min(p["depths"])
    values |= difference_ci(shares["residual", deep], shares["plain", deep], paired=True).values(
        f"varying_residual_minus_plain_l{deep}")
    for key in ("plain", "residual"):
        values |= difference_ci(shares[key, shallow], shares[key, deep], paired=True).values(
            f"varying_{key}_l{shallow}_minus_l{deep}")
    values |= {"d_in": p["d_in"], "width": p["width"], "depth": deep, "networks": p["networks"],
               "outputs_shown": p["outputs"]}
    return Result(rows, values)


def chart(rows: list, p: dict, stacked: bool = False) -> alt.FacetChart:
    """Architectures in rows and depths in columns; `stacked` (a phone's column) transposes them, so that two
    panels share a row instead of three."""
    colors = alt.Scale(domain=list(ARCHITECTURES), range=[theme.ARCHITECTURE_COLORS["plain"],
                                                            theme.ARCHITECTURE_COLORS["residual"]])
    outputs_dash = alt.Scale(domain=[f"output {j + 1}" for j in range(p["outputs"])], range=[[1, 0], [6, 3], [2, 2]])
    lines = alt.Chart(table(rows)).mark_line(strokeWidth=2).encode(
        x=alt.X("theta:Q", title="angle θ", scale=alt.Scale(domain=ANGLE_DOMAIN, nice=False)),
        y=alt.Y("value:Q", title="output ÷ its RMS", scale=alt.Scale(domain=[-3, 3], clamp=True)),
        color=alt.Color("architecture:N", title=None, scale=colors, legend=None),
        strokeDash=alt.StrokeDash("output:N", title=None, scale=outputs_dash, legend=None),  # the caption names them
        detail="output:N",
        tooltip=[alt.Tooltip("architecture:N"), alt.Tooltip("depth:Q"), alt.Tooltip("output:N"),
                 alt.Tooltip("value:Q", format=".2f")],
    ).properties(width=theme.STATIC_WIDTH // 3 - 45, height=120 if stacked else 150)
    # Headers beside a row: a label above would set a minimum width.
    architecture = dict(shorthand="architecture:N", title=None, sort=list(ARCHITECTURES),
                        header=alt.Header(labelFontSize=13))
    depth = dict(shorthand="depth:O", title=None, header=alt.Header(labelExpr="'depth ' + datum.value",
                                                                    labelFontSize=13))
    across, down = (architecture, depth) if stacked else (depth, architecture)
    return lines.facet(row=alt.Row(**down), column=alt.Column(**across), spacing={"row": 14, "column": 12})


FIGURE = Figure(
    id="residual-function",
    title="Plain and residual networks on the same circle of inputs",
    caption=(
        "Reference network, one random network per panel, on inputs x(θ) going once around a circle; each line is "
        "one of {{ value: residual-function.outputs_shown }} random readouts, divided by its RMS. Plain He "
        "networks (blue) flatten as depth grows: at depth {{ value: residual-function.depth }} the outputs mostly follow "
        "one curve, the size of the last layer's representation, the same shape for every readout. Residual networks (green) whose branches "
        "are scaled by α² = 1/L keep most of the bumps of a shallow network at every depth. Over "
        "{{ value: residual-function.networks }} networks, the share of an output's second moment that varies "
        "around the circle is {{ value: residual-function.varying_plain_l100 | ci .3f }} for the plain network at "
        "depth {{ value: residual-function.depth }} and {{ value: residual-function.varying_residual_l100 | ci .2f }} "
        "for the residual one."
    ),
    params=PARAMS,
    stacked_chart=functools.partial(chart, stacked=True),
    claims=(
        Claim("plain-flattens", All(Differs("varying_plain_l1_minus_l100"),
                                    Above("varying_plain_l1_minus_l100", 0))),
        Claim("residual-keeps", All(Differs("varying_residual_minus_plain_l100"),
                                    Above("varying_residual_minus_plain_l100", 0))),
        Claim("residual-loses-some", All(Differs("varying_residual_l1_minus_l100"),
                                         Above("varying_residual_l1_minus_l100", 0))),
    ),
    compute=compute,
    chart=chart,
    alt_text=(
        "Six small panels: rows plain and residual networks, columns depths 1, 10 and 100; each shows three "
        "random outputs of one network as the input goes once around a circle. The plain network's outputs "
        "become smooth and alike as depth grows; the residual network's keep several bumps at every depth. The "
        "share of an output that varies around the circle is {{ value: residual-function.varying_plain_l100 | .3f }} "
        "for the plain network at depth 100 and {{ value: residual-function.varying_residual_l100 | .2f }} for "
        "the residual one."
    ),
)
