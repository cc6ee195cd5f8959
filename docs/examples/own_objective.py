"""Use the engine on your own objective: a function of a configuration and a budget (epochs).

Run it with ``python docs/examples/own_objective.py``; it writes its run log to
``runs/own_objective/trials.jsonl`` in the current folder and prints the best configuration.
The objective here is a stand-in with a known optimum (lr = 0.01, dropout = 0.3) so that the kit's
tests can check the engine finds it; put your own training loop in ``evaluate``.
"""
import math

import numpy as np
from ConfigSpace import ConfigurationSpace, Float

from hpo_kit.backends.sequential import SequentialBackend
from hpo_kit.schedulers.async_hyperband import AsynchronousHyperband
from hpo_kit.searchers.kde import KDESearcher
from hpo_kit.trial import Evaluation
from hpo_kit.tuner import run_hpo


class MyObjective:
    """Validation loss of ``config`` after ``resource`` epochs (lower is better)."""

    space = ConfigurationSpace({"lr": Float("lr", (1e-4, 1.0), log=True), "dropout": (0.0, 0.8)})
    min_resource, max_resource = 1, 27

    def evaluate(self, config, resource, seed, **_):
        noise = 0.01 * np.random.default_rng(seed).standard_normal()  # seed: the kit derives one per trial
        loss = (math.log10(config["lr"]) + 2) ** 2 + (config["dropout"] - 0.3) ** 2 + 1 / resource + noise
        return Evaluation(loss=loss, cost=0.1 * resource)  # cost: seconds it took (here: a guess)


objective = MyObjective()
searcher = KDESearcher(objective.space, seed=0)                          # what to try next (BOHB's model)
scheduler = AsynchronousHyperband(searcher, 1, 27, eta=3, max_trials=60)  # when to stop or promote (ASHA)
result = run_hpo(objective, scheduler, SequentialBackend(), "runs/own_objective", seed=0, resume=False)
print(f"best loss {result.best_loss:.4f} at {result.best_resource} epochs: {result.best_config}")
