"""Estimates with confidence intervals: the evidence every claim's verdict is decided from.

Each function returns an :class:`Estimate`: a point estimate, a confidence interval at a stated
level, the sample size behind it and the method used. The claims module (``hpo_kit.claims``)
turns an estimate into a verdict; nothing here decides anything.

Which interval for which question:

* a mean, or a mean of paired differences (same seed, same data): Student's t (:func:`mean_ci`,
  :func:`paired_mean_ci`);
* a difference of means of independent runs: Welch's t (:func:`welch_ci`);
* a shift between two independent samples that may be skewed, tied or censored (times to a
  target, errors on a discrete table): Hodges-Lehmann with its exact Mann-Whitney interval
  (:func:`shift_ci`);
* a rank correlation: Fisher's z with Fieller's variance (:func:`spearman_ci`);
* a proportion: Clopper-Pearson (:func:`proportion_ci`);
* anything else: a bootstrap distribution you computed (:func:`percentile_ci`);
* several comparisons in one claim: Holm's step-down correction (:func:`holm`).

Intervals are exact or standard where the data fit their assumptions; the calibration tests in
``tests/`` check the verdicts built on them on simulated null and planted effects.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Sequence

import numpy as np
from scipy import stats as sps

from hpo_kit.validation import check_int

__all__ = ["Estimate", "mean_ci", "paired_mean_ci", "welch_ci", "shift_ci", "spearman_ci", "proportion_ci",
           "percentile_ci", "median_ci", "bootstrap_se_ci", "holm", "mean_and_se", "finite", "check_level", "check_int"]


# ------------------------------------------------------------------------------ validation
def check_level(level: Any) -> float:
    """A confidence level strictly between 0 and 1 (e.g. 0.9)."""
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating)) or not 0 < float(level) < 1:
        raise ValueError(f"level must be a number in (0, 1), e.g. 0.9, got {level!r}")
    return float(level)


def finite(values: Any) -> np.ndarray:
    """A 1-D float array of the finite entries of ``values`` (None and NaN dropped)."""
    x = np.asarray([np.nan if v is None else v for v in np.ravel(np.asarray(values, dtype=object))], dtype=float)
    return x[np.isfinite(x)]


def mean_and_se(values: Any) -> tuple[float, float, int]:
    """Mean, standard error (NaN below two values) and count of the finite entries of ``values``."""
    x = finite(values)
    if len(x) == 0:
        return math.nan, math.nan, 0
    se = float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else math.nan
    return float(x.mean()), se, len(x)


# ------------------------------------------------------------------------------ the result
@dataclass(frozen=True, eq=False)
class Estimate:
    """A point estimate with a two-sided confidence interval ``[low, high]`` at ``level``.

    ``n`` counts the independent units behind it (seeds, steps, configurations, tasks).
    ``scale`` is how the interval shrinks with more units: half-width ~ ``scale`` / sqrt(n)
    (the standard deviation per unit for means; used to say what sample would decide a claim).
    ``p_value`` is the two-sided p-value against ``null`` where the method gives one.
    """

    value: float
    low: float
    high: float
    level: float
    n: int
    method: str
    scale: float = math.nan
    p_value: float = math.nan
    null: float = 0.0

    # Equality is reproducibility's test ("same seed, same estimate"), so a NaN field equals a NaN field.
    # The generated __eq__ would make that depend on the Python version: up to 3.12 it compared tuples,
    # whose identity shortcut made the shared math.nan equal to itself; 3.13 compares field by field.
    def _key(self) -> tuple:
        return tuple("nan" if isinstance(v, float) and math.isnan(v) else v
                     for v in (self.value, self.low, self.high, self.level, self.n, self.method, self.scale,
                               self.p_value, self.null))

    def __eq__(self, other: object) -> bool:
        return self._key() == other._key() if isinstance(other, Estimate) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def is_finite(self) -> bool:
        return all(math.isfinite(v) for v in (self.value, self.low, self.high))

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def scaled(self, factor: float) -> "Estimate":
        """The estimate in other units (``factor`` > 0), e.g. fractions as percentage points."""
        if not factor > 0:
            raise ValueError(f"factor must be > 0, got {factor!r}")
        return replace(self, value=self.value * factor, low=self.low * factor, high=self.high * factor,
                       scale=self.scale * factor, null=self.null * factor)

    def text(self, digits: int = 3) -> str:
        if not math.isfinite(self.value):
            return "n/a"
        f = f"{{:.{digits}g}}"
        return f"{f.format(self.value)} [{f.format(self.low)}, {f.format(self.high)}]"

    def as_dict(self) -> dict[str, Any]:
        return {"estimate": self.value, "ci_low": self.low, "ci_high": self.high, "ci_level": self.level,
                "n": self.n, "method": self.method, "p_value": self.p_value}


def _empty(level: float, n: int, method: str) -> Estimate:
    return Estimate(math.nan, math.nan, math.nan, level, n, method)


# ------------------------------------------------------------------------------ means
def mean_ci(values: Any, level: float = 0.9, null: float = 0.0) -> Estimate:
    """Mean of ``values`` with Student's t interval (NaN when fewer than two finite values).

    All values equal gives the zero-width interval at that value: the data show no spread.
    """
    level = check_level(level)
    x = finite(values)
    n = len(x)
    if n < 2:
        return replace(_empty(level, n, "t"), value=float(x.mean()) if n else math.nan)
    m, sd = float(x.mean()), float(x.std(ddof=1))
    if sd == 0:
        return Estimate(m, m, m, level, n, "t", scale=0.0, p_value=0.0 if m != null else 1.0, null=null)
    se = sd / math.sqrt(n)
    half = float(sps.t.ppf(0.5 + level / 2, n - 1)) * se
    p = float(2 * sps.t.sf(abs(m - null) / se, n - 1))
    return Estimate(m, m - half, m + half, level, n, "t", scale=sd, p_value=p, null=null)


def paired_mean_ci(a: Any, b: Any, level: float = 0.9) -> Estimate:
    """Mean of the paired differences ``a - b`` (same seed / task in both) with a t interval.

    Pairs with a missing side are dropped.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired samples need equal lengths, got {a.shape} and {b.shape}")
    keep = np.isfinite(a) & np.isfinite(b)
    est = mean_ci(a[keep] - b[keep], level)
    return replace(est, method="paired t")


