"""The `figures` MkDocs plugin.

What an author writes in Markdown stays tiny; this plugin expands it:
  {{ figure: <id> }}                 on a line of its own: the figure, numbered and captioned
  {{ ref: <id> }}                    a link "Figure 1.2" to the figure, on whatever page it lives
  {{ value: <id>.<name> | <fmt> }}   a living number computed by figure <id> (format optional)
  {{ cite: <key>; <key> }}           "(Cho & Saul, 2009; He et al., 2015)", each linked to its reference
  {{ citet: <key> }}                 "Yang et al. (2019)"
  {{ bibliography: cited | all }}    on a line of its own: the works cited on this page, or on the whole site
  {{ bibtex: <key> }}                on a line of its own: one entry of the BibTeX file, to copy

Stages, one MkDocs event each: compute every figure before the site directory is touched
(on_pre_build), add the exported files (on_files), number the figures in navigation order (on_nav),
expand the markers (on_page_markdown), write the manifest (on_env).
"""

import html
import importlib
import json
import re
import sys
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url
from mkdocs.utils.meta import get_data

from figures_src.mkdocs_plugin.citations import Bibliography, CitationError
from figures_src.mkdocs_plugin.config import FiguresConfig
from figures_src.mkdocs_plugin.notebooks import NotebookError, absolute_links, execute, published_path

log = get_plugin_logger(__name__)

MARKER = re.compile(r"\{\{\s*([a-z]+)\s*:\s*([^}]*?)\s*\}\}")
FIGURE_LINE = re.compile(r"^[ \t]*\{\{\s*figure\s*:\s*([^}\s]+)\s*\}\}[ \t]*$", re.MULTILINE)
BLOCK_MARKERS = ("figure", "bibliography", "bibtex")  # expand to blocks: each must stand on a line of its own
OWN_LIST = re.compile(r"\{\{\s*bibliography\s*:\s*cited\s*\}\}")
CITE = re.compile(r"\{\{\s*(cite|citet|bibtex)\s*:\s*([^}]*?)\s*\}\}")
ASSETS = Path(__file__).parent / "assets"
STATIC_SCRIPTS = ["figures/vendor/vega.js", "figures/theme.js", "figures/figures.js"]


