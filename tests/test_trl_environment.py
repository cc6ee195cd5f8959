"""The layer-wise environment: validity before training, the cache, rewards and episode ends."""
from __future__ import annotations

import json

import numpy as np
import pytest

from hpo_kit.train.synthetic import synthetic_splits
from hpo_kit.trl_hpo.cache import BudgetClock, EvaluationCache
from hpo_kit.trl_hpo.environment import EnvConfig, LayerwiseCNNEnv, network_macs

CONV = {"type": "conv", "filters": 8, "kernel": 3, "stride": 1, "padding": 0, "activation": "relu"}
POOL = {"type": "pool", "kernel": 2, "stride": 2, "padding": 0}
FC = {"type": "fc", "units": 16, "bias": True, "activation": "relu", "dropout": 0.0}


@pytest.fixture(scope="module")
def splits():
    return synthetic_splits(64, 32, 8, seed=0)


def small_config(**kw) -> EnvConfig:
    return EnvConfig(**{"epochs": 1, "batch_size": 32, "n_perf": 8, **kw})


def scripted_env(splits, accuracies: list[float], **kw) -> LayerwiseCNNEnv:
    """An environment whose k-th trained prefix scores accuracies[k] on every batch (no training)."""
    env = LayerwiseCNNEnv(splits, small_config(**kw), seed=0)
    queue = list(accuracies)

    def fake_train(key, layers, lr):
        from hpo_kit.trl_hpo.cache import CachedEvaluation
        return CachedEvaluation(key, layers, [queue.pop(0)] * env.config.n_perf, 0.0)

    env._train_prefix = fake_train
    return env


def test_invalid_prefix_is_rejected_before_any_training(splits):
    env = scripted_env(splits, [0.8])
    env.step_layer(CONV)
    env._train_prefix = lambda *a: pytest.fail("an invalid network must not be trained")
    bad_pool = {"type": "pool", "kernel": 2, "stride": 1, "padding": 3}  # torch needs padding <= kernel // 2
    step = env.step_layer(bad_pool, [0.9, 0.0, 0.0, 0.0])
    assert not step.valid and step.reward == -1.0 and step.done and step.reason == "invalid"
    assert len(env.history) == 1 and env.layers == [CONV]  # only the valid first prefix was evaluated
    np.testing.assert_array_equal(env.perfs[1], env.perfs[0])  # the token keeps the previous perf vector
    np.testing.assert_allclose(env.actions[1], [0.9, 0, 0, 0])


def test_shrinking_to_nothing_and_compute_cap_are_invalid(splits):
    env = LayerwiseCNNEnv(splits, small_config(), seed=0)
    env._train_prefix = lambda *a: pytest.fail("must not train")
    env.layers = [dict(CONV, kernel=7, stride=3)] * 3  # 28 -> 8 -> 1 -> invalid
    assert env.problem(env.layers) == "invalid"
    capped = LayerwiseCNNEnv(splits, small_config(max_macs=10_000), seed=0)
    capped._train_prefix = lambda *a: pytest.fail("must not train")
    step = capped.step_layer(CONV)
    assert step.reason == "too_large" and step.reward == -1.0
    assert network_macs([CONV]) == 26 * 26 * 8 * 9 + 26 * 26 * 8 * 10


def test_rewards_are_gains_and_first_reward_is_the_accuracy(splits):
    env = scripted_env(splits, [0.8, 0.9, 0.95])
    s1 = env.step_layer(CONV)
    assert s1.reward == pytest.approx(0.8) and not s1.done
    s2 = env.step_layer(POOL)
    assert s2.reward == pytest.approx(0.1) and not s2.done
    s3 = env.step_layer(FC)
    assert s3.reward == pytest.approx(0.05) and s3.accuracy == pytest.approx(0.95)
    assert env.n_filled == 3 and np.all(env.perfs[3:] == -1) and np.all(env.actions[:3] == -1)


@pytest.mark.parametrize("accuracies,reason", [([0.8, 0.80005], "no_gain"), ([0.8, 0.7], "no_gain"),
                                                ([0.5], "low_accuracy"), ([0.7, 0.75], "")])
