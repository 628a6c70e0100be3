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
CHROMIUM = Path("/usr/bin/chromium")


def install(session: nox.Session, extras: str = "") -> None:
    # torch==2.13.0 is pinned in pyproject.toml: a CPU wheel, never the multi-GB CUDA build.
    session.install("-c", "constraints.txt", "-e", f".{extras}")


PDF = "pdf/why-deep-networks-are-hard-to-train.pdf"  # the path mkdocs.yml's extra.pdf links to
OFFLINE_COPY = "offline/why-deep-networks-are-hard-to-train.zip"  # mkdocs.yml's extra.offline_copy


def build_site(session: nox.Session) -> None:
    """Build into staging folders and swap the result in: a failed build never leaves a half-written site/.

    Two builds of the same pages: the web site (directory URLs, instant navigation) and, with
    DL_OFFLINE=true, the copy readers open from disk (pages as name.html, search index inlined), which the
    web site offers as a zip with the PDF inside."""
    staging, offline = ROOT / "site.tmp", ROOT / "site-offline.tmp"
    for folder in (staging, offline):
        shutil.rmtree(folder, ignore_errors=True)
    env = {"NO_MKDOCS_2_WARNING": "1"}
    session.run("mkdocs", "build", "--strict", "--site-dir", str(staging), env=env)
    session.run("python", "-m", "figures_src.mkdocs_plugin.pdf", str(staging), str(staging / PDF))
    session.run("mkdocs", "build", "--strict", "--site-dir", str(offline), env=env | {"DL_OFFLINE": "true"})
    session.run("python", "-m", "figures_src.mkdocs_plugin.offline", str(offline), str(staging / PDF),
                str(staging / OFFLINE_COPY))
    shutil.rmtree(offline)
    shutil.rmtree(ROOT / "site", ignore_errors=True)
    staging.rename(ROOT / "site")
    session.log(f"site built in {ROOT / 'site'}, with its PDF and offline copy")


def ensure_chromium(session: nox.Session) -> None:
    if CHROMIUM.exists():
        return
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        session.log("Chromium is missing: installing Debian's chromium for the browser tests")
        session.run("apt-get", "update", "-qq", external=True)
        session.run("apt-get", "install", "-y", "-qq", "chromium", external=True)
        return
    session.error(f"Printing the PDF and the browser tests need Chromium at {CHROMIUM}: "
                  "install it with `sudo apt-get install chromium`.")


@nox.session(python=PYTHON)
def build(session: nox.Session) -> None:
    """The complete site into site/ (figures computed or taken from .cache/), with its PDF."""
    ensure_chromium(session)
    install(session)
    build_site(session)


@nox.session(python=PYTHON)
def pdf(session: nox.Session) -> None:
    """Only the PDF, from an existing site/ (nox -s build makes both)."""
    ensure_chromium(session)
    install(session)
    session.run("python", "-m", "figures_src.mkdocs_plugin.pdf", "site", f"site/{PDF}")


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
    """Build timings, page weights and time to first chart, written to docs/benchmark.md."""
    ensure_chromium(session)
    install(session)
    session.run("python", "-m", "figures_src.bench", *session.posargs, env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session(python=PYTHON)
def reproducible(session: nox.Session) -> None:
    """Compute every figure twice from an empty cache and compare the exported files byte for byte."""
    install(session)
    session.run("python", "-m", "figures_src.reproduce", env={"NO_MKDOCS_2_WARNING": "1"})
