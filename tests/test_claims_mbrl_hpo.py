"""Claims of notebook 02 (model-based RL HPO): calibrated under no effect, powered at the paper profile.

The frames are simulated with the columns the experiment builds (``runs``, ``reach``), so the real claim
functions are what is tested. Sample sizes are the paper profile's: every task of its list x its seeds
((task, seed) pairs) and its tasks for the default-configuration count. The paper's effect sizes could not be
checked, so the planted effects are stated plausible ones: 1 accuracy point (SDP vs DOC, unbounded), 1.5 over every baseline (ranks),
no order effect, a log2 ratio of -1 (half the evaluations), a 2-point gain over the default.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest

from hpo_kit import paths
from hpo_kit.claims import FAILS, HOLDS, INCONCLUSIVE, UNMEASURED
from hpo_kit.mbrl_hpo.claims import (default_claim, delta_claims, headline_claim, headline_table, mbrl_claims,
                                     median_ci, order_claim, rank_claim,
                                     reach_ratios, reward_model_claims, sdp_vs_doc_claim, shared_real_evaluations,
                                     unbounded_claim)
from hpo_kit.params import read_params_file

from calibration import assert_calibrated_both_ways, assert_calibrated_null, assert_power

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
    """RL-SDP needs k evaluations (and 1.5 k CPU seconds); ``label`` k * 2^(log2_ratio + noise), inf with prob
    ``never``; ``other`` (if given) needs k."""
    k = rng.uniform(5, 300, n)
    mine = k * 2 ** (log2_ratio + rng.normal(0, sd, n))
    mine[rng.random(n) < never] = math.inf
    parts = [("rl_sdp", k), (label, mine)] + ([(other, k)] if other is not None else [])
    return _reach_frame(parts, n)


def _reach_frame(parts, n, cpu=None) -> pd.DataFrame:
    frames = [pd.DataFrame({"task": np.arange(n) % N_TASKS, "label": lab, "method": _method(lab),
                            "seed": np.arange(n) // N_TASKS, "delta": _delta(lab), "evals_to_target": v,
                            "cpu_to_target_s": 1.5 * v if cpu is None else cpu[i]})
              for i, (lab, v) in enumerate(parts)]
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


def test_less_cpu_time_null_and_planted():
    assert_calibrated_null(lambda rng: _reward_rows(rng, 0.0)[2])
    assert_power(lambda rng: _reward_rows(rng, -1.0)[2])


def test_shared_evaluations_are_the_first_batches_before_a_model_phase():
    assert shared_real_evaluations(4, 4) == 4
    assert shared_real_evaluations(4, 5) == 8   # the model phase follows a PPO update, i.e. a whole batch
    assert shared_real_evaluations(8, 1) == 8
    with pytest.raises(ValueError, match="batch_episodes"):
        shared_real_evaluations(0, 4)


def shared_prefix_reach(rng, n=9, shared=4, n_episodes=16, p_hit=0.12, cpu_per_eval=0.05):
    """Two exchangeable runs of one seed that share their first ``shared`` evaluations (issue 22's design):
    each evaluation reaches the target with probability ``p_hit``; the shared stretch is the same for both;
    CPU time = evaluations x cost + jitter."""
    def first_hit(prefix):
        hits = rng.random(n_episodes) < p_hit
        hits[:shared] = prefix
        found = np.flatnonzero(hits)
        return float(found[0] + 1) if len(found) else math.inf
    a, b = [], []
    for _ in range(n):
        prefix = rng.random(shared) < p_hit
        a.append(first_hit(prefix))
        b.append(first_hit(prefix))
    a, b = np.array(a), np.array(b)
    cpu = [x * cpu_per_eval + rng.normal(0, 0.003, n) for x in (a, b)]
    return _reach_frame([("rl_sdp", a), (MBRL, b)], n, cpu=cpu)


@pytest.mark.parametrize("n", [9, N_TASKS * N_SEEDS])
def test_shared_prefix_null_is_calibrated_both_ways(n):
    """Threat: shared evaluations. Ties inside the shared stretch (and later ties, and pairs where neither
    reached the target) are left out; before, they sat on the boundary and the directional rows "did not
    hold" far beyond alpha with two exchangeable runs."""
    for i in (0, 2):
        assert_calibrated_both_ways(lambda rng: reward_model_claims(shared_prefix_reach(rng, n=n),
                                                                    shared_evaluations=4)[i])


def test_forced_ties_are_left_out_and_counted():
    a = np.array([2.0, 3.0, 9.0, 12.0, math.inf, 7.0, 10.0, 5.0])
    b = np.array([2.0, 3.0, 11.0, 12.0, math.inf, 6.0, math.inf, 8.0])
    cpu = [a * 0.1, b * 0.1 + 0.001]
    reach = pd.concat([_reach_frame([("rl_sdp", a), (MBRL, b)], len(a), cpu=cpu)])
    fewer, half, cpu_row = reward_model_claims(reach, shared_evaluations=4)
    assert fewer.extra["forced_ties"] == 2 and fewer.extra["ties"] == 1 and fewer.extra["neither"] == 1
    assert fewer.estimate.n == 4 and "2 left out as ties by construction" in fewer.detail
    assert half.estimate.n == 5  # "about half" keeps the later tie (evidence against half)
    assert cpu_row.extra["forced_ties"] == 2 and cpu_row.estimate.n == 4  # jitter never decides a forced tie
    r, counts = reach_ratios(reach, MBRL, "rl_sdp", "evals_to_target", 4)
    assert counts == {"pairs": 8, "forced_ties": 2, "neither": 1, "ties": 1, "decided_on": 4}
    assert sorted(r.tolist()) == pytest.approx(sorted([np.log2(11 / 9), np.log2(6 / 7), math.inf, np.log2(8 / 5)]))


def test_infinite_median_does_not_hold():
    """Issue 22: a median of +inf (the method never reached the target in most pairs) was "not measured"."""
    k = np.arange(1.0, 13.0)
    mine = np.full(12, math.inf)
    mine[:2] = 1.0
    reach = _reach_frame([("rl_sdp", k), (MBRL, mine)], 12)
    for row in reward_model_claims(reach):
        assert row.estimate.value == math.inf and row.verdict == FAILS, row.as_dict()
        assert "never reached" in row.reason


def test_reward_rows_read_cpu_time_not_wall_time():
    reach = sim_reach(np.random.default_rng(0), -1.0).assign(time_to_target_s=1.0)
    row = reward_model_claims(reach)[2]
    assert "CPU" in row.claim.claim and row.verdict == HOLDS
    with pytest.raises(ValueError, match="cpu_to_target_s"):
        reward_model_claims(reach.drop(columns="cpu_to_target_s"))


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
    # a paired t exactly at its margin holds in alpha of replicates: 1,000 to clear the bar reliably
    assert_calibrated_null(lambda rng: _delta_frames(rng, 1.0, -1.0)[0], n_replicates=1000)
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
    # one comparison exactly at the null, the others far on the claimed side: holds in alpha; 1,000 replicates
    assert_calibrated_null(lambda rng: rank_claim(sim_runs(rng, {MBRL: 2.0, **{b: 0.0 for b in BASE}, "gp": 2.0})),
                           n_replicates=1000)
    # all six comparisons must hold: a 1.5-point gain over every baseline (stated plausible effect)
    assert_power(lambda rng: rank_claim(sim_runs(rng, {MBRL: 1.5, **{b: 0.0 for b in BASE}})))


def test_rank_global_null_is_family_wise_both_ways():
    """Every baseline as good as the method: "does not hold if any of six fails" at the unadjusted level (the
    old all_of) said "does not hold" in about 6 x alpha of these; decide_all keeps it within the bar."""
    assert_calibrated_both_ways(lambda rng: rank_claim(sim_runs(rng, {MBRL: 0.0, **{b: 0.0 for b in BASE}})))


def test_order_null_inside_the_margin_rarely_fails():
    """Threat: the factor removed (three orders equal). With three pairs, "does not hold" is family-wise."""
    assert_calibrated_null(lambda rng: order_claim(sim_runs(rng, dict(zip(ORDERS, (0.0, 0.0, 0.0))), sd=3.0)),
                           verdict=FAILS)


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
    assert len(rows) == 11
    assert all(r.verdict in (HOLDS, FAILS, INCONCLUSIVE, UNMEASURED) for r in rows)
    assert all(r.verdict != UNMEASURED or r.reason for r in rows)
    rows = mbrl_claims(runs[runs.label == "random"], reach[reach.label == "rl_sdp"])
    assert all(r.verdict == UNMEASURED for r in rows)


# ------------------------------------------------------------------------------ (f) the headline, on a suite of tasks
#: the paper profile's tasks plus its suite (all 15 public tables, the notebook's default)
N_SUITE = N_TASKS + 15


def _headline_frames(rng, gain: float, log2_speed: float, n_tasks=N_SUITE, n_seeds=N_SEEDS, baselines=("random",),
                     faster_always=False):
    runs = sim_runs(rng, {MBRL: gain, **{b: 0.0 for b in baselines}}, n_tasks=n_tasks, n_seeds=n_seeds)
    rows = []
    for (task, seed), _ in runs.groupby(["task", "seed"]):
        k = rng.uniform(5, 300)
        for b in baselines:
            rows.append({"task": task, "seed": seed, "label": b, "cpu_to_target_s": k * 2 ** rng.normal(0, 1)})
        mine = 0.0 if faster_always else k * 2 ** (log2_speed + rng.normal(0, 1))
        rows.append({"task": task, "seed": seed, "label": MBRL, "cpu_to_target_s": mine})
    reach = pd.DataFrame(rows)
    reach = reach.assign(method=reach.label.map(_method), delta=reach.label.map(_delta),
                         evals_to_target=reach.cpu_to_target_s)
    return runs, reach


def test_headline_null_at_one_half_and_planted():
    """Null at the boundary: always faster, better with probability exactly 1/2 per task (the method and one
    baseline the same distribution), so the share of wins is Binomial(n, 1/2): "holds" at most alpha."""
    assert_calibrated_null(lambda rng: headline_claim(*_headline_frames(rng, 0.0, 0.0, faster_always=True)),
                           n_replicates=1000)  # exact: with 30 tasks the rule's size is 4.9 %, near alpha
    # planted: 2 points better and half the CPU time on every task, against three baselines
    assert_power(lambda rng: headline_claim(*_headline_frames(rng, 2.0, -1.0, baselines=("random", "tpe", "gp"))))


def test_headline_exchangeable_method_and_baseline_never_holds():
    """The end-to-end null's design (both random search): winning needs better *and* faster, so the share is
    about 1/4, never "most"; "does not hold" is then the correct verdict."""
    verdicts = [headline_claim(*_headline_frames(np.random.default_rng(i), 0.0, 0.0)).verdict for i in range(50)]
    assert verdicts.count(HOLDS) == 0 and verdicts.count(FAILS) >= 25


def test_headline_picks_the_strongest_baseline_per_task_and_counts_ties_as_neither():
    runs = pd.DataFrame({"task": ["a"] * 3 + ["b"] * 3, "method": ["mbrl_sdp", "random", "tpe"] * 2,
                         "label": [MBRL, "random", "tpe"] * 2, "seed": 0,
                         "accuracy": [0.90, 0.80, 0.85, 0.70, 0.70, 0.60]})
    reach = pd.DataFrame({"task": ["a"] * 3 + ["b"] * 3, "label": [MBRL, "random", "tpe"] * 2, "seed": 0,
                          "cpu_to_target_s": [10.0, 5.0, 20.0, math.inf, math.inf, 1.0]})
    table = headline_table(runs, reach, MBRL).set_index("task")
    assert table.loc["a", "strongest"] == "tpe" and table.loc["a", "both"]          # better than tpe, faster than tpe
    assert table.loc["b", "strongest"] == "random" and not table.loc["b", "better"]  # a tie in accuracy
    assert not table.loc["b", "faster"]                                               # inf vs inf is not faster
    row = headline_claim(runs, reach, MBRL)
    assert row.verdict == UNMEASURED and "below the claim's minimum" in row.reason
    assert "86.1 %" in row.claim.paper and "not verified" in row.claim.paper


def test_headline_says_how_many_tasks_would_decide_it():
    runs, reach = _headline_frames(np.random.default_rng(0), 5.0, -3.0, n_tasks=3)
    row = headline_claim(runs, reach)
    assert row.verdict == INCONCLUSIVE and "at least 5 tasks are needed" in row.detail


def test_mbrl_claims_decides_the_ablations_on_tasks_and_the_headline_on_every_task():
    rng = np.random.default_rng(2)
    runs, reach = _headline_frames(rng, 0.0, 0.0, n_tasks=6, baselines=("random", "default"))
    rows = mbrl_claims(runs, reach, tasks=[0, 1, 2])
    default_row = next(r for r in rows if "default configuration" in r.claim.claim)
    headline = rows[-1]
    assert default_row.estimate.n == 3 and headline.estimate.n == 6


# ------------------------------------------------------------------------------ the experiment's inputs (issue 22)
def _settings(n=8):
    from hpo_kit.mbrl_hpo import AgentConfig, ModelConfig
    from hpo_kit.mbrl_hpo.experiment import ExperimentSettings

    return ExperimentSettings(n_episodes=n, agent=AgentConfig(batch_episodes=4, ppo_epochs=1),
                              model=ModelConfig(min_model_data=4, model_batch_episodes=4, max_model_updates=2))


def test_target_is_fixed_before_the_runs_not_rl_sdps_own_final_error():
    """Before: the target was RL-SDP's final error, which RL-SDP reaches by definition (never inf)."""
    from hpo_kit.mbrl_hpo.experiment import reach_frame, reference_targets
    from hpo_kit.mbrl_hpo.stand_in import stand_in_task

    targets = reference_targets(["stand_in_0"], [0, 1], _settings(), 16, 0.25, task_for=stand_in_task)
    again = reference_targets(["stand_in_0"], [0, 1], _settings(), 16, 0.25, task_for=stand_in_task)
    pd.testing.assert_frame_equal(targets, again)  # seeded: a function of (task, seed) only
    runs = pd.DataFrame({"task": "stand_in_0", "method": ["rl_sdp", "mbrl_sdp"], "label": ["rl_sdp", MBRL],
                         "seed": 0, "delta": [math.nan, 0.4], "wall_s": 1.0, "cpu_s": 1.0, "val_error": 0.3,
                         "accuracy": 0.7, "model_updates": 0})
    curves = pd.DataFrame({"task": "stand_in_0", "label": ["rl_sdp"] * 3 + [MBRL] * 3, "seed": 0,
                           "evaluation": [1.0, 2, 3] * 2, "n_evaluations": [1, 2, 3] * 2,
                           "best_val_error": [0.5, 0.4, 0.3, 0.5, 0.05, 0.05], "time_s": [1.0, 2, 3] * 2,
                           "cpu_s": [0.1, 0.2, 0.3] * 2})
    reach = reach_frame(runs, curves, targets.assign(target_val_error=0.1)).set_index("label")
    assert reach.loc["rl_sdp", "evals_to_target"] == math.inf  # RL-SDP's own final error (0.3) is not the target
    assert reach.loc[MBRL, "evals_to_target"] == 2 and reach.loc[MBRL, "cpu_to_target_s"] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="quantile"):
        reference_targets(["stand_in_0"], [0], _settings(), 4, 1.5, task_for=stand_in_task)


