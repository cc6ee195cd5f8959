"""The one verdict rule: four verdicts from an interval, equivalence by TOST, calibrated on null and planted effects."""
import math

import numpy as np
import pytest

from hpo_kit import stats
from hpo_kit.claims import (FAILS, HOLDS, INCONCLUSIVE, UNMEASURED, Claim, claims_frame, claims_markdown, decide, decide_all,
                            decide_family, verdict_counts)
from hpo_kit.stats import Estimate

from calibration import assert_calibrated_null, assert_power, null_limit
from hpo_kit.null_checks import upper_bound


def claim(**kw):
    base = dict(claim="A beats B", paper="A > B", source="test", estimand="A - B", direction="greater")
    base.update(kw)
    return Claim(**base)


def est(value, low, high, n=10, level=0.9):
    return Estimate(value, low, high, level, n, "test")


@pytest.mark.parametrize("direction,threshold,interval,verdict", [
    ("greater", 0.0, (0.1, 0.3), HOLDS),
    ("greater", 0.0, (-0.3, -0.1), FAILS),
    ("greater", 0.0, (-0.1, 0.3), INCONCLUSIVE),
    ("greater", 0.0, (0.0, 0.0), FAILS),          # a tie does not pass a "greater" claim
    ("greater", 0.0, (0.0, 0.2), INCONCLUSIVE),
    ("less", 1.0, (0.2, 0.9), HOLDS),
    ("less", 1.0, (1.0, 1.5), FAILS),
    ("less", 1.0, (0.5, 1.5), INCONCLUSIVE),
])
def test_directional_verdicts(direction, threshold, interval, verdict):
    lo, hi = interval
    row = decide(claim(direction=direction, threshold=threshold), est((lo + hi) / 2, lo, hi))
    assert row.verdict == verdict
    assert (row.reason != "") == (verdict == INCONCLUSIVE)


@pytest.mark.parametrize("interval,verdict", [
    ((-0.01, 0.01), HOLDS), ((0.03, 0.06), FAILS), ((-0.06, -0.02), FAILS), ((-0.01, 0.03), INCONCLUSIVE),
    ((-0.03, 0.03), INCONCLUSIVE),
])
def test_equivalence_is_tost_not_contains_zero(interval, verdict):
    c = claim(direction="equivalent", margin=0.02, claim="no difference")
    lo, hi = interval
    assert decide(c, est((lo + hi) / 2, lo, hi)).verdict == verdict


def test_not_measured_cases_and_errors():
    c = claim(min_n=5)
    assert decide(c, None).verdict == UNMEASURED
    assert decide(c, est(math.nan, math.nan, math.nan)).verdict == UNMEASURED
    row = decide(c, est(1.0, 0.5, 1.5, n=3))
    assert row.verdict == UNMEASURED and "below the claim's minimum of 5" in row.reason
    assert decide(c, est(1.0, 0.5, 1.5), not_measured="needs cifar10").reason == "needs cifar10"
    with pytest.raises(ValueError, match="level"):
        decide(c, est(1.0, 0.5, 1.5, level=0.95))
    with pytest.raises(ValueError, match="direction"):
        claim(direction="bigger")
    with pytest.raises(ValueError, match="margin > 0"):
        claim(direction="equivalent")
    with pytest.raises(ValueError, match="margin is only"):
        claim(margin=0.1)
    with pytest.raises(ValueError, match="alpha"):
        claim(alpha=0.5)
    with pytest.raises(ValueError, match="min_n"):
        claim(min_n=0)


def test_inconclusive_says_what_sample_would_decide():
    row = decide(claim(), stats.mean_ci([0.5, -0.2, 0.4, 0.1], level=0.9))
    assert row.verdict == INCONCLUSIVE and "seeds (now 4) would decide it" in row.reason
    needed = int(row.reason.split("about ")[1].split()[0])
    rng = np.random.default_rng(0)
    base = np.array([0.5, -0.2, 0.4, 0.1])
    more = rng.choice(base, needed * 2) + rng.normal(0, 1e-3, needed * 2)
    assert decide(claim(), stats.mean_ci(more, level=0.9)).verdict == HOLDS
    tie = decide(claim(), est(0.0, -1.0, 1.0))
    assert "boundary" in tie.reason


