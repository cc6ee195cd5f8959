"""Calibration of notebook 05's claim functions (tests/calibration.py), on simulated regret frames.

Frames have the columns the real ones have (method, dataset, seed, trial, regret). Spreads and
effects are the published ones on HPO-B's space 5971 (derived from HPO-B's result files, see
hpo_kit/gen_vae/reference.py): per-task mean and within-task s.d. of the paired regret difference.
Sample size: HPO-B's six test tasks x 5 seeds (the paper profile on HPO-B's data; the kit's own
meta-dataset has more test tasks).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibration import assert_calibrated_both_ways, assert_calibrated_null, assert_power, holds_rate
from hpo_kit.claims import HOLDS, INCONCLUSIVE, UNMEASURED
from hpo_kit.gen_vae import claims, reference
from hpo_kit.gen_vae.analysis import regret_frame

SEEDS = ("test0", "test1", "test2", "test3", "test4")
# GEN-VAE (faithful) minus random search at 50 trials, published: per-task mean, within-task s.d.
GEN_MEANS = np.array([0.0128, 0.0575, 0.0133, 0.0072, 0.1803, 0.0046])
GEN_SDS = np.array([0.0117, 0.0928, 0.0225, 0.0073, 0.1911, 0.0023])
# GP-C minus RS-C at 100 trials, published (also the stated plausible effect of fixed GEN-VAE)
GP_MEANS = np.array([-0.0049, -0.0136, -0.0012, -0.0011, -0.0577, -0.0014])
GP_SDS = np.array([0.0060, 0.0066, 0.0021, 0.0021, 0.0231, 0.0014])
# two independent random-search runs from one initial design at 50 trials: sqrt(2) x RS-C's s.d.
RS_SDS = np.sqrt(2) * np.array([0.0056, 0.0059, 0.0038, 0.0024, 0.0319, 0.0019])


def frame(rng, a: str, b: str, means, sds, trial: int, n_seeds: int = 5, heavy: bool = True) -> pd.DataFrame:
    """Regret of b (positive, skewed) and of a = b + per-task mean + noise (t with 4 d.o.f. if heavy)."""
    T = len(means)
    noise = rng.standard_t(4, (T, n_seeds)) / np.sqrt(2) if heavy else rng.standard_normal((T, n_seeds))
    base = rng.gamma(2.0, 0.02, (T, n_seeds))
    other = base + np.asarray(means)[:, None] + np.asarray(sds)[:, None] * noise
    tasks = np.repeat([f"task{t}" for t in range(T)], n_seeds)
    seeds = np.tile(np.array(SEEDS[:n_seeds]), T)
    return pd.DataFrame({"method": np.repeat([b, a], T * n_seeds), "space": "5971", "dataset": np.tile(tasks, 2),
                         "seed": np.tile(seeds, 2), "trial": trial, "regret": np.concatenate([base.ravel(), other.ravel()])})


def centred(means):
    return np.asarray(means) - np.mean(means)  # heterogeneous tasks, no effect on average


# ------------------------------------------------------------------------------ faithful vs random
def faithful_row(f, trial=50, source="kit"):
    return claims.faithful_vs_random_claims(f, trial, source)[0]


def test_faithful_worse_null():
    assert_calibrated_null(lambda rng: faithful_row(frame(rng, "gen_vae_faithful", "random", centred(GEN_MEANS),
                                                          GEN_SDS, 50)))


def test_faithful_worse_planted():
    assert_power(lambda rng: faithful_row(frame(rng, "gen_vae_faithful", "random", GEN_MEANS, GEN_SDS, 50,
                                                heavy=False)))


# ------------------------------------------------------------------------------ lower regret (fixed, GP)
def test_fixed_vs_random_null_and_planted():
    pair = ("gen_vae_fixed", "random")
    text = "Fixed GEN-VAE has lower regret than random search"

    def replicate(means):  # fixed_claims' first row is lower_regret_claim on this pair
        return lambda rng: claims.lower_regret_claim(frame(rng, *pair, means, GP_SDS, 50), *pair, 50, "kit",
                                                     claim_text=text, paper="", source="")

    assert_calibrated_null(replicate(centred(GP_MEANS)))
    assert_power(replicate(GP_MEANS), n_replicates=100)


def three_arms(rng, fixed_means, faithful_means, stuck: bool = False) -> pd.DataFrame:
    """random, gen_vae_fixed = random + fixed_means + noise, gen_vae_faithful = random + faithful_means +
    noise, at trials 0 and 50; ``stuck``: faithful stays at its trial-0 regret (never leaves its initial
    design), and every searching method is at most that (incumbents never get worse)."""
    T = len(GP_MEANS)
    start = rng.gamma(2.0, 0.04, (T, 5)) + 0.05                     # regret of the initial design
    rnd = start * rng.uniform(0.1, 0.6, (T, 5))                      # random search improves on it
    arms = {"random": rnd,
            "gen_vae_fixed": rnd + np.asarray(fixed_means)[:, None] + GP_SDS[:, None] * rng.standard_normal((T, 5)),
            "gen_vae_faithful": (start if stuck else rnd + np.asarray(faithful_means)[:, None]
                                 + GP_SDS[:, None] * rng.standard_normal((T, 5)))}
    parts = []
    for m, r50 in arms.items():
        r50 = np.clip(np.minimum(r50, start), 0.0, None)
        for trial, r in ((0, start), (50, r50)):
            parts.append(pd.DataFrame({"method": m, "dataset": np.repeat([f"task{t}" for t in range(T)], 5),
                                       "seed": np.tile(np.array(SEEDS), T), "trial": trial, "regret": r.ravel()}))
    return pd.concat(parts, ignore_index=True)


def test_fixed_beats_faithful_not_by_construction():
    """Faithful stuck at its initial design, fixed no better than random search: "fixed < faithful" alone
    holds almost always (the construction); the row, which also asks fixed < random, holds <= alpha."""
    zero = np.zeros(len(GP_MEANS))
    alone = lambda rng: claims.lower_regret_claim(three_arms(rng, zero, zero, stuck=True), "gen_vae_fixed",
                                                  "gen_vae_faithful", 50, "kit", claim_text="", paper="", source="")
    assert_power(alone, at_least=0.9, n_replicates=100)  # what the old row decided on
    row = lambda rng: claims.fixed_beats_faithful_claim(three_arms(rng, zero, zero, stuck=True), 50, "kit")
    assert_calibrated_null(row)
    f = three_arms(np.random.default_rng(0), zero, zero, stuck=True)
    assert "gen_vae_faithful: 30 of 30" in claims.fixed_beats_faithful_claim(f, 50, "kit").detail


def test_fixed_beats_faithful_symmetric_null_and_planted():
    zero = np.zeros(len(GP_MEANS))
    # fixed and faithful the same method (neither better than random search): both ways within the bar
    assert_calibrated_both_ways(lambda rng: claims.fixed_beats_faithful_claim(three_arms(rng, zero, zero), 50, "kit"))
    # the repair works: fixed beats random search by GP's published margin, faithful is stuck
    assert_power(lambda rng: claims.fixed_beats_faithful_claim(three_arms(rng, 3 * GP_MEANS, zero, stuck=True),
                                                               50, "kit"), n_replicates=100)


def test_fixed_claims_rows():
    f = three_arms(np.random.default_rng(0), GP_MEANS, np.zeros(6))
    rows = claims.fixed_claims(f, 50, "kit")
    assert len(rows) == 4 and [r.claim.direction for r in rows] == ["less"] * 4
    assert [r.claim.unit for r in rows] == ["runs", "tasks", "runs", "tasks"]
    assert "random search too" in rows[2].claim.claim and "never left" in rows[2].detail


def test_gp_claim_null():
    assert_calibrated_null(lambda rng: claims.gp_claim(frame(rng, "gp_ei", "random", centred(GP_MEANS), GP_SDS, 100),
                                                       100, "kit"))


def test_gp_claim_planted():
    assert_power(lambda rng: claims.gp_claim(frame(rng, "gp_ei", "random", GP_MEANS, GP_SDS, 100, heavy=False),
                                             100, "kit"))


def test_gp_row_names_the_reference_gp_when_it_ran():
    """With Optuna's GPSampler in the frame, the GP row's note says whether the reference beats random search
    on the same runs (the benchmark's power, not the kit's GP); the verdict is still GP-EI's."""
    rng = np.random.default_rng(0)
    f = frame(rng, "gp_ei", "random", centred(GP_MEANS), GP_SDS, 100)
    alone = claims.gp_claim(f, 100, "kit")
    assert "GPSampler" not in alone.detail
    flat = f[f.method == "gp_ei"].assign(method="optuna_gp")  # the reference ties with GP-EI: no better than random
    row = claims.gp_claim(pd.concat([f, flat]), 100, "kit")
    assert row.verdict == alone.verdict and "cannot separate a GP from random search" in row.detail
    good = f[f.method == "random"].assign(method="optuna_gp", regret=lambda d: d.regret - 0.05)
    assert "the reference GP beats random search here" in claims.gp_claim(pd.concat([f, good]), 100, "kit").detail


