"""Synthetic multi-fidelity objectives: optima, fidelity bias, curves, noise, cost, errors."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from hpo_kit.objectives.base import Objective
from hpo_kit.objectives.synthetic import BraninMF, Hartmann6MF, MixedSpaceMF
from hpo_kit.searchers.random_search import RandomSearcher

OBJECTIVES = [BraninMF, Hartmann6MF, MixedSpaceMF]


@pytest.mark.parametrize("cls", OBJECTIVES)
def test_protocol_and_documented_optimum(cls):
    objective = cls()
    assert isinstance(objective, Objective)
    at_optimum = objective.evaluate(objective.optimum_config, objective.max_resource, 0).loss
    assert at_optimum == pytest.approx(objective.optimum_loss, abs=1e-5)
    searcher = RandomSearcher(objective.space, 0)
    losses = [objective.evaluate(searcher.suggest(), objective.max_resource, 0).loss
              for _ in range(500)]
    assert min(losses) > objective.optimum_loss - 1e-9  # nothing beats the documented optimum


def test_branin_has_three_global_optima():
    objective = BraninMF()
    for x1, x2 in [(-np.pi, 12.275), (np.pi, 2.275), (9.42478, 2.475)]:
        loss = objective.evaluate({"x1": x1, "x2": x2}, objective.max_resource, 0).loss
        assert loss == pytest.approx(objective.optimum_loss, abs=1e-5)


@pytest.mark.parametrize("cls", OBJECTIVES)
def test_fidelity_bias_shrinks_with_resource(cls):
    objective = cls()
    searcher = RandomSearcher(objective.space, 1)
    configs = [searcher.suggest() for _ in range(50)]
    gaps = []
    for resource in (1, 3, 9, 27, 81):
        gap = [abs(objective.evaluate(c, resource, 0).loss - objective.evaluate(c, 81, 0).loss)
               for c in configs]
        gaps.append(np.mean(gap))
    assert all(a > b for a, b in zip(gaps, gaps[1:])) and gaps[-1] == 0.0
    # low fidelity is informative: losses at 27 and 81 are rank-correlated
    low = np.argsort(np.argsort([objective.evaluate(c, 27, 0).loss for c in configs]))
    high = np.argsort(np.argsort([objective.evaluate(c, 81, 0).loss for c in configs]))
    assert np.corrcoef(low, high)[0, 1] > 0.8


@pytest.mark.parametrize("cls", OBJECTIVES)
def test_curves_continuations_noise_and_cost(cls):
    objective = cls(noise_std=0.05, unit_time=2.0)
    config = RandomSearcher(objective.space, 2).suggest()
    full = objective.evaluate(config, 27, seed=5)
    assert len(full.curve) == 27 and full.curve[-1] == full.loss
    first = objective.evaluate(config, 9, seed=5)
    rest = objective.evaluate(config, 27, seed=5, trial_id=3, previous_resource=9)
    assert rest.curve[:9] == first.curve and rest.loss == full.loss  # same seed, same curve
    assert first.cost + rest.cost == pytest.approx(full.cost)  # a continuation pays the extra only
    assert objective.evaluate(config, 27, seed=6).loss != full.loss  # noise depends on the seed
    clean = cls().evaluate(config, 27, seed=5)
    assert abs(clean.loss - full.loss) < 0.3 and clean.loss == cls().evaluate(config, 27, 6).loss


@pytest.mark.parametrize("cls", OBJECTIVES)
def test_cost_depends_on_the_configuration(cls):
    objective = cls()
    searcher = RandomSearcher(objective.space, 3)
    costs = {round(objective.evaluate(searcher.suggest(), 1, 0).cost, 6) for _ in range(20)}
    assert len(costs) > 3 and min(costs) >= 0.5 and max(costs) <= 2.0


def test_pickles_for_worker_processes():
    objective = MixedSpaceMF(noise_std=0.1)
    copy = pickle.loads(pickle.dumps(objective))
    config = objective.optimum_config
    assert copy.evaluate(config, 9, 1) == objective.evaluate(config, 9, 1)


def test_bad_input_is_rejected_with_clear_errors():
    objective = BraninMF(max_resource=27, min_resource=3)
    config = {"x1": 0.0, "x2": 0.0}
    with pytest.raises(ValueError, match=r"resource must be an integer in \[3, 27\]"):
        objective.evaluate(config, 1, 0)
    with pytest.raises(ValueError, match=r"resource must be an integer in \[3, 27\]"):
        objective.evaluate(config, 81, 0)
    with pytest.raises(ValueError, match="previous_resource must be in"):
        objective.evaluate(config, 9, 0, previous_resource=9)
    with pytest.raises(ValueError, match="x1"):
        objective.evaluate({"x1": 99.0, "x2": 0.0}, 9, 0)
    with pytest.raises(ValueError, match="momentum"):
        MixedSpaceMF().evaluate({"optimizer": "sgd", "lr": 0.1, "n_layers": 3, "width": 128}, 9, 0)
    with pytest.raises(ValueError, match="max_resource must be an integer >= 1"):
        BraninMF(max_resource=0)
    with pytest.raises(ValueError, match="min_resource must be an integer in"):
        BraninMF(max_resource=9, min_resource=10)
    with pytest.raises(ValueError, match="noise_std must be a number >= 0"):
        Hartmann6MF(noise_std=-1.0)
