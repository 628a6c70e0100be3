"""One figure alone on a page, to put in an iframe: `embed/<figure-id>/index.html`.

The page holds the chart with its controls, caption and links, and nothing of the site's navigation; it
loads the site's own chart scripts and figures.css (relative URLs, so it works from file:// and in the
offline copy), reads the chart state from its URL like any page (`?<figure-id>.<param>=…`) and follows the
reader's colour scheme. The links line under a caption is the same here and on the chapter pages.
"""

import html
import re
from typing import Callable

import jinja2
import markdown
from markupsafe import Markup

from figures_src.figure import FigureFiles
from figures_src.mkdocs_plugin import math

FIGURES = "../../figures/"  # embed/<id>/ → the site root's figures/ folder

# Loaded by every embed page, in this order, from the site's figures/ folder: the chart scripts that loader.js
# brings to chapter pages with charts (figures.js and export.js; figures.js itself fetches Vega and the theme
# there), loaded directly because an embed page always has its chart.
SCRIPTS = ("vendor/vega.js", "theme.js", "figures.js", "export.js")

TEMPLATE = jinja2.Environment(autoescape=True, keep_trailing_newline=True).from_string("""\
<!doctype html>
<html lang="en" class="dl-embed">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="robots" content="noindex">
<meta name="description" content="{{ site_description }}">
<title>{{ label }}: {{ title }} · {{ site_name }}</title>
{% if favicon %}<link rel="icon" href="../../{{ favicon }}">
{% endif %}<link rel="stylesheet" href="{{ figures }}figures.css">
</head>
<body>
<script>
  // The reader's colour scheme; figures.js draws dark charts when the body says "slate", as on the site.
  (function () {
    var dark = window.matchMedia("(prefers-color-scheme: dark)");
    function follow() { document.body.setAttribute("data-md-color-scheme", dark.matches ? "slate" : "default"); }
    follow();
    dark.addEventListener("change", follow);
  })();
</script>
<main>
<figure class="dl-figure" id="fig-{{ fid }}">
{{ chart }}
<figcaption><span class="dl-fignum">{{ label }}</span> <strong>{{ title }}.</strong> {{ caption }}
{%- if chapter %} <a href="{{ chapter }}" target="_blank" rel="noopener">(in its chapter)</a>{% endif %}
{{ links }}</figcaption>
</figure>
</main>
{% for script in scripts %}<script src="{{ figures }}{{ script }}"></script>
{% endfor %}</body>
</html>
""")


def file_path(fid: str) -> str:
    """Where the embed page of a figure is written in the site."""
    return f"embed/{fid}/index.html"


def url(fid: str, use_directory_urls: bool = True) -> str:
    """The embed page's URL from the site root (file URLs in the offline copy, whose pages are name.html)."""
    return f"embed/{fid}/" if use_directory_urls else file_path(fid)


def links_html(fid: str, names: FigureFiles, file_url: Callable[[str], str], embed_address: str) -> str:
    """The line under a figure's caption: its files, a link to it in its current state, the iframe code of
    its embed page (`embed_address`, absolute where the site has a URL), and images of the chart as drawn now
    (assets/export.js). `file_url` turns a name under figures/ into a link from the page."""
    files = (f'<a href="{file_url(names.csv)}" download>data (CSV)</a> · <a href="{file_url(names.svg)}">SVG</a> · '
             f'<a href="{file_url(names.spec)}">Vega-Lite spec</a> · <a href="{file_url(names.source)}">source</a>')
    # The buttons and the separators before them live in one span, hidden on paper (figures.css).
    share = (f' · <button type="button" class="dl-copy-link" data-anchor="fig-{fid}">copy link</button> · '
             f'<button type="button" class="dl-copy-embed" data-embed="{html.escape(embed_address)}">'
             'copy embed code</button>')
    images = ('<span class="dl-export"> · this view as <button type="button" data-export="png" '
              'aria-label="Download this view as PNG (2× resolution)">PNG</button> · <button type="button" '
              'data-export="svg" aria-label="Download this view as SVG">SVG</button></span>')
    return f'<span class="dl-figlinks">{files}<span class="dl-share">{share}{images}</span></span>'


def page_html(*, fid: str, names: FigureFiles, title: str, label: str, caption_html: str, chart_html: str,
              chapter_url: str | None, embed_address: str, site_name: str, site_description: str,
              favicon: str | None) -> str:
    """The embed page of one figure. `caption_html` and `chart_html` (the chart's placeholder, drawn at once,
    with file URLs from the site root's figures/ folder, FIGURES) are trusted HTML; `chapter_url`
    leads to the figure in its chapter (relative to the embed page), or None for a figure no chapter shows;
    `favicon` is the site's icon from the site root, if it has one (without it, browsers ask the server
    for /favicon.ico)."""
    return TEMPLATE.render(
        fid=fid, title=title, label=label, caption=Markup(caption_html), chart=Markup(chart_html),
        chapter=chapter_url, site_name=site_name, site_description=site_description,
        favicon=favicon, figures=FIGURES, scripts=SCRIPTS,
        links=Markup(links_html(fid, names, lambda name: FIGURES + name, embed_address)))


def caption_html(caption: str, extensions: list, extension_configs: dict, page_url: Callable[[str], str],
                 where: str) -> str:
    """A caption's Markdown as inline HTML, with the site's Markdown extensions and its formulas as MathML, as
    on the chapter pages (which render it inside the page's own Markdown, where MkDocs resolves links to other
    pages); `page_url` turns a link to a Markdown page (`reasons.md`) into the page's address from the embed
    page, as MkDocs would. A formula Temml cannot read is an error naming `where`."""
    rendered = math.render_chapter(
        markdown.markdown(caption, extensions=extensions, extension_configs=extension_configs), where)
    rendered = re.sub(r'href="([^":#]+\.md)(#[^"]*)?"',
                      lambda m: f'href="{page_url(m.group(1))}{m.group(2) or ""}"', rendered)
    return rendered.removeprefix("<p>").removesuffix("</p>")
