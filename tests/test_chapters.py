"""The chapter pages as a reader meets them: objectives and reading time first, the reference network stated once,
derivations and detailed numbers folded into notes that open in print, and few living numbers in the main text."""

import re

import pytest

from figures_src.mkdocs_plugin import reading_time

CHAPTERS = ("observation", "reasons", "consequences", "solutions")
# Editorial limit: the main text of a chapter (outside collapsible notes and figures) quotes at most this many
# living numbers; the rest live in "The numbers" notes, captions, CSV files and the Claims page.
MAIN_TEXT_NUMBERS = 40
MIN_NOTES = 3
# Reading speeds for technical prose with figures, words per minute: the stated reading time of a chapter's main
# text must lie between what a slow and a fast reader need.
SLOW_WPM, FAST_WPM = 100, 200

# The browser's count of the main text's words, leaving out what reading_time.py leaves out.
MAIN_TEXT = """leftOut => {
  const article = document.querySelector('article').cloneNode(true);
  const numbers = [...article.querySelectorAll('.dl-value')].filter(v => !v.closest('details, figure')).length;
  const html = article.outerHTML;
  article.querySelectorAll(leftOut).forEach(e => e.remove());
  return {numbers, html, words: article.textContent.split(/\\s+/).filter(Boolean).length,
          notes: document.querySelectorAll('article details').length,
          boxes: [...document.querySelectorAll('article .admonition-title')].map(t => t.textContent.trim())};
}"""


@pytest.fixture(scope="module")
def chapters(browser, site_url) -> dict[str, dict]:
    page = browser.new_page()
    found = {}
    for chapter in CHAPTERS:
        page.goto(f"{site_url}{chapter}/")
        found[chapter] = page.evaluate(MAIN_TEXT, ", ".join(reading_time.LEFT_OUT))
    page.close()
    return found


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_main_text_quotes_few_living_numbers(chapters, chapter):
    assert 0 < chapters[chapter]["numbers"] <= MAIN_TEXT_NUMBERS, (
        f"{chapter}: {chapters[chapter]['numbers']} living numbers outside notes and figures, limit {MAIN_TEXT_NUMBERS}")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_opens_with_objectives_a_reading_time_and_the_reference_network(chapters, chapter):
    boxes = chapters[chapter]["boxes"]
    assert boxes[1] == "The reference network", boxes
    minutes = re.fullmatch(r"About (\d+) minutes · after this chapter you can explain", boxes[0])
    assert minutes, boxes[0]
    words = chapters[chapter]["words"]
    assert words / FAST_WPM <= int(minutes[1]) <= words / SLOW_WPM, f"{chapter}: {words} words, {minutes[1]} minutes"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_reading_time_is_counted_from_the_words_a_reader_reads(chapters, chapter):
    """The build's count of the main text (reading_time.py, on the HTML) is the browser's count of the text it
    shows, formulas and boxes left out; the stated minutes are that count at the site's reading rate."""
    words = chapters[chapter]["words"]
    assert reading_time.main_text_words(chapters[chapter]["html"]) == words, chapter
    assert f"About {reading_time.minutes(words)} minutes" in chapters[chapter]["boxes"][0]


def test_the_main_text_leaves_out_formulas_boxes_notes_and_figures():
    page = "\n".join((
        "<article><h1>Title</h1>", "<p>Width <math><mi>n</mi></math> grows</p>",
        '<span class="dl-math"><math><mi>c</mi></math></span>',
        f'<div class="admonition note"><p class="admonition-title">About {reading_time.MARKER} minutes</p></div>',
        "<details><summary>More</summary><p>hidden words</p></details>",
        '<figure><img src="x.svg" alt="a chart"><figcaption>caption words</figcaption></figure>',
        "<p>last&nbsp;line</p></article>"))
    assert reading_time.main_text_words(page) == 5  # Title, Width, grows, last, line
    stamped = reading_time.stamp(page)
    assert "About 1 minutes" in stamped and reading_time.MARKER not in stamped


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_folds_asides_into_collapsible_notes(chapters, chapter):
    assert chapters[chapter]["notes"] >= MIN_NOTES


def test_collapsed_notes_print_expanded(browser, site_url):
    """A closed note is its summary line on screen and its whole text on paper."""
    page = browser.new_page()
    page.goto(f"{site_url}consequences/")
    below_summary = """[...document.querySelectorAll('article details:not([open])')].map(d =>
        d.getBoundingClientRect().height - d.querySelector('summary').getBoundingClientRect().height)"""
    on_screen = page.evaluate(below_summary)
    page.emulate_media(media="print")
    on_paper = page.evaluate(below_summary)
    page.close()
    assert len(on_screen) >= MIN_NOTES and max(on_screen) < 10
    assert min(on_paper) > 40  # at least two lines of the note's text


def test_the_deck_is_introduced_where_a_chapter_first_names_it(site_dir):
    for chapter in CHAPTERS:
        html = (site_dir / chapter / "index.html").read_text()
        text = re.sub(r"<[^>]+>", "", html[html.index("<article"):html.index("</article>")])
        first = text.find("deck")
        assert first >= 0 and "lecture slides" in text[first - 80:first + 120], chapter