def test_family_uses_holm_level_and_smallest_p():
    c = claim(claim="some hyperparameter's importance changes")
    family = c.with_comparisons(3)
    level = family.ci_level
    assert math.isclose(level, 1 - 2 * 0.05 / 3)
    estimates = [Estimate(0.1, -0.1, 0.3, level, 20, "x", p_value=0.4),
                 Estimate(0.4, 0.2, 0.6, level, 20, "x", p_value=0.001),
                 Estimate(0.0, -0.2, 0.2, level, 20, "x", p_value=0.9)]
    row = decide_family(c, estimates, ["a", "b", "c"])
    assert row.verdict == HOLDS and row.extra["decided_by"] == "b" and row.claim.n_comparisons == 3
    fails = [Estimate(-0.4, -0.6, -0.2, level, 20, "x", p_value=0.01)] * 3
    assert decide_family(c, fails, ["a", "b", "c"]).verdict == FAILS


def test_table_shows_evidence_rule_and_counts():
    rows = [decide(claim(), est(0.2, 0.1, 0.3)), decide(claim(), None),
            decide(claim(direction="equivalent", margin=0.5), est(0.0, -0.1, 0.1))]
    counts = verdict_counts(rows)
    assert counts == {HOLDS: 2, FAILS: 0, INCONCLUSIVE: 0, UNMEASURED: 1}
    md = claims_markdown(rows)
    assert "90 % CI" in md and "TOST" in md and "2 holds, 0 does not hold, 0 inconclusive, 1 not measured" in md
    frame = claims_frame([r.as_dict() for r in rows])
    assert list(frame.verdict) == [HOLDS, UNMEASURED, HOLDS]
    assert rows[1].as_dict()["estimate"] is None



def test_a_one_sided_interval_keeps_its_open_end_in_the_table():
    # a median whose sign-test interval is open above (some runs never reached the target): results.json
    # stores the open end as null, and the table must still show the interval the verdict came from
    row = decide(claim(direction="less"), est(0.0, 0.0, math.inf)).as_dict()
    stored = {**row, "ci_high": None}
    assert claims_frame([stored]).measured[0].startswith("0 [0, inf] 90 % CI")
    assert claims_frame([{**row, "ci_low": None, "ci_high": 0.5}]).measured[0].startswith("0 [-inf, 0.5]")

# ------------------------------------------------------------------ calibration of the rule itself
@pytest.mark.parametrize("n", [3, 10])
def test_directional_rule_on_paired_t_is_calibrated(n):
    c = claim()
    assert_calibrated_null(lambda rng: decide(c, stats.mean_ci(rng.normal(0, 1, n), c.ci_level)))
    assert_power(lambda rng: decide(c, stats.mean_ci(rng.normal(1.2 if n == 10 else 3.0, 1, n), c.ci_level)))


def test_equivalence_rule_is_calibrated_at_the_margin():
    c = claim(direction="equivalent", margin=0.5)
    # null for equivalence: the true difference sits on the margin
    assert_calibrated_null(lambda rng: decide(c, stats.welch_ci(rng.normal(0.5, 1, 40), rng.normal(0, 1, 40),
                                                                c.ci_level)))
    assert_power(lambda rng: decide(c, stats.welch_ci(rng.normal(0, 1, 100), rng.normal(0, 1, 100), c.ci_level)))


def test_shift_rule_is_calibrated_on_discrete_ties():
    c = claim()
    levels = np.array([0.07, 0.071, 0.072, 0.075, 0.08])
    assert_calibrated_null(lambda rng: decide(c, stats.shift_ci(rng.choice(levels, 10), rng.choice(levels, 10),
                                                                c.ci_level)))


def test_null_bar_is_alpha_plus_two_and_a_half_points():
    assert null_limit(0.05) == pytest.approx(0.075)
    # 20 of 400 (5 %) has an upper 95 % bound just under the bar; 35 of 400 (8.75 %) is far above it
    assert upper_bound(20, 400) < 0.075 < upper_bound(35, 400)


