"""The page-marker grammar and the citation index, as units: every error names the page and what is wrong.
(The built site's own pages exercise the same code end to end in test_site.py and test_links.py.)"""

import re
from types import SimpleNamespace

import pytest

from figures_src import markers
from figures_src.markers import MarkerError, NonFinite
from figures_src.mkdocs_plugin.citations import Bibliography, CitationError, CitationIndex
from tests.conftest import ROOT

NUMBERS = {"fig.c": 0.98765, "fig.n": 3, "fig.lost": NonFinite("inf")}


def test_markers_are_parsed_into_objects_in_order():
    text = ("---\nchapter: 1\n---\nA {{ ref: fig-a }} and {{ value: fig-a.c | .2f }}, {{ cite: cho2009; he2015 }}.\n\n"
            "{{ figure: fig-a }}\n\n{{ bibliography: cited }}\n")
    found = markers.parse(text, "page.md")
    assert [m.kind for m in found] == ["ref", "value", "cite", "figure", "bibliography"]
    assert found[2].keys == ["cho2009", "he2015"]
    assert markers.value_ref(found[1], "page.md") == markers.ValueRef("fig-a", "c", ".2f")
    assert markers.figure_ids(text, "page.md") == ["fig-a"]
    expanded = markers.expand(text, "page.md", lambda m: f"<{m.kind}>")
    assert "A <ref> and <value>, <cite>." in expanded and "\n<figure>\n" in expanded


def test_living_numbers_are_formatted_and_unknown_names_fail():
    assert markers.expand_values("c = {{ value: fig.c | .2f }}, n = {{ value: fig.n }}, {{ value: fig.c }}",
                                 NUMBERS, "page.md") == "c = 0.99, n = 3, 0.988"
    with pytest.raises(MarkerError, match=r"page\.md: unknown living number 'fig\.nope'"):
        markers.expand_values("{{ value: fig.nope }}", NUMBERS, "page.md")
    with pytest.raises(MarkerError, match=r"page\.md: malformed living number '\{\{ value: fig\.c\.d \}\}'"):
        markers.expand_values("{{ value: fig.c.d }}", NUMBERS, "page.md")
    with pytest.raises(MarkerError, match=r"bad format 'q' for living number 'fig\.c'"):
        markers.expand_values("{{ value: fig.c | q }}", NUMBERS, "page.md")


def test_a_reactive_number_has_its_text_for_every_setting_its_figure_publishes():
    at = {"depth": 3, "architecture": "residual + batch norm"}
    assert markers.state_name("c", at) == "c@architecture=residual + batch norm&depth=3"  # parameters sorted
    numbers = {"fig.c": 0.5, "fig.c_ci_low": 0.4, "fig.c_ci_high": 0.6, "fig.other@depth=1": 9.0}
    for depth, (mean, low, high) in {1: (0.5, 0.4, 0.6), 100: (0.99, 0.95, 0.999)}.items():
        numbers |= {f"fig.{markers.state_name(name, {'depth': depth})}": value
                    for name, value in (("c", mean), ("c_ci_low", low), ("c_ci_high", high))}
    marker = markers.parse("{{ value: fig.c@state | ci .2f }}", "page.md")[0]
    ref, text = markers.living_number(marker, numbers, "page.md")
    assert ref.follows_state and ref.key == "fig.c" and text == "0.50 ± 0.10"  # the printed text: the default
    assert markers.state_texts(ref, numbers, "page.md") == {"depth=1": "0.50 ± 0.10",
                                                           "depth=100": "0.99 (95% CI 0.95–1.00)"}
    plain = markers.value_ref(markers.parse("{{ value: fig.c }}", "page.md")[0], "page.md")
    assert not plain.follows_state
    with pytest.raises(MarkerError, match=r"page\.md: fig\.n@state follows the chart, but figure 'fig' publishes no "
                                          r"value of 'n' per setting"):
        markers.state_texts(markers.ValueRef("fig", "n", None, True), {"fig.n": 3}, "page.md")
    lost = {"fig.c": 1.0, "fig.c@depth=1": NonFinite("nan")}
    with pytest.raises(MarkerError, match=r"page\.md, at depth=1: living number 'fig\.c' is not a finite number"):
        markers.state_texts(markers.ValueRef("fig", "c", None, True), lost, "page.md")


def test_quoting_a_non_finite_living_number_fails_naming_it():
    with pytest.raises(MarkerError, match=r"caption: living number 'fig\.lost' is not a finite number \(inf"):
        markers.expand_values("ends at {{ value: fig.lost | .3f }}", NUMBERS, "caption")


