"""Companion notebooks: jupytext sources (`docs/notebooks/*.py`) executed at build time into `.ipynb` files
that mkdocs-jupyter renders and readers download.

A code cell made of marker lines `# inline figures_src.<module>: name, name` shows those definitions of the
package inline: each marker is followed, before execution, by the source of the named definitions, the module-level
definitions they use and the imports they need. The notebook then runs the code it shows, and the code it shows
is the code every figure runs: there is no copy to keep in step.

The executed notebook is cached under a key made of the source text, the install cell, the code of every
`figures_src` module the notebook imports (directly or through other modules) and the library versions:
mkdocs-jupyter's own cache sees only the notebook text, so an edit to the experiment code would leave it stale.
"""

import ast
import os
import posixpath
import re
from importlib.metadata import version
from pathlib import Path
from typing import Callable

import jupytext
import nbclient
import nbformat
from mkdocs.structure.files import File, Files
from mkdocs.utils import get_relative_url

from figures_src import cache
from figures_src.mkdocs_plugin import css_prune
from figures_src.mkdocs_plugin.html_blocks import outer_divs
from figures_src.notebook import RENDERER_ENV

TIMEOUT_SECONDS = 600  # per cell


class NotebookError(Exception):
    pass


def install_cell(repository: str) -> str:
    """The first code cell of every notebook: outside the site's repository (Colab, a fresh Jupyter) it installs
    the experiment code. The notebooks import only experiment modules of `figures_src` (never the MkDocs
    plugin), which need torch, numpy and Altair: Colab has torch and numpy, and Altair is pinned to the version
    the site's charts were built with. `--no-deps` keeps the reader's torch and skips the tools the package lists
    for building the site (MkDocs, Playwright, …). The environment variable DL_INSTALL_URL replaces the
    repository (tests install from a local copy)."""
    return (
        "# Outside the site's repository (Colab, a fresh Jupyter), install the experiment code first. --no-deps:\n"
        "# your torch and numpy stay, and the tools that build the site are not needed to run the notebooks.\n"
        "import importlib.util, os, subprocess, sys\n"
        "if importlib.util.find_spec(\"figures_src\") is None:\n"
        f"    source = os.environ.get(\"DL_INSTALL_URL\", \"git+{repository}\")\n"
        f"    subprocess.check_call([sys.executable, \"-m\", \"pip\", \"install\", \"-q\", \"altair=={version('altair')}\"])\n"
        "    subprocess.check_call([sys.executable, \"-m\", \"pip\", \"install\", \"-q\", \"--no-deps\", source])"
    )


INLINE_MARKER = re.compile(r"^# inline (figures_src(?:\.\w+)+): (\w+(?:, \w+)*)$", re.M)


def bound_names(node: ast.stmt) -> set[str]:
    """The module-level names a top-level statement defines."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return {n.id for target in targets if target is not None for n in ast.walk(target) if isinstance(n, ast.Name)}


def used_names(node: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def inline_source(module: str, names: list[str]) -> str:
    """The source of `names` in `module` with every module-level definition they use (transitively) and the
    imports those need, in the module's order: code that runs on its own."""
    try:
        text = cache.module_file(module).read_text()
    except (ImportError, AttributeError) as error:
        raise NotebookError(f"# inline {module}: no such module ({error})") from error
    tree = ast.parse(text)
    definitions = {name: node for node in tree.body if not isinstance(node, (ast.Import, ast.ImportFrom))
                   for name in bound_names(node)}
    chosen: set[ast.stmt] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name not in definitions:
            raise NotebookError(f"# inline {module}: {module} defines no top-level {name!r}")
        node = definitions[name]
        if node not in chosen:
            chosen.add(node)
            todo += [used for used in used_names(node) if used in definitions]
    used = set().union(*(used_names(node) for node in chosen))
    lines = text.splitlines()
    imports = [ast.get_source_segment(text, node) for node in tree.body
               if isinstance(node, (ast.Import, ast.ImportFrom)) and bound_names(node) & used]
    blocks = ["\n".join(lines[min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1:
                               node.end_lineno]) for node in tree.body if node in chosen]
    return "\n".join(imports) + "\n\n\n" + "\n\n\n".join(blocks)


def expand_inline(source: str) -> str:
    """A cell of marker lines, each followed by the definitions it names (anything after a marker is
    replaced, so an executed notebook expands to itself)."""
    markers = INLINE_MARKER.findall(source)
    return "\n\n".join(f"# inline {module}: {names}\n{inline_source(module, names.split(', '))}"
                         for module, names in markers)