def welch_ci(a: Any, b: Any, level: float = 0.9) -> Estimate:
    """Mean of ``a`` minus mean of ``b`` for independent runs, with Welch's t interval.

    ``n`` is the smaller sample; ``scale`` is sqrt(n) times the standard error.
    """
    level = check_level(level)
    a, b = finite(a), finite(b)
    n = min(len(a), len(b))
    if len(a) < 2 or len(b) < 2:
        value = float(a.mean() - b.mean()) if len(a) and len(b) else math.nan
        return replace(_empty(level, n, "Welch t"), value=value)
    d = float(a.mean() - b.mean())
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return Estimate(d, d, d, level, n, "Welch t", scale=0.0, p_value=0.0 if d else 1.0)
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = float(sps.t.ppf(0.5 + level / 2, dof)) * se
    p = float(2 * sps.t.sf(abs(d) / se, dof))
    return Estimate(d, d - half, d + half, level, n, "Welch t", scale=se * math.sqrt(n), p_value=p)


def median_ci(values: Sequence[float], level: float) -> Estimate:
    """Median with the exact distribution-free (sign-test) interval; infinite values allowed.

    The interval is [x_(k), x_(n+1-k)] with k the largest integer such that
    P(Binomial(n, 1/2) <= k - 1) <= (1 - level) / 2, so its coverage is at least ``level`` for any
    continuous distribution. The p-value is the two-sided sign test of median 0.
    """
    level = check_level(level)
    x = np.asarray(values, dtype=float)
    x = np.sort(x[~np.isnan(x)])
    n = len(x)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, level, 0, "median, sign test")
    tail = (1 - level) / 2
    # k = how many order statistics P(B <= j) <= tail leaves out at each end, j = 0..n-1
    k = int(np.sum(sps.binom.cdf(np.arange(n), n, 0.5) <= tail))
    low, high = (x[k - 1], x[n - k]) if k >= 1 else (-math.inf, math.inf)
    nonzero = x[x != 0]
    p = float(sps.binomtest(int((nonzero > 0).sum()), len(nonzero)).pvalue) if len(nonzero) else 1.0
    fin = x[np.isfinite(x)]
    spread = (np.subtract(*np.quantile(fin, [0.75, 0.25])) / 1.349) if len(fin) > 1 else math.nan
    return Estimate(float(np.median(x)), float(low), float(high), level, n, "median, sign test",
                    scale=1.2533 * float(spread), p_value=p)


