"""Companion notebooks: jupytext sources (`docs/notebooks/*.py`) executed at build time into `.ipynb` files
that mkdocs-jupyter renders and readers download.

The executed notebook is cached under a key made of the source text, the install cell, the code of every
`figures_src` module the notebook imports (directly or through other modules) and the library versions:
mkdocs-jupyter's own cache sees only the notebook text, so an edit to the experiment code would leave it stale.
"""

import ast
import hashlib
import json
import os
import posixpath
import re
from pathlib import Path
from typing import Callable

import jupytext
import nbclient
import nbformat

from figures_src import pipeline
from figures_src.notebook import RENDERER_ENV

TIMEOUT_SECONDS = 600  # per cell


class NotebookError(Exception):
    pass


def install_cell(repository: str) -> str:
    """The first code cell of every notebook: outside the site's repository (Colab, a fresh Jupyter) it installs
    the experiment code. Colab already has torch and numpy: installing without dependencies keeps its torch."""
    return (
        "# Outside the site's repository (Colab, a fresh Jupyter), install the experiment code first.\n"
        "import importlib.util, subprocess, sys\n"
        "if importlib.util.find_spec(\"figures_src\") is None:\n"
        "    subprocess.check_call([sys.executable, \"-m\", \"pip\", \"install\", \"-q\", \"altair==6.3.0\"])\n"
        "    subprocess.check_call([sys.executable, \"-m\", \"pip\", \"install\", \"-q\", \"--no-deps\",\n"
        f"                           \"git+{repository}\"])"
    )


def imported_modules(notebook: nbformat.NotebookNode) -> set[str]:
    """Every figures_src module the notebook's code depends on."""
    direct = set()
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # IPython magics: no import to find there
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                direct |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                direct |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    found = set()
    for name in direct:
        if name.split(".")[0] == pipeline.PACKAGE and pipeline.is_module(name):
            found |= pipeline.local_imports(name)
    return found


def cache_key(source_text: str, notebook: nbformat.NotebookNode, first_cell: str) -> str:
    """`notebook` as prepared for execution (its links made absolute): its markdown is part of the key."""
    digest = hashlib.sha256(source_text.encode() + b"\0" + first_cell.encode() + b"\0")
    digest.update("\0".join(c.source for c in notebook.cells if c.cell_type == "markdown").encode())
    for name in sorted(imported_modules(notebook)):
        digest.update(name.encode() + b"\0" + pipeline.module_file(name).read_bytes() + b"\0")
    digest.update(json.dumps(pipeline.library_versions(), sort_keys=True).encode())
    return digest.hexdigest()


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


def read_source(source: Path, first_cell: str) -> nbformat.NotebookNode:
    notebook = jupytext.read(source)
    first_code = next((i for i, c in enumerate(notebook.cells) if c.cell_type == "code"), len(notebook.cells))
    notebook.cells.insert(first_code, nbformat.v4.new_code_cell(first_cell))  # after the title and introduction
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index}"  # fixed ids: the same notebook byte for byte on every build
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
    key_file = target.with_suffix(".key")
    if target.exists() and key_file.exists() and key_file.read_text() == key:
        try:
            nbformat.validate(nbformat.read(target, as_version=4))
            return True
        except Exception:  # a damaged entry is executed again
            pass
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
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    nbformat.write(notebook, tmp)
    tmp.replace(target)
    key_file.write_text(key)
    return False