def is_inline_cell(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and cell.source.startswith("# inline figures_src")


def imported_modules(notebook: nbformat.NotebookNode) -> set[str]:
    """Every figures_src module the notebook's code depends on, directly, through other modules, or inline."""
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        found += [module for module, _ in INLINE_MARKER.findall(cell.source)]
        try:
            found += cache.imports_in(ast.parse(cell.source))
        except SyntaxError:  # IPython magics: no import to find there
            continue
    return set().union(*(cache.local_imports(name) for name in found))


def cache_key(source_text: str, notebook: nbformat.NotebookNode, first_cell: str) -> str:
    """`notebook` as prepared for execution (its links made absolute): its markdown is part of the key, and
    the code of every figures_src module it depends on."""
    return cache.digest({"source": source_text, "install": first_cell,
                         "markdown": [c.source for c in notebook.cells if c.cell_type == "markdown"],
                         "code": cache.source_digest(imported_modules(notebook)),
                         "versions": cache.library_versions()})


MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")


def published_path(src_uri: str) -> str | None:
    """Where a page of the docs folder lives on the published site (directory URLs), or None if `src_uri`
    is not a page: `reasons.md` -> `reasons/`, `notebooks/index.md` -> `notebooks/`,
    `notebooks/reasons.py` (a notebook source) -> `notebooks/reasons/`."""
    stem, ext = posixpath.splitext(src_uri)
    if ext not in (".md", ".py", ".ipynb"):
        return None
    folder, name = posixpath.split(stem)
    return (f"{folder}/" if folder else "") if name in ("index", "README") else f"{stem}/"


def absolute_links(notebook: nbformat.NotebookNode, src_uri: str, site_url: str,
                   exists: Callable[[str], bool]) -> None:
    """Links from a notebook's text to other pages (`../reasons.md`, `solutions.ipynb`) become absolute
    URLs of the published site: they work in Colab or a downloaded copy. The site turns them back into
    relative links on its own pages."""
    def absolute(match: re.Match) -> str:
        target, _, fragment = match[1].partition("#")
        if re.match(r"^[a-z]+:|^/|^#", match[1]) or published_path(target) is None:
            return match[0]
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(src_uri), target))
        source_of_notebook = resolved.removesuffix(".ipynb") + ".py"  # not executed yet, or a jupytext source
        if not (exists(resolved) or resolved.endswith(".ipynb") and exists(source_of_notebook)):
            raise NotebookError(f"{src_uri}: link to {match[1]!r}, but the docs have no {resolved!r}")
        return f"]({site_url}{published_path(resolved)}{'#' + fragment if fragment else ''})"

    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = MARKDOWN_LINK.sub(absolute, cell.source)


SOLUTION_TAG = "solution"


def hide_solution(cell: nbformat.NotebookNode, source: Path) -> None:
    """A solution cell opens collapsed: JupyterLab and Notebook 7 read `jupyter.source_hidden`/`outputs_hidden`,
    Colab shows a cell in form view as its `# @title` line, nbconvert-based tools drop inputs tagged
    `hide-input`; the site folds the cell into a <details> (`collapse_solutions`)."""
    if cell.cell_type != "code" or not cell.source.startswith("# @title "):
        raise NotebookError(f"{source}: a cell tagged {SOLUTION_TAG!r} must be code starting with '# @title ', "
                            f"the line Colab shows while the solution is hidden: {cell.source[:60]!r}")
    cell.metadata.tags = cell.metadata.tags + ["hide-input"]
    cell.metadata.jupyter = {"source_hidden": True, "outputs_hidden": True}
    cell.metadata.cellView = "form"


def read_source(source: Path, first_cell: str) -> nbformat.NotebookNode:
    notebook = jupytext.read(source)
    first_code = next((i for i, c in enumerate(notebook.cells) if c.cell_type == "code"), len(notebook.cells))
    notebook.cells.insert(first_code, nbformat.v4.new_code_cell(first_cell))  # after the title and introduction
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index}"  # fixed ids: the same notebook byte for byte on every build
        if is_inline_cell(cell):
            stray = [line for line in cell.source.splitlines() if line.strip() and not INLINE_MARKER.fullmatch(line)]
            if stray:
                raise NotebookError(f"{source}: a cell of inline code holds only lines "
                                    f"'# inline figures_src.<module>: name, name', not {stray[0]!r}")
            cell.source = expand_inline(cell.source)
        if SOLUTION_TAG in cell.metadata.get("tags", []):
            hide_solution(cell, source)
    notebook.metadata.pop("jupytext", None)
    return notebook


