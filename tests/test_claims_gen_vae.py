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

from calibration import assert_calibrated_null, assert_power
from hpo_kit.claims import HOLDS, UNMEASURED
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
@pytest.mark.parametrize("pair", [("gen_vae_fixed", "random"), ("gen_vae_fixed", "gen_vae_faithful")])
def test_fixed_claims_null_and_planted(pair):
    index = 0 if pair[1] == "random" else 1
    text = claims.fixed_claims(frame(np.random.default_rng(0), *pair, GP_MEANS, GP_SDS, 50), 50, "kit")[index].claim.claim

    def replicate(means):  # fixed_claims' row `index` is lower_regret_claim on this pair
        return lambda rng: claims.lower_regret_claim(frame(rng, *pair, means, GP_SDS, 50), *pair, 50, "kit",
                                                     claim_text=text, paper="", source="")

    assert_calibrated_null(replicate(centred(GP_MEANS)))
    assert_power(replicate(GP_MEANS), n_replicates=100)


def test_fixed_claims_rows():
    f = frame(np.random.default_rng(0), "gen_vae_fixed", "random", GP_MEANS, GP_SDS, 50)
    f = pd.concat([f, f[f.method == "random"].assign(method="gen_vae_faithful")])
    rows = claims.fixed_claims(f, 50, "kit")
    assert [r.claim.direction for r in rows] == ["less", "less"]
    assert rows[0].estimate.value == pytest.approx(rows[1].estimate.value)  # faithful = random here


def test_gp_claim_null():
    assert_calibrated_null(lambda rng: claims.gp_claim(frame(rng, "gp_ei", "random", centred(GP_MEANS), GP_SDS, 100),
                                                       100, "kit"))


def test_gp_claim_planted():
    assert_power(lambda rng: claims.gp_claim(frame(rng, "gp_ei", "random", GP_MEANS, GP_SDS, 100, heavy=False),
                                             100, "kit"))


# ------------------------------------------------------------------------------ reference (equivalence)
def reference_rows(rng, shift: float):
    """Kit runs vs a simulated published curve, both through reference_claims' pairing."""
    ref = frame(rng, "kit", "hpob", np.full(6, shift), RS_SDS, 50)
    published = ref[ref.method == "hpob"].drop(columns="method")
    kit = ref[ref.method == "kit"].assign(method="random")  # GP-EI's row: "did not run" (same code path)
    return claims.reference_claims(kit, 50, "hpob", "continuous", reference_frames={"random": published})


@pytest.mark.parametrize("side", [+1, -1])
def test_reference_null_at_the_margin(side):
    assert_calibrated_null(lambda rng: reference_rows(rng, side * claims.REFERENCE_MARGIN)[0])


def test_reference_planted_exact_reproduction():
    assert_power(lambda rng: reference_rows(rng, 0.0)[0], n_replicates=100)


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
    assert all(r.verdict == HOLDS for r in claims.reference_claims(f, 50, "hpob", "continuous"))  # itself


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
