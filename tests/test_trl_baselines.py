"""Baselines build valid networks under the same rules; comparison and analysis helpers compute right."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from hpo_kit.train.networks import check_network
from hpo_kit.train.synthetic import synthetic_splits
from hpo_kit.trl_hpo.agent import TRLConfig
from hpo_kit.trl_hpo.analysis import architecture_table, attention_frame, layer_pairs, step_counts, steps_frame
from hpo_kit.trl_hpo.baselines.lstm_controller import Controller
from hpo_kit.trl_hpo.baselines import (LSTMControllerConfig, MetaQNNConfig, RandomSearchConfig, run_lstm_controller,
                                       run_metaqnn, run_random_search)
from hpo_kit.trl_hpo.compare import (best_so_far, curves_frame, final_frame, paired_gains, retrain_test_accuracy,
                                     run_method)
from hpo_kit.trl_hpo.environment import EnvConfig, LayerwiseCNNEnv

torch.set_num_threads(1)
SPLITS = synthetic_splits(32, 32, 16, seed=0)
CONFIG = EnvConfig(epochs=1, batch_size=32, n_perf=8, gain_threshold=-1.0, accuracy_threshold=0.0, max_layers=3,
                   max_macs=3_000_000)


def check_episode_rules(env: LayerwiseCNNEnv) -> None:
    for episode in env.episodes:
        kinds = [s["kind"] for s in episode]
        if kinds:
            assert kinds[0] == "conv"
        for a, b in zip(kinds, kinds[1:]):
            assert not (a == "fc" and b != "fc")
    for h in env.history:
        check_network(h["layers"])  # everything that was trained is a buildable network


@pytest.mark.parametrize("runner,config", [(run_random_search, RandomSearchConfig(total_episodes=3)),
                                           (run_lstm_controller, LSTMControllerConfig(total_episodes=3)),
                                           (run_metaqnn, MetaQNNConfig(total_episodes=3))])
def test_baselines_build_valid_networks_and_are_reproducible(runner, config):
    histories = []
    for _ in range(2):
        env = LayerwiseCNNEnv(SPLITS, CONFIG, seed=0)
        result = runner(env, config, seed=4)
        assert result.info["episodes"] == 3 and sum(1 for e in env.episodes if e) == 3
        check_episode_rules(env)
        histories.append([(h["layers"], h["accuracy"]) for h in env.history])
    assert histories[0] == histories[1] and len(histories[0]) > 0


def test_lstm_controller_learns_and_metaqnn_fills_its_table():
    cfg = LSTMControllerConfig(total_episodes=4, baseline_decay=0.0, entropy_weight=0.0)
    env = LayerwiseCNNEnv(SPLITS, CONFIG, seed=0)
    result = run_lstm_controller(env, cfg, seed=0)
    assert len(result.info["returns"]) == 4
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        untrained = Controller(cfg)
    # With baseline_decay 0 the baseline is the previous return: unequal returns move the weights.
    moved = [not torch.equal(a, b) for a, b in zip(untrained.parameters(), result.info["controller"].parameters())]
    assert any(moved) == (len(set(result.info["returns"])) > 1)
    env = LayerwiseCNNEnv(SPLITS, CONFIG, seed=0)
    result = run_metaqnn(env, MetaQNNConfig(total_episodes=3), seed=0)
    assert result.info["q_states"] >= 1


def test_time_budget_stops_a_method():
    env = LayerwiseCNNEnv(SPLITS, CONFIG, seed=0, time_budget_s=0.3)
    run_random_search(env, RandomSearchConfig(total_episodes=10_000), seed=0)
    assert env.clock.exhausted and sum(1 for e in env.episodes if e) < 10_000
    assert not env.clock.running  # stopped when the method ended: later bookkeeping is not charged


def test_run_method_uses_one_cache_file_per_method_and_seed(tmp_path):
    trl = TRLConfig(total_episodes=2, episodes_per_iteration=2, learning_starts=1, batch_size=2, d_model=16,
                    n_heads=2, d_ff=32)
    runs = [run_method(m, SPLITS, CONFIG, seed=s, time_budget_s=60, cache_dir=tmp_path, trl_config=trl,
                       random_config=RandomSearchConfig(total_episodes=2))
            for m in ("random", "trl_hpo_faithful") for s in (0, 1)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["random_seed0.jsonl", "random_seed1.jsonl",
                                                           "trl_hpo_faithful_seed0.jsonl", "trl_hpo_faithful_seed1.jsonl"]
    assert runs[2].env.config.mode == "faithful" and runs[0].env.config.mode == "fixed"
    final = final_frame(runs, budget_s=60)
    assert len(final) == 4 and final.best_accuracy.notna().all()
    curves = curves_frame(runs, budget_s=60, n_points=5)
    assert set(curves.method) == {"random", "trl_hpo_faithful"} and len(curves) == 10
    assert len(paired_gains(final, "trl_hpo_faithful", "random")) == 2
    table = architecture_table(final)
    assert len(table) == 4 and table.architecture.str.endswith("fc 10 (output)").all()
    frame = attention_frame(runs[2].result, readout="faithful")
    assert len(frame) == len(steps_frame([runs[2]])) and np.allclose(frame[[f"w{j}" for j in range(3)]].sum(axis=1), 1)
    # the network of each visited step (revisits recognisable) and the critic's update count
    assert frame.prefix.tolist() == steps_frame([runs[2]]).prefix.tolist()
    assert (frame.n_updates == runs[2].result.n_updates).all()
    steps = steps_frame(runs)
    assert set(steps[steps.method == "random"]["mode"]) == {"fixed"}
    assert set(steps[steps.method == "trl_hpo_faithful"]["mode"]) == {"faithful"}
    assert (steps.prefix[steps.valid] != "").all() and (steps.prefix[~steps.valid] == "").all()
    counts = step_counts(steps).set_index("method")
    assert counts.steps.sum() == len(steps) and counts.invalid.sum() == int((~steps.valid).sum())
    with pytest.raises(ValueError, match="unknown methods"):
        run_method("bohb", SPLITS, CONFIG, seed=0, time_budget_s=1, cache_dir=None)


def test_best_so_far_is_a_running_maximum_in_time():
    history = [{"elapsed_s": 1.0, "accuracy": 0.5, "counts": True}, {"elapsed_s": 2.0, "accuracy": 0.4, "counts": True},
               {"elapsed_s": 2.5, "accuracy": 0.99, "counts": False}, {"elapsed_s": 3.0, "accuracy": 0.7, "counts": True}]
    got = best_so_far(history, np.array([0.5, 1.0, 2.5, 3.0, 10.0]))
    np.testing.assert_array_equal(got, [np.nan, 0.5, 0.5, 0.7, 0.7])


def test_layer_pairs_leave_out_invalid_and_first_steps():
    steps = pd.DataFrame({
        "slot": [0, 1, 2, 1, 2, 1, 1],
        "previous_kind": ["input", "conv", "fc", "conv", "fc", "conv", "pool"],
        "kind": ["conv", "fc", "fc", "fc", "fc", "pool", "conv"],
        "valid": [True, True, True, True, True, False, True],
        "reward": [0.9, 0.05, -0.1, 0.03, -0.2, -1.0, 0.01],
        "accuracy": [0.9, 0.95, 0.85, 0.93, 0.73, np.nan, 0.91],
    })
    pairs = layer_pairs(steps).set_index("pair")
    assert pairs.loc["fc -> fc", "count"] == 2 and pairs.loc["fc -> fc", "mean_reward"] == pytest.approx(-0.15)
    assert "conv -> pool" not in pairs.index and "input -> conv" not in pairs.index  # invalid and first steps left out
    assert pairs["share"].sum() == pytest.approx(1.0)


def test_retrain_reports_test_accuracy():
    layers = [{"type": "conv", "filters": 8, "kernel": 3, "stride": 2, "padding": 0, "activation": "relu"}]
    out = retrain_test_accuracy(layers, SPLITS, epochs=1, batch_size=16, lr=1e-3, seed=0)
    assert 0 <= out["test_accuracy"] <= 1 and 0 <= out["val_accuracy"] <= 1 and out["train_time_s"] > 0
