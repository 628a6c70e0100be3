"""The PDFs: every chapter and figure, vector charts, bookmarks, internal links, links out to the published
site only, no interaction hints or near-blank pages on paper, one PDF per chapter, the contents' page numbers,
and the build's version stamped everywhere a citation may come from."""

import html
import json
import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from mkdocs.exceptions import PluginError
from mkdocs.utils.yaml import yaml_load
from pypdf import PdfReader

from figures_src.mkdocs_plugin.plugin import FiguresPlugin
from figures_src.mkdocs_plugin.site_config import site_extra, site_url_of
from figures_src.mkdocs_plugin.version import (COMMIT_DIGITS, UNKNOWN_COMMIT, UNKNOWN_VERSION, BuildVersion,
                                               VersionError, build_version)
from tests.conftest import PDF, ROOT

CHAPTER_PDFS = site_extra(ROOT)["chapter_pdfs"]
PUBLISHED = site_url_of(ROOT)
# What a reader cannot do on paper. "sliders and menus" may describe the web site; these ask the reader to act
# or point at a control that paper does not have.
INTERACTION_HINT = re.compile(r"\b(?:hover\w*|drag\w*|click\w*|move (?:the|a) slider|on the slider|choose (?:a|the)"
                              r"|menu)\b|\(slider\)", re.I)
MIN_PAGE_TEXT = 80  # characters, the running "Page n" included: less than one line of text and no chart
MIN_CHART_OPERATORS = 200  # path operators in a page's content: a vector chart draws thousands

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


# ---------------------------------------------------------------- links, hints, blank pages, title

@pytest.fixture(scope="module")
def all_pdfs(site_dir, reader) -> dict[str, PdfReader]:
    return {PDF: reader} | {path: PdfReader(site_dir / path) for path in CHAPTER_PDFS.values()}


@pytest.fixture(scope="module")
def page_texts(all_pdfs) -> dict[str, list[str]]:
    """Each PDF's pages as text, white space runs made one space (extracted once: it is slow)."""
    return {path: [re.sub(r"\s+", " ", page.extract_text()) for page in pdf.pages] for path, pdf in all_pdfs.items()}


def uris(reader: PdfReader) -> list[str]:
    found = []
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action is not None and action.get("/S") == "/URI":
                found.append(str(action["/URI"]))
    return found


def test_links_out_of_every_pdf_lead_to_the_published_site(all_pdfs, site_url):
    assert "127.0.0.1" in site_url  # the test site was built for a local server: its PDFs must not say so
    for path, reader in all_pdfs.items():
        links = uris(reader)
        local = [uri for uri in links if re.search(r"127\.0\.0\.1|localhost", uri)]
        assert local == [], f"{path}: {local[:5]}"
        assert any(uri.startswith(PUBLISHED + "figures/") for uri in links), f"{path}: no link to a figure's files"


def test_no_interaction_hint_on_paper_though_the_web_pages_have_them(site_dir, page_texts):
    on_screen = " ".join(html.unescape(re.sub(r"<[^>]+>", "", p.read_text())) for p in site_dir.glob("*/index.html"))
    assert INTERACTION_HINT.search(on_screen), "the web pages lost their hints: the test would check nothing"
    for path, pages in page_texts.items():
        for number, text in enumerate(pages, start=1):
            hint = INTERACTION_HINT.search(text)
            assert hint is None, f"{path}, page {number}: {hint[0]!r} in {text[max(0, hint.start() - 80):hint.end() + 40]!r}"


def test_a_caption_links_line_on_paper_has_no_separator_left_by_a_hidden_button(page_texts):
    """On screen the line reads "data (CSV) · SVG · Vega-Lite spec · source · copy link · …"; the buttons are
    hidden on paper, and their separators with them."""
    for path, pages in page_texts.items():
        for number, text in enumerate(pages, start=1):
            dangling = re.search(r"source\s*·", text)
            assert dangling is None, f"{path}, page {number}: {text[max(0, dangling.start() - 60):dangling.end() + 20]!r}"


def chart_operators(page) -> int:
    """Path-painting and path-building operators in the page's content: a chart's marks and axes."""
    content = page.get_contents()
    data = content.get_data() if content is not None else b""
    return len(re.findall(rb"\s(?:re|l|c|m|f|S|B)\n", data))


def test_no_page_is_nearly_blank(all_pdfs, page_texts):
    for path, pdf in all_pdfs.items():
        for number, (page, text) in enumerate(zip(pdf.pages[:-1], page_texts[path]), start=1):  # the last may end short
            assert len(text.strip()) >= MIN_PAGE_TEXT or chart_operators(page) >= MIN_CHART_OPERATORS, \
                f"{path}, page {number}: {len(text.strip())} characters and no chart: {text[:200]!r}"


def test_the_pdf_and_its_print_page_have_one_title(site_dir, reader):
    site_name = (site_dir / "index.html").read_text().split("<title>")[1].split("</title>")[0]
    assert reader.metadata.title == html.unescape(site_name)
    print_title = html.unescape((site_dir / "print_page" / "index.html").read_text().split("<title>")[1].split("</title>")[0])
    assert print_title.count(html.unescape(site_name)) == 1 and "(print)" not in print_title, print_title


