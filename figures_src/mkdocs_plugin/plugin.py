"""The `figures` MkDocs plugin: the MkDocs hooks only, each calling the modules that do the work.

Markers an author writes in Markdown (the grammar: figures_src/markers.py) are expanded here: figures,
references to figures, living numbers (figures_src/pipeline.py computes them), citations (citations.py).
Notebooks are executed by notebooks.py; the print page is mended by print_page.py.

Stages, one MkDocs event each: compute every figure before the site directory is touched
(on_pre_build), execute notebooks and add the exported files (on_files), number the figures in
navigation order and index citations (on_nav), expand the markers (on_page_markdown), write the
manifest and each figure's embed page (on_env).
"""

import html
import importlib
import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url
from mkdocs.utils.meta import get_data

from figures_src import markers
from figures_src.figure import FigureError, FigureFiles
from figures_src.mkdocs_plugin import embed, math, notebooks, print_page, reading_time
from figures_src.mkdocs_plugin.chart_space import ChartSpace, chart_space, placeholder_html
from figures_src.mkdocs_plugin.citations import Bibliography, CitationError, CitationIndex
from figures_src.mkdocs_plugin.config import FiguresConfig
from figures_src.mkdocs_plugin.ledger import Ledger, LedgerError, plain
from figures_src.mkdocs_plugin.math import MathError
from figures_src.mkdocs_plugin.notebooks import NotebookError
from figures_src.mkdocs_plugin.print_page import PrintPageError
from figures_src.mkdocs_plugin.version import VersionError, build_version

log = get_plugin_logger(__name__)

ASSETS = Path(__file__).parent / "assets"
# On every page; it brings figures.js, export.js and reactive.js, then Vega, to pages with charts.
STATIC_SCRIPTS = ["figures/loader.js"]
BUILD_ERRORS = (FigureError, markers.MarkerError, CitationError, NotebookError, LedgerError, VersionError, MathError,
                PrintPageError)