# ------------------------------------------------------------------------------ reference (equivalence)
def published_sds(name: str, trial: int) -> np.ndarray:
    """sqrt(2) x the published within-task s.d. at ``trial``: a reproduction's paired difference."""
    f = reference.reference_frame(name)
    return np.sqrt(2) * f[f.trial == trial].groupby("dataset").regret.std(ddof=1).to_numpy()


def reference_rows(rng, shift: float, trial: int = 50, name: str = "RS-C", method: str = "random"):
    """Kit runs vs a simulated published curve, both through reference_claims' pairing."""
    ref = frame(rng, "kit", "hpob", np.full(6, shift), published_sds(name, trial), trial)
    published = ref[ref.method == "hpob"].drop(columns="method")
    kit = ref[ref.method == "kit"].assign(method=method)  # the other method's row: "did not run" (same code path)
    rows = claims.reference_claims(kit, trial, "hpob", "continuous", reference_frames={method: published})
    return rows[0 if method == "random" else 1]


@pytest.mark.parametrize("side", [+1, -1])
@pytest.mark.parametrize("name,method,trial", [("RS-C", "random", 50), ("GP-C", "gp_ei", 100)])
def test_reference_null_at_the_margin(side, name, method, trial):
    m = claims.reference_margin(name, trial)
    assert_calibrated_null(lambda rng: reference_rows(rng, side * m, trial, name, method))


