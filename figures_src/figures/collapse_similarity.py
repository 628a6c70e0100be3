"""The cosine similarity between every pair of inputs' representations fills with ones."""

import altair as alt
import torch

from figures_src import theme
from figures_src.charts import at_slider_layer, drawn, layer_slider, layer_title
from figures_src.claims import Above, Below, Between, Claim
from figures_src.figure import Figure, Result, table
from figures_src.measures import cosine_matrix, off_diagonal
from figures_src.model import MLP, MLPConfig, great_circle, seeded
from figures_src.stats import mean_ci

PARAMS = {
    "d_in": 64, "width": 256, "depth": 100, "n_points": 20, "seed": 1, "networks": 16,
    "stored_layers": [0, 1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100],
}


def cosines(p: dict, seed: int) -> list[torch.Tensor]:
    """Cosine matrices at the stored layers of one random network on its own random circle."""
    generator = seeded(seed)
    theta, x = great_circle(p["n_points"], p["d_in"], generator)
    net = MLP(MLPConfig(d_in=p["d_in"], width=p["width"], depth=p["depth"]), generator)
    with torch.no_grad():
        features = net.features(x)
    return [cosine_matrix(features[layer]).double() for layer in p["stored_layers"]]


def compute(p: dict) -> Result:
    shown = cosines(p, p["seed"])  # the network drawn in the chart
    rows, values = [], {}
    for layer, cos in zip(p["stored_layers"], shown):
        rows += [{"layer": layer, "input_a": a + 1, "input_b": b + 1, "cosine": cos[a, b]}
                 for a in range(p["n_points"]) for b in range(p["n_points"])]
        values[f"min_cosine_l{layer}"] = off_diagonal(cos).min()
        values[f"mean_cosine_l{layer}"] = off_diagonal(cos).mean()
    values["n_points"] = p["n_points"]
    # The smallest cosine between two inputs over `networks` networks (the first is the one drawn).
    smallest = torch.stack([torch.stack([off_diagonal(cos).min() for cos in cosines(p, p["seed"] + k)])
                            for k in range(p["networks"])])  # (network, stored layer)
    values["networks"] = p["networks"]
    for k, layer in enumerate(p["stored_layers"]):
        values[f"lowest_min_cosine_l{layer}"] = smallest[:, k].min()
        values |= mean_ci(smallest[:, k]).values(f"mean_min_cosine_l{layer}")
    return Result(rows, values)


def chart(rows: list, p: dict) -> alt.LayerChart:
    layer = layer_slider(default=2, depth=p["depth"])
    # Cells on whole pixels: no seams of the page's colour between neighbours, in either scheme.
    axis = dict(scale=alt.Scale(domain=list(range(1, p["n_points"] + 1)), round=True),
                axis=alt.Axis(values=[1, p["n_points"]], labelAngle=0))
    # The matrix is symmetric: the page carries one triangle (3 digits) and draws it twice, mirrored.
    triangle = drawn([row for row in rows if row["input_a"] <= row["input_b"]],
                     ["layer", "input_a", "input_b", "cosine"], digits=3)
    cells = at_slider_layer(alt.Chart(table(triangle)), p["stored_layers"]).mark_rect()
    color = alt.Color("cosine:Q", title="cosine", scale=alt.Scale(scheme="blueorange", domain=[-1, 1]))
    tooltip = ["layer:Q", "input_a:O", "input_b:O", alt.Tooltip("cosine:Q", format=".3f")]
    return alt.layer(
        cells.encode(x=alt.X("input_a:O", title="input a (in order around the circle)", **axis),
                     y=alt.Y("input_b:O", title="input b", **axis), color=color, tooltip=tooltip),
        cells.encode(x="input_b:O", y="input_a:O", color=color, tooltip=tooltip),
    ).add_params(layer).properties(
        width="container", height=theme.HEIGHT + 40,
        title=layer_title("Cosine between representations at layer", p["stored_layers"]),
    )


FIGURE = Figure(
    id="collapse-similarity",
    title="Every pair of inputs ends up pointing the same way",
    caption=(
        "One random network: cosine similarity between the representations $\\varphi^l(x_a)$ and $\\varphi^l(x_b)$ of {{ value: collapse-similarity.n_points }} "
        "inputs spaced around a circle. At layer 0 it is $\\cos(\\theta_a - \\theta_b)$, from −1 to 1. After one ReLU layer no "
        "cosine is negative; by layer 10 the smallest is {{ value: collapse-similarity.min_cosine_l10 | .2f }}, "
        "by layer 100 {{ value: collapse-similarity.min_cosine_l100 | .3f }}: the matrix fills with ones."
    ),
    params=PARAMS,
    claims=(
        Claim("input-range", Below("min_cosine_l0", -0.99)),
        Claim("no-negative-after-relu", Between("lowest_min_cosine_l1", 0, 1)),
        Claim("all-aligned", Above("mean_min_cosine_l100", 0.95, interval=True)),
    ),
    compute=compute,
    chart=chart,
    alt_text=(
        "Heat map, for one network, of pairwise cosine similarities between {{ value: collapse-similarity.n_points }} inputs' "
        "representations, with a layer slider. Mean off-diagonal cosine: "
        "{{ value: collapse-similarity.mean_cosine_l0 | .2f }} at layer 0, "
        "{{ value: collapse-similarity.mean_cosine_l10 | .3f }} at layer 10, "
        "{{ value: collapse-similarity.mean_cosine_l100 | .3f }} at layer 100."
    ),
)