def test_episode_ends_on_small_gain_or_low_accuracy(splits, accuracies, reason):
    env = scripted_env(splits, accuracies)
    layers = [CONV, POOL]
    steps = [env.step_layer(layer) for layer in layers[:len(accuracies)]]
    assert steps[-1].reason == reason and steps[-1].done == bool(reason)
    if steps[-1].done:
        with pytest.raises(RuntimeError, match="reset"):
            env.step_layer(FC)


def test_episode_ends_after_max_layers(splits):
    env = scripted_env(splits, [0.7, 0.8, 0.9], max_layers=3)
    steps = [env.step_layer(layer) for layer in (CONV, FC, FC)]
    assert [s.done for s in steps] == [False, False, True] and steps[-1].reason == "max_layers"
    env.reset()
    assert env.n_filled == 0 and env.layers == [] and np.all(env.perfs == -1)


def test_cache_hit_avoids_retraining_and_persists(splits, tmp_path):
    env = LayerwiseCNNEnv(splits, small_config(), seed=0, cache_dir=tmp_path, name="m")
    first = env.evaluate([CONV, FC])
    second = env.evaluate([CONV, FC])
    assert env.n_trained == 1 and not first.cached and second.cached
    np.testing.assert_array_equal(first.perf, second.perf)
    assert len(first.perf) == 8 and 0 <= first.accuracy <= 1
    # A new run (resumed after an interruption) reads the file, trains nothing and is charged the time.
    resumed = LayerwiseCNNEnv(splits, small_config(), seed=0, cache_dir=tmp_path, name="m")
    again = resumed.evaluate([CONV, FC])
    assert resumed.n_trained == 0 and again.cached
    assert resumed.clock.charged_s == pytest.approx(first.train_time_s)
    resumed.evaluate([CONV, FC])
    assert resumed.clock.charged_s == pytest.approx(first.train_time_s)  # later hits are free
    # Different settings (here the learning rate) are a different key.
    env.evaluate([CONV, FC], lr=1e-4)
    assert env.n_trained == 2 and env.history[-1]["counts"] is False


def test_cache_ignores_a_line_cut_short(tmp_path):
    cache = EvaluationCache(tmp_path, "x")
    from hpo_kit.trl_hpo.cache import CachedEvaluation
    cache.put(CachedEvaluation("k1", [CONV], [0.5, 0.7], 1.5))
    with open(tmp_path / "x.jsonl", "a") as f:
        f.write(json.dumps({"key": "k2", "layers": [], "perf": [0.1]})[:20])
    reread = EvaluationCache(tmp_path, "x")
    assert len(reread) == 1 and reread.get("k1").accuracy == pytest.approx(0.6)


def test_same_seed_same_result_and_faithful_perf_uses_512_images(splits):
    a = LayerwiseCNNEnv(splits, small_config(), seed=3).evaluate([CONV])
    b = LayerwiseCNNEnv(splits, small_config(), seed=3).evaluate([CONV])
    np.testing.assert_array_equal(a.perf, b.perf)
    faithful = LayerwiseCNNEnv(synthetic_splits(32, 600, 8), small_config(mode="faithful", n_perf=32), seed=0)
    assert len(faithful.val_y) == 512
    fixed = LayerwiseCNNEnv(synthetic_splits(32, 600, 8), small_config(n_perf=32), seed=0)
    assert len(fixed.val_y) == 600


def test_budget_clock_and_config_errors(splits):
    clock = BudgetClock(10.0)
    assert not clock.exhausted and clock.fraction() == 0.0
    clock.start()
    clock.stop()
    frozen = clock.elapsed
    assert not clock.running and clock.elapsed == frozen  # a stopped clock does not advance
    clock.charge(11.0)
    assert clock.exhausted and clock.elapsed == pytest.approx(frozen + 11.0)
    with pytest.raises(ValueError, match="budget_s"):
        BudgetClock(0)
    with pytest.raises(ValueError, match="mode must be one of"):
        EnvConfig(mode="paper")
    with pytest.raises(ValueError, match="n_perf"):
        EnvConfig(n_perf=0)
    with pytest.raises(ValueError, match="fewer than n_perf"):
        LayerwiseCNNEnv(synthetic_splits(32, 4, 4), small_config(), seed=0)