# ------------------------------------------------------------------ zero-width intervals (issue 22)
@pytest.mark.parametrize("direction,threshold,margin", [("equivalent", 0.0, 1.0), ("less", 1.0, 0.0),
                                                        ("greater", -1.0, 0.0)])
def test_a_zero_width_interval_never_decides_holds(direction, threshold, margin):
    """All units tied (both arms identical, a saturated task): the paired interval is [0, 0]. Before the
    repair this made every equivalence and non-inferiority claim hold by construction."""
    c = Claim(claim="c", paper="p", source="s", estimand="e", direction=direction, threshold=threshold,
              margin=margin, min_n=3)
    e = stats.paired_mean_ci(np.full(10, 0.9), np.full(10, 0.9), c.ci_level)
    assert e.low == e.high == 0.0
    row = decide(c, e)
    assert row.verdict == UNMEASURED and "zero width" in row.reason and row.extra["zero_width"]


def test_a_zero_width_interval_still_says_a_tie_does_not_beat():
    e = stats.paired_mean_ci(np.full(10, 0.9), np.full(10, 0.9), claim().ci_level)
    assert decide(claim(), e).verdict == FAILS  # "greater than 0" on exact ties: boundary included


# ------------------------------------------------------------------ all-must-hold claims (issue 22)
def _all_claim(direction="greater", margin=0.0):
    return Claim(claim="all", paper="p", source="s", estimand="e", direction=direction, margin=margin, min_n=3)


def _family(samples):
    return lambda level: [stats.mean_ci(x, level) for x in samples]


def test_decide_all_holds_only_if_every_comparison_holds():
    rng = np.random.default_rng(0)
    good = [rng.normal(1.0, 0.2, 20) for _ in range(3)]
    assert decide_all(_all_claim(), _family(good), ["a", "b", "c"]).verdict == HOLDS
    mixed = good[:2] + [rng.normal(0.0, 0.2, 20)]
    row = decide_all(_all_claim(), _family(mixed), ["a", "b", "c"])
    assert row.verdict in (INCONCLUSIVE, FAILS) and row.extra["decided_by"] == "c"


def test_decide_all_does_not_hold_at_holms_level_only():
    """With k comparisons all exactly at the boundary, 'any fails at alpha' says "does not hold" in about
    1 - (1 - alpha)^k of experiments (14 % at k = 3); Holm's level keeps it within the bar."""
    k = 3

    def replicate(rng):
        return decide_all(_all_claim(), _family([rng.normal(0.0, 1.0, 10) for _ in range(k)]), list("abc"))

    from calibration import assert_calibrated_null
    assert_calibrated_null(replicate, verdict=FAILS, n_replicates=600)

    def old_rule(rng):  # each comparison at the unadjusted level
        rows = [decide(_all_claim(), stats.mean_ci(rng.normal(0.0, 1.0, 10), 0.9)) for _ in range(k)]
        return FAILS if any(r.verdict == FAILS for r in rows) else INCONCLUSIVE

    from calibration import holds_rate
    rate, _ = holds_rate(old_rule, 400, verdict=FAILS)
    assert rate > null_limit(0.05)


def test_decide_all_equivalence_and_not_measured():
    rng = np.random.default_rng(3)
    eq = _all_claim("equivalent", margin=1.0)
    assert decide_all(eq, _family([rng.normal(0.0, 0.3, 30) for _ in range(2)]), ["x", "y"]).verdict == HOLDS
    assert decide_all(eq, lambda level: [None, None], ["x", "y"]).verdict == UNMEASURED
    assert decide_all(eq, lambda level: [], []).verdict == UNMEASURED


def test_decide_all_equivalence_does_not_hold_at_most_alpha_with_the_truth_inside():
    """Truth 0, a margin far smaller than the noise: "does not hold" can come from either side of the
    margin, so each side is decided at alpha / 2k (at alpha / k it reaches about 2 alpha)."""
    eq = _all_claim("equivalent", margin=0.01)

    def replicate(rng):
        return decide_all(eq, _family([rng.normal(0.0, 1.0, 10)]), ["x"])

    from calibration import assert_calibrated_null
    assert_calibrated_null(replicate, verdict=FAILS, n_replicates=2000)  # exactly at alpha: 2,000 replicates
