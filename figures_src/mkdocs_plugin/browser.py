"""Headless Chromium and a local server for the built site, shared by the PDF printer, the benchmark and
the tests."""

import functools
import gzip
import http.server
import io
import os
import re
import shutil
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

ENV_VARS = ("DL_CHROMIUM", "CHROME_PATH")  # the project's own, then the one Lighthouse and others read
COMMANDS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
MACOS_APPS = ("/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
              "/Applications/Chromium.app/Contents/MacOS/Chromium")
INSTALL_HINT = """Install one of:
  Debian/Ubuntu:  sudo apt-get install chromium
  macOS:          brew install --cask chromium   (or install Google Chrome)
  anywhere:       python -m playwright install chromium   (Playwright's own build)
or point DL_CHROMIUM at a Chromium or Chrome executable."""


class BrowserNotFound(RuntimeError):
    """No Chromium or Chrome to drive: the message lists every place looked at and how to install one."""


def playwright_chromium() -> str | None:
    """The executable of the Chromium that `python -m playwright install chromium` downloads, if it is there.
    Playwright only reports that path from its driver, so this starts the driver (about half a second);
    call it outside any running Playwright session."""
    try:
        from playwright.sync_api import sync_playwright
        with sync_playwright() as playwright:
            path = playwright.chromium.executable_path
    except Exception:  # Playwright not installed, or its driver cannot start: no managed browser either
        return None
    return path if path and Path(path).is_file() else None


def find_chromium() -> str:
    """The Chromium or Chrome executable to drive, looked for in this order: the environment variables
    DL_CHROMIUM, then CHROME_PATH (one naming a missing file is an error, not skipped); the commands
    chromium, chromium-browser, google-chrome, google-chrome-stable on PATH; on macOS, Google Chrome and
    Chromium in /Applications; last, the Chromium Playwright manages. Raises BrowserNotFound otherwise."""
    for name in ENV_VARS:
        value = os.environ.get(name)
        if value:
            path = Path(value).expanduser()
            if not path.is_file():
                raise BrowserNotFound(f"{name}={value} does not name an existing file: point it at a Chromium or "
                                      f"Chrome executable, or unset it to look for one elsewhere.")
            return str(path)
    tried = [f"environment variables {' and '.join(ENV_VARS)}: not set"]
    for command in COMMANDS:
        found = shutil.which(command)
        if found:
            return found
    tried.append(f"on PATH: {', '.join(COMMANDS)}")
    if sys.platform == "darwin":
        for app in MACOS_APPS:
            if Path(app).is_file():
                return app
        tried.append(f"macOS applications: {', '.join(MACOS_APPS)}")
    managed = playwright_chromium()
    if managed:
        return managed
    tried.append("Playwright's managed Chromium (python -m playwright install chromium): not installed")
    raise BrowserNotFound("No Chromium or Chrome found. Looked at:\n" + "".join(f"  - {t}\n" for t in tried)
                          + INSTALL_HINT)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class GzipHandler(QuietHandler):
    """Sends text files gzipped to a client that accepts it, as GitHub Pages does: what a page weighs on the
    wire, for measurements such as Lighthouse's."""
    COMPRESSED = (".html", ".js", ".css", ".json", ".svg", ".xml", ".txt")

    def send_head(self):
        path = self.translate_path(self.path)
        if os.path.isdir(path) and self.path.split("?")[0].endswith("/"):
            path = os.path.join(path, "index.html")
        if "gzip" not in self.headers.get("Accept-Encoding", "") or not path.endswith(self.COMPRESSED) \
                or not os.path.isfile(path):
            return super().send_head()
        with open(path, "rb") as stream:
            body = gzip.compress(stream.read(), compresslevel=6, mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


@contextmanager
def serve_folder(folder: Path, handler: type = QuietHandler) -> Iterator[str]:
    """Serve `folder` on a free local port; yields its URL (no trailing slash)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@contextmanager
def serve_site(site_dir: Path, handler: type = QuietHandler) -> Iterator[str]:
    """Serve a built site at the path of its site_url, as GitHub Pages does (Material looks for its search
    index and sitemap there); yields the site's base URL, ending with a slash."""
    first_page = re.search(r"<loc>([^<]+)</loc>", (site_dir / "sitemap.xml").read_text())
    base = urlparse(first_page[1]).path.strip("/") if first_page else ""
    with tempfile.TemporaryDirectory() as root:
        if base:
            (Path(root) / base).parent.mkdir(parents=True, exist_ok=True)
            (Path(root) / base).symlink_to(site_dir.resolve(), target_is_directory=True)
        with serve_folder(Path(root) if base else site_dir, handler) as url:
            yield f"{url}/{base + '/' if base else ''}"
