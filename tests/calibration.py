"""Calibration of claim functions: how often a verdict comes out on simulated data with a known truth.

Every claim function of a paper package is checked at least twice (see ``tests/test_claims_*.py``):

* **null**: data simulated with no effect (or, for an equivalence claim, with the effect exactly
  at the margin). The bar (issue 22): the false-holds rate's one-sided upper 95 % Clopper-Pearson
  bound is at most ``alpha + 2.5`` points. A rule exactly at alpha needs about 1,000 replicates to
  clear it; conservative ones clear it with 400. The old bar (alpha plus 0.1 % binomial slack at 200
  replicates) could not tell 5 % from 8-10 %.
* **planted**: data with the paper's effect at the paper profile's sample size: it must "hold" in
  at least 80 % of them.
* **threats**: nulls built the way an experiment goes wrong (selection, unequal noise between
  budgets, asymmetric targets, shared evaluations, ties and saturation, dependence within a run,
  near-saturated margins), each with the bar above.

``replicate(rng)`` simulates one data set and returns the verdict (a ClaimRow or its verdict text).
End-to-end nulls, which run a notebook's own experiment code, are in ``hpo_kit/null_checks.py``.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from hpo_kit.claims import FAILS, HOLDS, ClaimRow
from hpo_kit.null_checks import BAR_SLACK, upper_bound

#: replicates of a null check: enough for the bar when the rule is conservative
NULL_REPLICATES = 400


def holds_rate(replicate: Callable[[np.random.Generator], ClaimRow | str], n_replicates: int = NULL_REPLICATES,
               seed: int = 0, verdict: str = HOLDS) -> tuple[float, list[str]]:
    rng = np.random.default_rng(seed)
    verdicts = []
    for _ in range(n_replicates):
        row = replicate(rng)
        verdicts.append(row.verdict if isinstance(row, ClaimRow) else str(row))
    return float(np.mean([v == verdict for v in verdicts])), verdicts


def null_limit(alpha: float) -> float:
    """The largest upper 95 % bound of the false-verdict rate that a calibrated rule may show."""
    return alpha + BAR_SLACK


def assert_calibrated_null(replicate, alpha: float = 0.05, n_replicates: int = NULL_REPLICATES, seed: int = 0,
                           verdict: str = HOLDS) -> float:
    """``verdict`` ("holds" by default; "does not hold" for an equivalence claim whose truth is inside
    the margin, or a symmetric null) comes out no more often than the bar allows."""
    rate, verdicts = holds_rate(replicate, n_replicates, seed, verdict)
    k = sum(v == verdict for v in verdicts)
    bound = upper_bound(k, n_replicates)
    assert bound <= null_limit(alpha), (
        f"'{verdict}' in {k} of {n_replicates} null replicates ({rate:.1%}; upper 95 % bound {bound:.1%}), "
        f"above the bar {null_limit(alpha):.1%} (alpha {alpha} + {BAR_SLACK:.1%}); "
        f"verdicts: { {v: verdicts.count(v) for v in set(verdicts)} }")
    return rate


def assert_calibrated_both_ways(replicate, alpha: float = 0.05, n_replicates: int = NULL_REPLICATES,
                                seed: int = 0) -> tuple[float, float]:
    """A symmetric null (the truth on the boundary): neither "holds" nor "does not hold" beyond the bar."""
    _, verdicts = holds_rate(replicate, n_replicates, seed)
    rates = []
    for verdict in (HOLDS, FAILS):
        k = sum(v == verdict for v in verdicts)
        bound = upper_bound(k, n_replicates)
        assert bound <= null_limit(alpha), (f"'{verdict}' in {k} of {n_replicates} symmetric-null replicates "
                                            f"(upper 95 % bound {bound:.1%}), above the bar {null_limit(alpha):.1%}")
        rates.append(k / n_replicates)
    return rates[0], rates[1]


def assert_power(replicate, at_least: float = 0.8, n_replicates: int = 200, seed: int = 1) -> float:
    rate, verdicts = holds_rate(replicate, n_replicates, seed)
    assert rate >= at_least, (f"holds in only {rate:.1%} of {n_replicates} replicates with the planted effect "
                              f"(needs {at_least:.0%}); verdicts: { {v: verdicts.count(v) for v in set(verdicts)} }")
    return rate
