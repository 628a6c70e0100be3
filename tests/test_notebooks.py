"""Companion notebooks: executed at build time, valid downloads, a cache that sees the experiment code,
a clear failure when a notebook needs something the site does not install, the core code shown inline
(the package's own, and the code that runs), and timed exercises whose hidden solutions check themselves."""

import ast
import importlib
import inspect
import json
import math
import re

import nbformat
import pytest
import torch

from figures_src import cache
from figures_src.mkdocs_plugin import notebooks
from tests.conftest import ROOT

CHAPTERS = ["observation", "reasons", "consequences", "solutions"]
REPOSITORY = "https://github.com/dl-advanced/optimization"  # mkdocs.yml, figures plugin


@pytest.mark.parametrize("name", CHAPTERS)
def test_each_chapter_has_an_executed_valid_notebook_to_download(site_dir, name):
    path = site_dir / "notebooks" / name / f"{name}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code[0].source == notebooks.install_cell(REPOSITORY)
    assert all(cell.execution_count for cell in code), "every code cell ran"
    outputs = [output for cell in code for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("dl-notebook-chart" in o.get("data", {}).get("text/html", "") for o in outputs), "a chart"
    page = (site_dir / "notebooks" / name / "index.html").read_text()
    assert f'href="{name}.ipynb" download' in page
    assert (f'href="https://colab.research.google.com/github/dl-advanced/optimization/blob/gh-pages/'
            f'notebooks/{name}/{name}.ipynb"') in page
    assert "mathjax" not in page.lower() and "<math" in page  # math typeset at build time, no script


def test_notebook_sources_keep_no_copy_of_the_experiment_code():
    for name in CHAPTERS:
        notebook = notebooks.read_source(ROOT / "docs" / "notebooks" / f"{name}.py", "")
        assert {"figures_src.model", "figures_src.theory"} <= notebooks.imported_modules(notebook), name
        source = (ROOT / "docs" / "notebooks" / f"{name}.py").read_text()
        assert not re.search(r"^\s*(def arccos_map|class MLP)", source, re.M), f"{name} copies library code"


def top_level_names(code: str) -> set[str]:
    return set().union(*(notebooks.bound_names(node) for node in ast.parse(code).body))


@pytest.mark.parametrize("name", CHAPTERS)
def test_each_notebook_runs_the_packages_current_core_code_inline(site_dir, name):
    notebook = nbformat.read(site_dir / "notebooks" / name / f"{name}.ipynb", as_version=4)
    inline = [cell for cell in notebook.cells if notebooks.is_inline_cell(cell)]
    assert inline and all(cell.execution_count for cell in inline)
    defined = set()
    for cell in inline:
        assert cell.source == notebooks.expand_inline(cell.source), "the source as it is now, not a stale copy"
        for module_name, names in notebooks.INLINE_MARKER.findall(cell.source):
            module = importlib.import_module(module_name)
            for shown in names.split(", "):
                value = getattr(module, shown)
                text = inspect.getsource(value).rstrip() if callable(value) else f"\n{shown} = "
                assert text in cell.source, f"{name}: {module_name}.{shown}"
        defined |= top_level_names(cell.source)
    assert {"MLP", "MLPConfig"} <= defined
    imported_again = set()
    for cell in notebook.cells:
        if cell.cell_type == "code" and not notebooks.is_inline_cell(cell):
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("figures_src"):
                    imported_again |= {alias.asname or alias.name for alias in node.names}
    assert not imported_again & defined, f"{name} imports what it shows inline: it would not run what it shows"


@pytest.mark.parametrize("name", CHAPTERS)
def test_each_notebook_has_timed_exercises_with_hidden_solutions_that_check_themselves(site_dir, name):
    notebook = nbformat.read(site_dir / "notebooks" / name / f"{name}.ipynb", as_version=4)
    solutions = [i for i, cell in enumerate(notebook.cells) if notebooks.SOLUTION_TAG in cell.metadata.get("tags", [])]
    assert 2 <= len(solutions) <= 4
    previous = 0
    for index in solutions:
        cell = notebook.cells[index]
        assert cell.source.startswith("# @title ") and "\nassert " in cell.source
        assert cell.metadata.tags == ["solution", "hide-input"] and cell.metadata.cellView == "form"
        assert cell.metadata.jupyter == {"source_hidden": True, "outputs_hidden": True}
        assert cell.execution_count and cell.outputs and not [o for o in cell.outputs if o.output_type == "error"]
        question = [c.source for c in notebook.cells[previous:index] if c.cell_type == "markdown"
                    and re.search(r"^### Exercise \d+: .+ \(\d+ minutes\)$", c.source, re.M)]
        assert len(question) == 1 and "**Before running:**" in question[0], f"{name}: cell {index}"
        previous = index
    text = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    minutes = re.findall(r"\*\*Time: about (\d+) minutes\*\*", text)
    assert len(minutes) == 1 and "## What to try next" in text
    page = (site_dir / "notebooks" / name / "index.html").read_text()
    folded = re.findall(r'<details class="success dl-solution"><summary>[^<]+</summary>(.*?)</details>', page, re.S)
    assert len(folded) == len(solutions) and all("celltag_solution" in f and "assert" in f for f in folded)


def test_the_four_notebooks_take_an_hour_and_twenty_minutes():
    minutes = [int(re.search(r"\*\*Time: about (\d+) minutes\*\*", (ROOT / "docs" / "notebooks" / f"{name}.py")
                             .read_text())[1]) for name in CHAPTERS]
    assert sum(minutes) == 80
    index = (ROOT / "docs" / "notebooks" / "index.md").read_text()
    assert all(f"| {m} min |" in index for m in minutes) and "1 h 20" in index


def test_inline_code_runs_on_its_own_and_names_what_is_missing(tmp_path):
    code = notebooks.expand_inline("# inline figures_src.theory: iterate_correlation")
    namespace = {}
    exec(code, namespace)
    assert namespace["iterate_correlation"](torch.tensor(0.0), 1)[1].item() == pytest.approx(1 / math.pi)
    assert "def arccos_map" in code and "def correlation_gap_asymptote" not in code, "what it uses, nothing more"
    assert notebooks.expand_inline(code) == code
    with pytest.raises(notebooks.NotebookError, match=r"figures_src\.theory defines no top-level 'no_such'"):
        notebooks.expand_inline("# inline figures_src.theory: no_such")
    source = tmp_path / "stray.py"
    source.write_text("# %%\n# inline figures_src.theory: arccos_map\nprint(arccos_map)\n")
    with pytest.raises(notebooks.NotebookError, match=r"stray\.py: a cell of inline code holds only lines .+ "
                                                       r"not 'print\(arccos_map\)'"):
        notebooks.read_source(source, "")


def test_solution_cells_fold_on_the_site():
    html = ('<div class="jp-Cell jp-MarkdownCell"><p>Exercise</p></div>'
            '<div class="jp-Cell jp-CodeCell jp-Notebook-cell celltag_solution celltag_hide-input">'
            '<div class="jp-Cell jp-CodeCell jp-Notebook-cell celltag_solution celltag_hide-input" id="c">'
            '<div class="in">code</div><div class="out">42</div></div></div><p>after</p>')
    folded = notebooks.collapse_solutions(html)
    assert folded.count("<details") == 1
    assert re.search(r'<details class="success dl-solution"><summary>.+</summary><div class="jp-Cell jp-CodeCell'
                     r'.*42</div></div></div></details><p>after</p>$', folded)
    assert notebooks.collapse_solutions(html.replace("celltag_solution", "")) == html.replace("celltag_solution", "")


def test_code_cells_keep_their_text_and_their_meaningful_colours_with_fewer_elements():
    """Pygments' spans for names, whitespace, punctuation and operators go; the code reads the same, and keywords,
    strings and numbers stay coloured."""
    html = ('<div class="highlight-ipynb hl-python"><pre><span></span><span class="kn">import</span><span class="w"> '
            '</span><span class="nn">torch</span>\n<span class="n">x</span> <span class="o">=</span> <span class="n">'
            'torch</span><span class="o">.</span><span class="n">ones</span><span class="p">(</span><span class="mi">'
            '3</span><span class="p">)</span>  <span class="c1"># three &lt;ones&gt;</span></pre></div>')
    thinned = notebooks.thin_highlighting(html)
    text = lambda h: re.sub(r"<[^>]+>", "", h)
    assert text(thinned) == text(html)
    assert thinned.count("<span") == html.count("<span") - 8
    for kept in ('class="kn"', 'class="nn"', 'class="mi"', 'class="c1"'):
        assert kept in thinned
    assert re.search(r'class="[nwpo]"', thinned) is None


def test_the_cache_key_changes_with_the_experiment_code_the_notebook_imports(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "PINNED", {})  # outside a build (no sources pinned), keys follow the files
    source = ROOT / "docs" / "notebooks" / "observation.py"
    notebook = notebooks.read_source(source, "")
    assert "figures_src.theory" in notebooks.imported_modules(notebook)
    assert "figures_src.curvature" not in notebooks.imported_modules(notebook)
    key = notebooks.cache_key(source.read_text(), notebook, "")

    edited = tmp_path / "theory.py"
    edited.write_text(cache.module_file("figures_src.theory").read_text() + "\n# an edit\n")
    original = cache.module_file
    monkeypatch.setattr(cache, "module_file",
                        lambda name: edited if name == "figures_src.theory" else original(name))
    assert notebooks.cache_key(source.read_text(), notebook, "") != key
    monkeypatch.setattr(cache, "module_file",
                        lambda name: edited if name == "figures_src.curvature" else original(name))
    assert notebooks.cache_key(source.read_text(), notebook, "") == key, "code it does not import"


TINY = """\
# %% [markdown]
# # A tiny notebook
# %%
from figures_src.theory import arccos_map
import torch
print(float(arccos_map(torch.tensor(0.0))))
"""


def test_execution_is_cached_and_byte_identical(tmp_path):
    source = tmp_path / "tiny.py"
    source.write_text(TINY)
    first, second = tmp_path / "a" / "tiny.ipynb", tmp_path / "b" / "tiny.ipynb"
    assert notebooks.execute(source, first, REPOSITORY, ROOT) is False
    assert notebooks.execute(source, second, REPOSITORY, ROOT) is False
    assert first.read_bytes() == second.read_bytes()
    printed = nbformat.read(first, as_version=4).cells[-1].outputs[0].text
    assert abs(float(printed) - 1 / 3.141592653589793) < 1e-6  # F(0) = 1/π
    assert notebooks.execute(source, first, REPOSITORY, ROOT) is True, "unchanged: from the cache"
    first.with_suffix(".json").write_text("{not json")  # the cache entry
    assert notebooks.execute(source, first, REPOSITORY, ROOT) is False, "a damaged entry runs again"
    assert json.loads(first.read_text())["cells"]
    assert first.read_bytes() == second.read_bytes()


def test_a_notebook_needing_a_missing_package_fails_by_name_and_writes_nothing(tmp_path):
    source = tmp_path / "needs.py"
    source.write_text(TINY.replace("import torch", "import torch\nimport no_such_package"))
    target = tmp_path / "executed" / "needs.ipynb"
    with pytest.raises(notebooks.NotebookError, match=r"needs\.py: cell \d+ failed with ModuleNotFoundError: "
                                                       r"No module named 'no_such_package'"):
        notebooks.execute(source, target, REPOSITORY, ROOT)
    assert not target.exists() and not target.with_suffix(".json").exists()


def test_a_solution_whose_check_fails_fails_the_build(tmp_path):
    source = tmp_path / "wrong.py"
    source.write_text(TINY + '\n# %% tags=["solution"]\n# @title Solution 1\nassert 1 / 3.141592653589793 > 0.5, '
                      '"F(0) is not above one half"\n')
    with pytest.raises(notebooks.NotebookError, match=r"wrong\.py: cell \d+ failed with AssertionError: "
                                                       r"F\(0\) is not above one half"):
        notebooks.execute(source, tmp_path / "out" / "wrong.ipynb", REPOSITORY, ROOT)
    source.write_text(TINY + '\n# %% tags=["solution"]\nassert True\n')
    with pytest.raises(notebooks.NotebookError, match=r"wrong\.py: a cell tagged 'solution' must be code starting "
                                                       r"with '# @title '"):
        notebooks.execute(source, tmp_path / "out" / "wrong.ipynb", REPOSITORY, ROOT)


DISPLAY_MATH = """() => Array.from(document.querySelectorAll('.dl-math')).map(box => {
  const around = box.closest('.jp-Cell, .md-content__inner').getBoundingClientRect();
  const own = box.getBoundingClientRect();
  return {inside: own.left >= around.left - 0.5 && own.right <= around.right + 0.5,
          wider: box.scrollWidth > box.clientWidth, scrolls: getComputedStyle(box).overflowX === 'auto'};
})"""


@pytest.mark.browser
@pytest.mark.parametrize("path", ["notebooks/observation/", "observation/"])
def test_a_long_display_equation_scrolls_inside_its_own_box(browser, site_url, path):
    """On a notebook page and a chapter, at desktop and phone width, each display equation stays in its cell
    or column; one wider than that scrolls sideways in its box, and the page never does."""
    for width in (1280, 390):
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(site_url + path)
        boxes = page.evaluate(DISPLAY_MATH)
        assert boxes and all(box["inside"] for box in boxes), (path, width, boxes)
        assert all(box["scrolls"] for box in boxes if box["wider"]), (path, width, boxes)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.close()


CELL_WIDTHS = """() => {
  const column = document.querySelector('.md-content__inner').getBoundingClientRect().width;
  const code = Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputArea-editor'));
  const outputs = Array.from(document.querySelectorAll('.jp-OutputArea-output'));
  return {column, code: code.map(e => e.getBoundingClientRect().width),
          outputs: outputs.map(e => e.getBoundingClientRect().width)};
}"""


@pytest.mark.browser
def test_code_and_outputs_take_a_phones_whole_column(browser, site_url):
    """At phone width the prompt goes above its cell: code and outputs get the column, not what a prompt
    beside them would leave (two thirds of it); at desktop width the prompt stays beside them."""
    for width, least, most in ((390, 0.9, 1.0), (1280, 0.5, 0.93)):
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(site_url + "notebooks/observation/")
        found = page.evaluate(CELL_WIDTHS)
        page.close()
        widths = found["code"] + found["outputs"]
        assert len(found["code"]) >= 5 and found["outputs"], found
        assert all(least * found["column"] <= w <= most * found["column"] + 0.5 for w in widths), (width, found)


# For each drawn chart: the colour channels its spec encodes with a field, and whether the drawing shows a legend.
COLOUR_KEYS = """() => Array.from(document.querySelectorAll('.dl-chart')).map(element => {
  const channels = new Set();
  (function walk(node) {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const encoding = node.encoding || {};
    ['color', 'fill', 'stroke'].forEach(c => { if (encoding[c] && encoding[c].field) channels.add(c); });
    Object.values(node).forEach(walk);
  })(JSON.parse(element.dataset.specJson));
  return {title: element.querySelector('svg .role-title-text') ? element.querySelector('svg .role-title-text').textContent : '?',
          coloured: channels.size > 0, legends: element.querySelectorAll('svg .role-legend').length};
})"""


@pytest.mark.browser
@pytest.mark.parametrize("name", CHAPTERS)
def test_every_notebook_chart_that_encodes_a_value_in_colour_has_its_key(browser, site_url, name):
    """The observation notebook's cosine heatmaps had no colour key (a colour channel and a stroke channel
    without a legend hid the key of both): no reader could tell −1 from 1. Notebook charts name their lines
    in a legend, so each chart that maps a field to colour shows one."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(site_url + f"notebooks/{name}/")
    page.wait_for_function("!!(window.dlFigures && window.dlFigures.draw)")
    page.evaluate("Promise.all(Array.from(document.querySelectorAll('.dl-chart')).map(e => window.dlFigures.draw(e)))")
    page.wait_for_function("Array.from(document.querySelectorAll('.dl-chart')).every(e => e.classList.contains('dl-rendered'))")
    charts = page.evaluate(COLOUR_KEYS)
    page.close()
    assert sum(c["coloured"] for c in charts) >= 2, charts
    assert [c["title"] for c in charts if c["coloured"] and not c["legends"]] == []
