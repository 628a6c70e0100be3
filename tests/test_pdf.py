"""The offline PDF: every chapter and figure, vector charts, bookmarks, internal links."""

import re

import pytest
from pypdf import PdfReader

from tests.conftest import PDF

pytestmark = pytest.mark.build


@pytest.fixture(scope="module")
def reader(site_dir) -> PdfReader:
    return PdfReader(site_dir / PDF)


@pytest.fixture(scope="module")
def text(reader) -> str:
    return squeeze(" ".join(page.extract_text() for page in reader.pages))


def squeeze(text: str) -> str:
    """Without white space: PDF text extraction drops or adds spaces at line breaks."""
    return re.sub(r"\s+", "", text)


def chapter_titles(site_dir) -> list[str]:
    titles = []
    for page in sorted(site_dir.glob("*/index.html")):
        match = re.search(r"<h1[^>]*>(\d+\. [^<]+)", page.read_text())
        if match:
            titles.append(match[1].strip())
    return titles


def test_every_chapter_and_figure_number_is_in_the_pdf(site_dir, text):
    titles = chapter_titles(site_dir)
    assert titles, "no chapter pages found"
    for title in titles:
        assert squeeze(title) in text, title
    numbers = set()
    for page in site_dir.glob("*/index.html"):
        numbers |= set(re.findall(r'class="dl-fignum"[^>]*>(Figure \d+\.\d+)<', page.read_text()))
    assert numbers
    for number in sorted(numbers):
        assert squeeze(number) in text, number


def test_charts_are_vector_not_raster(reader):
    images = [image.name for page in reader.pages for image in page.images]
    assert images == []


def test_bookmarks_list_the_chapters(site_dir, reader):
    def flatten(items):
        for item in items:
            if isinstance(item, list):
                yield from flatten(item)
            else:
                yield item.title
    titles = list(flatten(reader.outline))
    for title in chapter_titles(site_dir):
        assert title in titles, title  # word for word: a heading that wraps keeps its spaces


def test_internal_links_resolve(reader):
    destinations = set(reader.named_destinations)
    internal = 0
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            link = annotation.get_object()
            if link.get("/Subtype") != "/Link":
                continue
            target = link.get("/Dest")
            action = link.get("/A")
            if target is None and action is not None and action.get("/S") == "/GoTo":
                target = action.get("/D")
            if target is None:
                continue  # a link to a web page
            internal += 1
            if isinstance(target, str):
                assert target in destinations, target
    assert internal > 10


def test_without_chromium_the_pdf_command_says_how_to_install_it(tmp_path, monkeypatch):
    from figures_src.mkdocs_plugin import pdf

    monkeypatch.setenv("DL_CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(SystemExit, match=r"Cannot print the PDF: DL_CHROMIUM=.*no-chromium does not name"):
        pdf.print_site(tmp_path / "site", tmp_path / "out.pdf")
    assert not (tmp_path / "out.pdf").exists()
