"""Random search in TRL-HPO's own action space: every action is drawn uniformly from [0, 1]^4.

The draws go through the environment's decoding (so in faithful mode they meet the same index
quirks as the agent) and the same episode rules (a prefix is trained after every layer; the
episode ends on an invalid layer, too small a gain or too low an accuracy). This is TRL-HPO with
its actor replaced by a uniform random policy.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hpo_kit.trl_hpo.environment import LayerwiseCNNEnv


@dataclass(frozen=True)
class RandomSearchConfig:
    total_episodes: int = 5000  # episodes at most (the time budget usually ends the run first)


@dataclass
class SearchResult:
    env: LayerwiseCNNEnv  # history, episodes and cache of the run
    info: dict[str, Any]  # method-specific extras


def run_random_search(env: LayerwiseCNNEnv, cfg: RandomSearchConfig, seed: int, progress: Any = None) -> SearchResult:
    """Run random episodes until ``cfg.total_episodes`` or the environment's time budget."""
    rng = np.random.default_rng(seed)
    env.clock.start()
    episode = 0
    while episode < cfg.total_episodes and not env.out_of_time:
        env.reset()
        while not env.done and not env.out_of_time:
            env.step(rng.random(4))
        episode += 1
        if progress is not None:
            progress.update(1)
    env.clock.stop()
    return SearchResult(env=env, info={"episodes": episode})
