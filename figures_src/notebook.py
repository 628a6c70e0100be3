"""What a companion notebook calls first: `from figures_src.notebook import setup; setup()`.

It enables the site's chart theme. When the site build executes the notebook it also switches Altair to
a renderer that leaves each chart as a spec for the site's own scripts (no script from a CDN, dark mode
followed); in Jupyter or Colab Altair keeps its usual renderer.
"""

import hashlib
import html
import json
import os

import altair as alt

from figures_src import theme  # noqa: F401  (registers and enables the site theme)

RENDERER_ENV = "FIGURES_NOTEBOOK_RENDERER"  # set to "site" by the build that executes the notebooks


def site_renderer(spec: dict, **metadata) -> dict:
    text = json.dumps(spec, sort_keys=True, allow_nan=False)
    chart_id = "nb-" + hashlib.sha1(text.encode()).hexdigest()[:10]
    markup = (f'<div class="dl-chart dl-notebook-chart" data-figure="{chart_id}" '
              f'data-spec-json="{html.escape(text)}"></div>')
    return {"text/html": markup, "text/plain": f"<Chart {chart_id}>"}


alt.renderers.register("site", site_renderer)


def setup() -> None:
    if os.environ.get(RENDERER_ENV) == "site":
        alt.renderers.enable("site")
