"""A deep ReLU network, at initialisation, maps every input to (almost) the same direction."""

import json
import math

import altair as alt
import torch

from figures_src import theme
from figures_src.charts import angle_x, at_slider_layer, class_strip, layer_slider, layer_title, unit_encodings
from figures_src.claims import Above, All, Below, Claim, Equals
from figures_src.figure import Figure, Result, table
from figures_src.measures import cosine_matrix, off_diagonal
from figures_src.model import MLP, MLPConfig, great_circle, on_sphere, seeded
from figures_src.stats import mean_ci

PARAMS = {
    "d_in": 64, "width": 256, "depth": 100, "n_points": 72, "units_shown": 3, "classes": 3, "seed": 1, "networks": 16,
    "stored_layers": [0, 1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100],
}


SCALE_KEPT = "activation ÷ layer RMS"
DIRECTION_ONLY = "activation ÷ its input's norm (direction)"


def network(p: dict, seed: int) -> tuple[torch.Tensor, list[torch.Tensor], dict[int, torch.Tensor]]:
    """One random network on its own random circle: (θ, [φ⁰, …, φᴸ], random readouts by input size)."""
    generator = seeded(seed)
    theta, x = great_circle(p["n_points"], p["d_in"], generator)
    net = MLP(MLPConfig(d_in=p["d_in"], width=p["width"], depth=p["depth"]), generator)
    # A random linear head of `classes` logits, read at any layer: its argmax is the predicted class.
    heads = {n: torch.randn(n, p["classes"], generator=generator, dtype=x.dtype).to(x.device) / n**0.5
             for n in (p["d_in"], p["width"])}
    with torch.no_grad():
        features = net.features(x)
    return theta, features, heads


def per_network(p: dict, features: list[torch.Tensor], heads: dict[int, torch.Tensor]) -> torch.Tensor:
    """(stored layer, [classes predicted, smallest pairwise cosine, largest ÷ smallest norm]) of one network."""
    out = []
    for layer in p["stored_layers"]:
        reps = features[layer]
        norms = reps.norm(dim=1)
        out.append([len((reps @ heads[reps.shape[1]]).argmax(dim=1).unique()),
                    off_diagonal(cosine_matrix(reps)).min().item(), (norms.max() / norms.min()).item()])
    return torch.tensor(out, dtype=torch.float64)


def compute(p: dict) -> Result:
    theta, features, heads = network(p, p["seed"])  # the network drawn in the chart
    rows, values = [], {}
    for layer in p["stored_layers"]:
        reps = features[layer]
        rms = reps.pow(2).mean().sqrt()
        # Dividing by each input's own norm removes the scale s(x) and leaves the direction.
        direction = on_sphere(reps)
        predicted = (reps @ heads[reps.shape[1]]).argmax(dim=1)
        for k in range(p["n_points"]):
            for unit in range(p["units_shown"]):
                rows.append({"layer": layer, "theta": theta[k], "unit": f"unit {unit + 1}",
                             "activation": reps[k, unit] / rms, "direction": direction[k, unit],
                             "predicted_class": predicted[k] + 1})
        values[f"classes_l{layer}"] = len(predicted.unique())
        values[f"min_cosine_l{layer}"] = off_diagonal(cosine_matrix(reps)).min()
        norms = reps.norm(dim=1)
        values[f"norm_spread_l{layer}"] = norms.max() / norms.min()
    values["depth"] = p["depth"]
    values["width"] = p["width"]
    # The same statistics over `networks` networks (the first is the one drawn), each on its own circle.
    stats = torch.stack([per_network(p, *network(p, p["seed"] + k)[1:]) for k in range(p["networks"])])
    values["networks"] = p["networks"]
    values["classes"] = p["classes"]
    values["half_of_networks"] = p["networks"] / 2
    for k, layer in enumerate(p["stored_layers"]):
        classes = stats[:, k, 0]
        values[f"single_class_networks_l{layer}"] = int((classes == 1).sum())
        values[f"all_classes_networks_l{layer}"] = int((classes == p["classes"]).sum())
        values |= mean_ci(classes).values(f"mean_classes_l{layer}")
        values |= mean_ci(stats[:, k, 1]).values(f"mean_min_cosine_l{layer}")
        values |= mean_ci(stats[:, k, 2]).values(f"mean_norm_spread_l{layer}")
    return Result(rows, values)


