"""Claims as code: checks evaluated against the build's numbers, a ledger that fails the build when one
breaks, and the published ledger covering every claimed sentence."""

import json
import math
import re
from types import SimpleNamespace

import pytest

from figures_src import claims, markers, stats
from figures_src.claims import Above, All, Below, Between, Claim, Differs, Equals, Indistinguishable, Near
from figures_src.markers import NonFinite
from figures_src.mkdocs_plugin.ledger import Ledger, LedgerError, plain

NUMBERS = {"fig.c50": 0.97, "fig.c50_ci_low": 0.96, "fig.c50_ci_high": 0.98, "fig.c10": 0.87,
           "fig.diff": 0.1, "fig.diff_ci_low": 0.05, "fig.diff_ci_high": 0.15,
           "fig.same": 0.01, "fig.same_ci_low": -0.02, "fig.same_ci_high": 0.03,
           "fig.diverged": 2, "fig.lost": NonFinite("inf"), "other.theory": 0.965}


@pytest.mark.parametrize("check, holds, words", [
    (Above("c50", 0.95), True, "c50 = 0.97 above 0.95"),
    (Above("c50", 0.965, interval=True), False, "c50 95% CI 0.96–0.98 above 0.965"),
    (Below("c10", "c50", interval=False), True, "c10 = 0.87 below c50 = 0.97"),
    (Between("c10", 0.8, 0.9), True, "c10 = 0.87 within [0.8, 0.9]"),
    (Near("c50", "other.theory", tolerance=0.01), True, "|c50 = 0.97 − other.theory = 0.965| = 0.005 ≤ 0.01"),
    (Equals("diverged", 2), True, "diverged = 2 equals 2"),
    (Differs("diff"), True, "95% CI of diff, 0.05–0.15, excludes 0"),
    (Differs("same"), False, "95% CI of same, -0.02–0.03, excludes 0"),
    (Indistinguishable("same"), True, "95% CI of same, -0.02–0.03, contains 0"),
    (All(Above("c50", 0.9), Below("c10", 0.5)), False, "c50 = 0.97 above 0.9; c10 = 0.87 below 0.5"),
])
def test_checks_evaluate_with_their_numbers_in_words(check, holds, words):
    verdict = claims.evaluate("fig", Claim("x", check), NUMBERS)
    assert (verdict.holds, verdict.check) == (holds, words)


@pytest.mark.parametrize("check, reason", [
    (Above("lost", 0), "'fig.lost' is not a finite number (inf)"),
    (Below("nope", 1), "unknown living number 'fig.nope'"),
    (Near("c50", math.nan, tolerance=1.0), "is not a finite number"),
])
def test_a_check_over_a_missing_or_non_finite_value_never_holds(check, reason):
    verdict = claims.evaluate("fig", Claim("x", check), NUMBERS)
    assert not verdict.holds and reason in verdict.check


def test_a_check_that_raises_never_holds():
    class Broken(claims.Check):
        def evaluate(self, numbers, figure):
            raise ZeroDivisionError("boom")
    verdict = claims.evaluate("fig", Claim("x", Broken()), NUMBERS)
    assert not verdict.holds and "ZeroDivisionError: boom" in verdict.check


def page(uri: str) -> SimpleNamespace:
    return SimpleNamespace(file=SimpleNamespace(src_uri=uri, name=uri), url=uri.removesuffix(".md") + "/", title=uri)


def ledger_of(figure_claims, text: str) -> tuple[Ledger, SimpleNamespace]:
    figures = {"fig": SimpleNamespace(claims=figure_claims)}
    ledger, chapter = Ledger(figures, NUMBERS, "claims.md"), page("chapter.md")
    ledger.collect(chapter, text, markers.parse(text, "chapter.md"))
    return ledger, chapter


SENTENCE = "Deep means constant: {{ claim: fig.collapsed }}at layer 50 **c̄** is {{ value: fig.c50 }}.{{ end: claim }}\n"


def test_a_broken_claim_fails_the_build_naming_page_sentence_and_values():
    ledger, _ = ledger_of((Claim("collapsed", Above("c50", 0.99)),), SENTENCE)
    with pytest.raises(LedgerError, match=r"chapter\.md: claim 'fig\.collapsed': “at layer 50 c̄ is 0\.97\.”; "
                                          r"check: c50 = 0\.97 above 0\.99"):
        ledger.finish(lambda entry: plain(entry.span.text.replace("{{ value: fig.c50 }}", "0.97")))


def test_a_holding_claim_is_rendered_linked_and_published():
    ledger, chapter = ledger_of((Claim("collapsed", Above("c50", 0.95)), Claim("unused", Above("c10", 0))), SENTENCE)
    assert ledger.finish(lambda entry: "at layer 50 c̄ is 0.97.") == ["fig.unused"]  # declared, made nowhere
    opening = markers.parse(SENTENCE, "chapter.md")[0]
    assert ledger.open_span(opening, chapter) == '<span class="dl-claim" id="claim-fig-collapsed">'
    closing = ledger.close_span(chapter)
    assert 'href="#ledger-chapter-fig-collapsed"' in closing and "c50 = 0.97 above 0.95" in closing
    published = ledger.as_json({"fig": (chapter, "1.2")})
    assert published["total"] == published["hold"] == 1
    assert published["claims"][0] | {"text": None} == {
        "id": "chapter/#claim-fig-collapsed", "page": "chapter/", "text": None, "check": "c50 = 0.97 above 0.95",
        "holds": True, "figure": "fig", "figure_label": "1.2"}


