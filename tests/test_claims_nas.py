"""Notebook 03's claims (hpo_kit.nas.claims): calibrated on simulated frames, and the defects they replace.

Every claim function is run on frames with the same columns as the notebook's: null (no effect, or
the effect exactly at the margin) must stay within the bar of ``calibration.py`` (the false verdict's
upper 95 % bound at most alpha + 2.5 points; 1,000 replicates where the rule is exactly at alpha);
a planted effect at the paper profile's sample size must hold in at least 80 %. Threat-specific
nulls: selection (survivors of successive halving) for the correlation claims, unequal noise between
budgets for the importance claim. Paper profile: 100 random configurations at 4 budgets, 5 seeds, 17
hyperparameters. End-to-end nulls through the notebook's experiment code: ``test_null_checks_nas.py``.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from ConfigSpace import ConfigurationSpace, Float
from ConfigSpace.hyperparameters import IntegerHyperparameter as Integer

from hpo_kit.analysis import (binned_main_effects, bootstrap_importance_change, fanova_main_effects,
                              fit_fanova_per_budget, importance_change, importance_table)
from hpo_kit.claims import Claim, decide_family
from hpo_kit import stats
from hpo_kit.claims import FAILS, HOLDS, INCONCLUSIVE, UNMEASURED
from hpo_kit.nas import claims as nc
from hpo_kit.nas import joint_space
from hpo_kit.params import read_params_file
from hpo_kit import paths

from calibration import assert_calibrated_both_ways, assert_calibrated_null, assert_power, holds_rate, null_limit

PAPER = read_params_file(paths.PARAMS_DIR / "paper" / "03_bohb_joint_nas_hpo.yaml")
N_CONFIGS = PAPER["n_random_sample"]  # 100
N_SEEDS = PAPER["n_seeds"]  # 5
BUDGETS = [4, 12, 36, 108]


# ------------------------------------------------------------------ simulated frames
def losses_at_budgets(rng, n: int, corr: np.ndarray, budgets=BUDGETS) -> pd.DataFrame:
    """Rows config_id, budget, loss: Gaussian losses with correlation ``corr`` between budgets."""
    z = rng.multivariate_normal(np.zeros(len(budgets)), corr, size=n)
    return pd.DataFrame({"config_id": np.repeat(np.arange(n), len(budgets)), "budget": np.tile(budgets, n),
                         "loss": z.ravel()})


def pearson_for_spearman(rho: float) -> float:
    """Bivariate normal: Spearman rho = (6 / pi) asin(r / 2)."""
    return 2 * math.sin(math.pi * rho / 6)


def ar_corr(k: int, r: float) -> np.ndarray:
    idx = np.arange(k)
    return r ** np.abs(idx[:, None] - idx[None, :])


def equi_corr(k: int, r: float) -> np.ndarray:
    return np.full((k, k), r) + (1 - r) * np.eye(k)


def seeds_frame(rng, diffs: dict[str, float], sd_seed: float, sd_pair: float, n: int = N_SEEDS,
                base: float = 0.05) -> pd.DataFrame:
    """Rows method, seed, val_error, test_error: a shared seed effect plus per-method noise (fractions)."""
    rows = []
    seed_effect = rng.normal(0, sd_seed, n)
    for method, shift in diffs.items():
        err = base + shift + seed_effect + rng.normal(0, sd_pair / math.sqrt(2), n)
        rows += [{"method": method, "seed": s, "val_error": e - 0.002, "test_error": e} for s, e in enumerate(err)]
    return pd.DataFrame(rows)


SPACE = joint_space("paper")


def sample_frame(rng, n: int, weights_from: dict[str, float], weights_to: dict[str, float],
                 noise: float = 0.3, noise_to: float | None = None) -> pd.DataFrame:
    """The random-sample frame: n configurations of the 17-d space, losses at two budgets.

    Loss = sum of weight * (the hyperparameter's position in its range, on the log scale where the
    space has one) + independent noise (``noise`` at the first budget, ``noise_to`` at the second,
    default the same): equal weights = no change of importance, whatever the two noise levels.
    """
    # uniform on each range (log-uniform where the space is log-scaled), integers rounded: what
    # ConfigSpace samples, drawn with numpy so that 200 replicates take seconds
    X, unit = {}, {}
    for name, hp in SPACE.items():
        lo, hi = float(hp.lower), float(hp.upper)
        u = rng.uniform(size=n)
        x = np.exp(math.log(lo) + u * (math.log(hi) - math.log(lo))) if hp.log else lo + u * (hi - lo)
        if isinstance(hp, Integer):
            x = np.clip(np.round(x), lo, hi)
        X[name] = x
        unit[name] = (np.log(x) - math.log(lo)) / (math.log(hi) - math.log(lo)) if hp.log else (x - lo) / (hi - lo)
    frames = []
    noises = (noise, noise if noise_to is None else noise_to)
    for (budget, weights), sd in zip(((1, weights_from), (9, weights_to)), noises):
        loss = sum(w * unit[k] for k, w in weights.items()) + rng.normal(0, sd, n)
        frames.append(pd.DataFrame({"config_id": np.arange(n), "budget": budget, "loss": loss, **X}))
    return pd.concat(frames, ignore_index=True)


def cheap_change(frame, n_bootstrap=100, seed=0):
    """The claim's input with the cheap estimator (binned main effects instead of fANOVA's forests)."""
    return bootstrap_importance_change(frame, SPACE, importance=binned_main_effects(4), n_bootstrap=n_bootstrap,
                                       seed=seed)


def old_fraction_rule(change) -> str:
    """The rule this claim had before issue 22: some hyperparameter's variance fraction changes
    (2 signs x k hyperparameters, normal intervals with the refits' s.d., Holm's first step)."""
    claim = Claim(claim="old", paper="", source="", estimand="", direction="greater", threshold=0.0, alpha=0.05,
                  min_n=30, unit="configurations")
    family = claim.with_comparisons(2 * len(change.names))
    estimates, labels = [], []
    for j, name in enumerate(change.names):
        up = stats.bootstrap_se_ci(float(change.change[j]), change.replicates[:, j], family.ci_level, change.n_configs)
        down = dataclasses.replace(up, value=-up.value, low=-up.high, high=-up.low)
        estimates += [up, down]
        labels += [f"{name} up", f"{name} down"]
    return decide_family(claim, estimates, labels).verdict


# ------------------------------------------------------------------ far-pair correlation is low
def test_far_correlation_null_at_the_limit_and_planted_low():
    limit = pearson_for_spearman(nc.FAR_RHO_LIMIT)
    # exactly at the limit the rule is at alpha: 1,000 replicates to tell it from the bar
    assert_calibrated_null(lambda rng: nc.far_correlation_claim(
        losses_at_budgets(rng, N_CONFIGS, equi_corr(2, limit), [4, 108]), "random sample"), n_replicates=1000)
    # planted: "little correlation", rho 0.2 between the smallest and the largest budget
    assert_power(lambda rng: nc.far_correlation_claim(
        losses_at_budgets(rng, N_CONFIGS, ar_corr(4, pearson_for_spearman(0.2) ** (1 / 3))), "random sample"))


def halving_survivors(population: pd.DataFrame, eta: int = 3) -> pd.DataFrame:
    """The rows successive halving would have seen: at each budget only the best 1/eta of the previous
    rung (by the loss there) go on; the population frame has every configuration at every budget."""
    wide = population.pivot(index="config_id", columns="budget", values="loss")
    alive = wide.index
    rows = []
    for i, budget in enumerate(wide.columns):
        if i:
            previous = wide.loc[alive, wide.columns[i - 1]]
            alive = previous.nsmallest(max(1, len(alive) // eta)).index
        rows.append(pd.DataFrame({"config_id": alive, "budget": budget, "loss": wide.loc[alive, budget].to_numpy()}))
    return pd.concat(rows, ignore_index=True)


def test_far_correlation_selection_null_survivors_are_not_decided():
    """Defect (issue 22): the far-pair claim was also decided on BOHB's survivors, selected for good
    small-budget losses. Range restriction shrinks rho: with a population rho of exactly 0.5 (the
    limit), 40 survivors of successive halving (1,080 -> 360 -> 120 -> 40 over the paper's 4 budgets)
    made "little correlation" hold in most replicates. The claims table now decides it on the random
    sample only (which stays within the bar), and shows the survivors' rho undecided."""
    corr = ar_corr(4, pearson_for_spearman(nc.FAR_RHO_LIMIT) ** (1 / 3))

    def old_rule(rng):
        survivors = halving_survivors(losses_at_budgets(rng, 1080, corr))
        assert survivors.groupby("budget").size().iloc[-1] == 40
        return nc.far_correlation_claim(survivors, "BOHB survivors")

    rate, _ = holds_rate(old_rule, n_replicates=200)
    assert rate > 0.5 > null_limit(0.05), f"the selection null held in only {rate:.1%} of replicates"

    def new_rule(rng):
        population = losses_at_budgets(rng, 1080, corr)
        sample_ids = rng.choice(1080, N_CONFIGS, replace=False)  # the random sample: not selected on the losses
        sample = population[population["config_id"].isin(sample_ids)]
        rows = nc.claims_table(final=seeds_frame(rng, {"bohb": 0.0, "random": 0.0}, 0.005, 0.003),
                               separate=seeds_frame(rng, {"separate": 0.0}, 0.005, 0.003), sample=sample,
                               importance_change=None, dataset="mnist", n_bootstrap=100)
        assert not any("survivors" in r.claim.claim for r in rows)
        return rows[0]

    assert_calibrated_null(new_rule, n_replicates=1000)
    view = nc.survivors_view(halving_survivors(losses_at_budgets(np.random.default_rng(0), 1080, corr)))
    assert view.loc[0, "n"] == 40 and not view.loc[0, "decided"]


def test_far_correlation_is_its_own_row_and_not_implied_by_the_neighbour_comparison():
    """Defect: 'neighbours correlate more than far ones' was read as 'little correlation far apart'.

    Here neighbours correlate more (0.98 vs 0.94) but the far pair correlates strongly: the comparison
    holds, the far-pair claim does not.
    """
    frame = losses_at_budgets(np.random.default_rng(0), 400, ar_corr(4, 0.98))
    comparison = nc.neighbour_far_claim(frame, "random sample", n_bootstrap=500)
    far = nc.far_correlation_claim(frame, "random sample")
    assert comparison.verdict == HOLDS and far.verdict == FAILS
    assert far.claim.direction == "less" and far.claim.threshold == 0.5 and far.estimate.low > 0.5


def test_far_correlation_on_few_survivors_is_not_measured():
    frame = losses_at_budgets(np.random.default_rng(1), 4, ar_corr(3, 0.5), [1, 3, 9])
    row = nc.far_correlation_claim(frame, "BOHB survivors")
    assert row.verdict == UNMEASURED and "only 4 configurations" in row.reason
    row = nc.far_correlation_claim(losses_at_budgets(np.random.default_rng(1), 8, ar_corr(3, 0.5), [1, 3, 9]), "s")
    assert row.verdict == UNMEASURED and "below the claim's minimum of 10" in row.reason


# ------------------------------------------------------------------ neighbours vs far
def test_neighbour_far_null_and_planted():
    # null: every pair of budgets correlates equally (0.6); the rule is close to alpha there (percentiles
    # held in 6.0 % of 400 such replicates; the t interval with the bootstrap s.d. in about 4.4 %), so
    # 1,000 replicates
    assert_calibrated_null(lambda rng: nc.neighbour_far_claim(
        losses_at_budgets(rng, N_CONFIGS, equi_corr(4, 0.6)), "random sample", n_bootstrap=250,
        seed=int(rng.integers(1 << 30))), n_replicates=1000)
    # planted: correlation decays with distance, 0.7 per step (far pair 0.34)
    assert_power(lambda rng: nc.neighbour_far_claim(
        losses_at_budgets(rng, N_CONFIGS, ar_corr(4, 0.7)), "random sample", n_bootstrap=250,
        seed=int(rng.integers(1 << 30))))


def test_neighbour_far_needs_three_budgets_and_is_seeded():
    two = losses_at_budgets(np.random.default_rng(2), 50, ar_corr(2, 0.5), [1, 9])
    row = nc.neighbour_far_claim(two, "random sample")
    assert row.verdict == UNMEASURED and "three or more budgets" in row.reason
    three = losses_at_budgets(np.random.default_rng(2), 50, ar_corr(3, 0.5), [1, 3, 9])
    a, b = (nc.neighbour_far_claim(three, "x", n_bootstrap=200, seed=4) for _ in range(2))
    assert a.estimate == b.estimate and a.estimate.method.startswith("paired bootstrap")


def test_neighbour_far_bootstrap_is_paired_over_configurations():
    """A shared configuration effect cancels in the difference: a paired bootstrap sees the small
    difference, resampling each rho separately would not."""
    from hpo_kit.analysis import bootstrap_neighbour_far

    frame = losses_at_budgets(np.random.default_rng(3), 150, ar_corr(3, 0.9), [1, 3, 9])
    s = bootstrap_neighbour_far(frame, n_bootstrap=400, seed=0)
    assert s["n"] == 150 and len(s["replicates"]) == 400
    # drawing the configurations separately for the neighbour and the far rhos (unpaired) would
    # add their spreads; the paired draw lets the shared configuration effect cancel
    from hpo_kit.analysis.rank_correlation import _rowwise_spearman

    wide = frame.pivot(index="config_id", columns="budget", values="loss").to_numpy()
    d1, d2 = (np.random.default_rng(k).integers(0, 150, (400, 150)) for k in (1, 2))
    neighbour = (_rowwise_spearman(wide[d1, 0], wide[d1, 1]) + _rowwise_spearman(wide[d1, 1], wide[d1, 2])) / 2
    unpaired = neighbour - _rowwise_spearman(wide[d2, 0], wide[d2, 2])
    assert np.std(s["replicates"]) < 0.75 * np.std(unpaired)


# ------------------------------------------------------------------ importance changes
WEIGHTS = {"learning_rate": 1.0, "weight_decay": 0.6, "n_blocks_1": 0.4}


def test_importance_change_null_holds_at_most_alpha_with_the_cheap_estimator():
    assert_calibrated_null(lambda rng: nc.importance_change_claim(
        cheap_change(sample_frame(rng, N_CONFIGS, WEIGHTS, WEIGHTS), seed=int(rng.integers(1 << 30)))))


def test_importance_change_unequal_noise_null():
    """Defect (issue 22): importance was a variance fraction, whose denominator includes the noise; the
    same function of the hyperparameters with more noise at one budget (as after 4 epochs against 108)
    made "importance changes" hold in about a third of the replicates. The order of importance does not
    move with the noise: the claim on a swap of order stays within the bar on the same null."""
    def frame(rng):  # more noise after few epochs than after many, the same function at both
        return sample_frame(rng, N_CONFIGS, WEIGHTS, WEIGHTS, noise=0.5, noise_to=0.1)

    old, _ = holds_rate(lambda rng: old_fraction_rule(cheap_change(frame(rng), seed=int(rng.integers(1 << 30)))),
                        n_replicates=100)
    assert old > null_limit(0.05), f"unequal noise held on variance fractions in only {old:.1%}"
    assert_calibrated_null(lambda rng: nc.importance_change_claim(
        cheap_change(frame(rng), seed=int(rng.integers(1 << 30)))))


def test_importance_change_planted_holds_at_the_paper_sample_size():
    # planted: learning rate matters after few epochs, weight decay after many (the top two swap). An
    # ordering decided over 272 pairs needs a clear swap: with weights 1.0 / 0.3 it held in about half
    # of the replicates, with 1.0 / 0.1 in 78 %
    before = {"learning_rate": 1.0, "weight_decay": 0.0, "n_blocks_1": 0.4}
    after = {"learning_rate": 0.0, "weight_decay": 1.0, "n_blocks_1": 0.4}
    assert_power(lambda rng: nc.importance_change_claim(
        cheap_change(sample_frame(rng, N_CONFIGS, before, after), seed=int(rng.integers(1 << 30)))))


def test_importance_change_family_counts_both_signs_of_every_hyperparameter():
    frame = sample_frame(np.random.default_rng(4), 60, WEIGHTS, WEIGHTS)
    change = cheap_change(frame, n_bootstrap=40)
    row = nc.importance_change_claim(change)
    assert row.claim.n_comparisons == 17 * 16 and math.isclose(row.estimate.level, 1 - 2 * 0.05 / (17 * 16))
    assert row.verdict in (INCONCLUSIVE, UNMEASURED, HOLDS)
    few = cheap_change(sample_frame(np.random.default_rng(4), 20, WEIGHTS, WEIGHTS), n_bootstrap=20)
    assert nc.importance_change_claim(few).verdict == UNMEASURED  # below 30 configurations
    again = cheap_change(frame, n_bootstrap=40)
    assert np.array_equal(change.replicates, again.replicates)  # same seed, same refits


def test_importance_change_refits_are_paired_across_budgets():
    """Identical losses at both budgets: every paired refit changes nothing."""
    frame = sample_frame(np.random.default_rng(5), 50, WEIGHTS, WEIGHTS)
    frame.loc[frame["budget"] == 9, "loss"] = frame.loc[frame["budget"] == 1, "loss"].to_numpy()
    change = cheap_change(frame, n_bootstrap=30)
    assert np.allclose(change.replicates, 0) and np.allclose(change.change, 0)


@pytest.mark.slow
def test_fanova_null_with_many_trees_does_not_hold_more_than_alpha():
    """Defect: the old rule compared the change with the s.e. over the trees of one forest, which
    shrinks with more trees; on null data it held in about half of the replicates. Refits on
    resampled configurations do not get more certain with trees."""
    space = ConfigurationSpace(seed=0)
    space.add(Float("a", (0, 1)), Float("b", (0, 1)), Float("c", (1e-3, 1), log=True))
    holds = 0
    for k in range(8):
        rng = np.random.default_rng(100 + k)
        n = 30
        X = pd.DataFrame({"a": rng.uniform(size=n), "b": rng.uniform(size=n),
                          "c": np.exp(rng.uniform(math.log(1e-3), 0, n))})
        f = X["a"] + 0.5 * X["b"]
        frame = pd.concat([pd.DataFrame({"config_id": range(n), "budget": b, "loss": f + rng.normal(0, 0.3, n), **X})
                           for b in (1, 9)], ignore_index=True)
        change = bootstrap_importance_change(frame, space, importance=fanova_main_effects(32), n_bootstrap=12, seed=k)
        holds += nc.importance_change_claim(change).verdict == HOLDS
    assert holds <= 1, f"null with 32 trees held in {holds} of 8 replicates"
    # the old rule's standard error (tree-to-tree s.d. / sqrt(trees)) is well below the refits' spread
    # on the same data already at 32 trees (and halves with every 4x more trees), which is why it
    # declared changes that are not there
    table = importance_table(fit_fanova_per_budget(frame, space, n_trees=32, seed=0, min_configs=10), pairs=0)
    tree_se = importance_change(table).set_index("hyperparameter")["tree_std"] / math.sqrt(32)
    refit_se = change.table().set_index("hyperparameter")["bootstrap_se"]
    assert (refit_se > 1.5 * tree_se.loc[refit_se.index]).all()


@pytest.mark.slow
def test_fanova_planted_change_holds():
    space = ConfigurationSpace(seed=0)
    space.add(Float("a", (0, 1)), Float("b", (0, 1)), Float("c", (0, 1)))
    rng = np.random.default_rng(7)
    n = 60
    X = pd.DataFrame({name: rng.uniform(size=n) for name in "abc"})
    frame = pd.concat([pd.DataFrame({"config_id": range(n), "budget": 1, "loss": X["a"] + rng.normal(0, .05, n), **X}),
                       pd.DataFrame({"config_id": range(n), "budget": 9, "loss": X["b"] + rng.normal(0, .05, n), **X})],
                      ignore_index=True)
    change = bootstrap_importance_change(frame, space, importance=fanova_main_effects(8), n_bootstrap=15, seed=0)
    row = nc.importance_change_claim(change)
    assert row.verdict == HOLDS and row.extra["decided_by"].split()[0] in ("a", "b")
    table = change.table()
    assert set(table["hyperparameter"][:2]) == {"a", "b"} and (table["bootstrap_se"] > 0).all()


@pytest.mark.long
def test_fanova_path_calibrated_at_the_papers_refits():
    """The notebook's fANOVA path at the paper profile's design: 100 configurations of the 17-d space,
    ``importance_bootstrap`` (200) paired refits of ``importance_trees`` (32) trees. Null: the same function
    at both budgets with five times the noise at the smallest (issue 22's threat), 400 replicates; planted:
    the top two hyperparameters swap, 100 replicates. About 90 CPU seconds per replicate on this project's
    CPU (some 12 CPU hours in all): ``pytest -m long`` on a machine with time, not make test. The earlier
    check of this path had 8 null replicates and 1 planted one."""
    refits, trees = PAPER["importance_bootstrap"], PAPER["importance_trees"]

    def change(frame, rng):
        return bootstrap_importance_change(frame, SPACE, importance=fanova_main_effects(trees), n_bootstrap=refits,
                                           seed=int(rng.integers(1 << 30)))

    assert_calibrated_null(lambda rng: nc.importance_change_claim(
        change(sample_frame(rng, N_CONFIGS, WEIGHTS, WEIGHTS, noise=0.5, noise_to=0.1), rng)))
    before = {"learning_rate": 1.0, "weight_decay": 0.0, "n_blocks_1": 0.4}
    after = {"learning_rate": 0.0, "weight_decay": 1.0, "n_blocks_1": 0.4}
    assert_power(lambda rng: nc.importance_change_claim(change(sample_frame(rng, N_CONFIGS, before, after), rng)),
                 n_replicates=100)


# ------------------------------------------------------------------ paired over seeds
def test_bohb_vs_random_null_and_planted():
    # seed effects (0.5 points) shared by both methods; paired differences have s.d. 0.3 points; a
    # symmetric null: neither verdict beyond the bar (the paired t is exactly at alpha: 1,000 replicates)
    assert_calibrated_both_ways(lambda rng: nc.bohb_vs_random_claim(
        seeds_frame(rng, {"bohb": 0.0, "random": 0.0}, 0.005, 0.003)), n_replicates=1000)
    # planted: BOHB's incumbent 0.5 points better than random search's
    assert_power(lambda rng: nc.bohb_vs_random_claim(seeds_frame(rng, {"bohb": 0.0, "random": 0.005}, 0.005, 0.003)))


def test_bohb_vs_random_is_paired_over_seeds():
    """Large seed effects shared by both methods cancel in paired differences (they would swamp a
    comparison of independent means)."""
    frame = seeds_frame(np.random.default_rng(8), {"bohb": 0.0, "random": 0.005}, 0.05, 0.001)
    row = nc.bohb_vs_random_claim(frame)
    assert row.verdict == HOLDS and row.estimate.method == "paired t" and row.estimate.n == N_SEEDS
    shuffled = frame.copy()
    shuffled.loc[shuffled["method"] == "random", "seed"] = np.roll(np.arange(N_SEEDS), 1)
    assert nc.bohb_vs_random_claim(shuffled).verdict != HOLDS  # pairs broken: the seed effects come back


def test_joint_vs_separate_symmetric_null_and_planted():
    # null: joint and separate equally good; neither "beats" nor "does not beat" beyond the bar
    assert_calibrated_both_ways(lambda rng: nc.joint_vs_separate_claim(
        seeds_frame(rng, {"bohb": 0.0, "separate": 0.0}, 0.005, 0.003)), n_replicates=1000)
    # planted: joint 0.5 points better than separate
    assert_power(lambda rng: nc.joint_vs_separate_claim(
        seeds_frame(rng, {"bohb": 0.0, "separate": 0.005}, 0.005, 0.003)))


def test_joint_vs_separate_is_the_papers_claim_not_non_inferiority():
    """Defect (issue 22): the paper says separating the searches is suboptimal (joint better); the row
    tested only "joint no more than 0.5 points worse", which a slightly worse joint search passed."""
    rng = np.random.default_rng(9)
    slightly_worse = nc.joint_vs_separate_claim(seeds_frame(rng, {"bohb": 0.001, "separate": 0.0}, 0.005, 0.0005))
    assert slightly_worse.verdict == FAILS and slightly_worse.estimate.value < 0
    assert slightly_worse.claim.threshold == 0.0 and slightly_worse.claim.direction == "greater"
    better = nc.joint_vs_separate_claim(seeds_frame(rng, {"bohb": 0.0, "separate": 0.002}, 0.005, 0.0005))
    assert better.verdict == HOLDS
    assert "suboptimal" in better.claim.paper and "abstract" in better.claim.source


def test_paper_error_equivalence_null_at_the_margin_and_planted():
    def frame(rng, mean):
        return pd.DataFrame({"method": "bohb", "seed": range(N_SEEDS),
                             "test_error": rng.normal(mean / 100, 0.002, N_SEEDS)})

    upper = nc.PAPER_TEST_ERROR + nc.PAPER_MARGIN
    # the truth on a margin: TOST is exactly at alpha there, so 1,000 replicates to tell it from the bar
    assert_calibrated_null(lambda rng: nc.paper_error_claim(frame(rng, upper), "cifar10"), n_replicates=1000)
    assert_calibrated_null(lambda rng: nc.paper_error_claim(frame(rng, 2 * nc.PAPER_TEST_ERROR - upper), "cifar10"),
                           n_replicates=1000)
    assert_power(lambda rng: nc.paper_error_claim(frame(rng, nc.PAPER_TEST_ERROR), "cifar10"))


def test_paper_error_is_two_sided_and_cifar10_only():
    """Defect: 'within 0.5 points of 3.18 %' was tested as at most 3.68 %: 2 % passed it."""
    frame = pd.DataFrame({"method": "bohb", "seed": range(5), "test_error": [0.020, 0.021, 0.019, 0.020, 0.020]})
    row = nc.paper_error_claim(frame, "cifar10")
    assert row.verdict == FAILS and row.claim.direction == "equivalent"
    other = nc.paper_error_claim(frame, "mnist")
    assert other.verdict == UNMEASURED and "cifar10" in other.reason


# ------------------------------------------------------------------ the whole table
def test_claims_table_has_every_row_and_valid_inputs_are_checked():
    rng = np.random.default_rng(10)
    final = seeds_frame(rng, {"bohb": 0.0, "hyperband": 0.0, "random": 0.004}, 0.005, 0.003, n=2)
    separate = seeds_frame(rng, {"separate": 0.0}, 0.005, 0.003, n=2)
    sample = losses_at_budgets(rng, 40, ar_corr(3, 0.6), [1, 3, 9])
    change = cheap_change(sample_frame(rng, 40, WEIGHTS, WEIGHTS), n_bootstrap=20)
    rows = nc.claims_table(final=final, separate=separate, sample=sample, importance_change=change,
                           dataset="mnist", n_bootstrap=200)
    assert len(rows) == 6 and all(r.claim.alpha == 0.05 for r in rows)
    assert [r.claim.direction for r in rows].count("less") == 1  # far pair, random sample only
    assert all("random sample" in r.claim.claim for r in rows[:2])
    assert rows[-1].verdict == UNMEASURED  # paper number: not CIFAR-10
    for r in rows:
        d = r.as_dict()
        assert d["rule"] and d["paper"] and d["source"] and d["min_n"] >= 2
    with pytest.raises(ValueError, match="no rows for methods"):
        nc.bohb_vs_random_claim(final[final["method"] != "random"])
