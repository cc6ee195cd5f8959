"""Notebook 02's searcher in the kit's engine: learning, model phases bounded by delta, resume, failures, bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest
from ConfigSpace import ConfigurationSpace, Float, Integer

from hpo_kit import stats
from hpo_kit.backends.sequential import SequentialBackend
from hpo_kit.mbrl_hpo.agent import AgentConfig
from hpo_kit.mbrl_hpo.searcher import MBRLSearcher, ModelConfig, check_delta
from hpo_kit.schedulers.fifo import FIFOScheduler
from hpo_kit.searchers.random_search import RandomSearcher
from hpo_kit.stopping import StopCriteria
from hpo_kit.trial import Evaluation
from hpo_kit.tuner import run_hpo


class Bowl:
    """A 4-d bowl with a known optimum (loss 0 at lr = 0.01, depth = 20, a = 0.8, b = 0.3), in milliseconds."""

    min_resource = max_resource = 1

    def __init__(self):
        self.space = ConfigurationSpace()
        self.space.add(Float("lr", (0.0001, 1.0), log=True))
        self.space.add(Integer("depth", (1, 25)))
        self.space.add(Float("a", (0.0, 1.0)))
        self.space.add(Float("b", (0.0, 1.0)))

    def loss(self, c):
        return ((math.log10(c["lr"]) + 2) / 4) ** 2 + ((c["depth"] - 20) / 24) ** 2 + (c["a"] - 0.8) ** 2 + (c["b"] - 0.3) ** 2

    def describe(self):
        return {"name": "bowl"}

    def evaluate(self, config, resource, seed, *, trial_id=None, previous_resource=0):
        if config.get("depth") == 13 and getattr(self, "fail_13", False):
            raise RuntimeError("planted failure")
        return Evaluation(loss=self.loss(config), cost=0.0)


def drive(searcher, objective, n):
    """The FIFO loop without the engine (fast): suggest, pending, result."""
    losses = []
    for i in range(n):
        config = searcher.suggest()
        searcher.on_pending(i, config, 1)
        loss = objective.loss(config)
        searcher.on_result(i, config, 1, loss)
        losses.append(loss)
    return np.array(losses)


def test_agent_learns_a_known_optimum_faster_than_random_search():
    """Mean loss of the last 16 of 64 evaluations, paired by seed over 5 seeds: RL-SDP below random search
    by a margin (one-sided 95 % t bound of the paired difference above 0)."""
    bowl = Bowl()
    gains = []
    for seed in range(5):
        agent = MBRLSearcher(bowl.space, seed, AgentConfig(batch_episodes=8, ppo_epochs=4, learning_rate=0.02))
        rl = drive(agent, bowl, 64)
        rs = drive(RandomSearcher(bowl.space, seed), bowl, 64)
        gains.append(rs[-16:].mean() - rl[-16:].mean())
    e = stats.mean_ci(gains, level=0.9)
    assert e.low > 0, f"random minus RL-SDP mean loss over the last 16 evaluations: {e.text()} (gains {gains})"


def test_model_phase_stops_once_the_distance_passes_delta():
    bowl = Bowl()
    calls = []

    def growing(start, now):  # 0.1, 0.2, 0.3, ... per call
        calls.append(1)
        return 0.1 * len(calls)

    s = MBRLSearcher(bowl.space, 0, AgentConfig(batch_episodes=4),
                     ModelConfig(use_model=True, delta=0.35, min_model_data=4, max_model_updates=50), distance=growing)
    drive(s, bowl, 4)  # one real update, then one model phase
    assert s.history[0]["model_updates"] == 4                     # 0.1, 0.2, 0.3 <= 0.35 < 0.4
    assert s.history[0]["model_distance"] == pytest.approx(0.4)
    calls.clear()
    free = MBRLSearcher(bowl.space, 0, AgentConfig(batch_episodes=4),
                        ModelConfig(use_model=True, delta=None, min_model_data=4, max_model_updates=7), distance=growing)
    drive(free, bowl, 4)
    assert free.history[0]["model_updates"] == 7                  # unbounded: the cap is the only limit


def test_model_phase_distance_compares_both_policies_on_the_same_probe_episodes():
    """The sequential agent's step Gaussians depend on what was sampled, so the distance of a model phase compares
    the starting and the current policy on one fixed probe batch drawn from the starting policy (teacher forced)."""
    bowl = Bowl()
    seen = []

    def recording(start, now):
        seen.append((start, now))
        return 0.0

    s = MBRLSearcher(bowl.space, 0, AgentConfig(batch_episodes=4),
                     ModelConfig(use_model=True, delta=0.5, min_model_data=4, max_model_updates=3, distance_episodes=5),
                     distance=recording)
    drive(s, bowl, 4)
    assert len(seen) == 3
    starts = [start for start, _ in seen]
    assert all(mu.shape == sigma.shape == (5, 4) for mu, sigma in starts)  # probe episodes x hyperparameters
    assert all(start is starts[0] for start in starts)                     # one probe per phase
    assert not any(np.allclose(start[0], now[0]) for start, now in seen)  # each after a model update: moved
    with pytest.raises(ValueError, match="distance_episodes"):
        ModelConfig(distance_episodes=0)


def test_model_phase_with_the_default_kl_distance_ends_just_past_delta():
    bowl = Bowl()
    s = MBRLSearcher(bowl.space, 1, AgentConfig(batch_episodes=4),
                     ModelConfig(use_model=True, delta=0.05, min_model_data=4, max_model_updates=100))
    drive(s, bowl, 12)
    for row in s.history:
        assert row["model_updates"] == 100 or row["model_distance"] > 0.05
    small = MBRLSearcher(bowl.space, 1, AgentConfig(batch_episodes=4),
                         ModelConfig(use_model=True, delta=0.01, min_model_data=4, max_model_updates=100))
    drive(small, bowl, 12)
    # a smaller delta ends model phases sooner
    assert sum(r["model_updates"] for r in small.history) < sum(r["model_updates"] for r in s.history)
    plain = MBRLSearcher(bowl.space, 1, AgentConfig(batch_episodes=4), ModelConfig(use_model=False))
    drive(plain, bowl, 12)
    assert all(r["model_updates"] == 0 for r in plain.history) and len(plain.history) == 3


def _engine_run(tmp_path, n, seed=3, fail=False):
    bowl = Bowl()
    bowl.fail_13 = fail
    searcher = MBRLSearcher(bowl.space, seed, AgentConfig(batch_episodes=4),
                            ModelConfig(use_model=True, delta=0.2, min_model_data=4, max_model_updates=3))
    result = run_hpo(bowl, FIFOScheduler(searcher, 1, 1), SequentialBackend(), tmp_path, seed,
                     stop=StopCriteria(max_evaluations=n), progress=False)
    return result, searcher


def test_resume_mid_run_regenerates_the_same_configurations(tmp_path):
    full, _ = _engine_run(tmp_path / "full", 20)
    first, _ = _engine_run(tmp_path / "resumed", 9)            # "killed" after 9 evaluations
    resumed, searcher = _engine_run(tmp_path / "resumed", 20)  # a fresh searcher replays the log, then goes on
    assert resumed.n_replayed == 9 and searcher.order == "random"  # a fresh order per episode, replayed exactly
    cols = ["trial_id", "loss", "config_lr", "config_depth", "config_a", "config_b"]
    a = full.results[cols].reset_index(drop=True)
    b = resumed.results[cols].reset_index(drop=True)
    assert a.equals(b)
    assert len(searcher.history) == 5


def test_failed_evaluations_do_not_crash_the_agent(tmp_path):
    result, searcher = _engine_run(tmp_path, 40, seed=5, fail=True)
    failures = (result.log.event == "failure").sum()
    assert result.n_evaluations == 40 and failures >= 1
    assert len(searcher.history) >= 8  # failed episodes got the worst reward and counted towards updates
    assert not searcher._running


def test_bad_space_and_delta_are_refused_before_any_training():
    with pytest.raises(ValueError, match="no hyperparameters"):
        MBRLSearcher(ConfigurationSpace(), 0)
    for bad in (0, -0.4, float("nan"), "0.4", True):
        with pytest.raises(ValueError, match="delta"):
            ModelConfig(delta=bad)
    assert check_delta(float("inf")) is None and check_delta(None) is None and check_delta(0.4) == 0.4
    with pytest.raises(ValueError, match="min_model_data"):
        ModelConfig(min_model_data=60, model_window=50)
    with pytest.raises(ValueError, match="reward_model"):
        ModelConfig(reward_model="boosting")
    with pytest.raises(TypeError, match="fit"):
        MBRLSearcher(Bowl().space, 0, reward_model=object())


def test_bad_task_order_or_delta_in_the_experiment_plan_names_it():
    from hpo_kit.mbrl_hpo import parameters
    from hpo_kit.mbrl_hpo.experiment import plan_runs

    with pytest.raises(ValueError, match="xgb_nope"):
        plan_runs(["xgb_nope"], [0])
    with pytest.raises(ValueError, match="sideways"):
        plan_runs(["xgb_iris"], [0], orders=["sideways"])
    with pytest.raises(ValueError, match="delta"):
        plan_runs(["xgb_iris"], [0], delta=0.0)
    with pytest.raises(ValueError, match="svm"):
        plan_runs(["xgb_iris"], [0], baselines=["svm"])
    problems = parameters.check({"tasks": ["xgb_nope"], "delta": 0.4, "delta_values": [0.6], "orders": ["listed"],
                                 "baselines": ["random"], "min_model_data": 4, "model_window": 50,
                                 "batch_episodes": 4, "n_episodes": 16, "max_n_estimators": 100})
    assert len(problems) == 2 and "xgb_nope" in problems[0] and "delta_values" in problems[1]
    # a cap at the range's lower bound (50) trains every configuration for 50 rounds: refused
    assert any("max_n_estimators = 50" in p for p in parameters.check({"tasks": ["xgb_iris"], "max_n_estimators": 50}))


def test_plan_shares_runs_between_experiments():
    from hpo_kit.mbrl_hpo.experiment import plan_runs

    specs = plan_runs(["xgb_iris"], [0, 1], orders=["listed", "reversed"], delta=0.4, delta_values=[0.1, 0.4],
                      unbounded=True, baselines=["random", "default"])
    labels = [s.label for s in specs if s.seed == 0]
    # the main runs draw their order per episode; every fixed order of the ablation is a run of its own
    assert labels == ["rl_sdp", "rl_doc", "rl_sdp[order=listed]", "rl_sdp[order=reversed]", "mbrl_sdp[delta=0.4]",
                      "mbrl_sdp[delta=0.1]", "mbrl_sdp[delta=inf]", "random", "default"]
    assert {s.order for s in specs if s.label in ("rl_sdp", "rl_doc", "mbrl_sdp[delta=0.4]")} == {"random"}
    assert len(specs) == 2 * len(labels)
