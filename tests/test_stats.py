"""The statistics behind every verdict: intervals cover at their level, exact where they claim to be."""
import math

import numpy as np
import pytest
from scipy import stats as sps

from hpo_kit import stats


def coverage(make_estimate, truth, n_rep=400, seed=0):
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(n_rep):
        e = make_estimate(rng)
        hits += e.low <= truth <= e.high
    return hits / n_rep


@pytest.mark.parametrize("n", [3, 5, 20])
def test_mean_ci_covers_at_its_level(n):
    rate = coverage(lambda rng: stats.mean_ci(rng.normal(1.5, 2.0, n), level=0.9), 1.5)
    assert 0.86 <= rate <= 0.94


def test_mean_ci_known_values():
    e = stats.mean_ci([1.0, 2.0, 3.0, 4.0], level=0.95)
    half = sps.t.ppf(0.975, 3) * np.std([1, 2, 3, 4], ddof=1) / 2
    assert e.value == 2.5 and math.isclose(e.high - e.value, half)
    assert stats.mean_ci([2.0, 2.0, 2.0]).low == stats.mean_ci([2.0, 2.0, 2.0]).high == 2.0
    assert math.isnan(stats.mean_ci([1.0]).low) and stats.mean_ci([1.0]).n == 1
    assert stats.mean_ci([1.0, None, float("nan"), 3.0]).n == 2


def test_paired_and_welch():
    a, b = np.array([1.0, 2.0, 3.0, 5.0]), np.array([0.5, 1.0, 2.5, 4.0])
    assert math.isclose(stats.paired_mean_ci(a, b).value, np.mean(a - b))
    with pytest.raises(ValueError, match="equal lengths"):
        stats.paired_mean_ci(a, b[:3])
    rate = coverage(lambda rng: stats.welch_ci(rng.normal(1, 1, 6), rng.normal(0, 3, 9), level=0.9), 1.0)
    assert 0.86 <= rate <= 0.94


def test_mann_whitney_distribution_is_exact():
    for m, n in [(3, 4), (5, 5), (7, 3)]:
        cdf = stats._mann_whitney_cdf(m, n)
        x, y = np.arange(m) + 100.0, np.arange(n) + 0.0  # U = m*n for this arrangement
        p_all_above = 1 / math.comb(m + n, m)
        assert math.isclose(1 - cdf[-2], p_all_above)
        # scipy's exact one-sided p-value of U <= u equals the cdf
        res = sps.mannwhitneyu(y, x, alternative="less", method="exact")
        assert math.isclose(res.pvalue, cdf[0], rel_tol=1e-9)


@pytest.mark.parametrize("m,n", [(5, 5), (10, 10), (60, 60)])
def test_shift_ci_covers_a_skewed_shift(m, n):
    rate = coverage(lambda rng: stats.shift_ci(rng.exponential(1, m) + 0.7, rng.exponential(1, n), level=0.9), 0.7,
                    n_rep=300)
    assert 0.85 <= rate <= 0.96


def test_shift_ci_handles_never_reached():
    a = np.array([1.0, 2.0, np.inf, np.inf, np.inf])
    b = np.array([5.0, 6.0, 7.0, 8.0, np.inf])
    e = stats.shift_ci(a, b)
    assert e.n == 5 and not math.isnan(e.value)
    tiny = stats.shift_ci([1.0], [2.0], level=0.9)
    assert tiny.low == -math.inf and tiny.high == math.inf


def test_spearman_ci_covers():
    def draw(rng):
        z = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], 30)
        return stats.spearman_ci(z[:, 0], z[:, 1], level=0.9)
    truth = 6 / math.pi * math.asin(0.6 / 2)  # Spearman's rho of a bivariate normal
    assert 0.85 <= coverage(draw, truth) <= 0.95
    assert math.isnan(stats.spearman_ci([1, 2, 3], [1, 2, 3]).value)


def test_proportion_ci_is_clopper_pearson():
    e = stats.proportion_ci(3, 10, level=0.95)
    assert math.isclose(e.low, sps.beta.ppf(0.025, 3, 8)) and math.isclose(e.high, sps.beta.ppf(0.975, 4, 7))
    with pytest.raises(ValueError, match="cannot exceed"):
        stats.proportion_ci(4, 3)
    with pytest.raises(ValueError, match="successes"):
        stats.proportion_ci(True, 3)


def test_holm_matches_the_textbook():
    adjusted = stats.holm([0.01, 0.04, 0.03, np.nan, 0.005])
    assert np.allclose(adjusted[[4, 0, 2, 1]], [0.02, 0.03, 0.06, 0.06])
    assert np.isnan(adjusted[3])


def test_percentile_ci_and_levels():
    rng = np.random.default_rng(0)
    e = stats.percentile_ci(0.3, rng.normal(0.3, 0.1, 2000), level=0.9, n=40)
    assert e.low < 0.3 < e.high and e.p_value < 0.05
    assert math.isnan(stats.percentile_ci(0.3, [0.1] * 5).low)
    for bad in (0, 1, 1.5, True, "0.9"):
        with pytest.raises(ValueError, match="level"):
            stats.mean_ci([1.0, 2.0], level=bad)


def test_estimate_scaling():
    e = stats.mean_ci([0.01, 0.02, 0.03])
    pts = e.scaled(100)
    assert math.isclose(pts.value, 2.0) and math.isclose(pts.low, 100 * e.low)
    with pytest.raises(ValueError):
        e.scaled(-1)


def test_estimates_with_nan_fields_compare_equal_on_every_python():
    """Same seed, same estimate: NaN fields (no scale, no p-value) must not make two equal runs unequal.
    Python 3.13's dataclass __eq__ compares field by field, where the tuple comparison before it let the
    shared math.nan equal itself (CI found this on 3.13)."""
    a = stats.Estimate(1.0, 0.5, 1.5, 0.9, 4, "m", scale=float("nan"))
    b = stats.Estimate(1.0, 0.5, 1.5, 0.9, 4, "m", scale=float("nan"))
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != stats.Estimate(1.0, 0.5, 1.5, 0.9, 4, "m", scale=2.0)
    assert a != stats.Estimate(float("nan"), 0.5, 1.5, 0.9, 4, "m", scale=float("nan"))
    assert (a == "not an estimate") is False


def test_median_ci_covers_the_median_at_least_at_its_level_and_allows_infinite_values():
    from hpo_kit.stats import median_ci

    rng = np.random.default_rng(3)
    hits = 0
    for _ in range(400):
        x = rng.exponential(1.0, 15)  # skewed; true median ln 2
        e = median_ci(x, 0.9)
        hits += e.low <= np.log(2) <= e.high
    assert hits / 400 >= 0.87
    with_inf = median_ci([1.0, 2.0, 3.0, np.inf, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], 0.9)
    assert np.isfinite(with_inf.low) and with_inf.value == 5.5