def test_captions_take_living_numbers_only():
    with pytest.raises(MarkerError, match=r"figure 'x' caption: unknown marker '\{\{ cite: cho2009 \}\}'"):
        markers.expand_values("as {{ cite: cho2009 }}", NUMBERS, "figure 'x' caption")


@pytest.mark.parametrize("markdown, message", [
    ("See {{ figure: correlation-by-depth }} inline.\n", "must stand on a line of its own"),
    ("The list: {{ bibliography: cited }}\n", "must stand on a line of its own"),
    ("{{ chart: correlation-by-depth }}\n", "unknown marker '{{ chart: correlation-by-depth }}'"),
    ("As {{ citet: cho2009; he2015 }} show.\n", "takes one key"),
    ("{{ bibliography: some }}\n", "use 'cited' or 'all'"),
    ("{{ figure: Not_An_Id }}\n", "a figure id is lowercase words"),
    ("As {{ cite: }} show.\n", "names no citation key"),
])
def test_bad_markers_fail_with_the_page_and_the_marker(markdown, message):
    with pytest.raises(MarkerError, match="broken.md: ") as error:
        markers.parse(markdown, "broken.md")
    assert message in str(error.value)


# ---------------------------------------------------------------- citations

def page(uri: str, title: str) -> SimpleNamespace:
    url = "" if uri == "index.md" else uri.removesuffix(".md") + "/"
    return SimpleNamespace(file=SimpleNamespace(src_uri=uri, name=uri), url=url, title=title)


@pytest.fixture(scope="module")
def bibliography(tmp_path_factory) -> Bibliography:
    """Two entries of the site's own bibliography."""
    entries = (ROOT / "docs" / "references.bib").read_text().split("\n@")
    path = tmp_path_factory.mktemp("bib") / "references.bib"
    path.write_text("\n".join("@" + e for e in entries if e.startswith(("inproceedings{cho2009,", "inproceedings{he2015,"))))
    return Bibliography(path)


def index_of(bibliography: Bibliography, pages: list[tuple]) -> CitationIndex:
    index = CitationIndex(bibliography, "references.md")
    for p, text in pages:
        index.collect(p, markers.parse(text, p.file.src_uri))
    return index


def test_citations_link_to_the_page_list_with_the_reference_on_hover(bibliography):
    home, chapter = page("index.md", "Home"), page("broken.md", "Broken")
    index = index_of(bibliography, [(home, "Kernels {{ cite: cho2009; he2015 }}.\n\n{{ bibliography: cited }}\n"),
                                    (chapter, "As {{ citet: he2015 }} show.\n\n{{ bibliography: cited }}\n")])
    cite = markers.parse("{{ cite: cho2009; he2015 }}", "index.md")[0]
    rendered = index.render(cite, home)
    assert rendered.startswith('(<a class="dl-cite" href="#ref-cho2009" title="Y. Cho and L. K. Saul. Kernel methods')
    assert ">Cho &amp; Saul, 2009</a>; <a" in rendered
    citet = markers.parse("{{ citet: he2015 }}", "broken.md")[0]
    assert ">He et al. (2015)</a>" in index.render(citet, chapter)
    own_list = index.render(markers.parse("{{ bibliography: cited }}", "broken.md")[0], chapter)
    assert '<li id="ref-he2015">' in own_list and '<li id="ref-cho2009">' not in own_list  # only what it cites
    assert index.unused() == []


def test_unknown_keys_unused_entries_and_missing_lists_are_named(bibliography):
    with pytest.raises(CitationError, match=r"broken\.md: unknown citation key 'no-such-paper'"):
        index_of(bibliography, [(page("broken.md", "B"), "As {{ cite: cho2009; no-such-paper }}.\n")])
    assert index_of(bibliography, [(page("index.md", "H"), "{{ cite: cho2009 }}")]).unused() == ["he2015"]
    alone = page("broken.md", "B")
    index = index_of(bibliography, [(alone, "As {{ citet: he2015 }} show.\n")])  # no list, no references page
    with pytest.raises(CitationError, match=r"cites 'he2015' but has no \{\{ bibliography: cited \}\}"):
        index.render(markers.parse("{{ citet: he2015 }}", "broken.md")[0], alone)