def execute(source: Path, target: Path, repository: str, cwd: Path,
            prepare: Callable[[nbformat.NotebookNode], None] = lambda notebook: None) -> bool:
    """Write the executed notebook for `source` to `target`, unless `target` is already the execution of
    this source with this code; returns whether it was. Raises NotebookError naming the notebook and the
    failing cell."""
    first_cell = install_cell(repository)
    text = source.read_text()
    try:
        notebook = read_source(source, first_cell)
    except Exception as error:
        raise NotebookError(f"{source}: not a readable jupytext notebook: {error}") from error
    prepare(notebook)
    key = cache_key(text, notebook, first_cell)
    entry = target.with_suffix(".json")  # the cache entry; the .ipynb beside it is what MkDocs reads
    executed = cache.read_entry(entry, key, f"notebook {source.name}")
    if executed is not None:
        cache.write_atomic(target, executed)
        return True
    client = nbclient.NotebookClient(notebook, timeout=TIMEOUT_SECONDS, kernel_name="python3",
                                     record_timing=False, resources={"metadata": {"path": str(cwd)}})
    previous = os.environ.get(RENDERER_ENV)
    os.environ[RENDERER_ENV] = "site"  # the kernel inherits it: charts render with the site's scripts
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as error:
        cell = next((i for i, c in enumerate(notebook.cells) if any(
            o.get("output_type") == "error" for o in c.get("outputs", []))), None)
        raise NotebookError(f"{source}: cell {cell} failed with {error.ename}: {error.evalue}. "
                            f"A missing module means the notebook needs a package the site does not "
                            f"install: add it to pyproject.toml.") from error
    except Exception as error:  # no kernel (ipykernel missing), a timeout, a dead kernel
        raise NotebookError(f"{source}: cannot execute: {type(error).__name__}: {error}") from error
    finally:
        if previous is None:
            os.environ.pop(RENDERER_ENV, None)
        else:
            os.environ[RENDERER_ENV] = previous
    merge_streams(notebook)
    text = nbformat.writes(notebook) + "\n"
    cache.write_entry(entry, key, text)
    cache.write_atomic(target, text)
    return False


def merge_streams(notebook: nbformat.NotebookNode) -> None:
    """Consecutive prints to one stream become one output: how the kernel happened to flush them varies from
    run to run, and the executed notebook must be the same bytes every time."""
    for cell in notebook.cells:
        merged = []
        for output in cell.get("outputs", []):
            previous = merged[-1] if merged else None
            if (output.output_type == "stream" and previous is not None and previous.output_type == "stream"
                    and previous.name == output.name):
                previous.text += output.text
            else:
                merged.append(output)
        if "outputs" in cell:
            cell.outputs = merged


def executed_notebooks(files: Files, config, folder: str, cache_dir: Path, repository: str, log) -> None:
    """Replace each jupytext source in the `folder` of the docs by its executed .ipynb (which
    mkdocs-jupyter renders)."""
    folder = folder.strip("/") + "/"
    sources = [f for f in files if f.src_uri.startswith(folder) and f.src_uri.endswith(".py")]
    if sources and not repository.startswith("https://github.com/"):
        raise NotebookError("figures plugin: set `repository` (https://github.com/<owner>/<repo>) in mkdocs.yml: "
                            "the notebooks' install cell and Colab links need it")
    site_url = config.site_url or "/"
    for number, source in enumerate(sources, start=1):
        executed = File(source.src_uri[:-3] + ".ipynb", src_dir=str(cache_dir), dest_dir=config.site_dir,
                        use_directory_urls=config.use_directory_urls)
        hit = execute(Path(source.abs_src_path), Path(executed.abs_src_path), repository,
                      Path(config.docs_dir).parent, lambda notebook: absolute_links(
                          notebook, source.src_uri, site_url, lambda uri: files.get_file_from_path(uri)))
        log.info(f"notebook {source.src_uri}: {'from cache' if hit else 'executed'} [{number}/{len(sources)}]")
        files.remove(source)
        files.append(executed)


def published_pages(files: Files) -> dict[str, str]:
    """Published page path -> its file: links made absolute in a notebook come back relative on the site."""
    return {published_path(f.src_uri): f.src_uri for f in files if published_path(f.src_uri) is not None}


def relative_site_links(html_text: str, page_url: str, site_url: str, published: dict[str, str],
                        files: Files) -> str:
    """A notebook links other pages by their published URL (it must work in Colab); on the site the link
    stays inside the copy being read, online or offline."""
    def relative(match: re.Match) -> str:
        file = files.get_file_from_path(published.get(match[1], ""))
        if file is None:
            return match[0]
        return f'href="{get_relative_url(file.url, page_url)}{match[2] or ""}"'
    return re.sub(rf'href="{re.escape(site_url)}([^"#]*)(#[^"]*)?"', relative, html_text)


SOLUTION_CELL = re.compile(rf'<div class="jp-Cell jp-CodeCell[^"]*\bcelltag_{SOLUTION_TAG}\b[^"]*"[^>]*>')