def test_the_claims_page_sets_the_values_a_check_names_as_code_and_its_negatives_with_the_minus_sign():
    check = All(Near("c50", "other.theory", tolerance=0.01), Indistinguishable("same"))
    ledger, chapter = ledger_of((Claim("collapsed", check),), SENTENCE)
    ledger.finish(lambda entry: "at layer 50 c̄ is 0.97.")
    listed = ledger.ledger_html(page("claims.md"), [chapter], lambda figure, on_page: "../figures/fig/")
    assert ("<span class=\"dl-ledger-check\">holds: |<code>c50</code> = 0.97 − <code>other.theory</code> = 0.965| "
            "= 0.005 ≤ 0.01; 95% CI of <code>same</code>, \u22120.02–0.03, contains 0</span>") in listed
    assert ledger.as_json({})["claims"][0]["check"].endswith("-0.02–0.03, contains 0")  # the data keeps its text


def test_a_claim_made_again_is_a_second_checked_sentence_with_its_own_anchors():
    opener = "**{{ claim: fig.collapsed }}Deep nets are constant.{{ end: claim }}**\n\n"
    ledger, chapter = ledger_of((Claim("collapsed", Above("c50", 0.95)),), opener + SENTENCE)
    ledger.finish(lambda entry: plain(entry.span.text))
    assert [e.anchor for e in ledger.entries] == ["claim-fig-collapsed", "claim-fig-collapsed-2"]
    assert all(e.verdict.holds for e in ledger.entries)
    first, _, second, _ = markers.parse(opener + SENTENCE, "chapter.md")[:4]
    assert 'id="claim-fig-collapsed"' in ledger.open_span(first, chapter)
    assert 'href="#ledger-chapter-fig-collapsed"' in ledger.close_span(chapter)
    assert 'id="claim-fig-collapsed-2"' in ledger.open_span(second, chapter)
    assert 'href="#ledger-chapter-fig-collapsed-2"' in ledger.close_span(chapter)


@pytest.mark.parametrize("text, message", [
    ("{{ claim: fig.a }}one.\n\ntwo{{ end: claim }}", "runs past the end of its paragraph"),
    ("{{ claim: fig.a }}one", "is never closed"),
    ("one{{ end: claim }}", "closes no claim"),
    ("{{ claim: fig.a }}{{ claim: fig.b }}x{{ end: claim }}", "opens inside"),
    ("{{ claim: fig }}x{{ end: claim }}", "write {{ claim: figure-id.claim-id }}"),
])
def test_malformed_claims_are_named(text, message):
    with pytest.raises(markers.MarkerError, match="chapter.md: ") as error:
        markers.claim_spans(text, "chapter.md")
    assert message in str(error.value)


def test_a_claim_the_figure_does_not_declare_is_an_error():
    with pytest.raises(LedgerError, match=r"figure 'fig' declares no claim 'collapsed' \(it declares: other\)"):
        ledger_of((Claim("other", Above("c50", 0)),), SENTENCE)


# ---------------------------------------------------------------- statistics

def test_bootstrap_intervals_cover_the_mean_and_shrink_with_more_networks():
    generator = __import__("torch").Generator().manual_seed(0)
    draws = __import__("torch").randn(256, generator=generator, dtype=__import__("torch").float64) + 3
    few, many = stats.mean_ci(draws[:16]), stats.mean_ci(draws)
    assert few.low < few.mean < few.high and many.low < 3 < many.high
    assert many.high - many.low < 0.5 * (few.high - few.low)  # ~ 1/√n
    assert stats.mean_ci(draws[:16]) == few  # seeded: the same interval on every build
    assert math.isnan(stats.mean_ci([1.0, math.inf]).low)  # a diverged run leaves no interval to quote


def test_a_paired_difference_sees_what_two_separate_intervals_hide():
    torch = __import__("torch")
    shared = torch.randn(16, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    a, b = shared + 0.05, shared  # the same networks, one condition shifted a little
    assert stats.mean_ci(a).low < stats.mean_ci(b).high  # the two intervals overlap...
    paired = stats.difference_ci(a, b, paired=True)
    assert paired.low > 0  # ...but the per-network difference is clearly positive
    assert stats.difference_ci(a, b, paired=False).low < 0  # unpaired, the difference is not resolved


# ---------------------------------------------------------------- the built site

def test_every_claimed_sentence_is_in_the_published_ledger_and_holds(site_dir):
    ledger = json.loads((site_dir / "claims.json").read_text())
    assert ledger["total"] == len(ledger["claims"]) == ledger["hold"] > 0
    published = {entry["id"] for entry in ledger["claims"]}
    on_pages = set()
    for html_file in site_dir.rglob("index.html"):
        folder = html_file.parent.relative_to(site_dir).as_posix()
        for anchor in re.findall(r'<span class="dl-claim" id="([^"]+)"', html_file.read_text()):
            if folder != "print_page":
                on_pages.add(f"{'' if folder == '.' else folder + '/'}#{anchor}")
    assert on_pages == published
    claims_page = (site_dir / "claims" / "index.html").read_text()
    assert claims_page.count("<li id=\"ledger-") == ledger["total"]