# ------------------------------------------------------------------------------ shifts
@lru_cache(maxsize=256)
def _mann_whitney_cdf(m: int, n: int) -> np.ndarray:
    """P(U <= u) for u = 0..m*n under the null (no ties), by the usual counting recursion."""
    # counts[i][j] would be the distribution for sizes i, j; only the row for the current i is kept.
    prev = [np.ones(1)] + [np.ones(1) for _ in range(n)]  # i = 0: U = 0 with one arrangement
    for i in range(1, m + 1):
        row = [np.ones(1)]  # j = 0
        for j in range(1, n + 1):
            # the largest observation is either an x (adds j to U) or a y (adds nothing)
            with_x = np.concatenate([np.zeros(j), prev[j]])
            with_y = row[j - 1]
            size = max(len(with_x), len(with_y))
            row.append(np.pad(with_x, (0, size - len(with_x))) + np.pad(with_y, (0, size - len(with_y))))
        prev = row
    counts = prev[n]
    return np.cumsum(counts) / counts.sum()


def shift_ci(a: Any, b: Any, level: float = 0.9) -> Estimate:
    """Hodges-Lehmann shift of ``a`` relative to ``b`` (independent samples) with its exact interval.

    The estimate is the median of all differences ``a_i - b_j``; the interval is the pair of order
    statistics of those differences given by the exact Mann-Whitney distribution (normal
    approximation above 50 per side). It needs no normality and is unaffected by ties in one
    sample, so it suits skewed or discrete outcomes. Infinite values (a target never reached) are
    allowed as long as each sample has finite values: differences between two infinities count as
    0, between an infinity and a number as +-inf, so a bound may be infinite.
    """
    level = check_level(level)
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    m, n = len(a), len(b)
    if m < 1 or n < 1:
        return _empty(level, min(m, n), "Hodges-Lehmann")
    with np.errstate(invalid="ignore"):
        d = (a[:, None] - b[None, :]).ravel()
    d[np.isnan(d)] = 0.0  # inf - inf: both never got there; no difference observed
    d.sort()
    value = float(np.median(d))
    tail = (1 - level) / 2
    if m <= 50 and n <= 50:
        cdf = _mann_whitney_cdf(m, n)
        # k = number of order statistics cut from each end: the largest k with P(U <= k - 1) <= tail
        k = int(np.searchsorted(cdf, tail, side="right"))
    else:
        mu, sd = m * n / 2, math.sqrt(m * n * (m + n + 1) / 12)
        k = max(int(math.floor(mu - sps.norm.ppf(1 - tail) * sd)), 0)
    if k < 1:
        low, high = -math.inf, math.inf
    else:
        low, high = float(d[k - 1]), float(d[m * n - k])
    finite_a, finite_b = finite(a), finite(b)
    spread = math.sqrt((np.var(finite_a, ddof=1) if len(finite_a) > 1 else 0.0)
                       + (np.var(finite_b, ddof=1) if len(finite_b) > 1 else 0.0))
    p = math.nan
    if np.isfinite(a).all() and np.isfinite(b).all() and (np.ptp(np.concatenate([a, b])) > 0):
        p = float(sps.mannwhitneyu(a, b, alternative="two-sided").pvalue)
    return Estimate(value, low, high, level, min(m, n), "Hodges-Lehmann / Mann-Whitney", scale=spread, p_value=p)


