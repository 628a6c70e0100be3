"""The Colab path, end to end and offline: a notebook as published, opened in an environment that has only
what Colab has, installs the experiment code with its own first cell and runs to the end.

The environment: a fresh virtual environment (no system site packages) that sees, through one .pth file,
only the distributions Colab ships that the notebooks rely on: torch, numpy, altair and ipykernel (the kernel
Colab runs), with pip and setuptools, and the distributions these require, linked from this test's own
environment. MkDocs, jupytext, nbclient, Playwright and the package itself are absent, so a notebook that needed
any of them, or anything its install cell does not install, fails here. The install cell installs the package
from a copy of this repository (DL_INSTALL_URL, as it would from GitHub), with pip kept offline: no package
index, and the build uses the setuptools already installed instead of downloading one.
"""

import os
import shutil
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import nbclient
import nbformat
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from figures_src.mkdocs_plugin import notebooks
from figures_src.notebook import RENDERER_ENV
from tests.conftest import ROOT

COLAB_PACKAGES = ["torch", "numpy", "altair", "ipykernel", "pip", "setuptools"]
NOTEBOOK = "observation"  # the quickest notebook: the path, not the science, is under test here


def with_requirements(names: list[str]) -> set[str]:
    """These distributions and every distribution they require (without extras), transitively."""
    found: set[str] = set()
    todo = list(names)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in found:
            continue
        found.add(name)
        for text in distribution(name).requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return found


def colab_like_python(folder: Path) -> Path:
    """A virtual environment with only COLAB_PACKAGES (and their requirements) importable; its python."""
    packages = folder / "colab-packages"
    packages.mkdir(parents=True)
    for name in sorted(with_requirements(COLAB_PACKAGES)):
        installed = distribution(name)
        top_level = {Path(str(file)).parts[0] for file in installed.files or [] if not str(file).startswith("..")}
        for entry in top_level:
            source = Path(installed.locate_file(entry))
            if source.exists() and not (packages / entry).exists():
                (packages / entry).symlink_to(source)
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site_packages = next((venv / "lib").glob("python3*/site-packages"))
    (site_packages / "colab.pth").write_text(f"{packages}\n")
    return venv / "bin" / "python"


def repository_copy(folder: Path) -> Path:
    """What `pip install git+<repository>` would fetch: the package's files, without caches."""
    copy = folder / "repository"
    copy.mkdir()
    for name in ["pyproject.toml", "README.md"]:
        shutil.copy(ROOT / name, copy / name)
    shutil.copytree(ROOT / "figures_src", copy / "figures_src", ignore=shutil.ignore_patterns("__pycache__"))
    return copy


@pytest.mark.colab
def test_a_published_notebook_runs_where_only_colabs_packages_are_installed(site_dir, tmp_path, monkeypatch):
    python = colab_like_python(tmp_path)
    probe = subprocess.run([str(python), "-c", "import importlib.util as u; print([m for m in "
                            "['torch', 'altair', 'ipykernel', 'figures_src', 'mkdocs', 'nbclient', 'jupytext'] "
                            "if u.find_spec(m)])"], capture_output=True, text=True, cwd=tmp_path,
                           env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert probe.stdout.strip() == "['torch', 'altair', 'ipykernel']", probe.stderr

    kernels = tmp_path / "jupyter" / "kernels" / "colab"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(
        '{"argv": ["%s", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "Colab-like", '
        '"language": "python"}' % python)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.delenv(RENDERER_ENV, raising=False)  # Altair's own renderer, as in Colab
    monkeypatch.setenv("DL_INSTALL_URL", repository_copy(tmp_path).as_uri())
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_NO_BUILD_ISOLATION", "0")  # pip reads this negated option inverted: no isolation

    published = nbformat.read(site_dir / "notebooks" / NOTEBOOK / f"{NOTEBOOK}.ipynb", as_version=4)
    notebook = nbformat.read(site_dir / "notebooks" / NOTEBOOK / f"{NOTEBOOK}.ipynb", as_version=4)
    nbclient.NotebookClient(notebook, timeout=notebooks.TIMEOUT_SECONDS, kernel_name="colab",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    notebooks.merge_streams(notebook)  # as the site's build does: how the kernel flushed prints varies by machine

    installed = subprocess.run([str(python), "-m", "pip", "show", "-f", "deep-collapse-site"],
                               capture_output=True, text=True, cwd=tmp_path).stdout
    assert "Location: " + str(tmp_path / "venv") in installed, "the install cell installed the package in the venv"
    solutions = [i for i, cell in enumerate(notebook.cells) if notebooks.SOLUTION_TAG in cell.metadata.get("tags", [])]
    assert solutions, "the exercises' checks ran"
    for index in solutions:  # the same answers as on the site: the checks ran on the same code
        assert notebook.cells[index].outputs[0].text == published.cells[index].outputs[0].text
