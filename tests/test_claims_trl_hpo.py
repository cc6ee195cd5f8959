"""Claims of notebook 01 (TRL-HPO): calibrated under no effect, powered at the paper profile, and the defects they fix.

The frames are simulated with the columns the notebook builds (``final``, ``steps``, attention
frames), so the real claim functions are what is tested. Sample sizes of the planted effects are
the paper profile's: 5 seeds per method; for the step-level claims a stated plausible amount of
search at that profile (5 seeds x 4 fixed-mode methods x 40 episodes; 5 seeds x 60 visited steps
per seed for the attention of one TRL-HPO variant).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hpo_kit.claims import FAILS, HOLDS, UNMEASURED
from hpo_kit import stats
from hpo_kit.trl_hpo.actions import allowed_kinds, decode_action
from hpo_kit.trl_hpo.baselines.metaqnn import QTable, explore_action, legal_actions
from hpo_kit.trl_hpo.claims import (PAPER_GAIN_POINTS, accuracy_claims, attention_claims, attention_estimate,
                                    fc_stacking_claims, fc_stacking_strata, pooled_attention_estimate,
                                    stratified_difference, within_slot_ranks)
from hpo_kit.params import read_params_file
from hpo_kit import paths

from calibration import assert_calibrated_both_ways, assert_calibrated_null, assert_power, holds_rate, null_limit

PAPER = read_params_file(paths.PARAMS_DIR / "paper" / "01_trl_hpo_mnist.yaml")
PAPER_SEEDS = int(PAPER["n_seeds"])
BASELINES = ("random", "lstm", "metaqnn")


# ------------------------------------------------------------------------------ simulated frames
def simulate_final(rng, gains_points: dict[str, float], n_seeds: int, sd_points: float = 1.5) -> pd.DataFrame:
    """Best accuracies per (method, seed): a seed effect shared by all methods (same data), plus noise.

    ``gains_points[b]`` is TRL-HPO's true gain over baseline ``b`` in points.
    """
    seed_effect = rng.normal(0, 2.0, n_seeds)  # points; cancels in the paired differences
    rows = []
    for method in ("trl_hpo", *gains_points):
        shift = 0.0 if method == "trl_hpo" else -gains_points[method]
        acc = 90 + seed_effect + shift + rng.normal(0, sd_points / np.sqrt(2), n_seeds)
        rows += [{"method": method, "seed": s, "best_accuracy": a / 100} for s, a in enumerate(acc)]
    return pd.DataFrame(rows)


def simulate_steps(rng, n_episodes: int, fc_fc_effect: float = 0.0, slot1_gain: float = 0.03,
                   later_gain: float = 0.003, invalid_share: float = 0.15, methods=("random", "lstm", "metaqnn", "trl_hpo"),
                   mode: str = "fixed", last_method_effect: float = 0.0, last_method_fc_share: float = 1 / 3,
                   run_fc_sd: float = 0.0) -> pd.DataFrame:
    """Episodes of up to 6 layers: first a conv, then conv/fc/pool uniformly; after an fc only fc.

    Rewards are gains: mean ``slot1_gain`` at slot 1 and ``later_gain`` after, sd 1 point; an fc -> fc
    step has ``fc_fc_effect`` added. The last method proposes fc with probability
    ``last_method_fc_share`` and all its rewards get ``last_method_effect`` (a method that stacks fc
    layers often and builds poor networks anyway). Invalid steps (reward -1) end an episode.
    ``run_fc_sd``: each run (method x seed) adds its own fc -> fc effect, normal with this sd and mean 0
    (dependence within a run: its controller, initial weights and cache are shared by its steps).
    """
    kinds = np.array(["conv", "fc", "pool"])
    n = n_episodes * len(methods)
    method = np.repeat(np.array(methods), n_episodes)
    last = method == methods[-1]
    p_last = [(1 - last_method_fc_share) / 2, last_method_fc_share, (1 - last_method_fc_share) / 2]
    draw = np.where(last[:, None], kinds[rng.choice(3, (n, 6), p=p_last)], kinds[rng.integers(0, 3, (n, 6))])
    draw[:, 0] = "conv"
    # after the first fc, only fc
    is_fc = draw == "fc"
    seen_fc = np.maximum.accumulate(is_fc, axis=1)
    draw[seen_fc] = "fc"
    length = np.minimum(rng.geometric(0.3, n), 6)
    invalid_last = rng.random(n) < invalid_share
    slot = np.tile(np.arange(6), (n, 1))
    keep = slot < length[:, None]
    valid = ~(invalid_last[:, None] & (slot == length[:, None] - 1)) | (slot == 0)
    previous = np.concatenate([np.full((n, 1), "input"), draw[:, :-1]], axis=1)
    mean = np.where(slot == 0, 0.9, np.where(slot == 1, slot1_gain, later_gain))
    reward = mean + rng.normal(0, 0.01, (n, 6))
    episode = np.tile(np.arange(n_episodes), len(methods))
    run_index = np.repeat(np.arange(len(methods)), n_episodes) * 5 + episode % 5
    run_effect = rng.normal(0, run_fc_sd, len(methods) * 5)[run_index] if run_fc_sd else np.zeros(n)
    reward = reward + (fc_fc_effect + run_effect[:, None]) * ((previous == "fc") & (draw == "fc"))
    reward = reward + last_method_effect * last[:, None]
    reward = np.where(valid, reward, -1.0)
    frame = pd.DataFrame({
        "method": np.repeat(method, 6).reshape(n, 6)[keep], "mode": mode,
        "seed": (episode % 5)[:, None].repeat(6, 1)[keep], "episode": episode[:, None].repeat(6, 1)[keep],
        "slot": slot[keep], "previous_kind": previous[keep], "kind": draw[keep], "valid": valid[keep],
        "reward": reward[keep]})
    return frame


def simulate_attention(rng, n_seeds: int, steps_per_seed: int, rho: float = 0.0, invalid_share: float = 0.2,
                       depth_confound: float = 0.0, invalid_weight_shift: float = 0.0, seed_rho_sd: float = 0.0,
                       revisits: float = 0.0, n_updates: int = 10) -> pd.DataFrame:
    """Visited steps of one TRL-HPO variant: slot, newest slot's weight, reward, valid, prefix, n_updates.

    Within a slot, weight and reward are normal with correlation ``rho``. ``depth_confound`` makes
    both shrink with depth (a pooled correlation without any within-slot one); invalid steps get
    reward -1 and their weight shifted by ``invalid_weight_shift``. Dependence within a run:
    ``seed_rho_sd`` gives each seed's critic its own correlation (``rho`` plus normal noise, mean
    ``rho``), and ``revisits`` is the mean number of extra visits of each network (same reward from the
    cache, nearly the same weight).
    """
    n = n_seeds * steps_per_seed
    seed = np.repeat(np.arange(n_seeds), steps_per_seed)
    slot = rng.integers(0, 6, n)
    z1, z2 = rng.normal(size=(2, n))
    r = np.clip(rho + rng.normal(0, seed_rho_sd, n_seeds), -0.95, 0.95)[seed] if seed_rho_sd else rho
    reward_z, weight_z = z1, r * z1 + np.sqrt(1 - r**2) * z2
    reward = np.where(slot == 0, 0.9, 0.01) + 0.01 * reward_z - depth_confound * 0.01 * slot
    weight = 0.3 + 0.02 * weight_z - depth_confound * 0.02 * slot
    valid = (rng.random(n) >= invalid_share) | (slot == 0)
    reward = np.where(valid, reward, -1.0)
    weight = np.where(valid, weight, weight + invalid_weight_shift)
    frame = pd.DataFrame({"seed": seed, "slot": slot, "weight_new": weight, "reward": reward, "valid": valid,
                          "episode": np.arange(n) // 3, "prefix": [f"{s}/{i}" for s, i in zip(seed, range(n))],
                          "n_updates": n_updates})
    if revisits:
        frame = frame.loc[np.repeat(frame.index, 1 + rng.poisson(revisits, n))].reset_index(drop=True)
        frame["weight_new"] += rng.normal(0, 0.001, len(frame))
    return frame


# ------------------------------------------------------------------------------ accuracy
def test_paper_profile_has_enough_seeds_for_the_accuracy_claims():
    assert PAPER_SEEDS >= 3


def test_accuracy_gain_null_is_calibrated():
    def replicate(rng):
        return accuracy_claims(simulate_final(rng, {"random": 0.0}, PAPER_SEEDS), "trl_hpo")[0]
    assert_calibrated_both_ways(replicate, n_replicates=1000)  # a paired t is exact at alpha


def test_accuracy_gain_planted_paper_effect_holds():
    def replicate(rng):
        return accuracy_claims(simulate_final(rng, {"random": PAPER_GAIN_POINTS}, PAPER_SEEDS), "trl_hpo")[0]
    assert_power(replicate)


def test_paper_number_row_null_at_threshold_is_calibrated_over_the_family():
    def replicate(rng):
        rows = accuracy_claims(simulate_final(rng, {b: PAPER_GAIN_POINTS for b in BASELINES}, PAPER_SEEDS), "trl_hpo")
        assert rows[-1].claim.n_comparisons == 3 and rows[-1].claim.threshold == PAPER_GAIN_POINTS
        return rows[-1]
    assert_calibrated_null(replicate, n_replicates=1000)  # Holm's first step is at alpha: 1,000 for the bar


def test_paper_number_row_planted_effect_holds():
    # A stated plausible effect: 11 points over the weakest from-scratch builder, 6.8 over the others.
    def replicate(rng):
        gains = {"random": 11.0, "lstm": PAPER_GAIN_POINTS, "metaqnn": PAPER_GAIN_POINTS}
        return accuracy_claims(simulate_final(rng, gains, PAPER_SEEDS), "trl_hpo")[-1]
    assert_power(replicate)


def test_ties_do_not_pass_and_two_seeds_are_not_enough():
    tie = pd.DataFrame({"method": ["trl_hpo"] * 4 + ["random"] * 4, "seed": list(range(4)) * 2,
                        "best_accuracy": [0.97, 0.95, 0.96, 0.98] * 2})
    assert accuracy_claims(tie, "trl_hpo")[0].verdict == FAILS
    two = tie[tie.seed < 2]
    assert accuracy_claims(two, "trl_hpo")[0].verdict == UNMEASURED  # min_n = 3 seeds
    with pytest.raises(ValueError, match="lacks columns"):
        accuracy_claims(tie.drop(columns="seed"), "trl_hpo")
    with pytest.raises(ValueError, match="no runs"):
        accuracy_claims(tie, "trl_hpo_faithful")


def test_accuracy_is_paired_by_seed():
    # Seeds differ a lot (data), the gain is small but constant: only pairing sees it.
    rng = np.random.default_rng(0)
    seed_effect = rng.normal(0, 5, 5)
    final = pd.DataFrame({"method": ["trl_hpo"] * 5 + ["random"] * 5, "seed": list(range(5)) * 2,
                          "best_accuracy": np.r_[90 + seed_effect + 1 + rng.normal(0, 0.1, 5),
                                                 90 + seed_effect] / 100})
    assert accuracy_claims(final.sample(frac=1, random_state=1), "trl_hpo")[0].verdict == HOLDS


# ------------------------------------------------------------------------------ fc -> fc
PAPER_EPISODES = 40 * PAPER_SEEDS  # per method, fixed mode


def test_fc_stacking_null_is_calibrated():
    # a t over runs is exact at alpha for normal data: 1,000 replicates to clear the bar, both ways
    assert_calibrated_both_ways(lambda rng: fc_stacking_claims(simulate_steps(rng, PAPER_EPISODES))[0],
                                n_replicates=1000)


def test_run_to_run_fc_effects_make_the_step_level_rule_hold_but_not_the_run_level_one():
    """Pseudo-replication (issue 22): each run has its own fc -> fc effect, zero on average over runs.

    The old rule (a Welch interval over steps, seeds pooled) counts every step as independent and
    holds far too often; the claim's t over runs is within the bar.
    """
    def steps(rng):
        return simulate_steps(rng, PAPER_EPISODES, run_fc_sd=0.01)

    def old_rule(rng):
        e = stratified_difference(fc_stacking_strata(steps(rng)), 0.9)
        return HOLDS if e.high < 0 else FAILS
    old, _ = holds_rate(old_rule, 200)
    assert old > null_limit(0.05)
    assert_calibrated_both_ways(lambda rng: fc_stacking_claims(steps(rng))[0], n_replicates=1000)


def test_fc_stacking_planted_effect_holds():
    # A stated plausible effect: an fc -> fc step gains 0.3 points less than other pairs at its depth (sd 1 point).
    assert_power(lambda rng: fc_stacking_claims(simulate_steps(rng, PAPER_EPISODES, fc_fc_effect=-0.003))[0])


def test_a_larger_slot_1_gain_creates_no_fc_stacking_effect():
    # fc -> fc only occurs from slot 2 on; slot 1 gains are much larger. The old pooled comparison
    # (fc -> fc against every other pair) would call that an fc effect; the stratified one must not.
    def naive(rng):
        steps = simulate_steps(rng, PAPER_EPISODES, slot1_gain=0.05)
        later = steps[steps.valid & (steps.slot > 0)]
        fc = (later.previous_kind == "fc") & (later.kind == "fc")
        e = stats.welch_ci(later.reward[fc], later.reward[~fc], 0.9)
        return HOLDS if e.high < 0 else FAILS
    rate, _ = holds_rate(naive, 50)
    assert rate > 0.9  # the defect is real in this simulation
    assert_calibrated_null(lambda rng: fc_stacking_claims(simulate_steps(rng, PAPER_EPISODES, slot1_gain=0.05))[0])


def test_invalid_steps_and_a_poor_method_create_no_fc_stacking_effect():
    # Many invalid steps (-1) and one method whose fc layers are poor: neither is an fc -> fc effect
    # (the invalid steps are left out; strata are per method, so the poor method's many fc -> fc steps
    # are compared with its own other pairs).
    def replicate(rng):
        steps = simulate_steps(rng, PAPER_EPISODES, invalid_share=0.5, last_method_effect=-0.01,
                               last_method_fc_share=0.8)
        return fc_stacking_claims(steps)[0]
    assert_calibrated_null(replicate)


def test_fc_stacking_rows_per_mode_and_counts_in_detail():
    rng = np.random.default_rng(3)
    steps = pd.concat([simulate_steps(rng, 30, fc_fc_effect=-0.02),
                       simulate_steps(rng, 30, methods=("trl_hpo_faithful",), mode="faithful")], ignore_index=True)
    rows = fc_stacking_claims(steps)
    assert [r.claim.claim.endswith("(fixed mode)") for r in rows] == [True, False]
    assert rows[0].verdict == HOLDS and rows[1].verdict != HOLDS
    n_invalid = int((~steps[steps["mode"] == "fixed"].valid).sum())
    assert f"{n_invalid} invalid steps" in rows[0].detail
    # repeated evaluations of one network count once
    dup = pd.concat([steps.assign(prefix=np.arange(len(steps)).astype(str))] * 2, ignore_index=True)
    once = fc_stacking_claims(steps.assign(prefix=np.arange(len(steps)).astype(str)))[0]
    assert fc_stacking_claims(dup)[0].estimate.n == once.estimate.n
    # slot-1 steps alone can never be compared with fc -> fc
    row = fc_stacking_claims(steps[steps.slot <= 1])[0]
    assert row.verdict == UNMEASURED and "no run has" in row.reason


# ------------------------------------------------------------------------------ attention
PAPER_ATTENTION = dict(n_seeds=PAPER_SEEDS, steps_per_seed=60)


def test_attention_null_is_calibrated_with_a_depth_confound():
    assert_calibrated_both_ways(lambda rng: attention_claims(
        {"trl_hpo": simulate_attention(rng, **PAPER_ATTENTION, depth_confound=1.0)})[0], n_replicates=1000)


def test_seed_to_seed_attention_and_revisits_make_the_pooled_rule_hold_but_not_the_seed_level_one():
    """Pseudo-replication (issue 22): every seed's critic has its own rho (zero on average) and networks
    are visited several times with the same reward. The old rule (Fisher z over every visited step,
    seeds pooled) holds far too often; the claim (revisits merged, t over seeds) is within the bar."""
    def frame(rng):
        return simulate_attention(rng, **PAPER_ATTENTION, seed_rho_sd=0.3, revisits=3.0)

    def old_rule(rng):
        e = pooled_attention_estimate(frame(rng).drop(columns="prefix"), 0.9)
        return HOLDS if e.low > 0 else FAILS
    old, _ = holds_rate(old_rule, 200)
    assert old > null_limit(0.05)
    assert_calibrated_both_ways(lambda rng: attention_claims({"trl_hpo": frame(rng)})[0], n_replicates=1000)


def test_revisits_count_once_and_a_never_updated_critic_is_not_measured():
    frame = simulate_attention(np.random.default_rng(2), **PAPER_ATTENTION, rho=0.3)
    once = attention_claims({"trl_hpo": frame})[0]
    again = attention_claims({"trl_hpo": pd.concat([frame, frame], ignore_index=True)})[0]
    assert again.estimate.value == pytest.approx(once.estimate.value)
    assert f"{len(frame[frame.valid & (frame.slot > 0)])} revisits" in again.detail
    # learning_starts never reached: the critic's attention is its random initialisation
    row = attention_claims({"trl_hpo": frame.assign(n_updates=0)})[0]
    assert row.verdict == UNMEASURED and "never updated" in row.reason
    # one seed without updates is left out, and named
    partly = frame.assign(n_updates=np.where(frame.seed == 0, 0, 5))
    row = attention_claims({"trl_hpo": partly})[0]
    assert row.estimate.n == PAPER_SEEDS - 1 and "never-updated critic: [0]" in row.detail
    with pytest.raises(ValueError, match="n_updates"):
        attention_claims({"trl_hpo": frame.drop(columns="n_updates")})


def test_attention_planted_effect_holds():
    # A stated plausible effect: within a slot, rho = 0.3 between the newest slot's weight and its reward.
    assert_power(lambda rng: attention_claims({"trl_hpo": simulate_attention(rng, **PAPER_ATTENTION, rho=0.3)})[0])


def test_invalid_steps_create_no_attention_effect():
    # Invalid proposals earn -1 and (say) get less attention: with them in, rho is large; the claim leaves them out.
    def replicate(rng):
        return attention_claims({"trl_hpo": simulate_attention(rng, **PAPER_ATTENTION, invalid_share=0.4,
                                                               invalid_weight_shift=-0.05)})[0]
    frame = simulate_attention(np.random.default_rng(0), **PAPER_ATTENTION, invalid_share=0.4, invalid_weight_shift=-0.05)
    later = frame[frame.slot > 0]
    assert stats.spearman_ci(later.weight_new, later.reward, 0.9).low > 0.3  # what the old claim measured
    assert_calibrated_null(replicate, n_replicates=1000)  # a t over seeds is exact at alpha: 1,000 for the bar
    row = attention_claims({"trl_hpo": frame})[0]
    assert row.detail.startswith(f"left out: {int((~frame.valid).sum())} invalid steps (reward -1)")


def test_within_slot_ranks_remove_depth():
    frame = simulate_attention(np.random.default_rng(0), 3, 300, depth_confound=3.0, invalid_share=0.0)
    later = frame[frame.slot > 0]
    assert stats.spearman_ci(later.weight_new, later.reward, 0.9).low > 0.3  # pooled: depth shows as attention
    ranked = within_slot_ranks(frame)
    assert ranked.groupby(["seed", "slot"]).weight_rank.mean().between(0.49, 0.51).all()
    assert abs(attention_estimate(frame, 0.9).value) < 0.1
    assert set(ranked.slot) == {1, 2, 3, 4, 5} and ranked.valid.all()


# ------------------------------------------------------------------------------ MetaQNN exploration
@pytest.mark.parametrize("previous", [[], [decode_action([0.1, 0.5, 0.0, 0.0], [])],
                                      [decode_action([0.1, 0.5, 0.0, 0.0], []), decode_action([0.9, 0, 0, 0], [{"type": "conv", "filters": 8}])],
                                      [decode_action([0.1, 0.5, 0.0, 0.0], []), decode_action([0.5, 0.2, 0, 0], [{"type": "conv", "filters": 8}])]])
def test_metaqnn_explores_layer_kinds_uniformly(previous):
    rng = np.random.default_rng(0)
    draws = [explore_action(previous, rng) for _ in range(3000)]
    kinds = allowed_kinds(previous)
    shares = pd.Series([a[0] for a in draws]).value_counts(normalize=True)
    assert set(shares.index) == set(kinds)
    assert np.allclose(shares.reindex(kinds).to_numpy(), 1 / len(kinds), atol=0.03)
    assert all(a in set(legal_actions(previous)) for a in draws[:200])
    # before anything is learnt every action ties at q_init: the greedy choice must not favour fc either
    q = QTable(0.5)
    greedy = pd.Series([q.greedy((len(previous), "x"), legal_actions(previous), rng)[0] for _ in range(600)])
    assert np.allclose(greedy.value_counts(normalize=True).reindex(kinds).to_numpy(), 1 / len(kinds), atol=0.06)