# ------------------------------------------------------------------------------ correlation
def spearman_ci(x: Any, y: Any, level: float = 0.9) -> Estimate:
    """Spearman's rho with the Fisher-z interval, variance 1.06 / (n - 3) (Fieller et al. 1957).

    NaN below five pairs or when either side has no variation.
    """
    level = check_level(level)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"x and y need equal lengths, got {x.shape} and {y.shape}")
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = len(x)
    if n < 5 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return _empty(level, n, "Spearman, Fisher z")
    result = sps.spearmanr(x, y)
    rho = float(result.statistic)
    z = math.atanh(min(max(rho, -0.999999), 0.999999))
    se = math.sqrt(1.06 / (n - 3))
    half = float(sps.norm.ppf(0.5 + level / 2)) * se
    p = float(2 * sps.norm.sf(abs(z) / se))
    return Estimate(rho, math.tanh(z - half), math.tanh(z + half), level, n, "Spearman, Fisher z",
                    scale=math.sqrt(1.06) * (1 - rho**2), p_value=p)


# ------------------------------------------------------------------------------ proportions
def proportion_ci(successes: int, trials: int, level: float = 0.9) -> Estimate:
    """A proportion with the exact (Clopper-Pearson) interval."""
    level = check_level(level)
    successes = check_int("successes", successes, 0)
    trials = check_int("trials", trials, 0)
    if successes > trials:
        raise ValueError(f"successes ({successes}) cannot exceed trials ({trials})")
    if trials == 0:
        return _empty(level, 0, "Clopper-Pearson")
    result = sps.binomtest(successes, trials)
    ci = result.proportion_ci(confidence_level=level, method="exact")
    p = successes / trials
    return Estimate(p, float(ci.low), float(ci.high), level, trials, "Clopper-Pearson",
                    scale=math.sqrt(max(p * (1 - p), 1e-12)), p_value=float(result.pvalue), null=0.5)


# ------------------------------------------------------------------------------ bootstrap
def percentile_ci(value: float, replicates: Any, level: float = 0.9, n: int = 0,
                  method: str = "bootstrap percentile") -> Estimate:
    """An interval from bootstrap replicates of a statistic (percentiles; NaN replicates dropped).

    The p-value against 0 is twice the smaller share of replicates on either side of 0 (with the
    usual +1 correction), which is what Holm's correction needs for bootstrap comparisons.
    """
    level = check_level(level)
    reps = finite(replicates)
    if len(reps) < 20 or not math.isfinite(value):
        return replace(_empty(level, n, method), value=float(value))
    tail = (1 - level) / 2
    low, high = np.quantile(reps, [tail, 1 - tail])
    below, above = (reps <= 0).sum(), (reps >= 0).sum()
    p = min(1.0, 2 * (min(below, above) + 1) / (len(reps) + 1))
    scale = float(reps.std(ddof=1) * math.sqrt(max(n, 1)))
    return Estimate(float(value), float(low), float(high), level, n, method, scale=scale, p_value=float(p))


def bootstrap_se_ci(value: float, replicates: Any, level: float = 0.9, n: int = 0,
                    method: str = "bootstrap, normal with the replicates' s.d.") -> Estimate:
    """Normal interval ``value +- z * sd(replicates)``, with its two-sided p-value against 0.

    Use it instead of :func:`percentile_ci` when the decision needs a far tail (a Holm level over
    many comparisons) that a few hundred expensive replicates cannot resolve by percentiles.
    """
    level = check_level(level)
    reps = finite(replicates)
    if len(reps) < 10 or not math.isfinite(value):
        return replace(_empty(level, n, method), value=float(value))
    sd = float(reps.std(ddof=1))
    half = float(sps.norm.ppf(0.5 + level / 2)) * sd
    p = float(2 * sps.norm.sf(abs(value) / sd)) if sd > 0 else (0.0 if value != 0 else 1.0)
    return Estimate(float(value), value - half, value + half, level, n, method, scale=sd * math.sqrt(max(n, 1)),
                    p_value=p)


# ------------------------------------------------------------------------------ several comparisons
def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm-adjusted p-values (step-down; NaN stays NaN and does not count as a comparison).

    A comparison is significant at family-wise level alpha when its adjusted p-value is below alpha.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    valid = np.flatnonzero(np.isfinite(p))
    if len(valid) == 0:
        return out
    order = valid[np.argsort(p[valid], kind="stable")]
    k = len(order)
    adjusted = np.minimum(1.0, np.maximum.accumulate((k - np.arange(k)) * p[order]))
    out[order] = adjusted
    return out