class FiguresPlugin(BasePlugin[FiguresConfig]):
    def on_config(self, config):
        self.root = Path(config.config_file_path).parent
        config.extra_javascript[:0] = STATIC_SCRIPTS
        config.extra_css.append("figures/figures.css")
        config.markdown_extensions.append("md_in_html")
        bib_file = self.root / self.config.bibliography
        try:  # a site without the file simply has no citations
            self.bibliography = Bibliography(bib_file) if bib_file.exists() else Bibliography.empty(bib_file)
        except CitationError as error:
            raise PluginError(str(error)) from error
        return config

    def on_pre_build(self, config):
        self.pipeline = pipeline = fresh_pipeline()  # `mkdocs serve` re-imports edited experiment code
        cache_dir = self.root / self.config.cache_dir
        try:
            self.figures = pipeline.discover(self.config.package)
            self.computed = pipeline.compute_all(self.figures, cache_dir)
            self.numbers = pipeline.living_numbers(self.computed)
            self.exports = {fid: pipeline.export(c, self.numbers, cache_dir) for fid, c in self.computed.items()}
            self.shared = {"figures/vendor/vega.js": pipeline.vega_bundle(cache_dir),
                           "figures/theme.js": pipeline.theme_script()}
        except pipeline.FigureError as error:
            raise PluginError(str(error)) from error
        hits = sum(c.cache_hit for c in self.computed.values())
        log.info(f"{len(self.computed)} figures ready ({hits} from cache, "
                 f"{len(self.computed) - hits} computed in {sum(c.seconds for c in self.computed.values()):.1f} s)")

    @event_priority(50)  # before mkdocs-jupyter, which turns the executed .ipynb files into pages
    def on_files(self, files: Files, config):
        self.notebook_files(files, config)
        for fid, exported in self.exports.items():
            for name, content in exported.items():
                files.append(File.generated(config, f"figures/{name}", content=content))
        for path, content in self.shared.items():
            files.append(File.generated(config, path, content=content))
        for asset in ("figures.js", "figures.css"):
            files.append(File.generated(config, f"figures/{asset}", abs_src_path=str(ASSETS / asset)))
        return files

    def notebook_files(self, files: Files, config) -> None:
        """Replace each jupytext source in the notebooks folder by its executed .ipynb."""
        folder = self.config.notebooks_dir.strip("/") + "/"
        sources = [f for f in files if f.src_uri.startswith(folder) and f.src_uri.endswith(".py")]
        if sources and not self.config.repository.startswith("https://github.com/"):
            raise PluginError("figures plugin: set `repository` (https://github.com/<owner>/<repo>) in mkdocs.yml: "
                              "the notebooks' install cell and Colab links need it")
        cache = self.root / self.config.notebook_cache_dir
        site_url = config.site_url or "/"
        for source in sources:
            executed = File(source.src_uri[:-3] + ".ipynb", src_dir=str(cache), dest_dir=config.site_dir,
                            use_directory_urls=config.use_directory_urls)
            try:
                hit = execute(Path(source.abs_src_path), Path(executed.abs_src_path), self.config.repository,
                              Path(config.docs_dir).parent, lambda notebook: absolute_links(
                                  notebook, source.src_uri, site_url, lambda uri: files.get_file_from_path(uri)))
            except NotebookError as error:
                raise PluginError(str(error)) from error
            log.info(f"notebook {source.src_uri}: {'from cache' if hit else 'executed'}")
            files.remove(source)
            files.append(executed)
        # Published page path -> its file: links made absolute in a notebook come back relative on the site.
        self.published = {published_path(f.src_uri): f.src_uri for f in files if published_path(f.src_uri) is not None}

    def on_nav(self, nav: Navigation, config, files: Files):
        """Number figures in reading order: Figure <chapter>.<n> on the chapter page that shows it first."""
        self.homes: dict[str, tuple[Page, str]] = {}
        self.files = files
        self.citing_pages: dict[str, list[Page]] = {}  # key -> pages that cite it, in reading order
        self.cited_on: dict[str, list[str]] = {}  # page -> keys it cites, in order of first citation
        self.own_list: set[str] = set()  # pages that list their own references ({{ bibliography: cited }})
        self.shown_as_bibtex: set[str] = set()
        for page in nav.pages:
            if not page.file.src_uri.endswith(".md"):
                continue
            source = page.file.content_string
            self.collect_citations(source, page)
            chapter = get_data(source)[1].get(self.config.chapter_key)
            for index, fid in enumerate(FIGURE_LINE.findall(source), start=1):
                self.check_id(fid, page)
                if chapter is None or fid in self.homes:
                    continue
                self.homes[fid] = (page, f"{chapter}.{index}")
        unused = set(self.bibliography.keys) - set(self.citing_pages) - self.shown_as_bibtex
        if unused:  # a warning fails `mkdocs build --strict`: the file lists only what the site cites
            log.warning(f"{self.config.bibliography}: entries cited nowhere: {', '.join(sorted(unused))}")
        return nav

    def collect_citations(self, source: str, page: Page) -> None:
        for kind, argument in CITE.findall(source):
            for key in cite_keys(argument):
                try:
                    self.bibliography.check(key, page.file.src_uri)
                except CitationError as error:
                    raise PluginError(str(error)) from error
                if kind == "bibtex":
                    self.shown_as_bibtex.add(key)
                    continue
                if page not in self.citing_pages.setdefault(key, []):
                    self.citing_pages[key].append(page)
                cited = self.cited_on.setdefault(page.file.src_uri, [])
                cited.extend([] if key in cited else [key])
            if kind == "citet" and len(cite_keys(argument)) != 1:
                raise PluginError(f"{page.file.src_uri}: {{{{ citet: {argument} }}}} takes one key; "
                                  f"use {{{{ cite: }}}} for several")
        if OWN_LIST.search(source):
            self.own_list.add(page.file.src_uri)

    def check_id(self, fid: str, page: Page) -> None:
        if fid not in self.figures:
            raise PluginError(f"{page.file.src_uri}: unknown figure id {fid!r} "
                              f"(known: {', '.join(sorted(self.figures))})")

    def on_page_markdown(self, markdown: str, page: Page, config, files: Files):
        def expand(match: re.Match) -> str:
            kind, argument = match[1], match[2]
            if kind == "figure":
                return self.figure_html(argument, page)
            if kind == "ref":
                self.check_id(argument, page)
                return f'<a class="dl-figref" href="{self.figure_url(argument, page)}">{self.label(argument)}</a>'
            if kind == "value":
                return self.living_number(match[0], page)
            if kind in ("cite", "citet", "bibliography", "bibtex"):
                return self.citation(kind, argument, page, markdown)
            raise PluginError(f"{page.file.src_uri}: unknown marker {match[0]!r} "
                              f"(use figure, ref, value, cite, citet, bibliography or bibtex)")

        for match in MARKER.finditer(markdown):
            line = markdown[markdown.rfind("\n", 0, match.start()) + 1:_line_end(markdown, match.end())]
            if match[1] in BLOCK_MARKERS and line.strip() != match[0]:
                raise PluginError(f"{page.file.src_uri}: {match[0]!r} must stand on a line of its own")
        return MARKER.sub(expand, markdown)

    def citation(self, kind: str, argument: str, page: Page, markdown: str) -> str:
        bib = self.bibliography
        references = self.references_page()

        def href(key: str) -> str:
            if page.file.src_uri in self.own_list or references is page:
                return f"#ref-{key}"
            if references is None:
                raise PluginError(f"{page.file.src_uri}: cites {key!r} but has no {{{{ bibliography: cited }}}} "
                                  f"and the site has no references page {self.config.references_page!r}")
            return f"{get_relative_url(references.url, page.url)}#ref-{key}"

        if kind == "cite":
            return bib.parenthetical(cite_keys(argument), href)
        if kind == "citet":
            return bib.textual(argument, href)
        if kind == "bibtex":
            return f"```bibtex\n{bib.bibtex(argument)}\n```"
        if argument == "cited":
            return "\n" + bib.reference_list(self.cited_on.get(page.file.src_uri, [])) + "\n"
        if argument == "all":
            return "\n" + bib.reference_list(bib.sorted_keys(self.citing_pages), self.cited_in(page)) + "\n"
        raise PluginError(f"{page.file.src_uri}: {{{{ bibliography: {argument} }}}}: use 'cited' or 'all'")

    def references_page(self) -> Page | None:
        file = self.files.get_file_from_path(self.config.references_page)
        return file.page if file else None

    def cited_in(self, page: Page):
        def links(key: str) -> str:
            return ' <span class="dl-cited-in">Cited in ' + ", ".join(
                f'<a href="{get_relative_url(p.url, page.url)}'
                f'{f"#ref-{key}" if p.file.src_uri in self.own_list else ""}">{html.escape(p.title or p.file.name)}</a>'
                for p in self.citing_pages[key]) + ".</span>"
        return links

    def living_number(self, marker: str, page: Page) -> str:
        try:
            text = self.pipeline.expand_values(marker, self.numbers, page.file.src_uri)
        except self.pipeline.FigureError as error:
            raise PluginError(str(error)) from error
        fid = marker.split(":", 1)[1].strip().split(".", 1)[0]
        return (f'<a class="dl-value" href="{self.figure_url(fid, page)}" '
                f'title="Computed at build time for {html.escape(self.label(fid))}">{text}</a>')

    def label(self, fid: str) -> str:
        return f"Figure {self.homes[fid][1]}" if fid in self.homes else "Figure"

    def figure_url(self, fid: str, page: Page) -> str:
        home = self.homes.get(fid, (page,))[0]
        path = "" if home is page else get_relative_url(home.url, page.url)
        return f"{path}#fig-{fid}"

    def figure_html(self, fid: str, page: Page) -> str:
        self.check_id(fid, page)
        figure = self.figures[fid]
        where = f"{page.file.src_uri}, figure {fid!r}"

        def url(name: str) -> str:
            return get_relative_url(f"figures/{name}", page.url)

        module = self.pipeline.module_of(figure).rpartition(".")[2]
        try:
            caption = self.pipeline.expand_values(figure.caption, self.numbers, f"{where} caption")
            alt_text = html.escape(self.pipeline.expand_values(figure.alt_text, self.numbers, f"{where} alt text"))
        except self.pipeline.FigureError as error:
            raise PluginError(str(error)) from error
        home = self.homes.get(fid, (page,))[0]
        elsewhere = "" if home is page else f' <a href="{self.figure_url(fid, page)}">(in its chapter)</a>'
        return f"""
<figure class="dl-figure" id="fig-{fid}" markdown="block">
<div class="dl-chart" data-figure="{fid}" data-spec="{url(f'js/{fid}.js')}">
<img class="dl-static" src="{url(f'{fid}.svg')}" alt="{alt_text}">
</div>
<figcaption markdown="span"><a class="dl-fignum" href="#fig-{fid}">{self.label(fid)}</a> **{figure.title}.** {caption}{elsewhere}
<span class="dl-figlinks"><a href="{url(f'{fid}.csv')}" download>data (CSV)</a> · <a href="{url(f'{fid}.svg')}">SVG</a> · <a href="{url(f'{fid}.vl.json')}">Vega-Lite spec</a> · <a href="{url(f'src/{module}.py')}">source</a> · <button type="button" class="dl-copy-link" data-anchor="fig-{fid}">copy link</button></span></figcaption>
</figure>
"""

    def on_page_content(self, html_text: str, page: Page, config, files: Files):
        if page.file.src_uri.endswith(".ipynb"):
            return self.relative_site_links(strip_notebook_mathjax(html_text), page, config, files)
        return html_text

    def relative_site_links(self, html_text: str, page: Page, config, files: Files) -> str:
        """A notebook links other pages by their published URL (it must work in Colab); on the site the
        link stays inside the copy being read, online or offline."""
        site_url = re.escape(config.site_url or "/")

        def relative(match: re.Match) -> str:
            file = files.get_file_from_path(self.published.get(match[1], ""))
            if file is None:
                return match[0]
            return f'href="{get_relative_url(file.url, page.url)}{match[2] or ""}"'
        return re.sub(rf'href="{site_url}([^"#]*)(#[^"]*)?"', relative, html_text)

    def on_page_context(self, context, page: Page, config, nav: Navigation):
        """Links a notebook page offers: its .ipynb (copied next to the page by mkdocs-jupyter) and Colab,
        which opens it from the branch the built site is published from."""
        if page.file.src_uri.endswith(".ipynb"):
            name = Path(page.file.src_uri).name
            published = f"{page.file.src_uri.removesuffix('.ipynb')}/{name}"  # as on the web: directory URLs
            repository = self.config.repository.removeprefix("https://github.com/").removesuffix(".git")
            index = self.files.get_file_from_path(f"{self.config.notebooks_dir.strip('/')}/index.md")
            context["dl_notebook"] = {
                "download": name,
                "colab": f"https://colab.research.google.com/github/{repository}/blob/"
                         f"{self.config.published_branch}/{published}",
                "about": get_relative_url(index.url, page.url) if index else None,
            }
        return context

    def on_env(self, env, config, files: Files):
        manifest = []
        for fid, computed in self.computed.items():
            page = self.homes.get(fid, (None,))[0]
            manifest.append({
                "id": fid,
                "title": computed.figure.title,
                "page": (config.site_url or "/") + page.url if page else None,
                "anchor": f"fig-{fid}",
                "files": sorted(f"figures/{name}" for name in self.exports[fid]),
                "parameters": computed.figure.params,
                "code_hash": computed.code_hash,
            })
        files.append(File.generated(config, "figures/manifest.json",
                                    content=json.dumps(manifest, indent=1, allow_nan=False) + "\n"))
        return env

    @event_priority(-100)  # after mkdocs-print-site-plugin has written the print page
    def on_post_build(self, config):
        site = Path(config.site_dir)
        # Notebook pages are left out of the print (mkdocs.yml); links to them lead to the web site.
        left_out = {page_key(path): (config.site_url or "/") + path
                    for path, src_uri in self.published.items() if src_uri.endswith(".ipynb")}
        for print_page in (site / "print_page" / "index.html", site / "print_page.html"):  # with or without
            if print_page.exists():                                                      # directory URLs
                print_page.write_text(prefix_print_anchors(print_page.read_text(), left_out))

    def on_serve(self, server, config, builder):
        server.watch(str(Path(importlib.import_module("figures_src").__file__).parent))
        return server