def test_a_tiny_negative_number_is_printed_as_zero_not_minus_zero():
    numbers = {"fig.d": -0.00003, "fig.d_ci_low": -0.0059, "fig.d_ci_high": 0.0080}
    assert markers.expand_values("{{ value: fig.d | .4f }}", numbers, "p") == "0.0000"
    assert markers.expand_values("{{ value: fig.d | ci .4f }}", numbers, "p") == "0.0000 (95% CI \u22120.0059–0.0080)"


def test_negative_numbers_are_set_with_the_minus_sign_in_values_intervals_and_exponents():
    numbers = {"fig.d": -0.004, "fig.d_ci_low": -0.012, "fig.d_ci_high": 0.0051, "fig.lr": 1e-05, "fig.k": -3,
               "fig.s": -0.25, "fig.s_ci_low": -0.35, "fig.s_ci_high": -0.15}
    text = markers.expand_values("{{ value: fig.d | ci .3f }}; {{ value: fig.lr }}; {{ value: fig.k }}; "
                                 "{{ value: fig.s | ci .2f }}; {{ value: fig.d | .1%}}", numbers, "p")
    assert text == "\u22120.004 (95% CI \u22120.012–0.005); 1e\u221205; \u22123; \u22120.25 ± 0.10; \u22120.4%"
    assert "-" not in text
    ref, _ = markers.living_number(markers.parse("{{ value: fig.d@state | .3f }}", "p")[0], numbers, "p")
    assert markers.state_texts(ref, {"fig.d@depth=1": -0.5, "fig.d@depth=2": 0.5}, "p") == \
        {"depth=1": "\u22120.500", "depth=2": "0.500"}  # the texts reactive.js shows, set alike


@pytest.mark.parametrize("value, fmt, text", [
    (0.01511, "up .3f", "0.016"), (0.015, "up .3f", "0.015"), (0.9768, "down .3f", "0.976"),
    (0.00876, "up .1%", "0.9%"), (1.23e-5, "up .1e", "1.3e\u221205"), (9.96e-3, "up .1e", "1.0e\u221202"),
    (-0.0123, "up .2f", "\u22120.01"), (-0.0123, "down .2f", "\u22120.02")])
def test_a_bound_is_rounded_outward_so_it_holds_as_printed(value, fmt, text):
    assert markers.expand_values(f"{{{{ value: fig.x | {fmt} }}}}", {"fig.x": value}, "p") == text


def test_rounding_outward_needs_a_fixed_number_of_digits():
    with pytest.raises(MarkerError, match=r"page q: living number 'fig.x' rounded up needs a format .*'.3g'"):
        markers.expand_values("{{ value: fig.x | up .3g }}", {"fig.x": 0.5}, "page q")


# A measured maximum after "within" or "at most" is an upper bound; a measured minimum after "at least" or
# "above" a lower one. Rounded to nearest, 0.01511 printed "within 0.015" is false by a hair.
BOUND = re.compile(r"\b(within|at most|never exceeds|no more than|at least|stays above)\s+(\{\{ value: ([^}|]*)\|\s*([^}]*)\}\})"
                   r"(–\{\{ value: [^}|]*\|\s*([^}]*)\}\})?")


def stated_bounds():
    """(file, phrase, marker, its format, the format of a range's upper end) of every formatted living number
    that follows a bound's words, in the pages and in the figures' captions and text alternatives."""
    sources = sorted((ROOT / "docs").glob("*.md")) + sorted((ROOT / "figures_src" / "figures").glob("*.py"))
    for path in sources:
        text = re.sub(r'"\s*\n\s*"', "", path.read_text())  # a caption's string literals joined
        text = re.sub(r"\s+", " ", text)
        for match in BOUND.finditer(text):
            yield path.name, match[1], match[3].strip(), match[4].strip(), (match[6] or "").strip() or None


def test_a_measured_bound_in_the_prose_is_rounded_outward():
    found = list(stated_bounds())
    wrong = []
    for name, phrase, marker, fmt, upper in found:
        lower_bound = phrase in ("at least", "stays above")
        if upper is not None:  # "within 1.9–4.1": the range's ends round apart
            ok = fmt.startswith("down") and upper.startswith("up")
        else:
            ok = fmt.startswith("down" if lower_bound else "up")
        if not ok:
            wrong.append((name, phrase, marker, fmt, upper))
    assert not wrong, f"bounds rounded to nearest (use 'up'/'down' formats): {wrong}"
    assert len(found) >= 10, found  # the site's measured bounds, not a pattern that matches nothing
