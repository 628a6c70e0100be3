"""How a figure is declared.

A figure module in `figures_src/figures/` defines one `FIGURE = Figure(...)`: a stable id (part of
the site's linking contract: anchors `#fig-<id>` and files `figures/<id>.*`), the parameters of its
experiment, the experiment itself (parameters in, tidy rows and named values out) and the chart
(tidy rows in, Altair chart out). Values are the "living numbers" that prose quotes.
"""

import csv
import io
from dataclasses import dataclass, field
from typing import Any, Callable

import altair as alt

Row = dict[str, Any]


class FigureError(Exception):
    """A figure cannot be built; the message names the figure and its file."""


@dataclass
class Result:
    rows: list[Row]  # tidy: one observation per row, the CSV readers download
    values: dict[str, float | None] = field(default_factory=dict)  # living numbers, quoted by the prose
    # Once cleaned by the pipeline: a non-finite value is None in `values` and its "nan", "inf" or "-inf" here.
    status: dict[str, str] = field(default_factory=dict)
    # Aggregated rows (a mean, its 95% interval `<x>_ci_low`/`<x>_ci_high`, `networks`) that the chart embeds
    # when `rows` holds one row per network: the CSV keeps every network, the page only what it draws.
    summary: list[Row] | None = None

    @property
    def chart_rows(self) -> list[Row]:
        return self.summary if self.summary is not None else self.rows


@dataclass(frozen=True)
class Figure:
    id: str
    title: str
    caption: str  # what to look at; Markdown, may quote living numbers
    params: dict[str, Any]
    compute: Callable[[dict[str, Any]], Result]
    chart: Callable[[list[Row], dict[str, Any]], alt.TopLevelMixin]  # (rows, params)
    alt_text: str  # what the chart shows, for screen readers; may quote living numbers
    # Checks of the sentences that interpret this figure (figures_src.claims.Claim), each made on a page
    # with {{ claim: <id>.<claim-id> }} … {{ end: claim }}.
    claims: tuple = ()
    # Its layout in a narrow column (a phone): side-by-side views one above another, or a facet with fewer
    # columns. Without it side-by-side views are stacked as they are (pipeline.stacked_spec); with it a figure
    # can, say, label the rows of every view once they no longer share a row.
    stacked_chart: Callable[[list[Row], dict[str, Any]], alt.TopLevelMixin] | None = None


@dataclass(frozen=True)
class FigureFiles:
    """The files a figure publishes, by path under the site's `figures/` folder: the one place they are named."""
    spec: str
    csv: str
    svg: str
    stacked_svg: str  # the chart's stacked layout, for narrow columns (charts of side-by-side views only)
    script: str  # hands the spec to the page (works from file://, where fetch does not)
    source: str  # the figure module's code

    @classmethod
    def of(cls, figure_id: str, module_name: str) -> "FigureFiles":
        return cls(spec=f"{figure_id}.vl.json", csv=f"{figure_id}.csv", svg=f"{figure_id}.svg",
                   stacked_svg=f"{figure_id}.stacked.svg", script=f"js/{figure_id}.js", source=f"src/{module_name.rpartition('.')[2]}.py")


def csv_text(rows: list[Row]) -> str:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def table(rows: list[Row]) -> alt.InlineData:
    """Rows as inline CSV for a chart: several times smaller in the page than a list of JSON objects."""
    numeric = {key: "number" for row in rows for key, value in row.items()
               if isinstance(value, (int, float)) and not isinstance(value, bool)}
    return alt.InlineData(values=csv_text(rows), format=alt.CsvDataFormat(type="csv", parse=numeric))
