"""Companion notebooks: executed at build time, valid downloads, a cache that sees the experiment code,
and a clear failure when a notebook needs something the site does not install."""

import json
import re

import nbformat
import pytest

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


def test_notebooks_use_the_experiment_code_not_copies():
    for name in CHAPTERS:
        notebook = notebooks.read_source(ROOT / "docs" / "notebooks" / f"{name}.py", "")
        used = notebooks.imported_modules(notebook)
        assert {"figures_src.model", "figures_src.theory"} <= used, name
        sources = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
        assert not re.search(r"^\s*(def arccos_map|class MLP)", sources, re.M), f"{name} copies library code"


def test_the_cache_key_changes_with_the_experiment_code_the_notebook_imports(tmp_path, monkeypatch):
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
