import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from figures_src.mkdocs_plugin.browser import CHROMIUM_ARGS, BrowserNotFound, find_chromium, serve_folder
from figures_src.mkdocs_plugin.build import build_site
from figures_src.mkdocs_plugin.site_config import site_extra

ROOT = Path(__file__).resolve().parent.parent
BASE_PATH = "/optimization/"  # the path of site_url in mkdocs.yml: instant navigation needs the site there
PDF = site_extra(ROOT)["pdf"]
OFFLINE_COPY = site_extra(ROOT)["offline_copy"]


def run_mkdocs(config: Path, site_dir: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site_dir)],
                          capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **env})


def scratch_config(folder: Path, docs: Path, figures_options: str = "", plugins: str = "") -> Path:
    """A minimal site on `docs` with the figures plugin (the project's figure cache) and maybe more
    plugins: for tests that check what a build does with a page or notebook."""
    config = folder / "mkdocs.yml"
    config.write_text(f"site_name: scratch\ndocs_dir: {docs}\ntheme: {{name: material, font: false}}\n"
                      f"plugins:\n  - figures:\n      cache_dir: {ROOT / '.cache' / 'figures'}\n"
                      + "".join(f"      {line}\n" for line in figures_options.splitlines())
                      + "".join(f"  {line}\n" for line in plugins.splitlines()))
    return config


@pytest.fixture(scope="session")
def http_root(tmp_path_factory):
    """A local web server; yields (folder it serves, its URL)."""
    root = tmp_path_factory.mktemp("www")
    with serve_folder(root) as url:
        yield root, url


@pytest.fixture(scope="session")
def site_dir(http_root) -> Path:
    """The real site with its PDF and offline copy, built once for the session by the site's one build
    function (figures from the project's cache) and served at the same path as on GitHub Pages. site_url
    names the local server: Material's instant navigation only follows links it finds in the sitemap,
    matched on host and port."""
    site = http_root[0] / BASE_PATH.strip("/")
    build_site(ROOT, site, site_url=http_root[1] + BASE_PATH, quiet=True)
    return site


@pytest.fixture(scope="session")
def offline_dir(site_dir, tmp_path_factory) -> Path:
    """The copy to read from disk, unzipped from the web site's download as a reader would."""
    offline = tmp_path_factory.mktemp("offline") / "site"
    with zipfile.ZipFile(site_dir / OFFLINE_COPY) as archive:
        archive.extractall(offline)
    return offline


@pytest.fixture(scope="session")
def site_url(http_root, site_dir) -> str:
    """Where the built site is served."""
    return http_root[1] + BASE_PATH


@pytest.fixture(scope="session")
def browser():
    try:
        chromium = find_chromium()
    except BrowserNotFound as missing:
        pytest.fail(f"the browser tests need Chromium: {missing}")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
