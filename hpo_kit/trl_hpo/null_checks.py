"""End-to-end null checks of notebook 01's comparative claims (see hpo_kit/null_checks.py).

Each replicate runs the notebook's own experiment code (:func:`~hpo_kit.trl_hpo.compare.run_method`,
:func:`~hpo_kit.trl_hpo.compare.final_frame`, :func:`~hpo_kit.trl_hpo.analysis.steps_frame` and
``attention_frame``) and its claim functions, with the compared factor removed. Training thousands of
CNN prefixes per replicate is far too slow, so the environment is a **stand-in**
(:class:`StandInEnv`): the notebook's environment (action decoding, validity and compute cap, episode
rules, rewards, cache, budget) with the prefix training replaced by a draw, and a simulated clock:

* a network's accuracy is drawn from its layers: a per-replicate "benchmark" value (shared by every
  run of the replicate, as MNIST is) plus a per-run value (the run's initial weights), both normal and
  **independent of the layer types**, so no layer pair is better than another in expectation;
* each run also gets its own offset per layer-type pair (mean 0 over runs, 0.5 points): dependence
  within a run, which a rule that counts steps as independent mistakes for an effect;
* the clock advances by a fixed number of seconds per trained prefix (``epochs * n_train /``
  :data:`IMAGES_PER_S`); updates of the agents cost nothing. Time budget, episodes, epochs and data size
  are read from the profile files.

Cases: the accuracy rows with **both arms random search** under different seeds (the TRL-HPO arm's
runs relabelled), the fc -> fc rows on the stand-in (no pair effect), the attention row on the
stand-in whose accuracy does not depend on the layers in expectation (a weak null: see
:func:`~hpo_kit.trl_hpo.claims.attention_claims`). The paper-design cases are listed for
bench/calibration_e2e.py but cost minutes per replicate (5,000 episodes per run).
"""
from __future__ import annotations

import json
import zlib
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from hpo_kit.claims import FAILS, HOLDS, ClaimRow
from hpo_kit.null_checks import NullCase
from hpo_kit.params import profile_params
from hpo_kit.train.synthetic import synthetic_splits
from hpo_kit.trl_hpo.agent import TRLConfig
from hpo_kit.trl_hpo.analysis import attention_frame, steps_frame
from hpo_kit.trl_hpo.baselines import LSTMControllerConfig, MetaQNNConfig, RandomSearchConfig
from hpo_kit.trl_hpo.cache import BudgetClock, CachedEvaluation
from hpo_kit.trl_hpo.claims import accuracy_claims, attention_claims, fc_stacking_claims
from hpo_kit.trl_hpo.compare import MethodRun, final_frame, run_method
from hpo_kit.trl_hpo.environment import EnvConfig, LayerwiseCNNEnv

NOTEBOOK = "01_trl_hpo_mnist"
#: the stand-in's training speed: images per second of prefix training (a laptop CPU core for the
#: workshop's and the reference profile's small networks; the paper profile's GPU is assumed 5x faster)
IMAGES_PER_S = {"workshop": 4000.0, "reference": 4000.0, "paper": 20000.0}
BENCHMARK_SD, RUN_SD, PAIR_SD = 0.05, 0.01, 0.005  # accuracy units
N_PERF = 8  # performance-vector length of the stand-in (the vector is drawn, so its length only costs time)


class SimulatedClock(BudgetClock):
    """A budget clock that advances only by charges (no wall time): replicates are exact and machine-free."""

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


class StandInEnv(LayerwiseCNNEnv):
    """The notebook's environment with prefix training replaced by a draw (see the module docstring).

    ``replicate`` is set by :func:`stand_in_class`; ``seconds_per_prefix`` is charged per trained prefix.
    """

    replicate = 0
    seconds_per_prefix = 1.0

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.clock = SimulatedClock(self.clock.budget_s)
        self._run_key = zlib.crc32(f"{self.name}/{self.seed}".encode())
        self._pair_offsets: dict[tuple[str, str], float] = {}

    def _pair_offset(self, pair: tuple[str, str]) -> float:
        if pair not in self._pair_offsets:
            rng = np.random.default_rng([self.replicate, 2, self._run_key, zlib.crc32("/".join(pair).encode())])
            self._pair_offsets[pair] = float(rng.normal(0, PAIR_SD))
        return self._pair_offsets[pair]

    def _train_prefix(self, key: str, layers: list[dict[str, Any]], lr: float | None) -> CachedEvaluation:
        network = zlib.crc32(json.dumps(layers, sort_keys=True).encode())
        benchmark = np.random.default_rng([self.replicate, 0, network]).normal(0, BENCHMARK_SD)
        run = np.random.default_rng([self.replicate, 1, self._run_key, network])
        kinds = [layer["type"] for layer in layers]
        pair = (kinds[-2], kinds[-1]) if len(kinds) > 1 else ("input", kinds[-1])
        accuracy = float(np.clip(0.85 + benchmark + run.normal(0, RUN_SD) + self._pair_offset(pair), 0.0, 1.0))
        perf = np.clip(accuracy + run.normal(0, 0.01, self.config.n_perf), 0.0, 1.0).tolist()
        self.clock.charge(self.seconds_per_prefix)
        return CachedEvaluation(key, [dict(layer) for layer in layers], perf, self.seconds_per_prefix)


@lru_cache(maxsize=None)
def _splits():
    return synthetic_splits(16, 2 * N_PERF, 8, seed=0)


def stand_in_class(replicate: int, seconds_per_prefix: float) -> type[StandInEnv]:
    return type("StandInEnv", (StandInEnv,), {"replicate": int(replicate), "seconds_per_prefix": seconds_per_prefix})


