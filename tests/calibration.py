"""Calibration of claim functions: how often a verdict comes out on simulated data with a known truth.

Every claim function of a paper package is checked twice (see ``tests/test_claims_*.py``):

* **null**: data simulated with no effect (or, for an equivalence claim, with the effect exactly
  at the margin): the claim may "hold" in at most alpha of the replicates, plus binomial slack;
* **planted**: data with the paper's effect at the paper profile's sample size: it must "hold" in
  at least 80 % of them.

``replicate(rng)`` simulates one data set and returns the verdict (a ClaimRow or its verdict text).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import stats

from hpo_kit.claims import HOLDS, ClaimRow


def holds_rate(replicate: Callable[[np.random.Generator], ClaimRow | str], n_replicates: int = 200,
               seed: int = 0) -> tuple[float, list[str]]:
    rng = np.random.default_rng(seed)
    verdicts = []
    for _ in range(n_replicates):
        row = replicate(rng)
        verdicts.append(row.verdict if isinstance(row, ClaimRow) else str(row))
    return float(np.mean([v == HOLDS for v in verdicts])), verdicts


def null_limit(alpha: float, n_replicates: int) -> float:
    """The largest rate of 'holds' a calibrated rule shows under the null, with 0.1 % binomial slack."""
    return float(stats.binom.ppf(0.999, n_replicates, alpha)) / n_replicates


def assert_calibrated_null(replicate, alpha: float = 0.05, n_replicates: int = 200, seed: int = 0) -> float:
    rate, verdicts = holds_rate(replicate, n_replicates, seed)
    limit = null_limit(alpha, n_replicates)
    assert rate <= limit, f"holds in {rate:.1%} of {n_replicates} null replicates, above {limit:.1%} (alpha {alpha})"
    return rate


def assert_power(replicate, at_least: float = 0.8, n_replicates: int = 200, seed: int = 1) -> float:
    rate, verdicts = holds_rate(replicate, n_replicates, seed)
    assert rate >= at_least, (f"holds in only {rate:.1%} of {n_replicates} replicates with the planted effect "
                              f"(needs {at_least:.0%}); verdicts: { {v: verdicts.count(v) for v in set(verdicts)} }")
    return rate