def test_cpu_clock_charges_the_searchers_work_between_evaluations():
    from hpo_kit.mbrl_hpo.experiment import CPUClock
    from hpo_kit.mbrl_hpo.stand_in import stand_in_task

    task = stand_in_task("stand_in_0", 0)
    clock = CPUClock(task.objective)
    config = task.default_config()
    clock.evaluate(config, 27, 1)
    started = time.process_time()
    while time.process_time() - started < 0.05:  # a model phase's worth of work in the searcher
        sum(range(1000))
    second = clock.evaluate(config, 27, 2)
    assert second.info["cpu_s"] >= 0.05 and second.info["test_error"] >= 0


def test_cpu_clock_charges_a_tables_recorded_training_seconds():
    from hpo_kit.mbrl_hpo.experiment import CPUClock
    from hpo_kit.tasks import get_task

    task = get_task("table_hpobench_car", 0)
    evaluation = CPUClock(task.objective).evaluate(task.default_config(), 1, 3)
    assert evaluation.cost > 1.0 and evaluation.info["cpu_s"] >= evaluation.cost


def test_suite_tasks_run_only_the_method_and_the_baselines_and_no_fidelity_methods_on_tables():
    from hpo_kit.mbrl_hpo.experiment import plan_runs

    specs = plan_runs(["xgb_iris"], [0], orders=["listed"], delta_values=[0.1],
                      suite_tasks=["table_hpobench_car"])
    on_table = {s.label for s in specs if s.task == "table_hpobench_car"}
    assert on_table == {MBRL, "random", "tpe", "cmaes", "gp", "default"}
    assert {"hyperband", "bohb", "rl_sdp", "rl_doc"} <= {s.label for s in specs if s.task == "xgb_iris"}
    with pytest.raises(ValueError, match="suite_tasks must not repeat"):
        plan_runs(["xgb_iris"], [0], suite_tasks=["xgb_iris"])
    with pytest.raises(ValueError, match="not in the task registry"):
        plan_runs(["xgb_iris"], [0], suite_tasks=["table_nope"])


