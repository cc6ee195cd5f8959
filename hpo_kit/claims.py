"""Claims tables: a paper's claim, the number the kit measured, and a verdict computed from them.

A verdict is never typed in. Each claim carries a *test* (``at_least(0.0)``, ``less_than(x)``, ...)
that is applied to the measured value; a value that could not be measured (None/NaN) gets
"not measured" rather than a guess.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

HOLDS, FAILS, UNMEASURED = "holds", "does not hold", "not measured"


@dataclass(frozen=True)
class ClaimTest:
    """A comparison of the measured value against reference numbers."""

    op: str                      # one of <, <=, >, >=, between, true
    reference: tuple[float, ...] = ()

    def __call__(self, measured: Any) -> bool:
        if self.op == "true":
            return bool(measured)
        x = float(measured)
        r = self.reference
        return {"<": lambda: x < r[0], "<=": lambda: x <= r[0], ">": lambda: x > r[0],
                ">=": lambda: x >= r[0], "between": lambda: r[0] <= x <= r[1]}[self.op]()

    def describe(self) -> str:
        if self.op == "true":
            return "measured is true"
        if self.op == "between":
            return f"{format_value(self.reference[0])} <= measured <= {format_value(self.reference[1])}"
        return f"measured {self.op} {format_value(self.reference[0])}"


def less_than(x: float) -> ClaimTest:
    return ClaimTest("<", (float(x),))


def at_most(x: float) -> ClaimTest:
    return ClaimTest("<=", (float(x),))


def greater_than(x: float) -> ClaimTest:
    return ClaimTest(">", (float(x),))


def at_least(x: float) -> ClaimTest:
    return ClaimTest(">=", (float(x),))


def between(lo: float, hi: float) -> ClaimTest:
    if lo > hi:
        raise ValueError(f"between(lo, hi) needs lo <= hi, got {lo} > {hi}")
    return ClaimTest("between", (float(lo), float(hi)))


def is_true() -> ClaimTest:
    return ClaimTest("true")


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_value(value: Any) -> str:
    """Numbers to 4 significant digits; everything else as text."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, (int, float)):
        return f"{value:.4g}"
    return str(value)


@dataclass
class Claim:
    """One row of a claims table."""

    claim: str          # what the paper says, in words
    paper: str          # the paper's number or statement ("+6.8 % accuracy", "rho > 0.9")
    source: str         # where in the paper (section, table, figure)
    measured: Any       # the kit's number for this run (float, int or bool), or None
    test: ClaimTest     # the rule that decides the verdict from ``measured``
    detail: str = ""    # context for the reader (n, confidence interval, ...); not used by the verdict
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def holds(self) -> bool | None:
        if _is_missing(self.measured):
            return None
        return bool(self.test(self.measured))

    @property
    def verdict(self) -> str:
        return {True: HOLDS, False: FAILS, None: UNMEASURED}[self.holds]

    def as_dict(self) -> dict[str, Any]:
        measured = self.measured
        if isinstance(measured, float) and math.isnan(measured):
            measured = None
        return {"claim": self.claim, "paper": self.paper, "source": self.source,
                "measured": measured, "test": self.test.describe(), "holds": self.holds,
                "verdict": self.verdict, "detail": self.detail, **self.extra}


def claims_frame(claims: list[Claim] | list[dict[str, Any]]) -> pd.DataFrame:
    """The claims table as a DataFrame (accepts Claim objects or their ``as_dict`` form)."""
    rows = [c.as_dict() if isinstance(c, Claim) else c for c in claims]
    frame = pd.DataFrame(rows, columns=["claim", "paper", "source", "measured", "test", "verdict", "detail"])
    frame["measured"] = frame["measured"].map(format_value)
    return frame


def claims_markdown(claims: list[Claim] | list[dict[str, Any]]) -> str:
    """The claims table as a Markdown table (used in notebooks and REPORT.md)."""
    frame = claims_frame(claims)
    if frame.empty:
        return "_No claims recorded._"
    header = "| claim | paper | source | measured | test | verdict |\n|---|---|---|---|---|---|\n"
    def cell(x: Any) -> str:
        return str(x).replace("|", "\\|").replace("\n", " ")
    body = "".join(
        f"| {cell(r.claim)} | {cell(r.paper)} | {cell(r.source)} | {cell(r.measured)}"
        f"{' (' + cell(r.detail) + ')' if r.detail else ''} | {cell(r.test)} | **{r.verdict}** |\n"
        for r in frame.itertuples())
    return header + body
