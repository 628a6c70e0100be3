import os
import subprocess
import sys
from pathlib import Path

import pytest

from figures_src.mkdocs_plugin.browser import CHROMIUM, CHROMIUM_ARGS, serve_folder
from figures_src.mkdocs_plugin.site_config import site_extra, write_config

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
    """The real site, built once for the session (figures from the project's cache) and served at the
    same path as on GitHub Pages. site_url names the local server: Material's instant navigation only
    follows links it finds in the sitemap, matched on host and port."""
    site = http_root[0] / BASE_PATH.strip("/")
    site_url = http_root[1] + BASE_PATH
    config = write_config(http_root[0].parent / "mkdocs.yml", ROOT, site_url=site_url)
    result = run_mkdocs(config, site)
    assert result.returncode == 0, result.stderr[-3000:]
    printed = subprocess.run([sys.executable, "-m", "figures_src.mkdocs_plugin.pdf", str(site), str(site / PDF)],
                             capture_output=True, text=True)
    assert printed.returncode == 0, printed.stdout + printed.stderr
    return site


@pytest.fixture(scope="session")
def offline_dir(site_dir, tmp_path_factory) -> Path:
    """The copy to read from disk (DL_OFFLINE=true), with the PDF; zipped into the web site as `nox -s build`
    does, so the web site's link to it resolves."""
    offline = tmp_path_factory.mktemp("offline") / "site"
    config = write_config(tmp_path_factory.mktemp("offline-config") / "mkdocs.yml", ROOT)
    result = run_mkdocs(config, offline, DL_OFFLINE="true")
    assert result.returncode == 0, result.stderr[-3000:]
    from figures_src.mkdocs_plugin.offline import package
    package(offline, site_dir / PDF, site_dir / OFFLINE_COPY)
    return offline


@pytest.fixture(scope="session")
def site_url(http_root, site_dir) -> str:
    """Where the built site is served."""
    return http_root[1] + BASE_PATH


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"the browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