@pytest.mark.parametrize("name,method,trial", [("RS-C", "random", 50), ("RS-C", "random", 100),
                                               ("GP-C", "gp_ei", 100)])
def test_reference_planted_exact_reproduction(name, method, trial):
    assert_power(lambda rng: reference_rows(rng, 0.0, trial, name, method), n_replicates=100)


def test_reference_margin_shrinks_with_the_trial():
    assert claims.reference_margin("RS-C", 100) < claims.reference_margin("RS-C", 50) < claims.reference_margin("RS-C", 25)
    with pytest.raises(ValueError, match="trial must be one of"):
        claims.reference_margin("RS-C", 7)


def test_gp_with_three_times_the_published_regret_does_not_hold():
    """Issue 22: at trial 100 a GP with 3x HPO-B's regret on 5971 (0.0046 -> 0.0138) "held" within +-0.02."""
    gp = reference.reference_frame("GP-C")
    kit = gp.assign(method="gp_ei", regret=3 * gp.regret)
    row = claims.reference_claims(kit, 100, "hpob", "continuous")[1]
    assert row.claim.margin < 0.0092 and row.verdict != HOLDS, row.as_dict()
    # and with fresh noise around 3x, it holds in no more than alpha (it is beyond the margin)
    shift = 2 * reference.mean_regret("GP-C", 100)
    assert_calibrated_null(lambda rng: reference_rows(rng, shift, 100, "GP-C", "gp_ei"))


def test_reference_not_measured_without_hpob_data():
    f = frame(np.random.default_rng(0), "random", "gp_ei", np.zeros(6), RS_SDS, 50)
    rows = claims.reference_claims(f, 50, "kit", "continuous")
    assert [r.verdict for r in rows] == [UNMEASURED, UNMEASURED] and "HPO-B's own data" in rows[0].reason
    assert claims.reference_claims(f, 7, "hpob", "continuous")[0].verdict == UNMEASURED  # no published trial 7


