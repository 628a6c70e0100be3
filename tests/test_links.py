"""Every internal link and #anchor of the built site resolves (pages, figure anchors, print page, files)."""

import posixpath
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from tests.conftest import BASE_PATH

pytestmark = pytest.mark.build


class LinksAndIds(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        for key in ("href", "src"):
            if attrs.get(key) and not (tag == "link" and attrs.get("rel") in ("canonical", "alternate")):
                self.links.append(attrs[key])


def parse(path: Path) -> LinksAndIds:
    parser = LinksAndIds()
    parser.feed(path.read_text())
    return parser


@pytest.mark.parametrize("copy", ["web", "offline"])
def test_every_internal_link_and_anchor_resolves(site_dir, offline_dir, copy):
    """In the web site (its PDF and offline zip built) and in the offline copy, whose pages are name.html."""
    site_dir = site_dir if copy == "web" else offline_dir
    pages = {p: parse(p) for p in site_dir.rglob("*.html")}
    broken = []
    checked = 0
    for page, parsed in pages.items():
        for link in parsed.links:
            url = urlparse(link)
            if url.scheme or link.startswith("//") or link.startswith("data:"):
                continue  # another host: a plain link, not something the page loads (checked elsewhere)
            if url.path.startswith("/"):  # root-relative (the 404 page): the site lives at BASE_PATH
                if not url.path.startswith(BASE_PATH):
                    broken.append(f"{page.relative_to(site_dir)}: {link} (outside {BASE_PATH})")
                    continue
                target = site_dir / unquote(url.path[len(BASE_PATH):])
                if link.endswith("/") or target.is_dir():
                    target = target / "index.html"
            elif url.path:
                target = Path(posixpath.normpath(posixpath.join(str(page.parent), unquote(url.path))))
                if link.endswith("/") or target.is_dir():
                    target = target / "index.html"
            else:
                target = page
            checked += 1
            if not target.exists():
                broken.append(f"{page.relative_to(site_dir)}: {link} (no file)")
            elif url.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parse(target).ids
                if unquote(url.fragment) not in ids:
                    broken.append(f"{page.relative_to(site_dir)}: {link} (no anchor)")
    assert checked > 100
    assert broken == [], broken
