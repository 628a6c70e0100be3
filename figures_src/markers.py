"""The page-marker grammar, in one place: what an author writes in Markdown, parsed once into objects.

    {{ figure: <id> }}                 on a line of its own: the figure, numbered and captioned
    {{ ref: <id> }}                    a link "Figure 1.2" to the figure, on whatever page it lives
    {{ value: <id>.<name> | <fmt> }}   a living number computed by figure <id> (format optional)
    {{ value: <id>.<name>@state | <fmt> }}
                                       the same, following the chart's controls (a reactive number)
    {{ cite: <key>; <key> }}           "(Cho & Saul, 2009; He et al., 2015)", each linked to its reference
    {{ citet: <key> }}                 "Yang et al. (2019)"
    {{ bibliography: cited | all }}    on a line of its own: the works cited on this page, or on the whole site
    {{ bibtex: <key> }}                on a line of its own: one entry of the BibTeX file, to copy, stamped with
                                       the build's version, commit and commit date ("cite this site")
    {{ claim: <id>.<claim> }} … {{ end: claim }}
                                       a sentence whose check (declared by figure <id>) the build evaluates
    {{ claims: ledger }}               on a line of its own: every claim of the site with its check

A living number's format is a Python format spec (`.3f`), or `ci` / `ci .3f` for the value with its 95%
interval (from the values `<name>_ci_low` and `<name>_ci_high`): "0.985 ± 0.002" when the interval is
symmetric at that precision, "0.985 (95% CI 0.983–0.988)" otherwise. A measured value that states a bound is
rounded outward: `up .3f` for "within", "at most", "never exceeds" (0.01511 prints "0.016", not a false
"0.015"), `down .3f` for "at least"; `f`, `%` and `e` formats round so. A negative number is set with the minus
sign (U+2212), "−0.004", as typeset text has it.

A reactive number (`@state`) is printed with the value at the chart's default setting (the plain living number
`<name>`, which claims check), and the page carries its text, formatted here, for every setting of the chart's
controls: the figure publishes them as living numbers named `state_name(name, state)`, `<name>@<param>=<value>&…`
(parameters in alphabetical order). The page's script (assets/reactive.js) only looks the text up when the
chart reports a new state.

Figure captions and text alternatives use `value` markers only. Every error names where the marker is
(page, or figure and field) and what is wrong; the MkDocs plugin turns it into a failed build.
"""

import re
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Callable

from figures_src.claims import NonFinite  # re-exported: the pipeline marks non-finite living numbers with it

MARKER = re.compile(r"\{\{\s*([a-z]+)\s*:\s*([^}]*?)\s*\}\}")
KINDS = ("figure", "ref", "value", "cite", "citet", "bibliography", "bibtex", "claim", "end", "claims")
BLOCK_KINDS = ("figure", "bibliography", "bibtex", "claims")  # expand to blocks: each on a line of its own
BIBLIOGRAPHY_SCOPES = ("cited", "all")
FIGURE_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
VALUE_ARGUMENT = re.compile(r"^([a-z0-9]+(?:-[a-z0-9]+)*)\.(\w+)(@state)?\s*(?:\|\s*(.+))?$")
NEGATIVE_ZERO = re.compile(r"-0(\.0*)?(e[+-]?\d+)?%?")
# Prose sets a negative number, and a negative exponent, with the minus sign, not the hyphen ("−0.1", "1e−05"): a
# number's text is for reading only (what scripts and the exported data read are the values themselves).
MINUS = "\u2212"
CLAIM_ARGUMENT = re.compile(r"^([a-z0-9]+(?:-[a-z0-9]+)*)\.([a-z0-9]+(?:-[a-z0-9]+)*)$")


class MarkerError(ValueError):
    """A marker that cannot be expanded; the message names where it is."""


Number = int | float | NonFinite


@dataclass(frozen=True)
class Marker:
    kind: str
    argument: str
    text: str  # as written
    start: int
    end: int

    @property
    def keys(self) -> list[str]:
        """The citation keys of a cite, citet or bibtex marker."""
        return [key.strip() for key in re.split(r"[;,]", self.argument) if key.strip()]


@dataclass(frozen=True)
class ValueRef:
    figure: str
    name: str
    format: str | None
    follows_state: bool = False  # written `<name>@state`: a reactive number

    @property
    def key(self) -> str:
        return f"{self.figure}.{self.name}"


def parse(text: str, where: str, kinds: tuple[str, ...] = KINDS) -> list[Marker]:
    """Every marker of `text`, checked: a known kind (among `kinds`), block markers on a line of their
    own, well-formed arguments."""
    found = []
    for match in MARKER.finditer(text):
        marker = Marker(match[1], match[2], match[0], match.start(), match.end())
        if marker.kind not in kinds:
            raise MarkerError(f"{where}: unknown marker {marker.text!r} (use {', '.join(kinds)})")
        if marker.kind in BLOCK_KINDS and line_of(text, marker).strip() != marker.text:
            raise MarkerError(f"{where}: {marker.text!r} must stand on a line of its own")
        check(marker, where)
        found.append(marker)
    return found