# ------------------------------------------------------------------------------ the published figures
def published_frame():
    names = {"GEN-VAE": "gen_vae_faithful", "RS-C": "random", "GP-C": "gp_ei"}
    ref = reference.load()["incumbents"]
    results = {names[k]: {"5971": {ds: {s: [c[str(t)] if str(t) in c else np.nan for t in range(101)]
                                        for s, c in seeds.items()} for ds, seeds in ref[k].items()}} for k in names}
    return regret_frame(results)


def test_quoted_figures_are_the_result_files():
    assert reference.mean_regret("GEN-VAE", 50) == pytest.approx(0.070, abs=5e-4)
    assert reference.mean_regret("RS-C", 50) == pytest.approx(0.024, abs=5e-4)
    # 0.036 vs 0.056 is over all 16 spaces; on 5971 alone the files give these:
    assert reference.mean_regret("GP-C", 100) == pytest.approx(0.0046, abs=5e-5)
    assert reference.mean_regret("RS-C", 100) == pytest.approx(0.0180, abs=5e-5)


def test_published_curves_decide_the_directions():
    f = published_frame()
    assert faithful_row(f, 50, "hpob").verdict == HOLDS
    assert claims.gp_claim(f, 100, "hpob").verdict == HOLDS
    # the published runs against themselves tie in every run: a zero-width interval never decides
    assert all(r.verdict == UNMEASURED for r in claims.reference_claims(f, 50, "hpob", "continuous"))


def test_published_curves_tasks_as_a_sample():
    """Issue 22: with the six tasks as a sample, "faithful worse than random" is inconclusive."""
    fixed, sample = claims.faithful_vs_random_claims(published_frame(), 50, "hpob")
    assert (fixed.verdict, sample.verdict) == (HOLDS, INCONCLUSIVE)
    assert (fixed.estimate.n, sample.estimate.n) == (30, 6) and sample.claim.unit == "tasks"


# ------------------------------------------------------------------------------ tasks as a sample
def random_tasks_frame(rng, T: int = 6, between: float = 0.05, within: float = 0.005) -> pd.DataFrame:
    """Each task's true difference drawn afresh (mean 0 over tasks), seeds close to their task's value:
    dependence within task. For tasks like these the difference is 0; for these tasks it is not."""
    return frame(rng, "gen_vae_faithful", "random", between * rng.standard_normal(T), np.full(T, within), 50,
                 heavy=False)


def test_tasks_as_a_sample_clusters_by_task():
    sample = lambda rng: claims.faithful_vs_random_claims(random_tasks_frame(rng), 50, "kit", tasks=("sample",))[0]
    assert_calibrated_both_ways(sample, n_replicates=1000)  # exact t: at alpha, so 1,000 replicates
    # the seeds are not the units here: the fixed-tasks row answers another question and holds often
    fixed = lambda rng: claims.faithful_vs_random_claims(random_tasks_frame(rng), 50, "kit", tasks=("fixed",))[0]
    rate, _ = holds_rate(fixed, 100)
    assert rate > 0.25


def test_tasks_as_a_sample_needs_three_tasks():
    f = frame(np.random.default_rng(0), "gen_vae_faithful", "random", GEN_MEANS[:2], GEN_SDS[:2], 50)
    fixed, sample = claims.faithful_vs_random_claims(f, 50, "kit")
    assert fixed.verdict != UNMEASURED and sample.verdict == UNMEASURED and "tasks" in sample.reason


def test_stratified_interval_is_paired_t_for_one_task():
    from hpo_kit import stats

    d = pd.Series([0.1, 0.3, 0.2, 0.5], index=pd.MultiIndex.from_product([["t"], list("abcd")],
                                                                         names=["dataset", "seed"]))
    a, b = claims.stratified_paired_ci(d, 0.9), stats.mean_ci(d.to_numpy(), 0.9)
    assert (a.value, a.low, a.high) == pytest.approx((b.value, b.low, b.high))


def test_within_task_variance_not_between_tasks():
    """Fixed tasks: large differences between task means must not widen the interval."""
    rng = np.random.default_rng(0)
    f = frame(rng, "gen_vae_faithful", "random", np.array([0.01, 0.2, 0.02, 0.05, 0.4, 0.03]), np.full(6, 0.005), 50,
              heavy=False)
    assert faithful_row(f).verdict == HOLDS