def cite_keys(argument: str) -> list[str]:
    return [key.strip() for key in re.split(r"[;,]", argument) if key.strip()]


def _line_end(text: str, position: int) -> int:
    end = text.find("\n", position)
    return len(text) if end < 0 else end


NOTEBOOK_MATHJAX = re.compile(r'<script src="dl-site-mathjax">\s*</script>|'
                              r'<script type="text/x-mathjax-config">.*?</script>', re.DOTALL)


def strip_notebook_mathjax(html_text: str) -> str:
    """mkdocs-jupyter adds a MathJax 2 loader and configuration to every notebook page; the site's own
    MathJax 3 typesets notebook math, and instant navigation would run the old configuration as a script.
    mkdocs.yml sets custom_mathjax_url to the placeholder `dl-site-mathjax` so the loader is recognised."""
    return NOTEBOOK_MATHJAX.sub("", html_text)


PRINT_SECTION = re.compile(r"""<section class=['"]print-page[^'"]*['"] id=['"]([^'"]+)['"]""")


def page_key(published: str) -> str:
    """How the print page names a page in its anchors: `notebooks/reasons/` -> `notebooks-reasons`."""
    return published.strip("/").replace("/", "-") or "index"


def prefix_print_anchors(html: str, left_out: dict[str, str] | None = None) -> str:
    """The print page (every page in one) rewrites links to `#<page>-<anchor>` but prefixes only the
    ids of headings; prefix the ids of figures and references too, so every link lands. Links to pages
    left out of the print (`left_out`: page key -> web URL) go to the web page instead."""
    for key, url in (left_out or {}).items():
        html = re.sub(rf'href="#{re.escape(key)}(?:-[^"]*)?"', f'href="{url}"', html)
    starts = [(m.start(), m[1]) for m in PRINT_SECTION.finditer(html)]
    pieces, previous = [], 0
    for (start, key), end in zip(starts, [s for s, _ in starts[1:]] + [len(html)]):
        pieces.append(html[previous:start])

        def prefix(match: re.Match) -> str:
            anchor = match[1]
            linked = f'href="#{key}-{anchor}"' in html and f'id="{key}-{anchor}"' not in html
            return f' id="{key}-{anchor}"' if linked else match[0]

        pieces.append(re.sub(r' id="([^"]+)"', prefix, html[start:end]))
        previous = end
    return "".join(pieces) + html[previous:]


def fresh_pipeline() -> Any:
    """Drop the experiment modules from the import cache so a rebuild sees edited code."""
    for name in [n for n in sys.modules if n.startswith("figures_src.") and not n.startswith("figures_src.mkdocs_plugin")]:
        del sys.modules[name]
    return importlib.import_module("figures_src.pipeline")
