"""Every method at the same wall-clock budget, best-so-far curves, and retraining the winners.

Fairness rules:

* each (method, seed) run has its own environment: its own evaluation cache file and its own
  clock. A cache hit is free only for the method that paid for the training (a shared cache would
  let later methods ride on earlier ones);
* the clock counts everything the method does -- prefix training, lookahead training, network
  updates -- and results restored from an interrupted run are charged their recorded time;
* all methods use the same data, prefix-training settings, episode rules and seeds.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hpo_kit.data.splits import Splits
from hpo_kit.stats import mean_and_se
from hpo_kit.train.networks import build_network
from hpo_kit.train.trainer import TrainSettings, train
from hpo_kit.trial import trial_seed
from hpo_kit.trl_hpo.agent import TRLConfig, run_trl_hpo
from hpo_kit.trl_hpo.baselines import (LSTMControllerConfig, MetaQNNConfig, RandomSearchConfig, run_lstm_controller,
                                       run_metaqnn, run_random_search)
from hpo_kit.trl_hpo.environment import EnvConfig, LayerwiseCNNEnv

#: Method names (as used in notebook parameters) and their labels in tables and plots.
METHODS: dict[str, str] = {
    "trl_hpo": "TRL-HPO (fixed)",
    "trl_hpo_faithful": "TRL-HPO (faithful)",
    "random": "random search",
    "lstm": "LSTM + REINFORCE",
    "metaqnn": "MetaQNN (Q-learning)",
}


@dataclass
class MethodRun:
    method: str  # key of METHODS
    seed: int
    env: LayerwiseCNNEnv  # history, episodes, cache and clock of this run
    result: Any  # TRLResult or baselines' SearchResult

    @property
    def label(self) -> str:
        return METHODS[self.method]


def check_methods(methods: list[str]) -> None:
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; allowed: {list(METHODS)}")


def run_method(method: str, splits: Splits, env_config: EnvConfig, seed: int, time_budget_s: float,
               cache_dir: str | Path | None, trl_config: TRLConfig = TRLConfig(),
               lstm_config: LSTMControllerConfig = LSTMControllerConfig(),
               metaqnn_config: MetaQNNConfig = MetaQNNConfig(),
               random_config: RandomSearchConfig = RandomSearchConfig(), progress: Any = None,
               env_class: type[LayerwiseCNNEnv] = LayerwiseCNNEnv) -> MethodRun:
    """Run one method with one seed in a fresh environment limited to ``time_budget_s`` seconds.

    ``trl_hpo`` runs in fixed mode and ``trl_hpo_faithful`` in faithful mode (agent *and*
    environment); the baselines use the environment in ``env_config.mode``. ``env_class``: the
    end-to-end null checks pass a stand-in environment (hpo_kit/trl_hpo/null_checks.py).
    """
    check_methods([method])
    if not time_budget_s > 0:
        raise ValueError(f"time_budget_s must be > 0, got {time_budget_s!r}")
    if method.startswith("trl_hpo"):
        mode = "faithful" if method == "trl_hpo_faithful" else "fixed"
        env_config = dataclasses.replace(env_config, mode=mode)
        trl_config = dataclasses.replace(trl_config, mode=mode)
    env = env_class(splits, env_config, seed=seed, cache_dir=cache_dir, name=method, time_budget_s=time_budget_s)
    if method.startswith("trl_hpo"):
        result = run_trl_hpo(env, trl_config, seed, progress)
    elif method == "random":
        result = run_random_search(env, random_config, seed, progress)
    elif method == "lstm":
        result = run_lstm_controller(env, lstm_config, seed, progress)
    else:
        result = run_metaqnn(env, metaqnn_config, seed, progress)
    return MethodRun(method, seed, env, result)


# ---------------------------------------------------------------------------- best-so-far curves
def best_so_far(history: list[dict[str, Any]], times: np.ndarray) -> np.ndarray:
    """Best counted validation accuracy reached by each time in ``times`` (NaN before the first result)."""
    counted = sorted((h["elapsed_s"], h["accuracy"]) for h in history if h["counts"])
    out = np.full(len(times), np.nan)
    if not counted:
        return out
    t_done = np.array([t for t, _ in counted])
    best = np.maximum.accumulate(np.array([a for _, a in counted]))
    idx = np.searchsorted(t_done, times, side="right") - 1
    out[idx >= 0] = best[idx[idx >= 0]]
    return out


def curves_frame(runs: list[MethodRun], budget_s: float, n_points: int = 200) -> pd.DataFrame:
    """Mean and standard error over seeds of the best-so-far accuracy on a common time grid."""
    times = np.linspace(0, budget_s, n_points)
    rows = []
    for method in dict.fromkeys(r.method for r in runs):
        per_seed = np.array([best_so_far(r.env.history, times) for r in runs if r.method == method])
        for j, t in enumerate(times):
            mean, se, n = mean_and_se(per_seed[:, j])
            rows.append({"method": method, "label": METHODS[method], "time_s": t, "n_seeds": n, "mean": mean, "se": se})
    return pd.DataFrame(rows)


def final_frame(runs: list[MethodRun], budget_s: float) -> pd.DataFrame:
    """One row per run: best accuracy within the budget, the architecture, how much was done."""
    rows = []
    for r in runs:
        within = [h for h in r.env.history if h["counts"] and h["elapsed_s"] <= budget_s]
        best = max(within, key=lambda h: h["accuracy"]) if within else None
        rows.append({"method": r.method, "label": r.label, "seed": r.seed,
                     "best_accuracy": best["accuracy"] if best else np.nan,
                     "best_layers": best["layers"] if best else None,
                     "found_at_s": best["elapsed_s"] if best else np.nan,
                     "episodes": sum(1 for e in r.env.episodes if e),
                     "evaluations": sum(1 for h in r.env.history if h["counts"]),
                     "trained": r.env.n_trained, "used_s": r.env.clock.elapsed})
    return pd.DataFrame(rows)


def paired_gains(final: pd.DataFrame, method: str, baseline: str) -> np.ndarray:
    """Per seed: best accuracy of ``method`` minus that of ``baseline`` (seeds both ran)."""
    a = final[final.method == method].set_index("seed")["best_accuracy"]
    b = final[final.method == baseline].set_index("seed")["best_accuracy"]
    common = a.index.intersection(b.index)
    return (a[common] - b[common]).to_numpy(dtype=float)


# ---------------------------------------------------------------------------- retraining
def retrain_test_accuracy(layers: list[dict[str, Any]], splits: Splits, epochs: int, batch_size: int,
                          lr: float, seed: int, device: str = "cpu") -> dict[str, float]:
    """Train ``layers`` from scratch on ``splits.train`` and report validation and test accuracy."""
    settings = TrainSettings(optimizer="adam", lr=lr, batch_size=batch_size, max_epochs=epochs, device=device)
    model_seed = trial_seed(seed, 1)
    model = build_network(layers, splits.input_shape, splits.n_classes, seed=model_seed)
    result = train(model, splits, settings, epochs=epochs, seed=model_seed)
    return {"val_accuracy": 1.0 - result.val_errors[-1], "test_accuracy": 1.0 - result.test_error,
            "train_time_s": result.train_time_s}