def test_missing_methods_are_not_measured():
    f = frame(np.random.default_rng(0), "gen_vae_faithful", "random", GEN_MEANS, GEN_SDS, 50)
    rows = claims.gen_vae_claims(f, "kit", "continuous", 50)
    fixed = [r for r in rows if "Fixed" in r.claim.claim]
    assert fixed and all(r.verdict == UNMEASURED for r in fixed)
    assert rows[0].verdict != UNMEASURED


# ------------------------------------------------------------------------------ average rank (issue 22)
def exchangeable_arms(rng, methods=("gp_ei", "random", "gen_vae_fixed"), n_seeds=5) -> pd.DataFrame:
    """Regret of every method on a task: one distribution per task (the tasks differ: published RS-C
    levels and spreads at 100 trials), independent draws per method and seed, so no method is better."""
    level = np.array([0.004, 0.014, 0.002, 0.002, 0.06, 0.002])
    T, k = len(level), len(methods)
    regret = np.abs(level[:, None, None] + GP_SDS[:, None, None] * rng.standard_t(4, (T, n_seeds, k)))
    return pd.DataFrame({"method": np.tile(methods, T * n_seeds), "space": "5971",
                         "dataset": np.repeat([f"task{t}" for t in range(T)], n_seeds * k),
                         "seed": np.tile(np.repeat(SEEDS[:n_seeds], k), T), "trial": 100, "regret": regret.ravel()})


@pytest.mark.parametrize("tasks", claims.TASKS)
def test_average_rank_null_among_exchangeable_arms(tasks):
    """Ranks of two of three exchangeable methods: no better average rank, either way.

    Ranks are discrete and six task means are few, so the rate sits a little above alpha (5.7 % at 1,500
    replicates, tasks as a sample): 1,000 replicates tell it from the bar (7.5 %)."""
    assert_calibrated_both_ways(lambda rng: claims.average_rank_claim(exchangeable_arms(rng), 100, "kit", tasks=tasks),
                                n_replicates=1000)


def test_average_rank_planted_published_effect():
    assert_power(lambda rng: claims.average_rank_claim(
        frame(rng, "gp_ei", "random", GP_MEANS, GP_SDS, 100, heavy=False), 100, "kit"))


def test_rank_frame_ranks_all_methods_with_shared_ties():
    f = pd.DataFrame({"method": ["a", "b", "c", "a", "b", "c"], "dataset": ["t"] * 6, "seed": ["s0"] * 3 + ["s1"] * 3,
                      "trial": 5, "regret": [0.1, 0.1 + 1e-12, 0.3, 0.2, 0.0, 0.1]})
    r = claims.rank_frame(f, 5).set_index(["seed", "method"]).regret
    assert r["s0"].to_dict() == {"a": 1.5, "b": 1.5, "c": 3.0}  # float noise is a tie, as HPO-B rounds
    assert r["s1"].to_dict() == {"a": 3.0, "b": 1.0, "c": 2.0}
    assert claims.rank_frame(f, 7).empty


def test_average_rank_row_on_the_published_runs():
    """HPO-B's published GP-C and RS-C on space 5971, ranked against each other: 1.20 vs 1.80 at trial 100."""
    assert claims.published_average_ranks() == {"GP-C": pytest.approx(1.2), "RS-C": pytest.approx(1.8)}
    f = published_frame()
    f = f[f.method != "gen_vae_faithful"]  # GEN-VAE's file stops at 50 trials
    fixed, sample = (claims.average_rank_claim(f, 100, "hpob", tasks=t) for t in claims.TASKS)
    assert fixed.verdict == HOLDS and fixed.estimate.value == pytest.approx(1.2 - 1.8)
    assert "1.20 vs RS-C 1.80" in fixed.claim.paper and "ranked among 2 methods" in fixed.detail
    assert sample.claim.unit == "tasks"
    missing = claims.average_rank_claim(f[f.method != "gp_ei"], 100, "hpob")
    assert missing.verdict == UNMEASURED
