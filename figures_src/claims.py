"""Checks that quantitative sentences make about a figure's results, evaluated at every build.

A figure declares its claims (`Figure(claims=(Claim(...), ...))`); a page wraps the sentence that makes one
in `{{ claim: <figure-id>.<claim-id> }} … {{ end: claim }}`. The build evaluates every claim over the
living numbers, fails if one does not hold (naming the page, the sentence, the check and its values), and
publishes every claim with its check in words in `claims.json` and on the Claims page.

A check is a small predicate over living numbers, named by the figure's value names (`c50`) or by the full
name of another figure's value (`correlation-by-depth.theory_l50`):

    Above("c50", 0.95)                    c50 > 0.95
    Above("c50", 0.95, interval=True)     the whole 95% interval of c50 is above 0.95 (c50_ci_low > 0.95)
    Below("a", "b", interval=True)        a's interval lies below b's (a_ci_high < b_ci_low)
    Between("x", 0.2, 0.3)                0.2 ≤ x ≤ 0.3
    Near("x", "theory_x", tolerance=0.01) |x − theory_x| ≤ 0.01 (add relative=True for a relative one)
    Equals("diverged", 0)                 a count
    Differs("diff")                       the 95% interval of a difference excludes 0 (a supported comparison)
    Indistinguishable("diff")             the 95% interval of a difference contains 0
    All(check, check, …)                  every one

A check over a value that is not a finite number fails (it never passes vacuously).
"""

import math
from dataclasses import dataclass, fields
from typing import Mapping

# Here rather than with the page markers that quote living numbers: figures import this module, so the
# markers' grammar can change without recomputing every figure.
class NonFinite(str):
    """A living number that is not a finite number (a diverged run, a threshold never reached): its status,
    "nan", "inf" or "-inf". Quoting it is an error: the text must say what happened instead."""


Numbers = Mapping[str, object]


class ClaimError(ValueError):
    """A check cannot be evaluated: an unknown value, or one that is not a finite number."""


def number(numbers: Numbers, figure: str, name: str | float) -> float:
    if isinstance(name, (int, float)):
        if not math.isfinite(name):
            raise ClaimError(f"the bound {name} is not a finite number")
        return name
    key = name if "." in name else f"{figure}.{name}"
    if key not in numbers:
        raise ClaimError(f"unknown living number {key!r}")
    value = numbers[key]
    if isinstance(value, NonFinite) or not isinstance(value, (int, float)) or value != value:
        raise ClaimError(f"living number {key!r} is not a finite number ({value})")
    return value


def shown(name: str | float, value: float) -> str:
    return f"{value:.4g}" if isinstance(name, (int, float)) else f"{name} = {value:.4g}"


def interval(numbers: Numbers, figure: str, name: str) -> tuple[float, float]:
    return number(numbers, figure, f"{name}_ci_low"), number(numbers, figure, f"{name}_ci_high")


@dataclass(frozen=True)
class Check:
    def evaluate(self, numbers: Numbers, figure: str) -> tuple[bool, str]:
        """(holds, the check in words with its numbers); raises ClaimError if it cannot be evaluated."""
        raise NotImplementedError

    def names(self) -> set[str]:
        """The living numbers the check reads: each of its text fields names one."""
        return {value for value in (getattr(self, f.name) for f in fields(self)) if isinstance(value, str)}


def bound(numbers: Numbers, figure: str, name: str | float, side: str, use_interval: bool) -> tuple[float, str]:
    """A value, or the end of its interval on `side` ("low" or "high"), with how it reads."""
    if use_interval and not isinstance(name, (int, float)):
        low, high = interval(numbers, figure, name)
        value = low if side == "low" else high
        return value, f"{name} 95% CI {low:.4g}–{high:.4g}"
    value = number(numbers, figure, name)
    return value, shown(name, value)


@dataclass(frozen=True)
class Above(Check):
    value: str
    bound: str | float
    interval: bool = False
    above = True  # Below flips the comparison and the ends of the intervals compared

    def evaluate(self, numbers, figure):
        near, far = ("low", "high") if self.above else ("high", "low")
        a, a_text = bound(numbers, figure, self.value, near, self.interval)
        b, b_text = bound(numbers, figure, self.bound, far, self.interval)
        return (a > b if self.above else a < b), f"{a_text} {'above' if self.above else 'below'} {b_text}"


@dataclass(frozen=True)
class Below(Above):
    above = False


@dataclass(frozen=True)
class Between(Check):
    value: str
    low: str | float
    high: str | float

    def evaluate(self, numbers, figure):
        x, low, high = (number(numbers, figure, n) for n in (self.value, self.low, self.high))
        return low <= x <= high, f"{shown(self.value, x)} within [{low:.4g}, {high:.4g}]"


@dataclass(frozen=True)
class Near(Check):
    value: str
    target: str | float
    tolerance: float
    relative: bool = False

    def evaluate(self, numbers, figure):
        x, target = number(numbers, figure, self.value), number(numbers, figure, self.target)
        gap = abs(x - target) / (abs(target) if self.relative else 1)
        unit = " (relative)" if self.relative else ""
        return gap <= self.tolerance, (f"|{shown(self.value, x)} − {shown(self.target, target)}| = {gap:.3g}{unit} "
                                       f"≤ {self.tolerance:g}")


@dataclass(frozen=True)
class Equals(Check):
    value: str
    expected: str | float

    def evaluate(self, numbers, figure):
        x, expected = number(numbers, figure, self.value), number(numbers, figure, self.expected)
        return x == expected, f"{shown(self.value, x)} equals {expected:g}"


@dataclass(frozen=True)
class Differs(Check):
    difference: str

    def evaluate(self, numbers, figure):
        low, high = interval(numbers, figure, self.difference)
        return low > 0 or high < 0, f"95% CI of {self.difference}, {low:.4g}–{high:.4g}, excludes 0"


@dataclass(frozen=True)
class Indistinguishable(Check):
    difference: str

    def evaluate(self, numbers, figure):
        low, high = interval(numbers, figure, self.difference)
        return low <= 0 <= high, f"95% CI of {self.difference}, {low:.4g}–{high:.4g}, contains 0"


@dataclass(frozen=True)
class All(Check):
    checks: tuple[Check, ...]

    def __init__(self, *checks: Check):
        object.__setattr__(self, "checks", checks)

    def names(self) -> set[str]:
        return set().union(*(check.names() for check in self.checks))

    def evaluate(self, numbers, figure):
        results = [check.evaluate(numbers, figure) for check in self.checks]
        return all(holds for holds, _ in results), "; ".join(text for _, text in results)


@dataclass(frozen=True)
class Claim:
    id: str  # lowercase words joined by '-', unique within its figure
    check: Check


@dataclass(frozen=True)
class Verdict:
    figure: str
    claim: str
    holds: bool
    check: str  # in words, with the numbers; or why it could not be evaluated

    @property
    def key(self) -> str:
        return f"{self.figure}.{self.claim}"


def evaluate(figure: str, claim: Claim, numbers: Numbers) -> Verdict:
    """A claim's verdict. A check that cannot be evaluated, or that raises, does not hold."""
    try:
        holds, words = claim.check.evaluate(numbers, figure)
    except ClaimError as error:
        return Verdict(figure, claim.id, False, f"cannot be checked: {error}")
    except Exception as error:  # a check that raises never passes
        return Verdict(figure, claim.id, False, f"cannot be checked: {type(error).__name__}: {error}")
    if not isinstance(holds, bool):
        return Verdict(figure, claim.id, False, f"cannot be checked: the check returned {holds!r}, not a truth value")
    return Verdict(figure, claim.id, holds, words)
