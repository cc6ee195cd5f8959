"""A cheap stand-in for notebook 02's XGBoost tasks (end-to-end null checks).

:func:`stand_in_task` builds a :class:`~hpo_kit.tasks.base.Task` with the paper's 10-hyperparameter
XGBoost space, its order and its default configuration, whose objective computes an error in
microseconds instead of training XGBoost, so the notebook's own experiment code
(:func:`hpo_kit.mbrl_hpo.experiment.run_one`, ``reference_targets``, ``reach_frame``) runs on it
unchanged. With ``u`` the configuration's unit-cube encoding (log scale where the space has one):

    true error(u, r) = 0.04 + 0.3 * sum_j w_j (u_j - c_j)^2 / sum_j w_j + 0.1 * (1 - r / max_resource)
    validation error = Binomial(n_val, true error) / n_val,  test error = Binomial(n_test, true error) / n_test

``c`` and ``w`` are drawn from the split seed (one "data set" per (task, seed)); the binomial draws
come from the evaluation seed. Errors move in steps of 1 / n_val as on the notebook's small validation
sets (30-360 rows), so runs tie as they do there. Nothing in it favours one searcher over another.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from hpo_kit.spaces import UnitCubeEncoder
from hpo_kit.trial import Evaluation


class StandInObjective:
    """The error surface of the module docstring; ``evaluate`` follows the kit's objective protocol."""

    def __init__(self, seed: int, n_val: int = 120, n_test: int = 120, min_resource: int = 1,
                 max_resource: int = 27):
        from hpo_kit.tasks.xgboost_task import xgboost_space

        for name, value in (("n_val", n_val), ("n_test", n_test), ("max_resource", max_resource)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if not (isinstance(min_resource, int) and 1 <= min_resource <= max_resource):
            raise ValueError(f"min_resource must be an integer in [1, {max_resource}], got {min_resource!r}")
        self.seed, self.n_val, self.n_test = int(seed), n_val, n_test
        self.min_resource, self.max_resource = min_resource, max_resource
        self.space = xgboost_space()
        self._encoder = UnitCubeEncoder(self.space)
        rng = np.random.default_rng((self.seed, 2020_02))
        self.centre = rng.uniform(0.2, 0.8, self._encoder.dim)
        self.weights = rng.uniform(0.2, 1.0, self._encoder.dim)

    def describe(self) -> dict[str, Any]:
        return {"name": "mbrl_stand_in", "seed": self.seed, "n_val": self.n_val, "n_test": self.n_test,
                "min_resource": self.min_resource, "max_resource": self.max_resource}

    def true_error(self, config: dict[str, Any], resource: int) -> float:
        u = self._encoder.encode(config)
        distance = float(np.sum(self.weights * (u - self.centre) ** 2) / np.sum(self.weights))
        return 0.04 + 0.3 * distance + 0.1 * (1 - resource / self.max_resource)

    def evaluate(self, config: dict[str, Any], resource: int, seed: int, *, trial_id: int | None = None,
                 previous_resource: int = 0) -> Evaluation:
        if not (isinstance(resource, (int, np.integer)) and self.min_resource <= resource <= self.max_resource):
            raise ValueError(f"resource must be an integer in [{self.min_resource}, {self.max_resource}], "
                             f"got {resource!r}")
        p = min(max(self.true_error(config, int(resource)), 0.0), 1.0)
        rng = np.random.default_rng((int(seed) % 2**63, int(resource)))
        val = rng.binomial(self.n_val, p) / self.n_val
        test = rng.binomial(self.n_test, p) / self.n_test
        return Evaluation(loss=float(val), cost=0.0, info={"test_error": float(test)})


def stand_in_task(name: str, seed: int, **options: Any):
    """A Task named ``name`` (e.g. "stand_in_0") on :class:`StandInObjective` for split seed ``seed``.

    The name enters the surface's seed, so tasks of one replicate differ as the notebook's tasks do.
    """
    import zlib

    from hpo_kit.tasks.base import Fidelity, Task
    from hpo_kit.tasks.xgboost_task import XGB_HP_ORDER, XGB_LIBRARY_DEFAULTS, in_space_defaults

    surface_seed = (zlib.crc32(name.encode()) * 1_000_003 + int(seed)) % 2**31
    objective = StandInObjective(surface_seed, **options)
    fidelity = Fidelity(f"train_fraction_{objective.max_resource}ths", objective.min_resource,
                        objective.max_resource, "stand-in fidelity (adds 0.1 * (1 - r / max) to the error)")
    return Task(name=name, seed=int(seed), space=objective.space, objective=objective, fidelity=fidelity,
                hp_order=XGB_HP_ORDER, description=f"{name}: stand-in for an XGBoost task (hpo_kit.mbrl_hpo.stand_in)",
                data={"name": name, "source": "synthetic stand-in"}, options=dict(options),
                _default=in_space_defaults(), _library_default=dict(XGB_LIBRARY_DEFAULTS))


__all__ = ["StandInObjective", "stand_in_task"]
