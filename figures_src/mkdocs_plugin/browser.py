"""Headless Chromium and a local server for the built site, shared by the PDF printer, the benchmark and
the tests."""

import functools
import http.server
import re
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

CHROMIUM = "/usr/bin/chromium"  # Debian's package (apt-get install chromium); never `playwright install`
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve `folder` on a free local port; yields its URL (no trailing slash)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@contextmanager
def serve_site(site_dir: Path) -> Iterator[str]:
    """Serve a built site at the path of its site_url, as GitHub Pages does (Material looks for its search
    index and sitemap there); yields the site's base URL, ending with a slash."""
    first_page = re.search(r"<loc>([^<]+)</loc>", (site_dir / "sitemap.xml").read_text())
    base = urlparse(first_page[1]).path.strip("/") if first_page else ""
    with tempfile.TemporaryDirectory() as root:
        if base:
            (Path(root) / base).parent.mkdir(parents=True, exist_ok=True)
            (Path(root) / base).symlink_to(site_dir.resolve(), target_is_directory=True)
        with serve_folder(Path(root) if base else site_dir) as url:
            yield f"{url}/{base + '/' if base else ''}"
