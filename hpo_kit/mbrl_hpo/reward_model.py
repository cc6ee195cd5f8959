"""The learned reward model F and the policy distance that bounds a model phase: both swappable.

The paper fits a regressor F on D_F, the (configuration, accuracy) pairs of the last T real
evaluations, and lets PPO learn from F's predictions while the policy stays close to where the
model phase started. Neither the regressor nor the distance is specified; the kit's defaults:

* F: a random forest (100 trees, seeded, one thread) on the configuration's unit-cube encoding
  (:mod:`hpo_kit.spaces`); ``REWARD_MODELS`` names the alternatives, and any object with
  ``fit(X, y)`` / ``predict(X)`` can be passed instead;
* distance: the mean over the n steps of KL(old step Gaussian || new step Gaussian). The sequential
  policy's distributions depend on the values sampled before each step (see
  :mod:`hpo_kit.mbrl_hpo.agent`), so the searcher measures the distance on a fixed batch of episodes
  drawn from the policy at the phase's start, teacher forced (``ModelConfig.distance_episodes``).
  ``DISTANCES`` names the alternatives; any ``f((mu_old, sigma_old), (mu_new, sigma_new)) -> float``
  can be passed.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch


def _as_arrays(dist: tuple[Any, Any]) -> tuple[np.ndarray, np.ndarray]:
    mu, sigma = dist
    to = (lambda x: x.detach().numpy() if isinstance(x, torch.Tensor) else np.asarray(x))
    return to(mu).astype(float), to(sigma).astype(float)


def step_kl(old: tuple[Any, Any], new: tuple[Any, Any]) -> np.ndarray:
    """KL(N(mu_o, s_o) || N(mu_n, s_n)) per step: log(s_n / s_o) + (s_o^2 + (mu_o - mu_n)^2) / (2 s_n^2) - 1/2."""
    mu_o, s_o = _as_arrays(old)
    mu_n, s_n = _as_arrays(new)
    return np.log(s_n / s_o) + (s_o**2 + (mu_o - mu_n) ** 2) / (2 * s_n**2) - 0.5


def mean_kl(old: tuple[Any, Any], new: tuple[Any, Any]) -> float:
    """The kit's default distance: mean per-step KL between the two Gaussian policies."""
    return float(np.mean(step_kl(old, new)))


def max_kl(old: tuple[Any, Any], new: tuple[Any, Any]) -> float:
    """The largest per-step KL (stricter: one hyperparameter moving far ends the phase)."""
    return float(np.max(step_kl(old, new)))


def mean_shift(old: tuple[Any, Any], new: tuple[Any, Any]) -> float:
    """Mean absolute change of the step means mu (ignores sigma)."""
    return float(np.mean(np.abs(_as_arrays(old)[0] - _as_arrays(new)[0])))


DISTANCES: dict[str, Callable[[tuple[Any, Any], tuple[Any, Any]], float]] = {
    "mean_kl": mean_kl, "max_kl": max_kl, "mean_shift": mean_shift,
}


class Forest:
    """A scikit-learn forest whose ``predict`` averages the trees directly.

    Same numbers as the forest's own ``predict`` (the mean of the trees' predictions), without its
    per-call joblib set-up, which dominated a model phase's time (20 predictions of 8 rows each).
    """

    def __init__(self, estimator: Any):
        self.estimator = estimator

    def fit(self, X: np.ndarray, y: np.ndarray) -> "Forest":
        self.estimator.fit(X, y)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        trees = self.estimator.estimators_
        return np.sum([tree.predict(X, check_input=False) for tree in trees], axis=0) / len(trees)


def _random_forest(seed: int):
    from sklearn.ensemble import RandomForestRegressor

    return Forest(RandomForestRegressor(n_estimators=100, random_state=seed, n_jobs=1))


def _extra_trees(seed: int):
    from sklearn.ensemble import ExtraTreesRegressor

    return Forest(ExtraTreesRegressor(n_estimators=100, random_state=seed, n_jobs=1))


def _knn(seed: int):
    from sklearn.neighbors import KNeighborsRegressor

    return KNeighborsRegressor(n_neighbors=3, weights="distance")


REWARD_MODELS: dict[str, Callable[[int], Any]] = {
    "random_forest": _random_forest, "extra_trees": _extra_trees, "knn": _knn,
}


def check_distance(distance: str | Callable) -> Callable:
    if callable(distance):
        return distance
    if distance not in DISTANCES:
        raise ValueError(f"distance must be one of {list(DISTANCES)} or a callable, got {distance!r}")
    return DISTANCES[distance]


def make_reward_model(reward_model: str | Any, seed: int) -> Any:
    """A fresh, unfitted F: by name (``REWARD_MODELS``), or a copy of the given estimator."""
    if isinstance(reward_model, str):
        if reward_model not in REWARD_MODELS:
            raise ValueError(f"reward_model must be one of {list(REWARD_MODELS)} or an object with fit/predict, "
                             f"got {reward_model!r}")
        return REWARD_MODELS[reward_model](seed)
    if not (hasattr(reward_model, "fit") and hasattr(reward_model, "predict")):
        raise TypeError(f"reward_model must have fit(X, y) and predict(X), got {type(reward_model).__name__}")
    try:
        from sklearn.base import clone

        return clone(reward_model)
    except (TypeError, ImportError):
        import copy

        return copy.deepcopy(reward_model)


__all__ = ["DISTANCES", "REWARD_MODELS", "check_distance", "make_reward_model", "max_kl", "mean_kl", "mean_shift",
           "step_kl"]