class FiguresPlugin(BasePlugin[FiguresConfig]):
    def on_config(self, config):
        self.root = Path(config.config_file_path).parent
        self.site_url, self.use_directory_urls = config.site_url, config.use_directory_urls
        config.extra_javascript[:0] = STATIC_SCRIPTS
        config.extra_css.append("figures/figures.css")
        config.markdown_extensions.append("md_in_html")
        bib_file = self.root / self.config.bibliography
        with build_errors():  # a site without the file simply has no citations
            self.bibliography = Bibliography(bib_file) if bib_file.exists() else Bibliography.empty(bib_file)
            self.version = build_version((self.root / self.config.pyproject).parent)
        return config

    def on_pre_build(self, config):
        self.pipeline = pipeline = fresh_pipeline()  # `mkdocs serve` re-imports edited experiment code
        cache_dir = self.root / self.config.cache_dir
        with build_errors():
            self.figures = pipeline.discover(self.config.package)
            self.computed = pipeline.compute_all(self.figures, cache_dir)
            self.numbers = pipeline.living_numbers(self.computed)
            self.exports = {fid: pipeline.export(c, self.numbers, cache_dir) for fid, c in self.computed.items()}
            self.shared = {"figures/vendor/vega.js": pipeline.vega_bundle(cache_dir),
                           "figures/theme.js": pipeline.theme_script()}
        hits = sum(c.cache_hit for c in self.computed.values())
        log.info(f"{len(self.computed)} figures ready ({hits} from cache, "
                 f"{len(self.computed) - hits} computed in {sum(c.seconds for c in self.computed.values()):.1f} s)")

    @event_priority(50)  # before mkdocs-jupyter, which turns the executed .ipynb files into pages
    def on_files(self, files: Files, config):
        with build_errors():
            notebooks.executed_notebooks(files, config, self.config.notebooks_dir,
                                         self.root / self.config.notebook_cache_dir, self.config.repository, log)
        self.published = notebooks.published_pages(files)
        self.notebook_styles: dict[str, None] = {}  # the notebook pages' <style> contents (on_page_content)
        self.notebook_pages: dict[str, str] = {}  # URL -> HTML of each notebook page (on_post_page)
        for exported in self.exports.values():
            for name, content in exported.items():
                files.append(File.generated(config, f"figures/{name}", content=content))
        for path, content in self.shared.items():
            files.append(File.generated(config, path, content=content))
        # The claim ledger is known once every page is read (on_nav); its file exists now so pages can link it.
        self.claims_file = File.generated(config, "claims.json", content="")
        files.append(self.claims_file)
        for asset in ("loader.js", "figures.js", "figures.css", "export.js", "reactive.js"):
            files.append(File.generated(config, f"figures/{asset}", abs_src_path=str(ASSETS / asset)))
        return files

    def on_nav(self, nav: Navigation, config, files: Files):
        """Number figures in reading order: Figure <chapter>.<n> on the chapter page that shows it first."""
        self.homes: dict[str, tuple[Page, str]] = {}
        self.files = files
        self.citations = CitationIndex(self.bibliography, self.config.references_page, self.version)
        self.ledger = Ledger(self.figures, self.numbers, self.config.claims_page)
        self.nav_pages = nav.pages
        for page in nav.pages:
            if not page.file.src_uri.endswith(".md"):
                continue
            source = page.file.content_string
            with build_errors():
                found = markers.parse(source, page.file.src_uri)
                self.citations.collect(page, found)
                self.ledger.collect(page, source, found)
            chapter = get_data(source)[1].get(self.config.chapter_key)
            for index, fid in enumerate((m.argument for m in found if m.kind == "figure"), start=1):
                self.check_id(fid, page)
                if chapter is not None and fid not in self.homes:
                    self.homes[fid] = (page, f"{chapter}.{index}")
        unused = self.citations.unused()
        if unused:  # a warning fails `mkdocs build --strict`: the file lists only what the site cites
            log.warning(f"{self.config.bibliography}: entries cited nowhere: {', '.join(unused)}")
        with build_errors():
            unmade = self.ledger.finish(self.claim_text)
        if unmade:  # a check no sentence makes is a check of nothing
            log.warning(f"claims declared by figures but made on no page: {', '.join(unmade)}")
        return nav

    def claim_text(self, entry) -> str:
        """A claimed sentence as a reader sees it, for the ledger: numbers, figure labels and citations filled in."""
        where = f"{entry.page.file.src_uri}, claim {entry.span.key!r}"

        def fill(marker: markers.Marker) -> str:
            if marker.kind == "value":
                return markers.living_number(marker, self.numbers, where)[1]
            if marker.kind == "ref":
                return self.label(marker.argument)
            bib = self.bibliography
            labels = [f"{bib.authors(k)}, {bib.year(k)}" for k in marker.keys]
            return f"{bib.authors(marker.keys[0])} ({bib.year(marker.keys[0])})" if marker.kind == "citet" \
                else "(" + "; ".join(labels) + ")"
        return plain(markers.expand(entry.span.text, where, fill, kinds=("value", "ref", "cite", "citet")))

    def check_id(self, fid: str, page: Page) -> None:
        if fid not in self.figures:
            raise PluginError(f"{page.file.src_uri}: unknown figure id {fid!r} "
                              f"(known: {', '.join(sorted(self.figures))})")

    def on_page_markdown(self, markdown: str, page: Page, config, files: Files):
        def expand(marker: markers.Marker) -> str:
            if marker.kind == "figure":
                return self.figure_html(marker.argument, page)
            if marker.kind == "ref":
                self.check_id(marker.argument, page)
                return (f'<a class="dl-figref" href="{self.figure_url(marker.argument, page)}">'
                        f'{self.label(marker.argument)}</a>')
            if marker.kind == "value":
                return self.living_number(marker, page)
            if marker.kind == "claim":
                return self.ledger.open_span(marker, page)
            if marker.kind == "end":
                return self.ledger.close_span(page)
            if marker.kind == "claims":
                return "\n" + self.ledger.ledger_html(page, self.nav_pages, self.figure_url) + "\n"
            return self.citations.render(marker, page)

        with build_errors():
            return markers.expand(markdown, page.file.src_uri, expand)

    def living_number(self, marker: markers.Marker, page: Page) -> str:
        ref, text = markers.living_number(marker, self.numbers, page.file.src_uri)
        if ref.follows_state:  # reactive.js swaps in the text for the chart's current setting
            texts = markers.state_texts(ref, self.numbers, page.file.src_uri)
            return (f'<a class="dl-value dl-reactive" href="{self.figure_url(ref.figure, page)}" '
                    f'data-figure="{ref.figure}" data-states="{html.escape(json.dumps(texts, ensure_ascii=False))}" '
                    f'title="Follows the chart\'s controls; computed at build time for each of their settings">'
                    f'{text}</a>')
        return (f'<a class="dl-value" href="{self.figure_url(ref.figure, page)}" '
                f'title="Computed at build time for {html.escape(self.label(ref.figure))}">{text}</a>')

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
        names = FigureFiles.of(fid, self.pipeline.module_of(figure))

        def url(name: str) -> str:
            return get_relative_url(f"figures/{name}", page.url)

        caption = markers.expand_values(figure.caption, self.numbers, f"{where} caption")
        home = self.homes.get(fid, (page,))[0]
        elsewhere = "" if home is page else f' <a href="{self.figure_url(fid, page)}">(in its chapter)</a>'
        chart = placeholder_html(
            fid, script_url=url(names.script), svg_url=url(names.svg), stacked_svg_url=url(names.stacked_svg),
            alt_text=markers.expand_values(figure.alt_text, self.numbers, f"{where} alt text"),
            space=self.chart_space(fid, names))
        return f"""
<figure class="dl-figure" id="fig-{fid}" markdown="block">
{chart}
<figcaption markdown="span"><a class="dl-fignum" href="#fig-{fid}">{self.label(fid)}</a> **{figure.title}.** {caption}{elsewhere}
{embed.links_html(fid, names, url, self.embed_address(fid, page.url))}</figcaption>
</figure>
"""

    def chart_space(self, fid: str, names: FigureFiles) -> ChartSpace:
        files = self.exports[fid]
        return chart_space(fid, files[names.svg], files[names.spec], files.get(names.stacked_svg))

    def embed_address(self, fid: str, page_url: str) -> str:
        """The embed page of a figure, for iframe code: its published address, or relative to the page."""
        if self.site_url:
            return self.site_url + embed.url(fid)
        return get_relative_url(embed.url(fid, self.use_directory_urls), page_url)

    def embed_page(self, fid: str, config) -> str:
        """The page of one figure alone (embed.py): caption and alt text with their living numbers, and the
        link to its chapter."""
        figure = self.figures[fid]
        where = f"embed page of figure {fid!r}"
        page_url = embed.url(fid, config.use_directory_urls)
        home = self.homes.get(fid, (None,))[0]
        caption = markers.expand_values(figure.caption, self.numbers, f"{where}, caption")
        names = FigureFiles.of(fid, self.pipeline.module_of(figure))
        chart = placeholder_html(
            fid, script_url=embed.FIGURES + names.script, svg_url=embed.FIGURES + names.svg,
            stacked_svg_url=embed.FIGURES + names.stacked_svg,
            alt_text=markers.expand_values(figure.alt_text, self.numbers, f"{where}, alt text"),
            space=self.chart_space(fid, names), draw_at_once=True)
        return embed.page_html(
            fid=fid, names=names, title=figure.title, label=self.label(fid), chart_html=chart,
            caption_html=embed.caption_html(caption, config.markdown_extensions, config.mdx_configs,
                                            lambda path: self.page_address(path, page_url, where),
                                            f"{where}, caption"),
            chapter_url=f"{self.page_address(home.file.src_uri, page_url, where)}#fig-{fid}" if home else None,
            embed_address=self.embed_address(fid, page_url), site_name=config.site_name,
            site_description=config.site_description or "",
            favicon=config.theme.get("favicon"))

    def page_address(self, path: str, from_url: str, where: str) -> str:
        """A link to a Markdown page (`reasons.md`) as the page's address from `from_url`."""
        linked = self.files.get_file_from_path(path)
        if linked is None or linked.page is None:
            raise PluginError(f"{where}: the caption links {path!r}, which is no page of the site")
        address = get_relative_url(linked.page.url, from_url)
        # the home page's URL is "": get_relative_url gives "../.." for it, a folder needs its slash
        return address + "/" if linked.page.url in ("", "/") and not address.endswith("/") else address

    def on_page_content(self, html_text: str, page: Page, config, files: Files):
        with build_errors():
            if page.file.src_uri.endswith(".ipynb"):
                html_text = notebooks.thin_highlighting(notebooks.collapse_solutions(html_text))
                html_text, styles = notebooks.take_styles(notebooks.strip_notebook_mathjax(html_text))
                self.notebook_styles.update(dict.fromkeys(styles))  # in order, each once
                html_text = math.render_notebook(html_text, page.file.src_uri)
                math.render_toc(page.toc.items, page.file.src_uri)
                return notebooks.relative_site_links(html_text, page.url, config.site_url or "/", self.published,
                                                     files)
            return reading_time.stamp(math.render_chapter(html_text, page.file.src_uri))

    def on_page_context(self, context, page: Page, config, nav: Navigation):
        if page.file.src_uri.endswith(".ipynb"):
            index = self.files.get_file_from_path(f"{self.config.notebooks_dir.strip('/')}/index.md")
            context["dl_notebook"] = notebooks.page_links(page.file.src_uri, page.url, self.config.repository,
                                                          self.config.published_branch, index.url if index else None)
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
                "embed": (config.site_url or "/") + embed.url(fid),
                "site_version": self.version.label,  # the release and commit these files come from
            })
            with build_errors():
                files.append(File.generated(config, embed.file_path(fid), content=self.embed_page(fid, config)))
        files.append(File.generated(config, "figures/manifest.json",
                                    content=json.dumps(manifest, indent=1, allow_nan=False) + "\n"))
        # The release and commit, for the footer of every page (overrides/main.html) and for the PDF.
        files.append(File.generated(config, "figures/version.json", content=self.version.as_json()))
        env.globals["dl_version"] = self.version
        self.claims_file.content_string = json.dumps(self.ledger.as_json(self.homes), indent=1,
                                                     ensure_ascii=False, allow_nan=False) + "\n"
        return env

    def on_post_page(self, output: str, page: Page, config):
        if page.file.src_uri.endswith(".ipynb"):
            self.notebook_pages[page.url] = output
        return output

    @event_priority(-100)  # after mkdocs-print-site-plugin has written the print page
    def on_post_build(self, config):
        if self.notebook_styles:
            notebooks.write_stylesheet(Path(config.site_dir), "\n".join(self.notebook_styles),
                                       self.notebook_pages, config.theme.get("palette"))
        # Notebook pages are left out of the print (mkdocs.yml); links to them lead to the web site.
        with build_errors():
            print_page.mend_print_page(Path(config.site_dir), config.site_url or "/",
                                       [path for path, uri in self.published.items() if uri.endswith(".ipynb")],
                                       self.version.label)

    def on_serve(self, server, config, builder):
        server.watch(str(Path(importlib.import_module("figures_src").__file__).parent))
        return server


@contextmanager
def build_errors():
    """Errors of the site's own modules become PluginError: MkDocs stops with the message alone."""
    try:
        yield
    except BUILD_ERRORS as error:
        raise PluginError(str(error)) from error


# The plugin's own modules and the contract they share with the pipeline (a figure, its errors, living numbers,
# claims and their checks, the cache) stay loaded; everything else is experiment code, imported afresh on every build.
KEPT_MODULES = ("figures_src.mkdocs_plugin", "figures_src.markers", "figures_src.claims", "figures_src.figure",
                "figures_src.cache")


def fresh_pipeline() -> Any:
    """Drop the experiment modules from the import cache so a rebuild sees edited code."""
    for name in [n for n in sys.modules if n.startswith("figures_src.") and not n.startswith(KEPT_MODULES)]:
        del sys.modules[name]
    return importlib.import_module("figures_src.pipeline")
