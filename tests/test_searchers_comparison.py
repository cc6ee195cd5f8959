"""Model-based searchers find better configurations than random search (several seeds).

Each comparison runs the same simple loop for random search and for the model-based searcher on
several seeds and compares the median (and mean) regret ``best loss found - optimum`` with a
margin, so one lucky seed cannot make it pass. Budgets are small to keep the file fast.
"""
from __future__ import annotations

import numpy as np

from hpo_kit.objectives.synthetic import BraninMF, Hartmann6MF
from hpo_kit.searchers.gp_searcher import GPMultiFidelitySearcher, GPSearcher, GPSearcherConfig
from hpo_kit.searchers.kde import KDESearcher
from hpo_kit.searchers.random_search import RandomSearcher

FAST_GP = GPSearcherConfig(init_random=5, n_random_candidates=500)


def sequential_regret(make_searcher, objective, n_evaluations: int, seed: int) -> float:
    """suggest -> evaluate at max_resource -> on_result, ``n_evaluations`` times."""
    searcher, best = make_searcher(objective.space, seed), np.inf
    for t in range(n_evaluations):
        config = searcher.suggest()
        loss = objective.evaluate(config, objective.max_resource, 0).loss
        searcher.on_result(t, config, objective.max_resource, loss)
        best = min(best, loss)
    return best - objective.optimum_loss


def successive_halving_regret(make_searcher, objective, rounds: int, seed: int,
                              rungs=(9, 27, 81), n_per_round: int = 9, eta: int = 3) -> float:
    """Synchronous successive halving: each round starts ``n_per_round`` trials (announced as
    pending, so a batch is spread out), evaluates them at the lowest rung and promotes the best
    1/eta to the next rung. Regret of the best configuration suggested, judged at max_resource."""
    searcher, best, trial_id = make_searcher(objective.space, seed), np.inf, 0
    for _ in range(rounds):
        trials = []
        for _ in range(n_per_round):
            config = searcher.suggest()
            searcher.on_pending(trial_id, config, rungs[0])
            trials.append((trial_id, config))
            trial_id += 1
            best = min(best, objective.evaluate(config, objective.max_resource, 0).loss)
        for resource in rungs:
            losses = []
            for tid, config in trials:
                loss = objective.evaluate(config, resource, 0).loss
                searcher.on_result(tid, config, resource, loss)
                losses.append(loss)
            trials = [trials[i] for i in np.argsort(losses)[: max(1, len(trials) // eta)]]
    return best - objective.optimum_loss


def compare(run, make_searcher, objective, seeds, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    model = np.array([run(make_searcher, objective, seed=s, **kwargs) for s in seeds])
    random = np.array([run(RandomSearcher, objective, seed=s, **kwargs) for s in seeds])
    return model, random


def test_gp_beats_random_search_on_branin():
    gp, rs = compare(sequential_regret, lambda sp, s: GPSearcher(sp, s, FAST_GP), BraninMF(),
                     range(6), n_evaluations=25)
    assert np.median(gp) < 0.3 * np.median(rs), (gp, rs)
    assert np.mean(gp) < 0.3 * np.mean(rs), (gp, rs)


def test_kde_beats_random_search_on_hartmann6():
    kde, rs = compare(sequential_regret, KDESearcher, Hartmann6MF(), range(8), n_evaluations=50)
    assert np.median(kde) < 0.75 * np.median(rs), (kde, rs)
    assert np.mean(kde) < 0.75 * np.mean(rs), (kde, rs)


def test_multi_fidelity_gp_beats_random_search_under_successive_halving():
    def make(space, seed):
        return GPMultiFidelitySearcher(space, seed, FAST_GP, max_resource=81)

    gp, rs = compare(successive_halving_regret, make, BraninMF(), range(6), rounds=4)
    assert np.median(gp) < 0.3 * np.median(rs), (gp, rs)
    assert np.mean(gp) < 0.5 * np.mean(rs), (gp, rs)
