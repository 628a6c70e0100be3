"""Sessions: build (the complete site into site/), test (the whole suite), serve (live preview), bench."""

import os
import shutil
import sys
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["test"]

ROOT = Path(__file__).parent
PYTHON = "3.11"


def install(session: nox.Session, extras: str = "") -> None:
    # torch==2.13.0 is pinned in pyproject.toml: a CPU wheel, never the multi-GB CUDA build.
    session.install("-c", "constraints.txt", "-e", f".{extras}")


def ensure_chromium(session: nox.Session) -> None:
    """Printing the PDF and the browser tests need Chromium or Chrome (see the browser module for where it
    is looked for). On a Debian machine run as root (CI), install Debian's chromium when none is found."""
    sys.path.insert(0, str(ROOT))
    from figures_src.mkdocs_plugin.browser import BrowserNotFound, find_chromium
    try:
        find_chromium()
        return
    except BrowserNotFound as missing:
        if not (shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0):
            # Playwright's own Chromium can only be found inside the session's environment: the PDF printer
            # and the test fixture look there too and, failing, say what they tried.
            session.log(f"{missing}\n(Playwright's managed Chromium is checked inside the environment.)")
            return
    session.log("Chromium is missing: installing Debian's chromium")
    session.run("apt-get", "update", "-qq", external=True)
    session.run("apt-get", "install", "-y", "-qq", "chromium", external=True)


@nox.session(python=PYTHON)
def build(session: nox.Session) -> None:
    """The complete site into site/ (figures computed or taken from .cache/), with its PDF."""
    ensure_chromium(session)
    install(session)
    session.run("python", "-m", "figures_src.mkdocs_plugin.build", env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session(python=PYTHON)
def pdf(session: nox.Session) -> None:
    """Only the PDF, from an existing site/ (nox -s build makes both)."""
    ensure_chromium(session)
    install(session)
    session.run("python", "-m", "figures_src.mkdocs_plugin.build", "--pdf-only")


@nox.session(python=PYTHON)
def serve(session: nox.Session) -> None:
    """Live preview at http://127.0.0.1:8000/optimization/: edits to docs/ or figures_src/ rebuild."""
    install(session)
    session.run("mkdocs", "serve", *session.posargs, env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session(python=PYTHON)
def test(session: nox.Session) -> None:
    """The whole suite: science, pipeline, and the built site in headless Chromium."""
    ensure_chromium(session)
    install(session, "[test]")
    session.run("pytest", *session.posargs, env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Build and test-suite timings, page weights, time to first chart, the curvature engine: docs/benchmark.md."""
    ensure_chromium(session)
    install(session, "[test]")  # it times the test suite
    session.run("python", "-m", "figures_src.bench", *session.posargs, env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session(python=PYTHON)
def reproducible(session: nox.Session) -> None:
    """Compute every figure twice from an empty cache and compare the exported files byte for byte."""
    install(session)
    session.run("python", "-m", "figures_src.reproduce", env={"NO_MKDOCS_2_WARNING": "1"})