def side_by_side(rows: list, n_points: int) -> list:
    """The rows as the chart embeds them: one per layer and input `point` (not per unit), the units'
    activations side by side to 3 digits, and the one factor, layer RMS ÷ the input's norm, that turns each
    into its direction."""
    inputs = {}
    for row in rows:
        point = round(row["theta"] * n_points / (2 * math.pi))
        shown = inputs.setdefault((row["layer"], point), {"layer": row["layer"], "point": point,
                                                         "predicted_class": row["predicted_class"],
                                                         "rms_over_norm": 0.0})
        shown[row["unit"]] = float(f"{row['activation']:.3g}")
        if row["activation"]:
            shown["rms_over_norm"] = float(f"{row['direction'] / row['activation']:.3g}")
    return list(inputs.values())


def chart(rows: list, p: dict) -> alt.VConcatChart:
    layer = layer_slider(default=p["depth"], depth=p["depth"])
    view = alt.param(name="view", value=SCALE_KEPT, bind=alt.binding_select(
        options=[SCALE_KEPT, DIRECTION_ONLY], name="show "))
    unit_names = [f"unit {u + 1}" for u in range(p["units_shown"])]
    base = at_slider_layer(alt.Chart(table(side_by_side(rows, p["n_points"]))), p["stored_layers"]).transform_fold(
        unit_names, as_=["unit", "activation"]).transform_calculate(
        theta=f"datum.point * {2 * math.pi / p['n_points']}", direction="datum.activation * datum.rms_over_norm")
    units = base.transform_calculate(
        shown=f"view == {json.dumps(DIRECTION_ONLY)} ? datum.direction : datum.activation"
    ).mark_line(strokeWidth=2).encode(
        x=angle_x(),
        y=alt.Y("shown:Q", title="unit's activation (rescaled)",
                scale=alt.Scale(domain=[-3, 5], clamp=True)),
        **unit_encodings(),
        tooltip=["layer:Q", alt.Tooltip("theta:Q", format=".2f"),
                 "unit:N", alt.Tooltip("shown:Q", title="value", format=".3f")],
    ).add_params(layer, view).properties(height=theme.HEIGHT - 60,
                                   title=layer_title("Three units of φ at layer", p["stored_layers"]))
    classes = class_strip(base, p["n_points"], p["classes"])
    return alt.vconcat(units, classes, spacing=12).resolve_scale(color="independent", strokeDash="independent")


FIGURE = Figure(
    id="collapse-function",
    title="The network's function flattens, layer by layer",
    caption=(
        "One random network. Inputs go around a circle (angle θ, all of norm 1). <span class='dl-screen-only'>Move the slider: at</span><span class='dl-print-only'>At</span> layer 1 each unit is a "
        "rich function of θ and a random readout predicts {{ value: collapse-function.classes_l1 }} different "
        "classes around the circle. By layer {{ value: collapse-function.depth }} the units are no longer "
        "different functions of θ: they rise and fall together, one common profile, the input's scale s(x), "
        "whose largest and smallest values around the circle still differ {{ value: collapse-function.norm_spread_l100 | .1f }}-fold, "
        "and the readout predicts {{ value: collapse-function.classes_l100 }} class for every input. Switch to "
        "*direction*: dividing by each input's norm removes s(x), and the units are flat: the "
        "same vector C for every input."
    ),
    params=PARAMS,
    claims=(
        Claim("scale-survives", Above("mean_norm_spread_l100", 1.2, interval=True)),
        Claim("direction-nearly-constant", All(Above("mean_min_cosine_l100", 0.95, interval=True),
                                               Below("mean_min_cosine_l100", 0.999, interval=True))),
        Claim("readout-one-class", All(Above("single_class_networks_l100", "half_of_networks"),
                                       Below("single_class_networks_l100", "networks"))),
        Claim("readout-early", All(Equals("single_class_networks_l1", 0),
                                   Below("single_class_networks_l10", "half_of_networks"),
                                   Above("single_class_networks_l30", "half_of_networks"))),
    ),
    compute=compute,
    chart=chart,
    alt_text=(
        "Line chart of three units of one width-{{ value: collapse-function.width }} He-initialised ReLU network as "
        "functions of the input angle, with a layer slider, above a strip of the class a random readout "
        "predicts. At layer 1 the units vary strongly and {{ value: collapse-function.classes_l1 }} classes "
        "appear; at layer 100 the units are nearly constant and {{ value: collapse-function.classes_l100 }} "
        "class is predicted everywhere. Smallest pairwise cosine at layer 100: "
        "{{ value: collapse-function.min_cosine_l100 | .3f }}."
    ),
)