def collapse_solutions(html_text: str) -> str:
    """On the site each solution cell, code and outputs, is folded into a <details> the reader opens after
    making a prediction (Material styles it like a collapsible admonition)."""
    pieces, position = [], 0
    for cell, close in outer_divs(html_text, SOLUTION_CELL):
        if close is None:
            raise NotebookError(f"a solution cell's <div> is never closed: {cell[0]}")
        pieces += [html_text[position:cell.start()],
                   '<details class="success dl-solution"><summary>Solution: open it after your prediction</summary>',
                   html_text[cell.start():close.end()], "</details>"]
        position = close.end()
    return "".join(pieces) + html_text[position:]


PLAIN_TOKEN = re.compile(r'<span class="[nwpo]">([^<]*)</span>')


def thin_highlighting(html_text: str) -> str:
    """Pygments wraps every token of a code cell in a span. Names, whitespace, punctuation and operators
    lose theirs here (names and whitespace have no colour of their own; punctuation and operators then take
    the code's colour), about two spans in three: each is an element a phone styles again on every forced
    style pass (~1 s of blocking time on a notebook page). Keywords, strings, numbers, comments, builtins
    and functions keep their colours."""
    return PLAIN_TOKEN.sub(r"\1", html_text)


NOTEBOOK_MATHJAX = re.compile(r'<script src="dl-site-mathjax">\s*</script>|'
                              r'<script type="text/x-mathjax-config">.*?</script>|'
                              r'<!-- (?:Load mathjax|MathJax configuration|End of mathjax configuration) -->',
                              re.DOTALL)


def strip_notebook_mathjax(html_text: str) -> str:
    """mkdocs-jupyter adds a MathJax 2 loader and configuration to every notebook page (from a CDN unless
    told otherwise); the site typesets notebook math at build time (math.py). mkdocs.yml sets
    custom_mathjax_url to the placeholder `dl-site-mathjax` so the loader is recognised."""
    return NOTEBOOK_MATHJAX.sub("", html_text)


NOTEBOOK_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL)
STYLESHEET = "assets/stylesheets/notebooks.css"  # written by the figures plugin, linked by every notebook page


def take_styles(html_text: str) -> tuple[str, list[str]]:
    """mkdocs-jupyter writes the notebook styles (JupyterLab's theme, Pygments) as `<style>` elements inside
    the page's article, where HTML allows none: 600 KB, the same on every notebook page. They are taken out
    (returned) to go into one stylesheet, STYLESHEET, in the head of the notebook pages."""
    return NOTEBOOK_STYLE.sub("", html_text), [style.strip() for style in NOTEBOOK_STYLE.findall(html_text)]


STYLESHEET_LINK = re.compile(r'<link rel="stylesheet" href="([^"]+)"')


def write_stylesheet(site_dir: Path, styles: str, pages: dict[str, str], palette) -> None:
    """STYLESHEET: the notebook styles cut down to the rules the notebook pages (URL -> HTML) can use, in every
    colour scheme of the theme's `palette`: JupyterLab's full theme costs each page seconds of style
    computation on a phone."""
    schemes = [{f"data-md-color-{key}": str(entry[key]).replace(" ", "-") for key in ("scheme", "primary", "accent")
                if key in entry} for entry in (palette if isinstance(palette, list) else [palette or {}])]
    others = {posixpath.normpath(posixpath.join(posixpath.dirname(url), href)) for url, html_text in pages.items()
              for href in STYLESHEET_LINK.findall(html_text) if "://" not in href}
    others.discard(STYLESHEET)
    other_css = [(site_dir / path).read_text() for path in sorted(others) if (site_dir / path).is_file()]
    stylesheet = site_dir / STYLESHEET
    stylesheet.parent.mkdir(parents=True, exist_ok=True)
    stylesheet.write_text(css_prune.prune(styles, [pages[url] for url in sorted(pages)], schemes, other_css))


def page_links(src_uri: str, page_url: str, repository: str, branch: str, index_url: str | None) -> dict:
    """Links a notebook page offers: its .ipynb (copied next to the page by mkdocs-jupyter) and Colab,
    which opens it from the branch the built site is published from."""
    name = Path(src_uri).name
    published = f"{src_uri.removesuffix('.ipynb')}/{name}"  # as on the web: directory URLs
    repository = repository.removeprefix("https://github.com/").removesuffix(".git")
    return {"download": name,
            "colab": f"https://colab.research.google.com/github/{repository}/blob/{branch}/{published}",
            "about": get_relative_url(index_url, page_url) if index_url else None,
            "stylesheet": get_relative_url(STYLESHEET, page_url)}