# ---------------------------------------------------------------- chapter PDFs, contents page

def chapter_title(site_dir, source: str) -> str:
    page = site_dir / source.removesuffix(".md") / "index.html"
    heading = re.search(r"<h1[^>]*>(.*?)<", page.read_text(), re.S)[1]
    return html.unescape(" ".join(heading.split()))


@pytest.mark.parametrize("source", sorted(CHAPTER_PDFS))
def test_each_chapter_has_its_own_pdf_with_cover_line_page_numbers_and_bookmarks(site_dir, source):
    reader = PdfReader(site_dir / CHAPTER_PDFS[source])
    title = chapter_title(site_dir, source)
    version = json.loads((site_dir / "figures" / "version.json").read_text())
    texts = [re.sub(r"\s+", " ", page.extract_text()) for page in reader.pages]
    first = squeeze(texts[0])
    assert squeeze(title) in first and squeeze(version["label"]) in first
    assert squeeze(PUBLISHED + source.removesuffix(".md") + "/") in first
    assert reader.outline and reader.outline[0].title == title
    for number, text in enumerate(texts, start=1):
        assert re.search(rf"\bPage {number}\b", text), f"{source}: page {number} has no page number"
    assert reader.metadata.title.startswith(title)
    whole = squeeze(" ".join(texts))
    for other in set(CHAPTER_PDFS) - {source}:  # the chapter alone: no other chapter's first heading
        assert f"Page1{squeeze(chapter_title(site_dir, other))}" not in whole


@pytest.mark.parametrize("source", sorted(CHAPTER_PDFS))
def test_each_chapter_page_links_its_own_pdf(site_dir, source):
    page = (site_dir / source.removesuffix(".md") / "index.html").read_text()
    link = re.search(r'<a href="([^"]+\.pdf)" download>Download this chapter as a PDF</a>', page)
    assert link, source
    assert (site_dir / source.removesuffix(".md") / link[1]).resolve() == (site_dir / CHAPTER_PDFS[source]).resolve()


def nav_titles() -> dict[str, str]:
    """Markdown file -> its title in the navigation (and so in the contents page)."""
    def walk(items):
        for item in items:
            for title, target in (item.items() if isinstance(item, dict) else []):
                yield from walk(target) if isinstance(target, list) else [(target, title)]
    return dict(walk(yaml_load((ROOT / "mkdocs.yml").read_text())["nav"]))


def test_the_contents_page_numbers_are_the_chapters_real_pages(site_dir, reader):
    contents = next(p for p in reader.pages if "Contents" in p.extract_text()[:40])
    numbered = dict(re.findall(r"^\s*(\S.*?)\s{2,}(\d+)\s*$", contents.extract_text(extraction_mode="layout"), re.M))
    starts = {item.title: reader.get_destination_page_number(item) + 1
              for item in reader.outline if not isinstance(item, list)}
    titles = nav_titles()
    for source in CHAPTER_PDFS:
        heading = chapter_title(site_dir, source)
        assert titles[source] in numbered, f"{titles[source]!r} has no page number in the contents: {numbered}"
        assert int(numbered[titles[source]]) == starts[heading], (source, numbered[titles[source]], starts[heading])
        assert squeeze(heading) in squeeze(reader.pages[starts[heading] - 1].extract_text())


# ---------------------------------------------------------------- the version, everywhere

def git(*arguments: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *arguments], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def test_every_build_names_its_version_commit_and_date(site_dir, all_pdfs, page_texts):
    stamp = json.loads((site_dir / "figures" / "version.json").read_text())
    assert stamp["version"] == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    label = stamp["label"]
    if (ROOT / ".git").exists():
        assert stamp["commit"].removesuffix("+dirty") == git("log", "-1", "--format=%H")[:COMMIT_DIGITS]
        assert stamp["date"] == git("log", "-1", "--format=%cI") and stamp["date"][:10] in label
    else:  # a copy of the project without its history (the benchmark times the suite on one)
        assert stamp["commit"] == UNKNOWN_COMMIT and stamp["date"] == ""
    assert stamp["version"] in label and stamp["commit"] in label
    manifest = json.loads((site_dir / "figures" / "manifest.json").read_text())
    assert manifest and all(entry["site_version"] == label for entry in manifest)
    for page in ("index.html", "observation/index.html", "notebooks/observation/index.html"):
        assert f'<span class="dl-version">This site: {html.escape(label)}.</span>' in (site_dir / page).read_text()
    for path, pdf in all_pdfs.items():
        assert pdf.metadata.subject == label, path
        assert squeeze(label) in squeeze(page_texts[path][0]), path
        assert pdf.metadata["/CreationDate"].startswith("D:" + re.sub(r"\D", "", stamp["date"][:19])), path
    code = html.unescape(re.sub(r"<[^>]+>", "", (site_dir / "index.html").read_text()))
    entry = code[code.index("@misc{deep-collapse-site"):]
    entry = entry[:entry.index("\n}") + 2]
    assert re.search(rf'version = "{re.escape(stamp["version"])}"', entry), entry
    assert not stamp["date"] or re.search(rf'date = "{stamp["date"][:10]}"', entry), entry
    assert re.search(rf'note = ".*Commit {re.escape(stamp["commit"])}"', entry), entry