@lru_cache(maxsize=None)
def _design_cached(design: str) -> tuple:
    values = profile_params(NOTEBOOK, design)
    return tuple(values.items())


def _design(design: str) -> dict[str, Any]:
    values = dict(_design_cached(design))
    values["profile"] = design
    values["seconds_per_prefix"] = values["epochs"] * values["n_train"] / IMAGES_PER_S[design]
    return values


def _configs(values: dict[str, Any]) -> dict[str, Any]:
    env = EnvConfig(max_layers=values["max_layers"], epochs=values["epochs"], batch_size=values["batch_size"],
                    lr=values["lr"], max_macs=int(values["max_mmacs"] * 1e6), n_perf=N_PERF,
                    gain_threshold=EnvConfig().gain_threshold, accuracy_threshold=EnvConfig().accuracy_threshold)
    episodes = values["max_episodes"]
    trl = TRLConfig(total_episodes=episodes, episodes_per_iteration=values["episodes_per_iteration"],
                    updates_per_iteration=values["updates_per_iteration"], learning_starts=values["learning_starts"],
                    buffer_size=values["buffer_size"], batch_size=values["rl_batch_size"],
                    explore_fraction=values["explore_fraction"])
    return {"env_config": env, "trl_config": trl, "random_config": RandomSearchConfig(total_episodes=episodes),
            "lstm_config": LSTMControllerConfig(total_episodes=episodes),
            "metaqnn_config": MetaQNNConfig(total_episodes=episodes)}


def _runs(r: int, values: dict[str, Any], methods: list[str], *, seed_offset: int = 0) -> list[MethodRun]:
    env_class = stand_in_class(r, values["seconds_per_prefix"])
    configs = _configs(values)
    env_config = configs.pop("env_config")
    first = 100_000 * r + seed_offset  # replicates never share a seed
    return [run_method(m, _splits(), env_config, first + i, values["time_budget_s"], None, env_class=env_class,
                       **configs) for i in range(values["n_seeds"]) for m in methods]


# ------------------------------------------------------------------------------ replicates
@lru_cache(maxsize=4096)
def _null_final(design: str, r: int) -> pd.DataFrame:
    """Both arms random search, other seeds: the "TRL-HPO" arm's runs are random-search runs relabelled.

    Cached: the two accuracy rows of one replicate are decided on the same runs, as in the notebook.
    """
    values = _design(design)
    a = _runs(r, values, ["random"], seed_offset=0)
    b = _runs(r, values, ["random"], seed_offset=50_000)
    final = pd.concat([final_frame(a, values["time_budget_s"]).assign(method="trl_hpo"),
                       final_frame(b, values["time_budget_s"])], ignore_index=True)
    final["seed"] = np.tile(np.arange(values["n_seeds"]), 2)  # paired by seed index, as the notebook pairs
    return final


def accuracy_replicate(values: dict[str, Any], row: int):
    def replicate(r: int) -> ClaimRow:
        final = _null_final(values["profile"], r)
        return accuracy_claims(final, "trl_hpo", ["random"], budget_s=values["time_budget_s"])[row]
    return replicate


def fc_replicate(values: dict[str, Any], methods: list[str]):
    def replicate(r: int) -> ClaimRow:
        return fc_stacking_claims(steps_frame(_runs(r, values, methods)), modes=["fixed"])[0]
    return replicate


def attention_replicate(values: dict[str, Any]):
    def replicate(r: int) -> ClaimRow:
        runs = _runs(r, values, ["trl_hpo"])
        frame = pd.concat([attention_frame(x.result, readout="fixed").assign(seed=x.seed) for x in runs],
                          ignore_index=True)
        return attention_claims({"trl_hpo": frame})[0]
    return replicate


def cases() -> list[NullCase]:
    found = []
    for design in ("workshop", "reference", "paper"):
        values = _design(design)
        slow = design != "workshop"
        note = (f"stand-in environment ({values['n_seeds']} seeds, {values['time_budget_s']:g} s per run at "
                f"{values['seconds_per_prefix']:g} s per prefix, at most {values['max_episodes']} episodes)")
        found.append(NullCase(NOTEBOOK, "TRL-HPO (fixed) finds a more accurate CNN than random search", design,
                              "both arms random search, other seeds", accuracy_replicate(values, 0),
                              (HOLDS, FAILS), slow=slow, n_replicates=1000 if not slow else 400, note=note))
        found.append(NullCase(NOTEBOOK, "beats a from-scratch method by at least 6.8 points", design,
                              "both arms random search, other seeds (true gain 0 < 6.8: does not hold is right)",
                              accuracy_replicate(values, -1), (HOLDS,), slow=slow,
                              n_replicates=400, note=note))
        # baselines only: TRL-HPO's updates make a replicate too slow (its layer choices are a policy like theirs)
        found.append(NullCase(NOTEBOOK, "Stacking fully connected layers lowers the reward (fixed mode)", design,
                              "no layer pair better in expectation; per-run pair offsets (stand-in); "
                              "random search, LSTM and MetaQNN runs", fc_replicate(values, ["random", "lstm", "metaqnn"]),
                              (HOLDS, FAILS), slow=True, n_replicates=400, note=note))
    workshop = _design("workshop")
    found.append(NullCase(NOTEBOOK, "TRL-HPO (fixed): attention to the newest layer rises with its reward", "workshop",
                          "rewards independent of the layers in expectation (stand-in); a weak null: the critic "
                          "still sees the performance vectors (see attention_claims)", attention_replicate(workshop),
                          (HOLDS, FAILS), slow=True, n_replicates=400,
                          note="stand-in environment, workshop design; the paper design (5,000 episodes with "
                               "updates per seed) is too slow to replicate"))
    return found
