"""A searcher of your own: local search around the incumbent (a (1+1) evolution strategy).

A searcher decides *what to try next*. It subclasses :class:`hpo_kit.searchers.base.Searcher`,
implements ``suggest`` and listens to ``on_result`` (and, if it cares, ``on_pending`` /
``on_failure``). It works in the unit cube of :class:`hpo_kit.spaces.UnitCubeEncoder`, so the same
code handles float, integer, log-scale, categorical and conditional hyperparameters.

``python docs/examples/custom_searcher.py`` runs it against random search on the six-dimensional
Hartmann function (simulated clock, same budget, three seeds) and prints both.
"""
from __future__ import annotations

import tempfile
from typing import Any

import numpy as np

from hpo_kit.searchers.base import Searcher
from hpo_kit.spaces import UnitCubeEncoder


class LocalSearcher(Searcher):
    """Random configurations for the first ``n_init`` suggestions, then the incumbent moved by a
    Gaussian step of ``sigma`` in the unit cube (clipped to it).

    The incumbent is the best loss at the highest resource any result reached, as the tuner picks
    its best configuration: under a multi-fidelity scheduler a 1-epoch loss does not compete with a
    27-epoch one. All randomness comes from ``self.rng``, seeded by the base class from ``seed``.
    """

    def __init__(self, space, seed: int, n_init: int = 10, sigma: float = 0.1):
        super().__init__(space, seed)
        if not (isinstance(n_init, int) and n_init >= 1):
            raise ValueError(f"n_init must be an integer >= 1, got {n_init!r}")
        if not (isinstance(sigma, (int, float)) and 0 < sigma <= 1):
            raise ValueError(f"sigma must be a number in (0, 1] (a step in the unit cube), got {sigma!r}")
        self.encoder = UnitCubeEncoder(space)
        self.n_init, self.sigma = n_init, float(sigma)
        self._n_suggested = 0
        self._best: dict[int, tuple[float, np.ndarray]] = {}   # resource -> (best loss, its vector)

    def suggest(self) -> dict[str, Any]:
        self._n_suggested += 1
        if self._n_suggested <= self.n_init or not self._best:
            return self.encoder.decode(self.encoder.sample(self.rng, 1)[0])
        _, x = self._best[max(self._best)]
        step = self.sigma * self.rng.standard_normal(self.encoder.dim)
        return self.encoder.decode(np.clip(x + step, 0.0, 1.0))

    def on_result(self, trial_id: int, config: dict[str, Any], resource: int, loss: float) -> None:
        if resource not in self._best or loss < self._best[resource][0]:
            # inactive hyperparameters are NaN in the encoding: impute gives them their default
            self._best[resource] = (loss, self.encoder.impute(self.encoder.encode(config)[None])[0])

    def describe(self) -> dict[str, Any]:
        """What the run log's header records (a resumed run must use the same settings)."""
        return {"name": "local_search", "seed": self.seed, "n_init": self.n_init, "sigma": self.sigma}


def best_losses(searcher_name: str, seeds=(0, 1, 2), n_trials: int = 60) -> list[float]:
    """Best final loss of each seed's run on Hartmann6 (FIFO: every trial to the full budget)."""
    from hpo_kit.backends.simulator import SimulatorBackend
    from hpo_kit.objectives.synthetic import Hartmann6MF
    from hpo_kit.schedulers.fifo import FIFOScheduler
    from hpo_kit.searchers.random_search import RandomSearcher
    from hpo_kit.tuner import run_hpo

    objective = Hartmann6MF(max_resource=9)
    found = []
    with tempfile.TemporaryDirectory() as folder:
        for seed in seeds:
            searcher = (LocalSearcher(objective.space, seed) if searcher_name == "local"
                        else RandomSearcher(objective.space, seed))
            scheduler = FIFOScheduler(searcher, 1, 9, max_trials=n_trials)
            result = run_hpo(objective, scheduler, SimulatorBackend(n_workers=4), f"{folder}/{searcher_name}-{seed}",
                             seed=seed, progress=False)
            found.append(result.best_loss)
    return found


if __name__ == "__main__":
    for name in ("random", "local"):
        losses = best_losses(name)
        print(f"{name:>6}: best loss per seed {np.round(losses, 3).tolist()} (optimum -3.322)")