def check(marker: Marker, where: str) -> None:
    if marker.kind in ("figure", "ref") and not FIGURE_ID.match(marker.argument):
        raise MarkerError(f"{where}: {marker.text!r}: a figure id is lowercase words joined by '-'")
    elif marker.kind == "value":
        value_ref(marker, where)
    elif marker.kind in ("cite", "citet", "bibtex") and not marker.keys:
        raise MarkerError(f"{where}: {marker.text!r} names no citation key")
    elif marker.kind in ("citet", "bibtex") and len(marker.keys) != 1:
        raise MarkerError(f"{where}: {marker.text!r} takes one key; use {{{{ cite: }}}} for several")
    elif marker.kind == "bibliography" and marker.argument not in BIBLIOGRAPHY_SCOPES:
        raise MarkerError(f"{where}: {marker.text!r}: use 'cited' or 'all'")
    elif marker.kind == "claim" and not CLAIM_ARGUMENT.match(marker.argument):
        raise MarkerError(f"{where}: {marker.text!r}: write {{{{ claim: figure-id.claim-id }}}}")
    elif marker.kind == "end" and marker.argument != "claim":
        raise MarkerError(f"{where}: {marker.text!r}: the only block to end is a claim ({{{{ end: claim }}}})")
    elif marker.kind == "claims" and marker.argument != "ledger":
        raise MarkerError(f"{where}: {marker.text!r}: write {{{{ claims: ledger }}}}")


def line_of(text: str, marker: Marker) -> str:
    end = text.find("\n", marker.end)
    return text[text.rfind("\n", 0, marker.start) + 1:len(text) if end < 0 else end]


def value_ref(marker: Marker, where: str) -> ValueRef:
    match = VALUE_ARGUMENT.match(marker.argument)
    if not match:
        raise MarkerError(f"{where}: malformed living number {marker.text!r}; "
                          f"write {{{{ value: figure-id.name }}}}, {{{{ value: figure-id.name | .3f }}}} or "
                          f"{{{{ value: figure-id.name@state | .3f }}}}")
    return ValueRef(match[1], match[2], match[4].strip() if match[4] else None, bool(match[3]))


@dataclass(frozen=True)
class ClaimSpan:
    figure: str
    claim: str
    start: Marker
    end: Marker
    text: str  # the Markdown between the two markers
    occurrence: int = 1  # a page may make a claim again (a section's bold opener restating its detailed sentence)

    @property
    def key(self) -> str:
        return f"{self.figure}.{self.claim}"


def claim_spans(text: str, where: str, found: list[Marker] | None = None) -> list[ClaimSpan]:
    """The claimed sentences of a page: each {{ claim: }} closed by {{ end: claim }} within its paragraph,
    never nested. A claim made again on the same page is another sentence checked by the same check."""
    spans, opened, seen = [], None, {}
    for marker in found if found is not None else parse(text, where):
        if marker.kind == "claim":
            if opened is not None:
                raise MarkerError(f"{where}: {marker.text!r} opens inside {opened.text!r}: close it first")
            opened = marker
        elif marker.kind == "end":
            if opened is None:
                raise MarkerError(f"{where}: {marker.text!r} closes no claim")
            inner = text[opened.end:marker.start]
            if "\n\n" in inner.replace("\r", ""):
                raise MarkerError(f"{where}: {opened.text!r} runs past the end of its paragraph")
            figure, claim = CLAIM_ARGUMENT.match(opened.argument).groups()
            seen[opened.argument] = seen.get(opened.argument, 0) + 1
            spans.append(ClaimSpan(figure, claim, opened, marker, inner, seen[opened.argument]))
            opened = None
    if opened is not None:
        raise MarkerError(f"{where}: {opened.text!r} is never closed with {{{{ end: claim }}}}")
    return spans


def expand(text: str, where: str, replace: Callable[[Marker], str], kinds: tuple[str, ...] = KINDS) -> str:
    """`text` with every marker replaced by `replace(marker)`, after checking them all."""
    pieces, previous = [], 0
    for marker in parse(text, where, kinds):
        pieces += [text[previous:marker.start], replace(marker)]
        previous = marker.end
    return "".join(pieces) + text[previous:]


def figure_ids(text: str, where: str) -> list[str]:
    """The figures a page shows ({{ figure: }} markers), in order."""
    return [m.argument for m in parse(text, where) if m.kind == "figure"]


OUTWARD = {"up": ROUND_CEILING, "down": ROUND_FLOOR}
ROUNDED_SPEC = re.compile(r"\.(\d+)([fe%])")


