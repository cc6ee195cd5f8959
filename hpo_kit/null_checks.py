"""End-to-end null checks: does a verdict come from the method's effect, or from how the experiment was built?

A claim function's calibration test (``tests/test_claims_*.py``) feeds it clean simulated data, so it
cannot see a defect upstream of the rule: arms that share evaluations, a target one arm reaches by
definition, a sample selected on the quantity tested, a margin wider than the benchmark's spread, two
ablations that cannot differ. Each of those fixes a verdict before anything is measured.

An end-to-end null check runs **the notebook's own experiment and analysis code** (the same runner, the
same frames, the same claim function) with the compared factor removed by construction: both arms the
same method under different seeds, or an objective on which the factor cannot matter. Then every
verdict the claim gives is false in a known direction, and we count how often it comes out:

* ``false holds``: the claim "holds" although the factor was removed;
* ``false does not hold``: it "does not hold" although, with the factor removed, nothing favours the
  other side either (a symmetric null: the boundary is the truth, so a calibrated rule says "does not
  hold" at most ``alpha`` of the time too). Cases for which this verdict is correct leave it out of
  ``false_verdicts``.

**The bar**: each counted rate's one-sided upper 95 % Clopper-Pearson bound is at most
``alpha + 0.025``. A rule that is exactly at ``alpha`` needs roughly 1,000 replicates to pass it
reliably; conservative rules pass with fewer.

Each paper package lists its cases in ``hpo_kit/<paper>/null_checks.py`` (function ``cases()``);
:func:`all_cases` gathers them, ``bench/calibration_e2e.py`` prints one row per case and
``tests/test_null_checks_*.py`` run the fast ones (``slow=False``) in ``make test``. A claim with no
null that the kit's code can produce says so in its claim function's docstring.
"""
from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

from scipy import stats as sps
from hpo_kit.claims import FAILS, HOLDS, INCONCLUSIVE, UNMEASURED, ClaimRow
from hpo_kit.progress import progress

#: the bar's slack over alpha, in rate units (2.5 points)
BAR_SLACK = 0.025
#: the bound the bar is read from: one-sided upper Clopper-Pearson bound at this confidence
BAR_CONFIDENCE = 0.95
DESIGNS = ("smoke", "workshop", "paper")
#: the paper packages that may define cases, in notebook order
PACKAGES = ("quickstart", "trl_hpo", "mbrl_hpo", "nas", "abohb", "gen_vae")


@dataclass(frozen=True)
class NullCase:
    """One claim, one design, the compared factor removed: how often is the verdict false?

    ``replicate(r)`` runs replicate ``r`` (every random source seeded from ``r``) of the notebook's own
    experiment and analysis with the factor removed, and returns the decided :class:`ClaimRow`.
    """

    notebook: str                 # "04_abohb_stopping_vs_promotion"
    claim: str                    # the claim, in words (as in the claims table, or a short unique form)
    design: str                   # workshop | paper (the profile whose design the replicate follows)
    removed: str                  # what was removed, and how ("both arms ASHA promotion, other seeds")
    replicate: Callable[[int], ClaimRow]
    false_verdicts: tuple[str, ...] = (HOLDS, FAILS)
    slow: bool = False            # too long for make test: bench/calibration_e2e.py (and pytest -m long) only
    n_replicates: int = 400
    alpha: float = 0.05
    note: str = ""                # anything the reader needs (e.g. "stand-in objective: ...")

    def __post_init__(self) -> None:
        if self.design not in DESIGNS:
            raise ValueError(f"design must be one of {DESIGNS}, got {self.design!r}")
        bad = [v for v in self.false_verdicts if v not in (HOLDS, FAILS, INCONCLUSIVE, UNMEASURED)]
        if bad or not self.false_verdicts:
            raise ValueError(f"false_verdicts must be a non-empty subset of the four verdicts, got {self.false_verdicts!r}")
        if self.n_replicates < 1:
            raise ValueError(f"n_replicates must be >= 1, got {self.n_replicates!r}")

    @property
    def key(self) -> str:
        return f"{self.notebook} | {self.claim} | {self.design}"


def upper_bound(k: int, n: int, confidence: float = BAR_CONFIDENCE) -> float:
    """One-sided upper Clopper-Pearson bound of a rate observed as ``k`` of ``n``."""
    if n <= 0:
        return 1.0
    return 1.0 if k >= n else float(sps.beta.ppf(confidence, k + 1, n - k))


@dataclass
class NullResult:
    """The verdicts a case gave over its replicates, and whether the false ones stay within the bar."""

    case: NullCase
    verdicts: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.verdicts)

    def count(self, verdict: str) -> int:
        return sum(v == verdict for v in self.verdicts)

    def rate(self, verdict: str) -> float:
        return self.count(verdict) / self.n if self.n else math.nan

    def bound(self, verdict: str) -> float:
        return upper_bound(self.count(verdict), self.n)

    @property
    def limit(self) -> float:
        return self.case.alpha + BAR_SLACK

    @property
    def within_bar(self) -> bool:
        return self.n > 0 and all(self.bound(v) <= self.limit for v in self.case.false_verdicts)

    def summary(self) -> str:
        parts = []
        for v in (HOLDS, FAILS):
            mark = "" if v in self.case.false_verdicts else " (not false here)"
            parts.append(f"{v}: {self.count(v)}/{self.n} = {self.rate(v):.1%} (upper 95 % {self.bound(v):.1%}){mark}")
        return (f"{self.case.key}: " + "; ".join(parts)
                + f"; inconclusive {self.count(INCONCLUSIVE)}, not measured {self.count(UNMEASURED)}; "
                + ("within" if self.within_bar else "OUTSIDE") + f" the bar ({self.limit:.1%})")

    def as_row(self) -> dict:
        return {"notebook": self.case.notebook, "claim": self.case.claim, "design": self.case.design,
                "removed": self.case.removed, "replicates": self.n,
                "false_holds": self.rate(HOLDS), "false_holds_upper95": self.bound(HOLDS),
                "does_not_hold": self.rate(FAILS), "does_not_hold_upper95": self.bound(FAILS),
                "does_not_hold_counted": FAILS in self.case.false_verdicts,
                "inconclusive": self.rate(INCONCLUSIVE), "not_measured": self.rate(UNMEASURED),
                "bar": self.limit, "within_bar": self.within_bar, "slow": self.case.slow, "note": self.case.note}


def check(case: NullCase, n_replicates: int | None = None, *, start: int = 0, show_progress: bool = True) -> NullResult:
    """Run ``case`` for ``n_replicates`` replicates (default: the case's own number) from index ``start``."""
    n = case.n_replicates if n_replicates is None else int(n_replicates)
    result = NullResult(case)
    for r in progress(range(start, start + n), desc=case.key[:70], disable=not show_progress, leave=False):
        row = case.replicate(r)
        if not isinstance(row, ClaimRow):
            raise TypeError(f"{case.key}: replicate must return a ClaimRow, got {type(row).__name__}")
        result.verdicts.append(row.verdict)
    return result


def all_cases(packages: Sequence[str] = PACKAGES) -> list[NullCase]:
    """Every paper package's cases (``hpo_kit.<package>.null_checks.cases()``), in notebook order."""
    found: list[NullCase] = []
    for name in packages:
        try:
            module = importlib.import_module(f"hpo_kit.{name}.null_checks")
        except ModuleNotFoundError as err:
            if err.name != f"hpo_kit.{name}.null_checks":
                raise
            continue
        found.extend(module.cases())
    return found


__all__ = ["BAR_SLACK", "NullCase", "NullResult", "all_cases", "check", "upper_bound"]
