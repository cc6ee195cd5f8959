"""Claims of notebook 02 (model-based RL HPO): calibrated under no effect, powered at the paper profile.

The frames are simulated with the columns the experiment builds (``runs``, ``reach``), so the real claim
functions are what is tested. Sample sizes are the paper profile's: every task of its list x its seeds
((task, seed) pairs) and its tasks for the default-configuration count. The paper's effect sizes could not be
checked, so the planted effects are stated plausible ones: 1 accuracy point (SDP vs DOC, unbounded), 1.5 over every baseline (ranks),
no order effect, a log2 ratio of -1 (half the evaluations), a 2-point gain over the default.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hpo_kit import paths
from hpo_kit.claims import FAILS, HOLDS, INCONCLUSIVE, UNMEASURED
from hpo_kit.mbrl_hpo.claims import (default_claim, delta_claims, mbrl_claims, median_ci, order_claim, rank_claim,
                                     reward_model_claims, sdp_vs_doc_claim, shared_real_evaluations,
                                     unbounded_claim)
from hpo_kit.params import read_params_file

from calibration import assert_calibrated_null, assert_power

PAPER = read_params_file(paths.PARAMS_DIR / "paper" / "02_mbrl_hpo_ablations.yaml")
N_TASKS, N_SEEDS = len(PAPER["tasks"]), int(PAPER["n_seeds"])
MBRL = "mbrl_sdp[delta=0.4]"


def _method(label: str) -> str:
    return label.split("[")[0]


def _delta(label: str) -> float:
    if "delta=" not in label:
        return math.nan
    return float(label.split("delta=")[1].rstrip("]").split(",")[0])


def _order(label: str) -> str:
    if "order=" in label:
        return label.split("order=")[1].rstrip("]")
    return "listed" if _method(label) in ("rl_sdp", "rl_doc", "mbrl_sdp") else ""


def sim_runs(rng, gains: dict[str, float], n_tasks=N_TASKS, n_seeds=N_SEEDS, sd=2.0) -> pd.DataFrame:
    """Test accuracies per (task, seed, label): a task level, a (task, seed) level shared by all labels,
    ``gains[label]`` points, and independent noise of ``sd`` points per run (vectorised)."""
    labels = list(gains)
    shape = (n_tasks, n_seeds, len(labels))
    acc = (rng.uniform(80, 97, (n_tasks, 1, 1)) + rng.normal(0, 1.0, (n_tasks, n_seeds, 1))
           + np.array([gains[lab] for lab in labels])[None, None, :] + rng.normal(0, sd, shape)) / 100
    t, s, l = (a.ravel() for a in np.meshgrid(np.arange(n_tasks), np.arange(n_seeds), np.arange(len(labels)),
                                             indexing="ij"))
    lab = np.array(labels, dtype=object)[l]
    return pd.DataFrame({"task": t, "method": np.array([_method(x) for x in labels], dtype=object)[l],
                         "label": lab, "seed": s, "order": np.array([_order(x) for x in labels], dtype=object)[l],
                         "delta": np.array([_delta(x) for x in labels])[l], "accuracy": acc.ravel(),
                         "val_error": 1 - acc.ravel()})


def sim_reach(rng, log2_ratio: float, sd=1.0, never=0.0, n=N_TASKS * N_SEEDS, label=MBRL, other=None) -> pd.DataFrame:
    """RL-SDP needs k evaluations (and 1.5 k seconds); ``label`` k * 2^(log2_ratio + noise), inf with prob ``never``;
    ``other`` (if given) needs k."""
    k = rng.uniform(5, 300, n)
    mine = k * 2 ** (log2_ratio + rng.normal(0, sd, n))
    mine[rng.random(n) < never] = math.inf
    parts = [("rl_sdp", k), (label, mine)] + ([(other, k)] if other is not None else [])
    frames = [pd.DataFrame({"task": np.arange(n) % N_TASKS, "label": lab, "method": _method(lab),
                            "seed": np.arange(n) // N_TASKS, "delta": _delta(lab), "evals_to_target": v,
                            "time_to_target_s": 1.5 * v}) for lab, v in parts]
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------------------ (a) SDP vs DOC
def test_sdp_vs_doc_null():
    assert_calibrated_null(lambda rng: sdp_vs_doc_claim(sim_runs(rng, {"rl_sdp": 0.0, "rl_doc": 0.0})))


def test_sdp_vs_doc_planted():
    assert_power(lambda rng: sdp_vs_doc_claim(sim_runs(rng, {"rl_sdp": 1.0, "rl_doc": 0.0})))


# ------------------------------------------------------------------------------ (b) order
ORDERS = ("rl_sdp", "rl_sdp[order=reversed]", "rl_sdp[order=grouped]")


def test_order_null_is_one_pair_exactly_at_the_margin():
    assert_calibrated_null(lambda rng: order_claim(sim_runs(rng, dict(zip(ORDERS, (0.0, -1.0, 0.0))))))


def test_order_planted_no_effect_holds():
    # run-to-run spread of 1 point per run (best accuracy after 300 evaluations; stated, not the paper's)
    assert_power(lambda rng: order_claim(sim_runs(rng, dict(zip(ORDERS, (0.0, 0.0, 0.0))), sd=1.0)))


def test_order_claim_is_equivalence_not_an_interval_that_contains_zero():
    """Defect guard: wide noise and no effect must be inconclusive, never 'holds' (CI contains 0 is not evidence)."""
    rng = np.random.default_rng(0)
    row = order_claim(sim_runs(rng, dict(zip(ORDERS, (0.0, 0.0, 0.0))), n_tasks=2, n_seeds=2, sd=5.0))
    assert row.claim.direction == "equivalent" and row.claim.margin == 1.0
    assert row.verdict == INCONCLUSIVE and row.estimate.low < 0 < row.estimate.high
    assert order_claim(sim_runs(rng, {"rl_sdp": 0.0})).verdict == UNMEASURED


# ------------------------------------------------------------------------------ (c) reward model
def _reward_rows(rng, ratio, **kw):
    return reward_model_claims(sim_reach(rng, ratio, **kw))


def test_fewer_evaluations_null_and_planted():
    assert_calibrated_null(lambda rng: _reward_rows(rng, 0.0)[0])
    assert_power(lambda rng: _reward_rows(rng, -1.0, never=0.05)[0])


def test_about_half_null_at_the_margin_and_planted():
    assert_calibrated_null(lambda rng: _reward_rows(rng, -0.5, sd=0.7)[1])
    assert_calibrated_null(lambda rng: _reward_rows(rng, -1.5, sd=0.7)[1])
    assert_power(lambda rng: _reward_rows(rng, -1.0, sd=0.7)[1])


def test_less_wall_time_null_and_planted():
    assert_calibrated_null(lambda rng: _reward_rows(rng, 0.0)[2])
    assert_power(lambda rng: _reward_rows(rng, -1.0)[2])


def test_shared_evaluations_are_the_first_batches_before_a_model_phase():
    assert shared_real_evaluations(4, 4) == 4
    assert shared_real_evaluations(4, 5) == 8   # the model phase follows a PPO update, i.e. a whole batch
    assert shared_real_evaluations(8, 1) == 8
    with pytest.raises(ValueError, match="batch_episodes"):
        shared_real_evaluations(0, 4)


def test_pairs_decided_inside_the_shared_evaluations_are_counted_not_dropped():
    """The count is context: the verdict and the estimate are the same with or without it."""
    rng = np.random.default_rng(3)
    reach = sim_reach(rng, 0.0)
    k = reach.loc[reach.label == "rl_sdp", "evals_to_target"]
    plain, counted = reward_model_claims(reach), reward_model_claims(reach, shared_evaluations=40)
    expected = f"{int((k <= 40).sum())} of {len(k)} (task, seed) pairs"
    for a, b in zip(plain, counted):
        assert a.verdict == b.verdict and a.estimate.as_dict() == b.estimate.as_dict()
        assert a.detail == "" and b.detail.startswith(expected) and "tie by construction" in b.detail
    assert 0 < (k <= 40).sum() < len(k)


def test_median_interval_handles_runs_that_never_reach_the_target():
    e = median_ci([-1.0, -2.0, -0.5, math.inf, -1.5, -1.2, -0.8, -1.1, -0.9, -1.3], 0.9)
    assert e.value == pytest.approx(-1.05) and math.isfinite(e.low) and e.n == 10
    allinf = median_ci([math.inf] * 6, 0.9)
    assert allinf.value == math.inf
    assert median_ci([0.0, 1.0], 0.9).low == -math.inf  # two values cannot bound a 90 % median interval


# ------------------------------------------------------------------------------ (d) delta and unbounded
def _delta_frames(rng, error_gap_points: float, time_log2: float):
    gains = {"mbrl_sdp[delta=0.1]": 0.0, MBRL: -error_gap_points}
    runs = sim_runs(rng, gains)
    reach = sim_reach(rng, time_log2, label=MBRL, other="mbrl_sdp[delta=0.1]")
    return delta_claims(runs, reach, 0.4)


def test_delta_error_noninferiority_null_at_the_margin_and_planted():
    assert_calibrated_null(lambda rng: _delta_frames(rng, 1.0, -1.0)[0])
    assert_power(lambda rng: _delta_frames(rng, 0.0, -1.0)[0])


def test_delta_time_null_and_planted():
    assert_calibrated_null(lambda rng: _delta_frames(rng, 0.0, 0.0)[1])
    assert_power(lambda rng: _delta_frames(rng, 0.0, -1.0)[1])


def test_unbounded_null_and_planted():
    assert_calibrated_null(lambda rng: unbounded_claim(sim_runs(rng, {MBRL: 0.0, "mbrl_sdp[delta=inf]": 0.0})))
    assert_power(lambda rng: unbounded_claim(sim_runs(rng, {MBRL: 0.0, "mbrl_sdp[delta=inf]": -1.0})))


# ------------------------------------------------------------------------------ (e) default and ranks
def test_default_null_and_planted():
    assert_calibrated_null(lambda rng: default_claim(sim_runs(rng, {MBRL: 0.0, "default": 0.0})))
    assert_power(lambda rng: default_claim(sim_runs(rng, {MBRL: 2.0, "default": 0.0})))


BASE = ("random", "tpe", "cmaes", "gp", "hyperband", "bohb")


def test_rank_null_is_one_baseline_as_good_and_planted_beats_all():
    assert_calibrated_null(lambda rng: rank_claim(sim_runs(rng, {MBRL: 2.0, **{b: 0.0 for b in BASE}, "gp": 2.0})))
    # all six comparisons must hold: a 1.5-point gain over every baseline (stated plausible effect)
    assert_power(lambda rng: rank_claim(sim_runs(rng, {MBRL: 1.5, **{b: 0.0 for b in BASE}})))


def test_rank_fails_when_a_baseline_is_clearly_better():
    rng = np.random.default_rng(3)
    row = rank_claim(sim_runs(rng, {MBRL: 0.0, "random": 0.0, "tpe": 3.0}))
    assert row.verdict == FAILS and row.extra["decided_by"] == "vs tpe"


def test_every_claim_on_a_small_frame_is_decided_or_says_why():
    rng = np.random.default_rng(1)
    labels = ["rl_sdp", "rl_doc", *ORDERS[1:], MBRL, "mbrl_sdp[delta=0.1]", "mbrl_sdp[delta=inf]", *BASE, "default"]
    runs = sim_runs(rng, {lab: 0.0 for lab in labels}, n_tasks=3, n_seeds=1)
    reach = sim_reach(rng, 0.0, n=3, other="mbrl_sdp[delta=0.1]")
    rows = mbrl_claims(runs, reach)
    assert len(rows) == 10
    assert all(r.verdict in (HOLDS, FAILS, INCONCLUSIVE, UNMEASURED) for r in rows)
    assert all(r.verdict != UNMEASURED or r.reason for r in rows)
    rows = mbrl_claims(runs[runs.label == "random"], reach[reach.label == "rl_sdp"])
    assert all(r.verdict == UNMEASURED for r in rows)