def test_hyperband_and_bohb_get_equal_real_evaluations():
    """Before: the same total resource, i.e. 109 evaluations against the agents' 16 at the workshop profile."""
    from hpo_kit.mbrl_hpo.experiment import RunSpec, build_scheduler
    from hpo_kit.mbrl_hpo.stand_in import stand_in_task

    settings = _settings(n=10)
    task = stand_in_task("stand_in_0", 0)
    for method in ("hyperband", "bohb"):
        _, stop = build_scheduler(RunSpec("stand_in_0", method, 0), task, settings)
        assert stop.max_evaluations == 10 and stop.max_total_resource is None


def test_run_seed_changes_the_run_not_the_split(tmp_path):
    from hpo_kit.mbrl_hpo.experiment import RunSpec, run_one
    from hpo_kit.mbrl_hpo.stand_in import stand_in_task

    settings = _settings()
    rows = [run_one(RunSpec("stand_in_0", "random", 3, run_seed=rs), settings, tmp_path, task=stand_in_task("stand_in_0", 3))
            for rs in (None, 11)]
    assert rows[0][0]["seed"] == rows[1][0]["seed"] == 3 and rows[1][0]["run_seed"] == 11
    assert rows[1][0]["label"] == "random[run_seed=11]"
    curves = [pd.DataFrame(c) for _, c in rows]
    assert list(curves[0].n_evaluations) == list(range(1, 9)) and curves[0].cpu_s.is_monotonic_increasing
    assert rows[0][0]["cpu_s"] > 0
