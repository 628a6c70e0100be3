"""One gradient step, expanded (chapter 3's instrument) for any of the site's networks: the first-order gain
−η‖g‖², the second-order price ½η²gᵀHg, and what the step measurably removes of the loss and of its
input-dependent part; and the chart of those terms along the step."""

import json
import math

import altair as alt
import torch

from figures_src import theme
from figures_src.curvature import HessianOperator, flatten, mse
from figures_src.model import MLP


def loss_split(net: MLP, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(L, input-dependent part of L): L = ½ r̄² + (1/2N)‖r − r̄‖²; a constant shift of every output removes the
    first part, only the second needs the output to depend on the input."""
    with torch.no_grad():
        output = net(x)
    r = output - y
    return mse(output, y).item(), 0.5 * (r - r.mean()).pow(2).mean().item()


def set_parameters(net: MLP, flat: torch.Tensor) -> None:
    with torch.no_grad():
        start = 0
        for p in net.parameters():
            p.copy_(flat[start:start + p.numel()].view_as(p))
            start += p.numel()


def step_terms(net: MLP, x: torch.Tensor, y: torch.Tensor, etas: list[float] = ()) -> dict:
    """One step θ − ηg: ‖g‖², gᵀHg, the step η* = ‖g‖²/gᵀHg that minimises the quadratic model, the decrease it
    promises (½‖g‖⁴/gᵀHg ÷ L), and the measured decreases at η* of the loss and of its input-dependent part
    (each ÷ its value before the step); η* and the decreases are NaN when gᵀHg ≤ 0 (no minimum along −g).
    `etas`, multiples of ‖g‖²/|gᵀHg| (η* when gᵀHg > 0): both terms and the measured changes along the step,
    ÷ L, for drawing (none when gᵀHg = 0: the step has no scale). The network's parameters are left as they were."""
    op = HessianOperator(net, x, y)
    g = op.gradient
    gg, ghg = (g @ g).item(), (g @ op(g)).item()
    theta = flatten(net.parameters())
    loss, useful = loss_split(net, x, y)

    def after(eta: float) -> tuple[float, float]:
        set_parameters(net, theta - eta * g)
        changed = loss_split(net, x, y)
        set_parameters(net, theta)
        return changed

    nan = float("nan")
    no_minimum = {"loss": loss, "grad_sq": gg, "ghg": ghg, "eta_star": nan, "best_decrease": nan,
                  "measured_decrease": nan, "useful_decrease": nan, "curve": []}
    if ghg == 0:  # flat along −g (g = 0 included): no minimum, and no scale to draw the step on
        return no_minimum
    unit = gg / abs(ghg)
    curve = []
    for k in etas:
        moved, moved_useful = after(k * unit)
        curve.append({"eta_rel": k, "first": -k * unit * gg / loss, "second": 0.5 * (k * unit) ** 2 * ghg / loss,
                      "measured": (moved - loss) / loss, "useful": (moved_useful - useful) / loss})
    if ghg < 0:
        return {**no_minimum, "curve": curve}
    moved, moved_useful = after(unit)
    return {"loss": loss, "grad_sq": gg, "ghg": ghg, "eta_star": unit, "best_decrease": 0.5 * gg * unit / loss,
            "measured_decrease": (loss - moved) / loss, "useful_decrease": (useful - moved_useful) / useful,
            "curve": curve}


FIRST, SECOND, MODEL, MEASURED, USEFUL = ("first order −η‖g‖²", "second order ½η²gᵀHg", "sum (quadratic model)",
                                         "measured ΔL", "measured: input-dependent part")
TERMS = [FIRST, SECOND, MODEL, MEASURED, USEFUL]
TERM_KEYS = ["first", "second", "model", "measured", "useful"]  # their fields in a curve's rows
TERM_COLORS = [theme.FIRST_ORDER_COLOR, theme.SECOND_ORDER_COLOR, theme.THEORY_COLOR, theme.BLUE,  # model: grey,
               theme.SKY_BLUE]  # as theory; measured: the plain network's blue unless `step_lines` is told otherwise
TERM_DASHES = [[1, 0], [1, 0], theme.THEORY_DASH, [1, 0], [3, 2]]


STEP_DOMAIN = (-1.0, 0.5)  # loss change ÷ L: a step that more than doubles the loss is cut off


def step_lines(curve: alt.Chart, x: alt.X, eta_tooltip: alt.Tooltip, legend: alt.Legend,
               measured_color: str | alt.ExprRef = theme.BLUE,
               domain: alt.ExprRef | None = None) -> alt.Chart:
    """The lines of one step along −g against the step size x: `curve`'s rows carry `step_terms`' curve fields
    (first, second, model = their sum, measured, useful), each a loss change ÷ L, folded into one line per term.
    The measured change is drawn in `measured_color`, the colour of the network measured (an expression where a
    control chooses it), on STEP_DOMAIN or on `domain`, an expression (see `fitted_domain`)."""
    colors = [measured_color if term == MEASURED else color for term, color in zip(TERMS, TERM_COLORS)]
    label = " : ".join(f"datum.key == '{k}' ? '{t}'" for k, t in zip(TERM_KEYS, TERMS)) + " : ''"
    return curve.transform_fold(TERM_KEYS, as_=["key", "change"]).transform_calculate(term=label).mark_line(
        strokeWidth=2.2, clip=True).encode(
        x=x, y=alt.Y("change:Q", title="loss change ΔL ÷ L", scale=alt.Scale(domain=domain or list(STEP_DOMAIN))),
        color=alt.Color("term:N", title=None, sort=TERMS, scale=alt.Scale(domain=TERMS, range=colors),
                        legend=legend),
        strokeDash=alt.StrokeDash("term:N", title=None, sort=TERMS, scale=alt.Scale(domain=TERMS, range=TERM_DASHES)),
        tooltip=["term:N", eta_tooltip, alt.Tooltip("change:Q", format=".4f", title="ΔL ÷ L")])


def fitted_domain(curves: dict[str, list[dict]], key: str) -> alt.ExprRef:
    """A y domain for `step_lines` that fits the curves shown: `curves` maps each value of the expression `key`
    (the controls choosing them) to its rows; each domain spans its terms and 0, a tenth more, within
    STEP_DOMAIN. On one fixed domain a deep network's changes, a few hundredths, were flat lines on the axis."""
    def extent(rows: list[dict]) -> list[float]:
        values = [r[k] for r in rows for k in TERM_KEYS
                  if isinstance(r.get(k), float | int) and math.isfinite(r[k])] + [0.0]
        pad = 0.1 * (max(values) - min(values))
        return [round(max(STEP_DOMAIN[0], min(values) - pad), 4), round(min(STEP_DOMAIN[1], max(values) + pad), 4)]
    table = {name: extent(rows) for name, rows in sorted(curves.items())}
    return alt.expr(f"{json.dumps(table)}[{key}] || {list(STEP_DOMAIN)}")