@pytest.fixture
def repository(tmp_path) -> Path:
    """A one-commit project with a fixed commit date and an ignored build folder."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "3.1.4"\n')
    (tmp_path / ".gitignore").write_text("site/\n")
    env = {**os.environ, "GIT_COMMITTER_DATE": "2025-03-14T15:09:26+01:00", "GIT_AUTHOR_DATE": "2025-03-14T15:09:26+01:00"}
    for command in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first"]):
        subprocess.run(["git", *command], cwd=tmp_path, check=True, env=env, capture_output=True)
    return tmp_path


def test_a_clean_checkout_gives_version_commit_and_commit_date(repository):
    stamp = build_version(repository)
    assert (stamp.version, stamp.commit, stamp.date) == ("3.1.4", git("log", "-1", "--format=%H", cwd=repository)[:12],
                                                         "2025-03-14T15:09:26+01:00")
    assert stamp.label == f"version 3.1.4, commit {stamp.commit} of 2025-03-14"
    (repository / "site").mkdir()
    (repository / "site" / "index.html").write_text("built")  # ignored: not a change to the sources
    assert build_version(repository).commit == stamp.commit
    git("config", "core.abbrev", "5", cwd=repository)  # a clone that abbreviates otherwise stamps the same hash
    assert build_version(repository).commit == stamp.commit


@pytest.mark.parametrize("change", ["edit", "new file", "staged"])
def test_a_changed_checkout_says_dirty(repository, change):
    clean = build_version(repository).commit
    if change == "edit":
        (repository / ".gitignore").write_text("site/\nbuild/\n")
    else:
        (repository / "notes.md").write_text("draft")
        if change == "staged":
            git("add", "notes.md", cwd=repository)
    assert build_version(repository).commit == clean + "+dirty"


def test_without_git_the_commit_is_unknown_and_the_build_goes_on(repository, tmp_path_factory, monkeypatch):
    tarball = tmp_path_factory.mktemp("unpacked")
    (tarball / "pyproject.toml").write_text((repository / "pyproject.toml").read_text())
    assert build_version(tarball).commit == UNKNOWN_COMMIT
    inside = repository / "vendored"  # a copy inside someone else's repository must not take its commit
    inside.mkdir()
    (inside / "pyproject.toml").write_text((repository / "pyproject.toml").read_text())
    assert build_version(inside).commit == UNKNOWN_COMMIT
    monkeypatch.setenv("PATH", str(tarball))  # no git program at all
    stamp = build_version(repository)
    assert (stamp.commit, stamp.date, stamp.label) == (UNKNOWN_COMMIT, "", "version 3.1.4, unknown commit")


def test_a_site_without_pyproject_has_an_unknown_version_and_a_broken_one_is_named(tmp_path):
    assert build_version(tmp_path).version == UNKNOWN_VERSION
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    with pytest.raises(VersionError, match=r"pyproject.toml: cannot read \[project\] version"):
        build_version(tmp_path)


# ---------------------------------------------------------------- the instructors' page

def test_the_instructors_example_link_sets_a_real_parameter_of_a_real_figure(site_dir):
    page = (site_dir / "instructors" / "index.html").read_text()
    example = re.search(r'class="dl-example-link"><code>([^<]+)</code>', page)[1]
    match = re.fullmatch(re.escape(PUBLISHED) + r"([\w/-]*)\?([\w-]+)\.(\w+)=([\d.]+)#fig-([\w-]+)", html.unescape(example))
    assert match, example
    path, figure, parameter, value, anchor = match.groups()
    assert figure == anchor
    assert f'id="fig-{figure}"' in (site_dir / path / "index.html").read_text()
    spec = json.loads((site_dir / "figures" / f"{figure}.vl.json").read_text())
    params = {p["name"]: p for p in spec.get("params", [])}
    assert parameter in params, f"{figure} has no parameter {parameter!r}: {sorted(params)}"
    bind = params[parameter]["bind"]
    assert bind["min"] <= float(value) <= bind["max"] and float(value) != params[parameter]["value"]


def test_a_print_page_without_its_cover_stops_the_build_with_a_message_naming_it(tmp_path):
    """The cover carries the version stamp: a print page without one (add_cover_page off) is a build error
    naming the page, not a traceback."""
    (tmp_path / "print_page").mkdir()
    (tmp_path / "print_page" / "index.html").write_text('<html><body><section class="print-page" id="index">'
                                                        "</section></body></html>")
    plugin = FiguresPlugin()
    plugin.notebook_styles, plugin.published = {}, {}
    plugin.version = BuildVersion("3.1.4", UNKNOWN_COMMIT, "")
    config = type("Config", (), {"site_dir": str(tmp_path), "site_url": "https://example.org/"})()
    with pytest.raises(PluginError, match=r"^print_page/index\.html: the print page has no cover table"):
        plugin.on_post_build(config)