def rounded_outward(value: float, direction: str, spec: str, name: str, where: str) -> float:
    """`value` rounded up (toward +∞) or down at the precision `spec` prints, so a bound it states holds as
    printed."""
    match = ROUNDED_SPEC.fullmatch(spec)
    if not match:
        raise MarkerError(f"{where}: living number {name!r} rounded {direction} needs a format .<digits>f, "
                          f".<digits>% or .<digits>e, not {spec!r}")
    digits, kind = int(match[1]), match[2]
    exact = Decimal(repr(float(value)))
    exponent = {"f": -digits, "%": -digits - 2, "e": (exact.adjusted() if exact else 0) - digits}[kind]
    return float(exact.quantize(Decimal(1).scaleb(exponent), rounding=OUTWARD[direction]))


def format_number(value: Number, spec: str | None, name: str, where: str) -> str:
    check_finite(value, name, where)
    direction, _, rest = (spec or "").partition(" ")
    if direction in OUTWARD:
        spec, value = rest.strip(), rounded_outward(value, direction, rest.strip(), name, where)
    try:
        text = format(value, spec) if spec else str(value) if isinstance(value, int) else f"{value:.3g}"
    except ValueError as error:
        raise MarkerError(f"{where}: bad format {spec!r} for living number {name!r}: {error}") from error
    text = text[1:] if NEGATIVE_ZERO.fullmatch(text) else text  # a tiny negative rounds to 0, not "-0.000"
    return text.replace("-", MINUS)


def check_finite(value: Number, name: str, where: str) -> None:
    if isinstance(value, NonFinite):
        raise MarkerError(f"{where}: living number {name!r} is not a finite number ({value}: a diverged run or a "
                          f"quantity never reached); say what happened instead of quoting it")


def format_interval(numbers: dict[str, Number], ref: ValueRef, where: str) -> str:
    """"0.985 ± 0.002" if the interval is symmetric at the precision shown, else "0.985 (95% CI 0.983–0.988)"."""
    spec = (ref.format or "").removeprefix("ci").strip() or ".3g"
    keys = [ref.key, f"{ref.key}_ci_low", f"{ref.key}_ci_high"]
    for key in keys:
        if key not in numbers:
            raise MarkerError(f"{where}: {ref.key!r} quoted with its interval, but there is no living number {key!r}")
    mean, low, high = (numbers[key] for key in keys)
    text = [format_number(v, spec, k, where) for v, k in zip((mean, low, high), keys)]
    below, above = format_number(mean - low, spec, keys[1], where), format_number(high - mean, spec, keys[2], where)
    if below == above:
        return f"{text[0]} ± {below}"
    return f"{text[0]} (95% CI {text[1]}–{text[2]})"


def living_number(marker: Marker, numbers: dict[str, Number], where: str) -> tuple[ValueRef, str]:
    """The value marker's reference and its formatted text; an unknown name is an error naming `where`."""
    ref = value_ref(marker, where)
    return ref, formatted(ref, numbers, where)


def formatted(ref: ValueRef, numbers: dict[str, Number], where: str) -> str:
    if ref.key not in numbers:
        raise MarkerError(f"{where}: unknown living number {ref.key!r}")
    if ref.format is not None and ref.format.split()[0] == "ci":
        return format_interval(numbers, ref, where)
    return format_number(numbers[ref.key], ref.format, ref.key, where)


def state_name(name: str, state: dict[str, int | str]) -> str:
    """The name of living number `name` at one setting of a chart's controls: `cbar@architecture=plain&depth=100`."""
    return f"{name}@" + "&".join(f"{param}={state[param]}" for param in sorted(state))


def state_texts(ref: ValueRef, numbers: dict[str, Number], where: str) -> dict[str, str]:
    """A reactive number's text at every setting its figure publishes, by setting (`param=value&…`)."""
    prefix = f"{ref.key}@"
    settings = sorted(key[len(prefix):] for key in numbers if key.startswith(prefix))
    if not settings:
        raise MarkerError(f"{where}: {ref.key}@state follows the chart, but figure {ref.figure!r} publishes no "
                          f"value of {ref.name!r} per setting of its controls ({ref.name}@<param>=<value>…)")
    texts = {}
    for setting in settings:
        ending = f"@{setting}"
        at_setting = {key.removesuffix(ending): value for key, value in numbers.items()
                      if key.endswith(ending) and key.startswith(f"{ref.figure}.")}
        texts[setting] = formatted(ref, at_setting, f"{where}, at {setting}")
    return texts


def expand_values(text: str, numbers: dict[str, Number], where: str) -> str:
    """A caption or text alternative with its living numbers filled in (no other marker is allowed there)."""
    return expand(text, where, lambda marker: living_number(marker, numbers, where)[1], kinds=("value",))
